"""A judge behind any OpenAI-compatible chat endpoint (OpenAI, vLLM, SGLang, llama.cpp, Groq, ...).

This is the one call loop: the `openai` client is the transport, its raw-response path hands back the body,
which `_wire` reads strictly, so a malformed reply is a typed, retried error for one criterion. Per-server
and per-model quirks live in `families`, what a model refuses is learned once and remembered
(`Capabilities`), and each judge mode (verdict, logprob, sample, the two ratings) is a strategy in `modes`.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import openai
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

from grader_service import metrics
from grader_service.judge._base import ItemContext, JudgeError, Judgement, JudgeRequestOptions, RatingJudgement
from grader_service.judge._failures import (
    BackoffWait,
    RetryPolicy,
    classify,
    describe,
    first_backoff,
    refusal,
    retryable,
)
from grader_service.judge._transport import ChatTransport
from grader_service.judge._wire import BadResponse, Reply, parse_reply
from grader_service.judge.families import CallSpec, Capabilities, JudgeFamily, detect_family, family
from grader_service.judge.modes import JudgeCall, Knobs, criterion_mode, rubric_mode
from grader_service.limiter import Limiter
from shared import Criterion, Usage

__all__ = ["OpenAIJudge", "RetryPolicy"]

MAX_ADAPTATIONS = 6  # refusals adapted to within one call; each one changes a capability for good


class OpenAIJudge:
    def __init__(
        self,
        transport: ChatTransport,
        limiter: Limiter,
        *,
        retry: RetryPolicy | None = None,
        knobs: Knobs | None = None,
        family_name: str = "auto",
        extra_body: dict[str, Any] | None = None,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self.transport = transport
        self.client = transport.client  # for /v1/models and the base URL
        self.limiter = limiter
        self.retry = retry or RetryPolicy()
        self.knobs = knobs or Knobs()
        self.family_name = family_name
        self.extra_body = dict(extra_body or {})
        self.secrets = secrets
        self._detected: dict[str, JudgeFamily] = {}
        self._caps: dict[tuple[str, str], Capabilities] = {}
        self._served: dict[str, str] | None = None  # model id -> owned_by, from /v1/models
        self._served_failed_at = -math.inf
        self._detect_lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self.transport.aclose()

    # ------------------------------------------------------------ endpoint facts

    async def served_models(self, timeout_s: float = 5.0) -> dict[str, str]:
        """The endpoint's /v1/models (id -> owned_by); raises openai errors when unreachable."""
        page = await self.client.models.list(timeout=timeout_s)
        self._served = {m.id: str(getattr(m, "owned_by", "") or "") for m in page.data}
        return self._served

    async def ready(self) -> tuple[bool, str]:
        try:
            models = await self.served_models()
            return True, f"{len(models)} model(s) served"
        except Exception as e:  # any failure to list models means "not reachable as configured"
            return False, self._describe(e)

    async def family_for(self, opts: JudgeRequestOptions) -> tuple[JudgeFamily, Capabilities]:
        name = opts.family if opts.family != "auto" else self.family_name
        if name != "auto":
            fam = family(name)
        elif (known := self._detected.get(opts.model)) is not None:
            fam = known
        else:
            fam = await self._detect(opts.model)
        key = (fam.name, opts.model)
        if key not in self._caps:
            self._caps[key] = fam.capabilities()
        return fam, self._caps[key]

    async def _detect(self, model: str) -> JudgeFamily:
        """The family from the model's name and what /v1/models says of the server (asked once)."""
        async with self._detect_lock:
            if (known := self._detected.get(model)) is not None:
                return known
            served = self._served
            if served is None and time.monotonic() - self._served_failed_at > 60:
                try:
                    served = await self.served_models()
                except openai.OpenAIError:
                    self._served_failed_at = time.monotonic()  # decide from the name; ask again in a minute
            owned = served.get(model) if served else None
            if served and owned is None and len(served) == 1:
                owned = next(iter(served.values()))
            fam = detect_family(model, str(self.client.base_url), owned)
            if served is not None:
                self._detected[model] = fam
            return fam

    def capabilities(self) -> dict[str, dict[str, Any]]:
        return {f"{fam} / {model}": caps.as_dict() for (fam, model), caps in self._caps.items()}

    # ------------------------------------------------------------ one call

    def _describe(self, e: BaseException) -> str:
        return describe(e, self.secrets)

    async def _call(
        self, usage: Usage, fam: JudgeFamily, caps: Capabilities, spec: CallSpec, opts: JudgeRequestOptions
    ) -> tuple[Reply, bool]:
        """One chat completion under the global cap: adapted to refusals, retried on 429, 5xx, timeouts,
        connection errors and unusable bodies, within the bounded budget. Also says whether the call
        carried a reasoning budget (a reply that shows reasoning without one is asked again with one).

        The first attempt runs without the retry machinery: nearly every call succeeds at once, and
        building a retry controller per call was a visible share of the grader's CPU."""
        extra = {**self.extra_body, **opts.extra_body}
        try:
            try:
                return await self._attempt(usage, fam, caps, spec, extra)
            except (openai.OpenAIError, BadResponse) as first:
                if not retryable(first) or self.retry.max_attempts <= 1:
                    raise
                metrics.JUDGE_RETRIES.inc()
                await asyncio.sleep(first_backoff(self.retry, first))
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self.retry.max_attempts - 1),
                wait=BackoffWait(self.retry),
                retry=retry_if_exception(retryable),
                reraise=True,
            ):
                with attempt:
                    return await self._attempt(usage, fam, caps, spec, extra)
        except (openai.OpenAIError, BadResponse) as e:
            raise JudgeError(classify(e), self._describe(e)) from e
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt(
        self, usage: Usage, fam: JudgeFamily, caps: Capabilities, spec: CallSpec, extra: dict[str, Any]
    ) -> tuple[Reply, bool]:
        """One HTTP exchange, and the immediate re-sends that refusals call for (bounded)."""
        adaptations = 0
        mode = self._mode_label(spec)
        while True:
            estimate = self._token_estimate(spec) if self._counts_tokens else 0
            started = time.perf_counter()
            try:
                async with self.limiter.slot(estimate):  # built inside: calls that waited see what others learned
                    budgeted = caps.reasoning
                    kwargs = fam.request(caps, spec, extra, self.knobs.reasoning_budget)
                    usage.judge_calls += 1
                    started = time.perf_counter()
                    raw = await self.transport.post(_body(kwargs))
                reply = parse_reply(raw)
            except openai.APIStatusError as e:
                metrics.JUDGE_CALLS.labels(mode, f"http_{e.status_code}").inc()
                if e.status_code == 429:
                    self.limiter.rate_limited()
                if adaptations >= MAX_ADAPTATIONS or e.status_code == 429:
                    raise
                if fam.request(caps, spec, extra, self.knobs.reasoning_budget) != kwargs:
                    adaptations += 1  # a concurrent call already learned from the same refusal
                    continue
                learned = fam.adapt(caps, refusal(e), kwargs)
                if learned is None:
                    raise
                caps.learned.append(learned)
                metrics.JUDGE_ADAPTED.inc()
                adaptations += 1
                continue
            except (openai.OpenAIError, BadResponse) as e:
                metrics.JUDGE_CALLS.labels(mode, classify(e).value).inc()
                raise
            metrics.JUDGE_SECONDS.labels(mode).observe(time.perf_counter() - started)
            metrics.JUDGE_CALLS.labels(mode, "ok").inc()
            self.limiter.succeeded()
            if self._counts_tokens:
                self.limiter.used_tokens(estimate, reply.prompt_tokens + reply.completion_tokens)
            usage.prompt_tokens += reply.prompt_tokens
            usage.completion_tokens += reply.completion_tokens
            return reply, budgeted

    @property
    def _counts_tokens(self) -> bool:
        return getattr(self.limiter, "tpm", None) is not None

    def _token_estimate(self, spec: CallSpec) -> int:
        chars = sum(len(m["content"]) for m in spec.messages)
        return chars // 4 + spec.answer_tokens  # ~4 characters a token; corrected by the reply's usage

    @staticmethod
    def _mode_label(spec: CallSpec) -> str:
        return "logprob" if spec.logprobs else "sample" if spec.n > 1 else "verdict"

    # ------------------------------------------------------------ the modes

    async def _session(self, opts: JudgeRequestOptions, ctx: ItemContext, usage: Usage) -> JudgeCall:
        fam, caps = await self.family_for(opts)

        async def send(spec: CallSpec) -> tuple[Reply, bool]:
            return await self._call(usage, fam, caps, spec, opts)

        return JudgeCall(ctx, opts, fam, caps, self.knobs, send)

    async def judge_criterion(self, ctx: ItemContext, criterion: Criterion, opts: JudgeRequestOptions) -> Judgement:
        usage = Usage()
        try:
            j = await criterion_mode(opts.mode).judge(await self._session(opts, ctx, usage), criterion)
        except JudgeError as e:
            return Judgement(met=None, p_met=None, error=e.as_error(), usage=usage)
        j.usage = usage
        return j

    async def judge_rubric(
        self, ctx: ItemContext, rubric: list[Criterion], opts: JudgeRequestOptions
    ) -> RatingJudgement:
        usage = Usage()
        try:
            j = await rubric_mode(opts.mode).judge(await self._session(opts, ctx, usage), rubric)
        except JudgeError as e:
            return RatingJudgement(rating_probs=None, error=e.as_error(), usage=usage)
        j.usage = usage
        return j


def _body(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The JSON body `chat.completions.create(**kwargs)` would send (extra_body merged in)."""
    body = {k: v for k, v in kwargs.items() if k != "extra_body"}
    body.update(kwargs.get("extra_body") or {})
    return body
