"""A judge wrapper that caches successful judgements and shares identical calls already in flight."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict, replace
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
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class CachedJudge:
    def __init__(self, inner: Judge, cache: Cache[Judgement | RatingJudgement]) -> None:
        self.inner = inner
        self.cache = cache
        self._in_flight: dict[str, asyncio.Future[Judgement | RatingJudgement]] = {}

    async def ready(self) -> tuple[bool, str]:
        return await self.inner.ready()

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def _cached(self, key: str, call: Callable[[], Awaitable[J]]) -> J:
        hit = self.cache.get(key)
        if hit is not None:
            return replace(hit, usage=Usage(cache_hits=1))  # type: ignore[return-value]
        if (pending := self._in_flight.get(key)) is not None:
            result = await asyncio.shield(pending)
            return replace(result, usage=Usage(cache_hits=1))  # type: ignore[return-value]
        future: asyncio.Future[Judgement | RatingJudgement] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = future
        try:
            result = await call()
        except BaseException as e:
            future.set_exception(e)
            future.exception()  # mark retrieved: followers re-raise it themselves
            raise
        else:
            future.set_result(result)
            if result.error is None:
                self.cache.set(key, result)
            return result
        finally:
            del self._in_flight[key]

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
