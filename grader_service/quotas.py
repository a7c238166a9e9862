"""Per-key budgets: requests and judge tokens per minute, as token buckets in this process.

A request is admitted while its key has a request left and its judge-token budget is not in debt; the
tokens it spent are charged when it finishes (only then are they known), so a key can overshoot by the
request in flight and then waits until the debt is refilled. Each bucket holds at most a minute's budget,
refilled continuously. With several workers each holds its share (budget / workers), as the judge's own
rpm/tpm limits are split; across replicas a budget is per replica.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from grader_service.keys import Key


class Bucket:
    def __init__(self, per_minute: float, clock: Callable[[], float]) -> None:
        self.capacity = per_minute
        self.rate = per_minute / 60.0
        self.level = per_minute
        self.clock = clock
        self.stamp = clock()

    def _refill(self) -> None:
        now = self.clock()
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_for(self, need: float) -> float:
        """Seconds until the level reaches `need` (0 when it already has)."""
        self._refill()
        return 0.0 if self.level >= need else (need - self.level) / self.rate

    def take(self, amount: float) -> None:
        self._refill()
        self.level -= amount


@dataclass(frozen=True)
class OverQuota:
    budget: str  # "requests_per_minute" | "judge_tokens_per_minute"
    retry_after_s: int


class Quotas:
    def __init__(self, keys: list[Key], share: int = 1, clock: Callable[[], float] = time.monotonic) -> None:
        self.requests = {k.name: Bucket(k.requests_per_minute / share, clock) for k in keys if k.requests_per_minute}
        self.tokens = {
            k.name: Bucket(k.judge_tokens_per_minute / share, clock) for k in keys if k.judge_tokens_per_minute
        }

    def admit(self, name: str) -> OverQuota | None:
        """Take one request from `name`'s budget, or say which budget is spent and for how long."""
        tokens = self.tokens.get(name)
        if tokens is not None and (wait := tokens.wait_for(0.0)) > 0:  # in debt
            return OverQuota("judge_tokens_per_minute", max(1, math.ceil(wait)))
        requests = self.requests.get(name)
        if requests is not None:
            if (wait := requests.wait_for(1.0)) > 0:
                return OverQuota("requests_per_minute", max(1, math.ceil(wait)))
            requests.take(1.0)
        return None

    def charge(self, name: str, judge_tokens: int) -> None:
        if judge_tokens > 0 and (tokens := self.tokens.get(name)) is not None:
            tokens.take(float(judge_tokens))
