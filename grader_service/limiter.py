"""What every judge call passes before it is sent: the judge's capacity, shared and respected.

- A concurrency cap that adapts: halved when the judge answers 429 (at most once a second, so a burst
  of 429s already in flight counts once), grown back by one after a cap's worth of successes.
- Requests-per-minute and tokens-per-minute buckets (hosted judges enforce both).
- Optionally one cap for all grader replicas, held in Redis (`RedisSlots`); without Redis, workers
  on one host split the cap evenly (see `app.build_judge`). While that Redis is away each replica keeps
  its own cap (logged once, `/readyz` degraded) and rejoins the global one when it is back.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

from grader_service import metrics
from grader_service._outage import Outage


class Limiter(Protocol):
    def slot(self, tokens: int = 0) -> Any: ...  # an async context manager around one judge call

    def rate_limited(self) -> None: ...

    def succeeded(self) -> None: ...

    def used_tokens(self, estimated: int, actual: int) -> None: ...


class TokenBucket:
    """`per_minute` units a minute, in bursts of up to a minute's worth."""

    def __init__(self, per_minute: float) -> None:
        self.rate = per_minute / 60.0
        self.capacity = per_minute
        self.level = per_minute
        self.updated = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self.level = min(self.capacity, self.level + (now - self.updated) * self.rate)
        self.updated = now

    async def take(self, amount: float) -> None:
        amount = min(amount, self.capacity)  # a call larger than a minute's budget waits for a full bucket
        while True:
            self._refill()
            if self.level >= amount:
                self.level -= amount
                return
            await asyncio.sleep((amount - self.level) / self.rate)

    def adjust(self, amount: float) -> None:
        """Charge (or refund) the difference between an estimate and what a call really used."""
        self._refill()
        self.level -= amount


class RedisSlots:
    """One concurrency cap for every grader replica: a sorted set of leased slots in Redis (score: the
    lease's last renewal; a slot not renewed for `lease_s` is free again)."""

    _ACQUIRE = """
    redis.call('zremrangebyscore', KEYS[1], '-inf', ARGV[1])
    if redis.call('zcard', KEYS[1]) < tonumber(ARGV[2]) then
        redis.call('zadd', KEYS[1], ARGV[3], ARGV[4])
        return 1
    end
    return 0
    """

    def __init__(self, url: str, limit: int, lease_s: float, key: str = "rubric-grader:slots") -> None:
        from grader_service.cache._redis import redis_client

        self.r = redis_client(url)
        self.limit = limit
        self.lease_s = lease_s
        self.key = key
        self._acquire = self.r.register_script(self._ACQUIRE)
        self.outage = Outage("global judge limit (redis)", fallback="this replica's own cap")

    async def acquire(self) -> str | None:
        """A slot of the global cap, or None while Redis is away (the caller's local cap still holds)."""
        member = uuid.uuid4().hex
        delay = 0.005
        while self.outage.available():
            now = time.time()
            args = [now - self.lease_s, self.limit, now, member]
            try:
                got = await self._acquire(keys=[self.key], args=args)
            except Exception as e:  # Redis away: fall back to the local cap, say so once
                self.outage.failed("acquire", e)
                return None
            self.outage.ok()
            if got:
                return member
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)
        return None

    async def release(self, member: str) -> None:
        try:
            await self.r.zrem(self.key, member)
        except Exception as e:  # its lease lapses by itself
            self.outage.failed("release", e)

    async def hold(self, member: str) -> None:
        """Renew the slot's lease while its call runs (cancel to stop): a replica that dies mid-call holds its
        slots for one lease, not for the longest call."""
        while True:
            await asyncio.sleep(self.lease_s / 3)
            try:
                await self.r.zadd(self.key, {member: time.time()}, xx=True)
            except Exception:  # a Redis hiccup must not fail the judge call it guards
                continue


class JudgeLimiter:
    def __init__(
        self,
        cap: int,
        *,
        rpm: float | None = None,
        tpm: float | None = None,
        adaptive: bool = True,
        global_slots: RedisSlots | None = None,
    ) -> None:
        self.max_cap = cap
        self.cap = cap
        self.adaptive = adaptive
        self.rpm = TokenBucket(rpm) if rpm else None
        self.tpm = TokenBucket(tpm) if tpm else None
        self.global_slots = global_slots
        self.in_flight = 0
        self.peak = 0
        self._free = asyncio.Condition()
        self._streak = 0
        self._last_cut = 0.0
        self._tasks: set[asyncio.Future[Any]] = set()
        metrics.JUDGE_CAP.set(cap)

    @asynccontextmanager
    async def slot(self, tokens: int = 0) -> AsyncIterator[None]:
        start = time.monotonic()
        async with self._free:
            await self._free.wait_for(lambda: self.in_flight < self.cap)
            self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        member = None
        holder: asyncio.Task[None] | None = None
        try:
            if self.rpm is not None:
                await self.rpm.take(1)
            if self.tpm is not None and tokens:
                await self.tpm.take(tokens)
            if self.global_slots is not None:
                member = await self.global_slots.acquire()
                if member is not None:
                    holder = asyncio.create_task(self.global_slots.hold(member))
            metrics.QUEUE_WAIT.observe(time.monotonic() - start)
            metrics.JUDGE_IN_FLIGHT.inc()
            try:
                yield
            finally:
                metrics.JUDGE_IN_FLIGHT.dec()
        finally:
            # No await before the books are straight: a second cancellation arriving here (a call abandoned
            # twice) must not skip the release, or the slot is lost for good and the cap shrinks until no call
            # goes out (what the first 30-minute soak found: 12 minutes without a judge call).
            if holder is not None:
                holder.cancel()
            self.in_flight -= 1
            if member is not None:
                self._background(self.global_slots.release(member))  # type: ignore[union-attr]
            self._wake()

    def health(self) -> dict[str, Any] | None:
        return self.global_slots.outage.as_dict() if self.global_slots is not None else None

    def used_tokens(self, estimated: int, actual: int) -> None:
        if self.tpm is not None and actual:
            self.tpm.adjust(actual - estimated)

    def rate_limited(self) -> None:
        metrics.RATE_LIMITED.inc()
        if not self.adaptive:
            return
        now = time.monotonic()
        if now - self._last_cut >= 1.0:
            self._last_cut = now
            self.cap = max(1, self.cap // 2)
            self._streak = 0
            metrics.JUDGE_CAP.set(self.cap)

    def succeeded(self) -> None:
        if not self.adaptive or self.cap >= self.max_cap:
            return
        self._streak += 1
        if self._streak >= self.cap:
            self._streak = 0
            self.cap += 1
            metrics.JUDGE_CAP.set(self.cap)
            self._wake()  # a waiter may fit under the higher cap

    def _wake(self) -> None:
        async def notify() -> None:
            async with self._free:
                self._free.notify_all()

        self._background(notify())

    def _background(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)  # kept: a task nobody references may be collected
        task.add_done_callback(self._tasks.discard)
