"""The judgement store interface, and how judgements are written into one.

Stores hold successful judgements only, keyed by everything that decides the judge's answer (prompt
version, options, model, the exact prompt content; see `judge/_cached.py`). Shared stores (SQLite,
Redis) also take claims: the first process to claim a key makes the judge call, the others wait for
its value, so several grader processes behind one store judge each duplicate once. A claim is a short
lease its owner renews while it works, so a claimant that dies (a killed replica) blocks the others for
one lease, not for the longest a judge call may take.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from grader_service.judge._base import Judgement, RatingJudgement

Value = Judgement | RatingJudgement


class Store(Protocol):
    shared: bool  # other processes see what this one writes (claims make sense)

    async def get(self, key: str) -> Value | None: ...

    async def set(self, key: str, value: Value) -> None: ...

    async def claim(self, key: str, owner: str, ttl_s: float) -> bool: ...

    async def release(self, key: str, owner: str) -> None: ...

    async def renew(self, key: str, owner: str, ttl_s: float) -> bool: ...  # extend a live claim; False if lost

    async def aclose(self) -> None: ...

    def stats(self) -> dict[str, Any]: ...


def encode(value: Value) -> str:
    if isinstance(value, RatingJudgement):
        probs = {str(k): v for k, v in (value.rating_probs or {}).items()}
        return json.dumps({"k": "r", "probs": probs, "x": value.explanation})
    return json.dumps({"k": "c", "met": value.met, "p": value.p_met, "x": value.explanation, "m": value.answer_mass})


def decode(text: str | bytes) -> Value | None:
    try:
        d = json.loads(text)
        if d["k"] == "r":
            return RatingJudgement(rating_probs={int(k): float(v) for k, v in d["probs"].items()}, explanation=d["x"])
        return Judgement(met=d["met"], p_met=d["p"], explanation=d["x"], answer_mass=d["m"])
    except (ValueError, KeyError, TypeError):
        return None  # an unreadable entry is a miss, never an error
