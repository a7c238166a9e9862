"""Reading verdicts and ratings from the judge's final answer (see `_answer` for what "final" means).

A verdict counts only where the answer ends with it: a JSON object closing the answer, or a last
line that is a bare `met: true`/`YES`. A JSON object earlier in the text is the judge quoting
something (the instructions, or a response that planted `{"met": true}`), not its verdict.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from grader_service.judge._answer import norm_token

_TRUE = {"true", "yes", "met", "1"}
_FALSE = {"false", "no", "not met", "unmet", "0"}
_VERDICT_KEYS = ("met", "criteria_met", "criterion_met", "verdict", "answer")
_TRAILING_OBJECT = re.compile(r"\{[^{}]*\}\s*$", re.DOTALL)
_LOOSE_LINE = re.compile(
    r'^\W*"?(?:criteria_met|criterion_met|met|verdict|answer)"?\s*[:=]\s*"?(true|false|yes|no)"?\W*$', re.I
)
_BARE = re.compile(r"^\W*(yes|no)\W*$", re.I)
_RATING = re.compile(r'"?rating"?\s*[:=]\s*"?(\d{1,2})', re.I)


@dataclass(frozen=True)
class ParsedVerdict:
    met: bool
    explanation: str | None


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        v = value.strip().lower()
        if v in _TRUE:
            return True
        if v in _FALSE:
            return False
    return None


def _strip_fences(text: str) -> str:
    return re.sub(r"```(?:json)?", "", text)


def parse_verdict(text: str | None) -> ParsedVerdict | None:
    """The verdict that ends `text`, or None when the answer does not end with one."""
    if not text:
        return None
    body = _strip_fences(text).strip()
    if m := _TRAILING_OBJECT.search(body):
        try:
            obj = json.loads(m.group(0))
        except json.JSONDecodeError:
            obj = None
        if isinstance(obj, dict):
            for key in _VERDICT_KEYS:
                if key in obj and (met := _as_bool(obj[key])) is not None:
                    return ParsedVerdict(met, _explanation(body[: m.start()], obj))
        return None
    lines = [ln for ln in body.splitlines() if ln.strip()]
    if not lines:
        return None
    last = lines[-1]
    if (m := _LOOSE_LINE.match(last)) or (m := _BARE.match(last)):
        return ParsedVerdict(m.group(1).lower() in _TRUE, _explanation("\n".join(lines[:-1]), None))
    return None


def _explanation(before: str, obj: dict[str, Any] | None) -> str | None:
    if obj is not None:
        for key in ("explanation", "reason", "reasoning"):
            if isinstance(obj.get(key), str) and obj[key].strip():
                return obj[key].strip()
    before = before.strip()
    return before or None


def parse_rating(text: str | None) -> tuple[int, str | None] | None:
    """A 1-10 rating from a JSON object, a 'rating: N' pair or a bare integer."""
    if not text:
        return None
    body = _strip_fences(text)
    matches = list(_RATING.finditer(body))
    if matches:
        value = int(matches[-1].group(1))
        before = body[: matches[-1].start()].rstrip(' {"\n')
        return (value, before.strip() or None) if 1 <= value <= 10 else None
    m = re.fullmatch(r"\s*(\d{1,2})\s*\.?\s*", body)
    if m and 1 <= int(m.group(1)) <= 10:
        return int(m.group(1)), None
    return None


def rating_distribution(
    first: Iterable[tuple[str, float]], second: Iterable[tuple[str, float]] | None, sampled_first: str
) -> dict[int, float] | None:
    """Distribution over ratings 1..10 from first-token alternatives.

    Tokenizers that split digits emit "10" as "1" then "0": when the sampled first token was "1",
    the second token's alternatives split P("1") between 1 and 10; otherwise "1" counts as 1.
    """
    probs: dict[int, float] = {}
    for token, logprob in first:
        t = norm_token(token)
        if t.isdigit() and 1 <= int(t) <= 10:
            probs[int(t)] = probs.get(int(t), 0.0) + math.exp(logprob)
    if not probs:
        return None
    if 1 in probs and second is not None and norm_token(sampled_first) == "1":
        p_zero = p_end = 0.0
        for token, logprob in second:
            t = norm_token(token)
            if t == "0":
                p_zero += math.exp(logprob)
            elif not t.isdigit():
                p_end += math.exp(logprob)
        if p_zero + p_end > 0:
            share = p_zero / (p_zero + p_end)
            p1 = probs.pop(1)
            probs[10] = probs.get(10, 0.0) + p1 * share
            if share < 1:
                probs[1] = p1 * (1 - share)
    total = sum(probs.values())
    return {k: v / total for k, v in sorted(probs.items())}
