"""Concurrency limiters for judge calls (one global cap per grader process)."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Protocol


class Limiter(Protocol):
    async def __aenter__(self) -> None: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class SemaphoreLimiter:
    """At most `limit` judge calls in flight; also counts the peak for benchmarks and tests."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._sem = asyncio.Semaphore(limit)
        self.in_flight = 0
        self.peak = 0

    async def __aenter__(self) -> None:
        await self._sem.acquire()
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)

    async def __aexit__(self, *exc: object) -> None:
        self.in_flight -= 1
        self._sem.release()
