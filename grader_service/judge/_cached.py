"""A judge wrapper that caches successful judgements and shares identical calls already in flight.

Within a process: the first request for a key starts the call; identical requests that arrive meanwhile
wait for the same call. A request that is cancelled (its item became certainly null, or its client went
away) stops waiting; the call itself is cancelled only when no request is waiting for it any more, so a
cancellation never becomes someone else's error or repeated call, and abandoned work is not paid for.

Across processes (a shared store: SQLite or Redis): the caller first claims the key in the store; a
process that finds it claimed waits for the claimant's judgement instead of calling the judge too, and
calls itself only if the claim lapses without one (the claimant died or failed).
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from grader_service import metrics
from grader_service.cache import Store
from grader_service.judge._base import ItemContext, Judge, Judgement, JudgeRequestOptions, RatingJudgement
from grader_service.judge._prompts import PROMPT_VERSION
from shared import Criterion, Usage

J = TypeVar("J", Judgement, RatingJudgement)


def _key(kind: str, ctx: ItemContext, rubric: list[Criterion], opts: JudgeRequestOptions) -> str:
    """Stable across processes and restarts: prompt version, options, the item's digest and the criteria."""
    h = hashlib.sha256()
    h.update(f"{PROMPT_VERSION}\x00{kind}\x00{opts.fingerprint}\x00{ctx.digest}".encode())
    for c in rubric:
        h.update(b"\x00")
        h.update(c.criterion.encode("utf-8", "surrogatepass"))
        h.update(b"-" if c.points < 0 else b"+")
        if kind == "rubric":
            h.update(repr(abs(c.points)).encode())
    return h.hexdigest()


@dataclass
class _Flight:
    """One judge call in flight in this process, and how many requests are waiting for it."""

    task: asyncio.Future[object]
    interested: int = 0
    leader_gone: bool = False  # the request that started it was cancelled
    handed_over: bool = False  # a waiter has received the call's own result (with its usage)
    abandoned: bool = False  # cancelled once, for good: joined by nobody, cancelled by nobody again


def _hit(value: Judgement | RatingJudgement) -> Judgement | RatingJudgement:
    return replace(value, usage=Usage(cache_hits=1))


class CachedJudge:
    def __init__(self, inner: Judge, store: Store, *, claim_lease_s: float = 10.0, max_wait_s: float = 120.0) -> None:
        self.inner = inner
        self.store = store
        self.claim_lease_s = claim_lease_s  # renewed every third of it while the call runs
        self.max_wait_s = max_wait_s  # the longest a waiter waits on a live claimant before calling itself
        self.owner = uuid.uuid4().hex  # this process, in the store's claims
        self._in_flight: dict[str, _Flight] = {}

    async def ready(self) -> tuple[bool, str]:
        return await self.inner.ready()

    async def aclose(self) -> None:
        await self.inner.aclose()
        await self.store.aclose()

    async def _cached(self, key: str, call: Callable[[], Awaitable[J]]) -> J:
        hit = await self.store.get(key)
        if hit is not None:
            metrics.CACHE.labels("hit").inc()
            return _hit(hit)  # type: ignore[return-value]
        flight = self._in_flight.get(key)
        if flight is not None and flight.abandoned:  # being cancelled: never join it, start again
            flight = None
        leader = flight is None
        if flight is None:
            flight = _Flight(asyncio.ensure_future(self._lead(key, call)))
            self._in_flight[key] = flight
            flight.task.add_done_callback(lambda _, f=flight: self._forget(key, f))
        flight.interested += 1
        try:
            value = await asyncio.shield(flight.task)
        except asyncio.CancelledError:
            flight.interested -= 1
            flight.leader_gone |= leader
            if flight.interested == 0 and not flight.abandoned:  # nobody waits for it any more: stop paying
                flight.abandoned = True
                self._forget(key, flight)
                flight.task.cancel()
            raise
        flight.interested -= 1
        if leader or (flight.leader_gone and not flight.handed_over):
            flight.handed_over = not leader  # the call's usage is reported once, by whoever receives it first
            return value  # type: ignore[return-value]
        metrics.CACHE.labels("shared").inc()  # an identical call was already in flight
        return _hit(value)  # type: ignore[return-value]

    def _forget(self, key: str, flight: _Flight) -> None:
        if self._in_flight.get(key) is flight:
            del self._in_flight[key]

    async def _lead(self, key: str, call: Callable[[], Awaitable[J]]) -> J:
        """The one call for a key in this process: claim it across processes, or wait for its claimant."""
        claimed = False
        keeper: asyncio.Task[None] | None = None
        try:
            if self.store.shared:
                claimed = await self.store.claim(key, self.owner, self.claim_lease_s)
                if not claimed:
                    other, claimed = await self._wait_for_claimant(key)
                    if other is not None:
                        return _hit(other)  # type: ignore[return-value]
                if claimed:
                    keeper = asyncio.create_task(self._keep_claim(key))
            metrics.CACHE.labels("miss").inc()
            value = await call()
            value.usage.cache_misses += 1
            if value.error is None:
                await self.store.set(key, value)
            return value
        finally:
            if keeper is not None:
                keeper.cancel()
            if claimed:
                await self.store.release(key, self.owner)

    async def _keep_claim(self, key: str) -> None:
        """Renew this process's claim while its call runs; if this process dies, the claim lapses in one lease."""
        while True:
            await asyncio.sleep(self.claim_lease_s / 3)
            try:
                if not await self.store.renew(key, self.owner, self.claim_lease_s):
                    return  # lost it (the store was flushed, or a stall outlived the lease): others may call
            except Exception:  # a store hiccup must not fail the judge call it guards
                continue

    async def _wait_for_claimant(self, key: str) -> tuple[Judgement | RatingJudgement | None, bool]:
        """Another process is judging this key: wait for its judgement while its claim is alive. Returns the
        judgement, or (None, True) when the claim lapsed (its owner died or failed) and this process now holds
        it, or (None, False) after `max_wait_s` (call without a claim)."""
        delay = 0.01
        waited = 0.0
        while waited < self.max_wait_s:
            await asyncio.sleep(delay)
            waited += delay
            if (value := await self.store.get(key)) is not None:
                return value, False
            if await self.store.claim(key, self.owner, self.claim_lease_s):  # its claim lapsed or was released
                if (value := await self.store.get(key)) is not None:
                    await self.store.release(key, self.owner)
                    return value, False
                return None, True
            delay = min(delay * 1.5, 0.25)
        return None, False

    async def judge_criterion(self, ctx: ItemContext, criterion: Criterion, opts: JudgeRequestOptions) -> Judgement:
        key = _key("criterion", ctx, [criterion], opts)
        return await self._cached(key, lambda: self.inner.judge_criterion(ctx, criterion, opts))

    async def judge_rubric(
        self, ctx: ItemContext, rubric: list[Criterion], opts: JudgeRequestOptions
    ) -> RatingJudgement:
        key = _key("rubric", ctx, rubric, opts)
        return await self._cached(key, lambda: self.inner.judge_rubric(ctx, rubric, opts))
