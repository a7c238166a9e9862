"""Reading judge output: JSON verdicts from free text, YES/NO probabilities from logprobs."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_TRUE = {"true", "yes", "met", "1"}
_FALSE = {"false", "no", "not met", "unmet", "0"}
_VERDICT_KEYS = ("met", "criteria_met", "criterion_met", "verdict", "answer")
_OBJECT = re.compile(r"\{[^{}]*\}", re.DOTALL)
_LOOSE = re.compile(r'"?(?:criteria_met|criterion_met|met|verdict)"?\s*[:=]\s*"?(true|false|yes|no)\b', re.I)
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
    """The last JSON verdict in `text` (tolerating code fences, prose, loose key/value pairs)."""
    if not text:
        return None
    body = _strip_fences(text)
    for m in reversed(list(_OBJECT.finditer(body))):
        try:
            obj = json.loads(m.group(0))
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            for key in _VERDICT_KEYS:
                if key in obj and (met := _as_bool(obj[key])) is not None:
                    return ParsedVerdict(met, _explanation(body[: m.start()], obj))
    loose = list(_LOOSE.finditer(body))
    if loose:
        m = loose[-1]
        return ParsedVerdict(m.group(1).lower() in _TRUE, _explanation(body[: m.start()], None))
    lines = [ln for ln in body.strip().splitlines() if ln.strip()]
    if lines and (m := _BARE.match(lines[-1])):
        return ParsedVerdict(m.group(1).lower() == "yes", _explanation("\n".join(lines[:-1]), None))
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


def _norm_token(token: str) -> str:
    return re.sub(r"[^a-z0-9]", "", token.lower())


def yes_probability(top_logprobs: Iterable[tuple[str, float]]) -> float | None:
    """P(yes) / (P(yes) + P(no)) over the returned alternatives; None when neither appears."""
    p_yes = p_no = 0.0
    for token, logprob in top_logprobs:
        t = _norm_token(token)
        if t == "yes":
            p_yes += math.exp(logprob)
        elif t == "no":
            p_no += math.exp(logprob)
    if p_yes + p_no <= 0:
        return None
    return p_yes / (p_yes + p_no)


def rating_distribution(
    first: Iterable[tuple[str, float]], second: Iterable[tuple[str, float]] | None, sampled_first: str
) -> dict[int, float] | None:
    """Distribution over ratings 1..10 from first-token alternatives.

    Tokenizers that split digits emit "10" as "1" then "0": when the sampled first token was "1",
    the second token's alternatives split P("1") between 1 and 10; otherwise "1" counts as 1.
    """
    probs: dict[int, float] = {}
    for token, logprob in first:
        t = _norm_token(token)
        if t.isdigit() and 1 <= int(t) <= 10:
            probs[int(t)] = probs.get(int(t), 0.0) + math.exp(logprob)
    if not probs:
        return None
    if 1 in probs and second is not None and _norm_token(sampled_first) == "1":
        p_zero = p_end = 0.0
        for token, logprob in second:
            t = _norm_token(token)
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
