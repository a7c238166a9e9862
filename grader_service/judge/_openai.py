"""A judge behind any OpenAI-compatible chat endpoint (OpenAI, vLLM, SGLang, llama.cpp server)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import openai
from openai import AsyncOpenAI
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from grader_service.judge import _prompts as prompts
from grader_service.judge._base import JudgeError, Judgement, JudgeRequestOptions, RatingJudgement
from grader_service.judge._parse import parse_rating, parse_verdict, rating_distribution, yes_probability
from grader_service.limiter import Limiter
from shared import Criterion, ErrorType, JudgeMode, Message, Usage, retry_after_seconds


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    initial_s: float = 0.5
    max_s: float = 8.0
    max_retry_after_s: float = 30.0


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500
    return False


def classify(exc: BaseException) -> ErrorType:
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


def _top_logprobs(choice: Any, position: int) -> list[tuple[str, float]] | None:
    lp = getattr(choice, "logprobs", None)
    content = getattr(lp, "content", None) if lp is not None else None
    if not content or len(content) <= position:
        return None
    entry = content[position]
    alts = [(a.token, a.logprob) for a in (entry.top_logprobs or [])]
    return alts or [(entry.token, entry.logprob)]


class OpenAIJudge:
    def __init__(
        self,
        client: AsyncOpenAI,
        limiter: Limiter,
        *,
        retry: RetryPolicy | None = None,
        max_reparse: int = 2,
        top_logprobs: int = 10,
        max_tokens: int = 512,
    ) -> None:
        self.client = client
        self.limiter = limiter
        self.retry = retry or RetryPolicy()
        self.max_reparse = max_reparse
        self.top_logprobs = top_logprobs
        self.max_tokens = max_tokens

    async def aclose(self) -> None:
        await self.client.close()

    async def ready(self) -> tuple[bool, str]:
        try:
            models = await self.client.models.list(timeout=5.0)
            return True, f"{len(models.data)} model(s) served"
        except openai.OpenAIError as e:
            return False, f"{type(e).__name__}: {e}"

    async def _create(self, usage: Usage, **kwargs: Any) -> Any:
        """One chat completion under the global cap, retried on 429/5xx/timeouts/connection errors."""
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self.retry.max_attempts),
                wait=_Wait(self.retry),
                retry=retry_if_exception(_retryable),
                reraise=True,
            ):
                with attempt:
                    usage.judge_calls += 1
                    async with self.limiter:
                        completion = await self.client.chat.completions.create(**kwargs)
        except openai.OpenAIError as e:
            raise JudgeError(classify(e), f"{type(e).__name__}: {e}"[:500]) from e
        if completion.usage is not None:
            usage.prompt_tokens += completion.usage.prompt_tokens or 0
            usage.completion_tokens += completion.usage.completion_tokens or 0
        if not completion.choices:
            raise JudgeError(ErrorType.judge_unparseable, "judge returned no choices")
        return completion

    async def _scored_tokens(
        self, usage: Usage, opts: JudgeRequestOptions, messages: list[dict[str, str]], max_tokens: int
    ) -> Any:
        """A greedy short answer with the top alternatives' logprobs for each token."""
        completion = await self._create(
            usage,
            model=opts.model,
            messages=messages,
            temperature=0.0,
            max_tokens=max_tokens,
            logprobs=True,
            top_logprobs=self.top_logprobs,
        )
        return completion.choices[0]

    # ------------------------------------------------------------ per criterion

    async def judge_criterion(
        self, conversation: list[Message], response: str, criterion: Criterion, opts: JudgeRequestOptions
    ) -> Judgement:
        usage = Usage()
        try:
            if opts.mode is JudgeMode.logprob:
                j = await self._logprob(conversation, response, criterion, opts, usage)
            elif opts.mode is JudgeMode.sample:
                j = await self._sample(conversation, response, criterion, opts, usage)
            else:
                j = await self._verdict(conversation, response, criterion, opts, usage)
        except JudgeError as e:
            return Judgement(met=None, p_met=None, error=e.as_error(), usage=usage)
        j.usage = usage
        return j

    async def _verdict(
        self, conv: list[Message], response: str, c: Criterion, opts: JudgeRequestOptions, usage: Usage
    ) -> Judgement:
        messages: list[dict[str, str]] = prompts.criterion_messages(
            conv, response, c, opts.template, prompts.VERDICT_TAIL
        )
        last = ""
        for _ in range(self.max_reparse + 1):
            completion = await self._create(
                usage, model=opts.model, messages=messages, temperature=opts.temperature, max_tokens=self.max_tokens
            )
            last = completion.choices[0].message.content or ""
            parsed = parse_verdict(last)
            if parsed is not None:
                return Judgement(met=parsed.met, p_met=1.0 if parsed.met else 0.0, explanation=parsed.explanation)
            messages = [*messages, {"role": "assistant", "content": last}, {"role": "user", "content": prompts.REASK}]
        raise JudgeError(
            ErrorType.judge_unparseable, f"no verdict after {self.max_reparse + 1} tries; last: {last[:200]!r}"
        )

    async def _logprob(
        self, conv: list[Message], response: str, c: Criterion, opts: JudgeRequestOptions, usage: Usage
    ) -> Judgement:
        messages = prompts.criterion_messages(conv, response, c, opts.template, prompts.YESNO_TAIL)
        last = ""
        for _ in range(self.max_reparse + 1):
            choice = await self._scored_tokens(usage, opts, messages, max_tokens=1)
            last = choice.message.content or ""
            alts = _top_logprobs(choice, 0)
            p = yes_probability(alts) if alts else None
            if p is not None:
                return Judgement(met=p >= 0.5, p_met=p)
            parsed = parse_verdict(last)
            if parsed is not None:  # no logprobs returned: fall back to the hard verdict it sampled
                note = "judge returned no YES/NO logprobs; hard verdict from the sampled token"
                return Judgement(met=parsed.met, p_met=1.0 if parsed.met else 0.0, explanation=note)
        raise JudgeError(ErrorType.judge_unparseable, f"no YES/NO answer; last: {last[:200]!r}")

    async def _sample(
        self, conv: list[Message], response: str, c: Criterion, opts: JudgeRequestOptions, usage: Usage
    ) -> Judgement:
        messages = prompts.criterion_messages(conv, response, c, opts.template, prompts.VERDICT_TAIL)
        verdicts: list[bool] = []
        explanation: str | None = None
        budget = opts.samples  # bounded: servers that ignore `n` get at most `samples` calls
        while len(verdicts) < opts.samples and budget > 0:
            budget -= 1
            completion = await self._create(
                usage,
                model=opts.model,
                messages=messages,
                temperature=opts.temperature,
                max_tokens=self.max_tokens,
                n=opts.samples - len(verdicts),
            )
            for choice in completion.choices:
                parsed = parse_verdict(choice.message.content)
                if parsed is not None and len(verdicts) < opts.samples:
                    verdicts.append(parsed.met)
                    explanation = explanation or parsed.explanation
        if not verdicts:
            raise JudgeError(ErrorType.judge_unparseable, f"none of the {opts.samples} samples held a verdict")
        p = sum(verdicts) / len(verdicts)
        return Judgement(met=p >= 0.5, p_met=p, explanation=explanation)

    # ------------------------------------------------------------ whole rubric (rar_implicit)

    async def judge_rubric(
        self, conversation: list[Message], response: str, rubric: list[Criterion], opts: JudgeRequestOptions
    ) -> RatingJudgement:
        usage = Usage()
        try:
            if opts.mode is JudgeMode.logprob:
                j = await self._rating_logprob(conversation, response, rubric, opts, usage)
            else:
                j = await self._rating_verdict(conversation, response, rubric, opts, usage)
        except JudgeError as e:
            return RatingJudgement(rating_probs=None, error=e.as_error(), usage=usage)
        j.usage = usage
        return j

    async def _rating_logprob(
        self, conv: list[Message], response: str, rubric: list[Criterion], opts: JudgeRequestOptions, usage: Usage
    ) -> RatingJudgement:
        messages = prompts.rubric_messages(conv, response, rubric, opts.template, prompts.LIKERT_NUMBER_TAIL)
        choice = await self._scored_tokens(usage, opts, messages, max_tokens=2)
        first = _top_logprobs(choice, 0)
        content = choice.logprobs.content if choice.logprobs and choice.logprobs.content else []
        sampled_first = content[0].token if content else ""
        if first:
            dist = rating_distribution(first, _top_logprobs(choice, 1), sampled_first)
            if dist:
                return RatingJudgement(rating_probs=dist)
        parsed = parse_rating(choice.message.content)
        if parsed is None:
            raise JudgeError(ErrorType.judge_unparseable, f"no rating; got {choice.message.content!r:.200}")
        return RatingJudgement(rating_probs={parsed[0]: 1.0}, explanation="judge returned no rating logprobs")

    async def _rating_verdict(
        self, conv: list[Message], response: str, rubric: list[Criterion], opts: JudgeRequestOptions, usage: Usage
    ) -> RatingJudgement:
        messages = prompts.rubric_messages(conv, response, rubric, opts.template, prompts.LIKERT_VERDICT_TAIL)
        n = opts.samples if opts.mode is JudgeMode.sample else 1
        ratings: list[int] = []
        explanation = None
        for _ in range(self.max_reparse + n):
            if len(ratings) >= n:
                break
            completion = await self._create(
                usage, model=opts.model, messages=messages, temperature=opts.temperature, max_tokens=self.max_tokens
            )
            parsed = parse_rating(completion.choices[0].message.content)
            if parsed is not None:
                ratings.append(parsed[0])
                explanation = explanation or parsed[1]
        if not ratings:
            raise JudgeError(ErrorType.judge_unparseable, "no 1-10 rating in the judge's replies")
        dist: dict[int, float] = {}
        for r in ratings:
            dist[r] = dist.get(r, 0.0) + 1 / len(ratings)
        return RatingJudgement(rating_probs=dist, explanation=explanation)


def make_client(base_url: str, api_key: str | None, timeout_s: float) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=base_url, api_key=api_key or "EMPTY", timeout=timeout_s, max_retries=0)
