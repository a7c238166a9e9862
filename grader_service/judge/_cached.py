"""A judge wrapper that caches successful judgements and shares identical calls already in flight.

The first request for a key makes the call itself (no extra task: this runs for every judge call);
identical requests that arrive meanwhile wait on a shielded future. If the first one is cancelled (its
item became certainly null, or its client went away), the waiters are told to retry and one of them
makes the call instead: a cancellation never becomes someone else's error.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TypeVar

from grader_service.cache import Cache
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


class CachedJudge:
    def __init__(self, inner: Judge, cache: Cache[Judgement | RatingJudgement]) -> None:
        self.inner = inner
        self.cache = cache
        self._in_flight: dict[str, asyncio.Future[object]] = {}

    async def ready(self) -> tuple[bool, str]:
        return await self.inner.ready()

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def _cached(self, key: str, call: Callable[[], Awaitable[J]]) -> J:
        while True:
            hit = self.cache.get(key)
            if hit is not None:
                return replace(hit, usage=Usage(cache_hits=1))  # type: ignore[return-value]
            pending = self._in_flight.get(key)
            if pending is None:
                break
            result = await asyncio.shield(pending)
            if result is not _RETRY:
                return replace(result, usage=Usage(cache_hits=1))  # type: ignore[arg-type,return-value]
        shared: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = shared
        outcome: object = _RETRY
        try:
            value = await call()
            outcome = value
            if value.error is None:
                self.cache.set(key, value)
            return value
        finally:
            del self._in_flight[key]
            shared.set_result(outcome)  # waiters get the judgement, or _RETRY when this call failed or stopped

    async def judge_criterion(self, ctx: ItemContext, criterion: Criterion, opts: JudgeRequestOptions) -> Judgement:
        key = _key("criterion", ctx, [criterion], opts)
        return await self._cached(key, lambda: self.inner.judge_criterion(ctx, criterion, opts))

    async def judge_rubric(
        self, ctx: ItemContext, rubric: list[Criterion], opts: JudgeRequestOptions
    ) -> RatingJudgement:
        key = _key("rubric", ctx, rubric, opts)
        return await self._cached(key, lambda: self.inner.judge_rubric(ctx, rubric, opts))
