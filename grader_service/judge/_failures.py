"""What a failed judge call means: retry or not, which typed reason, what the server refused, how long to wait."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import openai
from tenacity import RetryCallState
from tenacity.wait import wait_exponential_jitter

from grader_service._redact import sanitize
from grader_service.judge._wire import BadResponse
from grader_service.judge.families import Refusal
from shared import ErrorType, retry_after_seconds


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    initial_s: float = 0.5
    max_s: float = 8.0
    max_retry_after_s: float = 30.0


def retryable(exc: BaseException) -> bool:
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


def describe(e: BaseException, secrets: tuple[str, ...]) -> str:
    """One line for the typed error's message, with the judge's key and other secrets scrubbed."""
    if isinstance(e, openai.APIStatusError):
        return f"judge answered {e.status_code}: {sanitize(refusal(e).message, 200, secrets)}"
    if isinstance(e, BadResponse):
        return f"judge sent an unusable reply: {sanitize(str(e), 200)}"
    return f"{type(e).__name__}: {sanitize(str(e), 200, secrets)}"


def retry_after(exc: BaseException | None) -> float | None:
    return retry_after_seconds(exc.response.headers) if isinstance(exc, openai.APIStatusError) else None


def first_backoff(policy: RetryPolicy, exc: BaseException) -> float:
    """The wait before the second attempt, without building a retry controller (most calls never need one)."""
    hinted = retry_after(exc)
    if hinted is not None:
        return min(hinted, policy.max_retry_after_s)
    return min(policy.initial_s * (1 + random.random()), policy.max_s)


class BackoffWait:
    """Exponential backoff with jitter, or the server's Retry-After when it gives one (capped)."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._exp = wait_exponential_jitter(initial=policy.initial_s, max=policy.max_s)
        self._cap = policy.max_retry_after_s

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hinted = retry_after(exc)
        return min(hinted, self._cap) if hinted is not None else self._exp(state)
