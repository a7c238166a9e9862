"""A judge wrapper that caches successful judgements and shares identical calls already in flight.

A shared call runs as its own task, not inside whichever request asked first: a request that is
cancelled (its item became certainly null, or its client went away) leaves the call running for the
others, and the call is cancelled only when nobody is waiting for it any more.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, replace
from typing import TypeVar

from grader_service.cache import Cache
from grader_service.judge._base import Judge, Judgement, JudgeRequestOptions, RatingJudgement
from grader_service.judge._prompts import PROMPT_VERSION
from shared import Criterion, Message, Usage

J = TypeVar("J", Judgement, RatingJudgement)


def _key(
    kind: str, conversation: list[Message], response: str, rubric: list[Criterion], opts: JudgeRequestOptions
) -> str:
    payload = {
        "v": PROMPT_VERSION,
        "kind": kind,
        "opts": {**asdict(opts), "mode": opts.mode.value},
        "conv": [(m.role, m.content) for m in conversation],
        "response": response,
        "rubric": [(c.criterion, c.points > 0, abs(c.points) if kind == "rubric" else None) for c in rubric],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class _Shared:
    task: asyncio.Task[Judgement | RatingJudgement]
    waiters: int = 0


class CachedJudge:
    def __init__(self, inner: Judge, cache: Cache[Judgement | RatingJudgement]) -> None:
        self.inner = inner
        self.cache = cache
        self._in_flight: dict[str, _Shared] = {}

    async def ready(self) -> tuple[bool, str]:
        return await self.inner.ready()

    async def aclose(self) -> None:
        await self.inner.aclose()

    def _finished(self, key: str, task: asyncio.Task[Judgement | RatingJudgement]) -> None:
        if (shared := self._in_flight.get(key)) is not None and shared.task is task:
            del self._in_flight[key]
        if not task.cancelled() and task.exception() is None and task.result().error is None:
            self.cache.set(key, task.result())

    async def _cached(self, key: str, call: Callable[[], Awaitable[J]]) -> J:
        hit = self.cache.get(key)
        if hit is not None:
            return replace(hit, usage=Usage(cache_hits=1))  # type: ignore[return-value]
        shared = self._in_flight.get(key)
        leader = shared is None
        if shared is None:
            task: asyncio.Task[Judgement | RatingJudgement] = asyncio.ensure_future(call())
            task.add_done_callback(lambda t: self._finished(key, t))
            shared = self._in_flight[key] = _Shared(task)
        shared.waiters += 1
        try:
            result = await asyncio.shield(shared.task)
        finally:
            shared.waiters -= 1
            if shared.waiters == 0 and not shared.task.done():
                if self._in_flight.get(key) is shared:
                    del self._in_flight[key]  # a later request starts afresh instead of joining a dying call
                shared.task.cancel()  # nobody left to use it
        return result if leader else replace(result, usage=Usage(cache_hits=1))  # type: ignore[return-value]

    async def judge_criterion(
        self, conversation: list[Message], response: str, criterion: Criterion, opts: JudgeRequestOptions
    ) -> Judgement:
        key = _key("criterion", conversation, response, [criterion], opts)
        return await self._cached(key, lambda: self.inner.judge_criterion(conversation, response, criterion, opts))

    async def judge_rubric(
        self, conversation: list[Message], response: str, rubric: list[Criterion], opts: JudgeRequestOptions
    ) -> RatingJudgement:
        key = _key("rubric", conversation, response, rubric, opts)
        return await self._cached(key, lambda: self.inner.judge_rubric(conversation, response, rubric, opts))
