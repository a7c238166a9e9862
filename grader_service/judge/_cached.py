"""A judge wrapper that caches successful judgements and shares identical calls already in flight.

Within a process: the first request for a key makes the call itself (no extra task: this runs for
every judge call); identical requests that arrive meanwhile wait on a shielded future. If the first
one is cancelled (its item became certainly null, or its client went away), the waiters are told to
retry and one of them makes the call instead: a cancellation never becomes someone else's error.

Across processes (a shared store: SQLite or Redis): the caller first claims the key in the store; a
process that finds it claimed waits for the claimant's judgement instead of calling the judge too, and
calls itself only if the claim lapses without one (the claimant died or failed).
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
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


_RETRY = object()  # set on a shared future when its leader was cancelled: a waiter takes over


def _hit(value: Judgement | RatingJudgement) -> Judgement | RatingJudgement:
    return replace(value, usage=Usage(cache_hits=1))


class CachedJudge:
    def __init__(self, inner: Judge, store: Store, *, claim_lease_s: float = 10.0, max_wait_s: float = 120.0) -> None:
        self.inner = inner
        self.store = store
        self.claim_lease_s = claim_lease_s  # renewed every third of it while the call runs
        self.max_wait_s = max_wait_s  # the longest a waiter waits on a live claimant before calling itself
        self.owner = uuid.uuid4().hex  # this process, in the store's claims
        self._in_flight: dict[str, asyncio.Future[object]] = {}

    async def ready(self) -> tuple[bool, str]:
        return await self.inner.ready()

    async def aclose(self) -> None:
        await self.inner.aclose()
        await self.store.aclose()

    async def _cached(self, key: str, call: Callable[[], Awaitable[J]]) -> J:
        while True:
            hit = await self.store.get(key)
            if hit is not None:
                metrics.CACHE.labels("hit").inc()
                return _hit(hit)  # type: ignore[return-value]
            pending = self._in_flight.get(key)
            if pending is None:
                break
            result = await asyncio.shield(pending)
            if result is not _RETRY:
                metrics.CACHE.labels("shared").inc()  # an identical call was already in flight
                return _hit(result)  # type: ignore[return-value,arg-type]
        shared: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = shared
        outcome: object = _RETRY
        claimed = False
        keeper: asyncio.Task[None] | None = None
        try:
            if self.store.shared:
                claimed = await self.store.claim(key, self.owner, self.claim_lease_s)
                if not claimed:
                    other, claimed = await self._wait_for_claimant(key)
                    if other is not None:
                        outcome = other
                        return _hit(other)  # type: ignore[return-value]
                if claimed:
                    keeper = asyncio.create_task(self._keep_claim(key))
            metrics.CACHE.labels("miss").inc()
            value = await call()
            value.usage.cache_misses += 1
            outcome = value
            if value.error is None:
                await self.store.set(key, value)
            return value
        finally:
            if keeper is not None:
                keeper.cancel()
            if claimed:
                await self.store.release(key, self.owner)
            del self._in_flight[key]
            shared.set_result(outcome)  # waiters get the judgement, or _RETRY when this call failed or stopped

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
