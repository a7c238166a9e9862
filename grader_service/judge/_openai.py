"""A judge behind any OpenAI-compatible chat endpoint (OpenAI, vLLM, SGLang, llama.cpp, Groq, ...).

The `openai` client is the transport; its raw-response path hands back the body, which `_wire` reads
strictly, so a malformed reply is a typed, retried error for one criterion. Per-server and per-model
quirks live in `families`; what a model refuses is learned once and remembered (`Capabilities`).
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from dataclasses import dataclass
from typing import Any

import openai
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from grader_service import metrics
from grader_service._redact import sanitize
from grader_service.judge import _prompts as prompts
from grader_service.judge._answer import Answer, alternatives, answer_position, starts_reasoning, yes_no
from grader_service.judge._base import ItemContext, JudgeError, Judgement, JudgeRequestOptions, RatingJudgement
from grader_service.judge._parse import parse_rating, parse_verdict, rating_distribution
from grader_service.judge._transport import ChatTransport
from grader_service.judge._wire import BadResponse, Choice, Reply, parse_reply
from grader_service.judge.families import CallSpec, Capabilities, JudgeFamily, Refusal, detect_family, family
from grader_service.limiter import Limiter
from shared import Criterion, ErrorType, JudgeMode, Usage, retry_after_seconds

MAX_ADAPTATIONS = 6  # refusals adapted to within one call; each one changes a capability for good


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    initial_s: float = 0.5
    max_s: float = 8.0
    max_retry_after_s: float = 30.0


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, BadResponse | openai.APIConnectionError):  # APITimeoutError included
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500
    return False


def classify(exc: BaseException) -> ErrorType:
    if isinstance(exc, BadResponse):
        return ErrorType.judge_bad_response
    if isinstance(exc, openai.APITimeoutError):
        return ErrorType.judge_timeout
    if isinstance(exc, openai.APIConnectionError):
        return ErrorType.judge_connection_error
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code == 429:
            return ErrorType.judge_rate_limited
        if exc.status_code >= 500:
            return ErrorType.judge_server_error
        return ErrorType.judge_bad_request
    return ErrorType.judge_server_error


def refusal(exc: openai.APIStatusError) -> Refusal:
    """The error reply's message, param and code, wherever the server put them."""
    body: Any = exc.body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        body = body["error"]
    if isinstance(body, dict):
        message = body.get("message") or body.get("detail") or exc.message
        param, code = body.get("param"), body.get("code")
    else:
        message, param, code = (body if isinstance(body, str) else exc.message), None, None
    param = param if isinstance(param, str) else None
    return Refusal(exc.status_code, str(message), param, code if isinstance(code, str) else None)


def _retry_after(exc: BaseException | None) -> float | None:
    return retry_after_seconds(exc.response.headers) if isinstance(exc, openai.APIStatusError) else None


class _Wait:
    """Exponential backoff with jitter, or the server's Retry-After when it gives one (capped)."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._exp = wait_exponential_jitter(initial=policy.initial_s, max=policy.max_s)
        self._cap = policy.max_retry_after_s

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hinted = _retry_after(exc)
        return min(hinted, self._cap) if hinted is not None else self._exp(state)


class _Learned(Exception):
    """The reply showed the model reasons before answering; the call is repeated with a reasoning budget."""


def _messages(ctx: ItemContext, c: Criterion, opts: JudgeRequestOptions, tail: str) -> list[dict[str, str]]:
    """Our prompt for one criterion, or the user's own template when the request (or the grader) has one."""
    if opts.custom_template is not None:
        return prompts.render_custom(opts.custom_template, ctx.conversation, ctx.response, c)
    return prompts.criterion_messages(ctx.block(opts.template), c, tail)


