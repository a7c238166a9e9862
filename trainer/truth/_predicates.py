"""Machine-checkable criteria: a small predicate language over a response's text, checked exactly.

A predicate is JSON: `{"any": [phrases]}` (one of them appears), `{"all": [phrases]}` (every one appears),
`{"not": P}`, `{"and": [P, ...]}`, `{"or": [P, ...]}`, `{"min_words": n}`, `{"max_words": n}`. Phrases match
case-insensitively on word boundaries, with runs of white space folded, so "ECG" matches "an ECG now" but
not "ECGs" unless written as a stem ("ecg*"). This is the truth a simulated judge is measured against.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

Predicate = dict[str, Any]
_WORDS = re.compile(r"\b\w[\w'-]*\b")


@lru_cache(maxsize=4096)
def _pattern(phrase: str) -> re.Pattern[str]:
    stem = phrase.endswith("*")
    words = [re.escape(w) for w in phrase.rstrip("*").split()]
    tail = r"\w*" if stem else r"\b"
    return re.compile(r"\b" + r"\s+".join(words) + tail, re.I)


def _has(text: str, phrase: str) -> bool:
    return _pattern(phrase).search(text) is not None


_OPS: dict[str, Any] = {
    "any": lambda arg, text: any(_has(text, p) for p in arg),
    "all": lambda arg, text: all(_has(text, p) for p in arg),
    "not": lambda arg, text: not holds(arg, text),
    "and": lambda arg, text: all(holds(p, text) for p in arg),
    "or": lambda arg, text: any(holds(p, text) for p in arg),
    "min_words": lambda arg, text: len(_WORDS.findall(text)) >= int(arg),
    "max_words": lambda arg, text: len(_WORDS.findall(text)) <= int(arg),
}


def holds(predicate: Predicate, text: str) -> bool:
    """Whether `text` satisfies `predicate` (ValueError on a predicate this language does not have)."""
    if len(predicate) != 1:
        raise ValueError(f"a predicate has exactly one operator, got {sorted(predicate)}")
    ((op, arg),) = predicate.items()
    if op not in _OPS:
        raise ValueError(f"unknown predicate operator {op!r}")
    return bool(_OPS[op](arg, text))


def check(predicate: Predicate) -> None:
    """Raise ValueError where `predicate` is malformed (checked when the set is loaded, not when used)."""
    holds(predicate, "")
    ((op, arg),) = predicate.items()
    if op in ("any", "all") and not (isinstance(arg, list) and arg and all(isinstance(p, str) and p for p in arg)):
        raise ValueError(f"{op!r} takes a non-empty list of phrases")
    if op == "not":
        check(arg)
    if op in ("and", "or"):
        for p in arg:
            check(p)
