"""A lean, strict reading of a chat-completion body.

The grader needs a handful of fields from each reply (content, reasoning, finish reason, the logprobs
of a few tokens), and a reply it cannot trust must become a typed, retryable error for that one
criterion, never an exception that takes the whole batch down. So the body is read as plain JSON and
checked field by field instead of being validated into the SDK's full object tree.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any


class BadResponse(Exception):
    """The judge answered 200 with a body that is not a usable chat completion."""


@dataclass(frozen=True, slots=True)
class TokenLogprob:
    token: str
    logprob: float
    top: tuple[tuple[str, float], ...]  # the alternatives the server returned, sampled token included when listed


@dataclass(frozen=True, slots=True)
class Choice:
    content: str
    reasoning: str  # reasoning the server split off (reasoning_content / reasoning); "" when none
    finish_reason: str | None
    logprobs: tuple[TokenLogprob, ...] | None  # None: the server returned no logprobs


@dataclass(frozen=True, slots=True)
class Reply:
    choices: tuple[Choice, ...]
    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int = 0  # hidden reasoning (OpenAI's reasoning models report only this count)


# Logprobs a little above 0 come from float rounding in real servers; anything more is not a log-probability.
_MAX_LOGPROB = 1e-4


def _logprob(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadResponse(f"{where} is {type(value).__name__}, not a number")
    v = float(value)
    if math.isnan(v) or v > _MAX_LOGPROB:
        raise BadResponse(f"{where} = {v!r} is not a log-probability")
    return v  # -inf and vLLM's -9999.0 both mean "never"


def _token(entry: Any, where: str) -> tuple[str, float]:
    if not isinstance(entry, dict):
        raise BadResponse(f"{where} is not an object")
    token = entry.get("token")
    if not isinstance(token, str):
        raise BadResponse(f"{where}.token is not a string")
    return token, _logprob(entry.get("logprob"), f"{where}.logprob")


def _logprobs(raw: Any, where: str) -> tuple[TokenLogprob, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise BadResponse(f"{where} is not an object")
    content = raw.get("content")
    if content is None:
        return None
    if not isinstance(content, list):
        raise BadResponse(f"{where}.content is not a list")
    out = []
    for i, entry in enumerate(content):
        token, lp = _token(entry, f"{where}.content[{i}]")
        top_raw = entry.get("top_logprobs") or []
        if not isinstance(top_raw, list):
            raise BadResponse(f"{where}.content[{i}].top_logprobs is not a list")
        top = tuple(_token(t, f"{where}.content[{i}].top_logprobs[{j}]") for j, t in enumerate(top_raw))
        out.append(TokenLogprob(token, lp, top))
    return tuple(out)


def _text(value: Any, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadResponse(f"{where} is {type(value).__name__}, not a string")
    return value


def _choice(raw: Any, i: int) -> Choice:
    where = f"choices[{i}]"
    if not isinstance(raw, dict):
        raise BadResponse(f"{where} is not an object")
    message = raw.get("message")
    if not isinstance(message, dict):
        raise BadResponse(f"{where}.message is {'null' if message is None else type(message).__name__}")
    reasoning = message.get("reasoning_content")
    if reasoning is None:
        reasoning = message.get("reasoning")  # vLLM >= 0.10 and Groq name it "reasoning"
    finish = raw.get("finish_reason")
    return Choice(
        content=_text(message.get("content"), f"{where}.message.content"),
        reasoning=_text(reasoning, f"{where}.message.reasoning"),
        finish_reason=finish if isinstance(finish, str) else None,
        logprobs=_logprobs(raw.get("logprobs"), f"{where}.logprobs"),
    )


def _count(usage: Any, key: str) -> int:
    value = usage.get(key) if isinstance(usage, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def parse_reply(body: bytes | str) -> Reply:
    """A chat completion from its raw JSON body; raises `BadResponse` naming what is wrong."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise BadResponse(f"body is not JSON ({type(e).__name__})") from e
    if not isinstance(data, dict):
        raise BadResponse(f"body is a JSON {type(data).__name__}, not an object")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        raise BadResponse("no choices in the reply")
    usage = data.get("usage")
    details = usage.get("completion_tokens_details") if isinstance(usage, dict) else None
    return Reply(
        choices=tuple(_choice(c, i) for i, c in enumerate(choices)),
        prompt_tokens=_count(usage, "prompt_tokens"),
        completion_tokens=_count(usage, "completion_tokens"),
        reasoning_tokens=_count(details, "reasoning_tokens"),
    )