class OpenAIJudge:
    def __init__(
        self,
        transport: ChatTransport,
        limiter: Limiter,
        *,
        retry: RetryPolicy | None = None,
        max_reparse: int = 2,
        top_logprobs: int = 10,
        logprob_answer_tokens: int = 1,
        max_tokens: int = 512,
        family_name: str = "auto",
        extra_body: dict[str, Any] | None = None,
        reasoning_budget: int = 2048,
        min_answer_mass: float = 0.5,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self.transport = transport
        self.client = transport.client  # for /v1/models and the base URL
        self.limiter = limiter
        self.retry = retry or RetryPolicy()
        self.max_reparse = max_reparse
        self.top_logprobs = top_logprobs
        self.logprob_answer_tokens = logprob_answer_tokens
        self.max_tokens = max_tokens
        self.family_name = family_name
        self.extra_body = dict(extra_body or {})
        self.reasoning_budget = reasoning_budget
        self.min_answer_mass = min_answer_mass
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
        if isinstance(e, openai.APIStatusError):
            return f"judge answered {e.status_code}: {sanitize(refusal(e).message, 200, self.secrets)}"
        if isinstance(e, BadResponse):
            return f"judge sent an unusable reply: {sanitize(str(e), 200)}"
        return f"{type(e).__name__}: {sanitize(str(e), 200, self.secrets)}"

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
                if not _retryable(first) or self.retry.max_attempts <= 1:
                    raise
                metrics.JUDGE_RETRIES.inc()
                await asyncio.sleep(self._first_backoff(first))
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self.retry.max_attempts - 1),
                wait=_Wait(self.retry),
                retry=retry_if_exception(_retryable),
                reraise=True,
            ):
                with attempt:
                    return await self._attempt(usage, fam, caps, spec, extra)
        except (openai.OpenAIError, BadResponse) as e:
            raise JudgeError(classify(e), self._describe(e)) from e
        raise AssertionError("unreachable")  # pragma: no cover

    def _first_backoff(self, exc: BaseException) -> float:
        hinted = _retry_after(exc)
        if hinted is not None:
            return min(hinted, self.retry.max_retry_after_s)
        return min(self.retry.initial_s * (1 + random.random()), self.retry.max_s)

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
                    kwargs = fam.request(caps, spec, extra, self.reasoning_budget)
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
                if fam.request(caps, spec, extra, self.reasoning_budget) != kwargs:
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

    def _answer(
        self, fam: JudgeFamily, caps: Capabilities, choice: Choice, reply: Reply, budgeted: bool, truncation_ok: bool
    ) -> Answer:
        """The final answer of a reply; raises `_Learned` or a typed truncation error when there is none."""
        ans = fam.answer(choice.content, choice.reasoning)
        first = choice.logprobs[0].token if choice.logprobs else ""
        # signs of reasoning the text may not show: hidden reasoning tokens, a parser that dropped the tag
        hidden = reply.reasoning_tokens > 0 or starts_reasoning(first, "")
        length = choice.finish_reason == "length"
        empty_cut = length and not ans.final and (ans.reasoned or hidden)
        if ans.closed and not empty_cut and not (length and not truncation_ok):
            return ans
        if not budgeted and (
            not ans.closed or ans.reasoned or hidden or starts_reasoning(choice.content, choice.reasoning)
        ):
            if not caps.reasoning:  # concurrent calls may have learned it already
                caps.reasoning = True
                caps.learned.append(
                    f"the model reasons before answering: calls get a reasoning budget of {self.reasoning_budget} "
                    f"tokens; to save time turn thinking off ({fam.thinking_off_hint(caps)})"
                )
            raise _Learned
        if budgeted:
            fix = (
                f"raise GRADER_JUDGE_REASONING_BUDGET (now {self.reasoning_budget}) "
                f"or turn thinking off ({fam.thinking_off_hint(caps)})"
            )
        else:
            fix = f"raise GRADER_JUDGE_MAX_TOKENS (now {self.max_tokens})"
        raise JudgeError(ErrorType.judge_truncated, f"the judge's reply was cut off before its answer: {fix}")

    # ------------------------------------------------------------ per criterion

    async def judge_criterion(self, ctx: ItemContext, criterion: Criterion, opts: JudgeRequestOptions) -> Judgement:
        usage = Usage()
        try:
            fam, caps = await self.family_for(opts)
            if opts.mode is JudgeMode.logprob:
                j = await self._logprob(ctx, criterion, opts, fam, caps, usage)
            elif opts.mode is JudgeMode.sample:
                j = await self._sample(ctx, criterion, opts, fam, caps, usage)
            else:
                j = await self._verdict(ctx, criterion, opts, fam, caps, usage)
        except JudgeError as e:
            return Judgement(met=None, p_met=None, error=e.as_error(), usage=usage)
        j.usage = usage
        return j

    async def _verdict(
        self,
        ctx: ItemContext,
        c: Criterion,
        opts: JudgeRequestOptions,
        fam: JudgeFamily,
        caps: Capabilities,
        usage: Usage,
    ) -> Judgement:
        messages = _messages(ctx, c, opts, prompts.VERDICT_TAIL)
        last = ""
        tries = 0
        while tries <= self.max_reparse:
            spec = CallSpec(opts.model, messages, self.max_tokens, opts.temperature)
            reply, budgeted = await self._call(usage, fam, caps, spec, opts)
            choice = reply.choices[0]
            try:
                ans = self._answer(fam, caps, choice, reply, budgeted, truncation_ok=False)
            except _Learned:
                continue
            tries += 1
            last = ans.final
            parsed = parse_verdict(ans.final)
            if parsed is not None:
                return Judgement(met=parsed.met, p_met=1.0 if parsed.met else 0.0, explanation=parsed.explanation)
            messages = [
                *messages,
                {"role": "assistant", "content": ans.final},
                {"role": "user", "content": prompts.REASK},
            ]
        raise JudgeError(
            ErrorType.judge_unparseable,
            f"no verdict after {self.max_reparse + 1} tries; last: {sanitize(last, 120)!r}",
        )

    async def _logprob(
        self,
        ctx: ItemContext,
        c: Criterion,
        opts: JudgeRequestOptions,
        fam: JudgeFamily,
        caps: Capabilities,
        usage: Usage,
    ) -> Judgement:
        messages = _messages(ctx, c, opts, prompts.YESNO_TAIL)
        answer_tokens = self.logprob_answer_tokens
        while True:
            spec = CallSpec(
                opts.model,
                messages,
                answer_tokens,
                0.0,
                logprobs=True,
                top_logprobs=self.top_logprobs,
            )
            reply, budgeted = await self._call(usage, fam, caps, spec, opts)
            choice = reply.choices[0]
            try:
                ans = self._answer(fam, caps, choice, reply, budgeted, truncation_ok=True)
            except _Learned:
                continue
            tokens = choice.logprobs if caps.logprobs else None
            pos = answer_position(tokens, ans.final) if tokens else None
            if answer_tokens < 6 and not budgeted and (not ans.final or (tokens and pos is None)):
                answer_tokens = 6  # a first token with no letter in it ("**", a newline): let the answer come
                continue
            break
        if tokens:
            yn = yes_no(alternatives(tokens[pos])) if pos is not None else None
            mass = yn.mass if yn is not None else 0.0
            if yn is None or mass < self.min_answer_mass:
                raise JudgeError(
                    ErrorType.judge_low_answer_mass,
                    f"YES and NO hold {mass:.0%} of the probability at the answer position (needed: "
                    f"{self.min_answer_mass:.0%}); answer was {sanitize(ans.final, 40)!r}. If the model reasons "
                    "before answering, set GRADER_JUDGE_FAMILY to its family (e.g. deepseek-r1, gpt-oss); "
                    "otherwise use verdict mode",
                )
            return Judgement(met=yn.p_yes >= 0.5, p_met=yn.p_yes, answer_mass=mass)
        parsed = parse_verdict(ans.final)
        if parsed is None:
            raise JudgeError(
                ErrorType.judge_unparseable,
                f"no YES/NO answer and no logprobs; got {sanitize(ans.final, 80)!r}",
            )
        note = "judge returned no logprobs; hard verdict from its answer"
        return Judgement(met=parsed.met, p_met=1.0 if parsed.met else 0.0, explanation=note)

    async def _sample(
        self,
        ctx: ItemContext,
        c: Criterion,
        opts: JudgeRequestOptions,
        fam: JudgeFamily,
        caps: Capabilities,
        usage: Usage,
    ) -> Judgement:
        messages = _messages(ctx, c, opts, prompts.VERDICT_TAIL)
        verdicts: list[bool] = []
        explanation: str | None = None
        truncated = 0
        budget = opts.samples  # bounded: servers that ignore or refuse `n` get at most `samples` calls
        while len(verdicts) < opts.samples and budget > 0:
            budget -= 1
            want = opts.samples - len(verdicts)
            spec = CallSpec(opts.model, messages, self.max_tokens, opts.temperature, n=want)
            reply, budgeted = await self._call(usage, fam, caps, spec, opts)
            learned = False
            for choice in reply.choices:
                try:
                    ans = self._answer(fam, caps, choice, reply, budgeted, truncation_ok=False)
                except _Learned:
                    learned = True
                    break
                except JudgeError:
                    truncated += 1
                    continue
                parsed = parse_verdict(ans.final)
                if parsed is not None and len(verdicts) < opts.samples:
                    verdicts.append(parsed.met)
                    explanation = explanation or parsed.explanation
            if learned:
                budget += 1
        if not verdicts:
            if truncated:
                fix = "GRADER_JUDGE_REASONING_BUDGET" if caps.reasoning else "GRADER_JUDGE_MAX_TOKENS"
                raise JudgeError(ErrorType.judge_truncated, f"every sample was cut off before its verdict: raise {fix}")
            raise JudgeError(ErrorType.judge_unparseable, f"none of the {opts.samples} samples held a verdict")
        p = sum(verdicts) / len(verdicts)
        return Judgement(met=p >= 0.5, p_met=p, explanation=explanation)

    # ------------------------------------------------------------ whole rubric (rar_implicit)

    async def judge_rubric(
        self, ctx: ItemContext, rubric: list[Criterion], opts: JudgeRequestOptions
    ) -> RatingJudgement:
        usage = Usage()
        try:
            fam, caps = await self.family_for(opts)
            if opts.mode is JudgeMode.logprob:
                j = await self._rating_logprob(ctx, rubric, opts, fam, caps, usage)
            else:
                j = await self._rating_verdict(ctx, rubric, opts, fam, caps, usage)
        except JudgeError as e:
            return RatingJudgement(rating_probs=None, error=e.as_error(), usage=usage)
        j.usage = usage
        return j

    async def _rating_logprob(
        self,
        ctx: ItemContext,
        rubric: list[Criterion],
        opts: JudgeRequestOptions,
        fam: JudgeFamily,
        caps: Capabilities,
        usage: Usage,
    ) -> RatingJudgement:
        messages = prompts.rubric_messages(ctx.block(opts.template), rubric, prompts.LIKERT_NUMBER_TAIL)
        while True:
            spec = CallSpec(opts.model, messages, 2, 0.0, logprobs=True, top_logprobs=self.top_logprobs)
            reply, budgeted = await self._call(usage, fam, caps, spec, opts)
            choice = reply.choices[0]
            try:
                ans = self._answer(fam, caps, choice, reply, budgeted, truncation_ok=True)
                break
            except _Learned:
                continue
        tokens = choice.logprobs if caps.logprobs else None
        pos = answer_position(tokens, ans.final) if tokens else None
        if tokens and pos is not None:
            second = alternatives(tokens[pos + 1]) if pos + 1 < len(tokens) else None
            dist = rating_distribution(alternatives(tokens[pos]), second, tokens[pos].token)
            if dist:
                return RatingJudgement(rating_probs=dist)
        parsed = parse_rating(ans.final)
        if parsed is None:
            raise JudgeError(ErrorType.judge_unparseable, f"no rating; got {sanitize(ans.final, 80)!r}")
        return RatingJudgement(rating_probs={parsed[0]: 1.0}, explanation="judge returned no rating logprobs")

    async def _rating_verdict(
        self,
        ctx: ItemContext,
        rubric: list[Criterion],
        opts: JudgeRequestOptions,
        fam: JudgeFamily,
        caps: Capabilities,
        usage: Usage,
    ) -> RatingJudgement:
        messages = prompts.rubric_messages(ctx.block(opts.template), rubric, prompts.LIKERT_VERDICT_TAIL)
        n = opts.samples if opts.mode is JudgeMode.sample else 1
        ratings: list[int] = []
        explanation = None
        tries = 0
        while tries < self.max_reparse + n and len(ratings) < n:
            spec = CallSpec(opts.model, messages, self.max_tokens, opts.temperature)
            reply, budgeted = await self._call(usage, fam, caps, spec, opts)
            choice = reply.choices[0]
            try:
                ans = self._answer(fam, caps, choice, reply, budgeted, truncation_ok=False)
            except _Learned:
                continue
            tries += 1
            parsed = parse_rating(ans.final)
            if parsed is not None:
                ratings.append(parsed[0])
                explanation = explanation or parsed[1]
        if not ratings:
            raise JudgeError(ErrorType.judge_unparseable, "no 1-10 rating in the judge's replies")
        dist: dict[int, float] = {}
        for r in ratings:
            dist[r] = dist.get(r, 0.0) + 1 / len(ratings)
        return RatingJudgement(rating_probs=dist, explanation=explanation)


def _body(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The JSON body `chat.completions.create(**kwargs)` would send (extra_body merged in)."""
    body = {k: v for k, v in kwargs.items() if k != "extra_body"}
    body.update(kwargs.get("extra_body") or {})
    return body
