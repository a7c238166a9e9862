"""The judgement cache and in-flight sharing: unit tests with a counting judge (no HTTP)."""

from __future__ import annotations

import asyncio

import pytest

from grader_service.cache import LRUCache
from grader_service.judge import CachedJudge, ItemContext, Judgement, JudgeRequestOptions
from shared import Criterion, JudgeMode, Message

OPTS = JudgeRequestOptions(mode=JudgeMode.logprob, template="default", samples=1, temperature=0.0, model="m")
CRIT = Criterion(criterion="Advises an ECG.", points=1)


class CountingJudge:
    def __init__(self, delay_s: float = 0.05) -> None:
        self.calls = 0
        self.delay_s = delay_s

    async def judge_criterion(self, ctx: ItemContext, criterion: Criterion, opts: JudgeRequestOptions) -> Judgement:
        self.calls += 1
        await asyncio.sleep(self.delay_s)
        return Judgement(met=True, p_met=0.9)

    async def judge_rubric(self, *a: object) -> None:  # pragma: no cover
        raise NotImplementedError

    async def ready(self) -> tuple[bool, str]:
        return True, "ok"

    async def aclose(self) -> None:
        return None


def ctx() -> ItemContext:
    return ItemContext([Message(role="user", content="Chest pain?")], "See a doctor.")


async def test_identical_calls_in_flight_are_made_once() -> None:
    inner = CountingJudge()
    judge = CachedJudge(inner, LRUCache(100))
    results = await asyncio.gather(*(judge.judge_criterion(ctx(), CRIT, OPTS) for _ in range(5)))
    assert inner.calls == 1
    assert sorted(r.usage.cache_hits for r in results) == [0, 1, 1, 1, 1]
    again = await judge.judge_criterion(ctx(), CRIT, OPTS)
    assert inner.calls == 1 and again.usage.cache_hits == 1 and again.p_met == 0.9


async def test_a_cancelled_leader_hands_the_call_to_a_waiter() -> None:
    inner = CountingJudge(delay_s=0.2)
    judge = CachedJudge(inner, LRUCache(100))
    leader = asyncio.ensure_future(judge.judge_criterion(ctx(), CRIT, OPTS))
    await asyncio.sleep(0.01)
    waiter = asyncio.ensure_future(judge.judge_criterion(ctx(), CRIT, OPTS))
    await asyncio.sleep(0.01)
    leader.cancel()
    result = await waiter  # not a CancelledError: the waiter made the call itself
    assert result.p_met == 0.9 and inner.calls == 2
    with pytest.raises(asyncio.CancelledError):
        await leader


async def test_cache_off_still_shares_calls_in_flight() -> None:
    inner = CountingJudge()
    judge = CachedJudge(inner, LRUCache(0))
    await asyncio.gather(*(judge.judge_criterion(ctx(), CRIT, OPTS) for _ in range(3)))
    assert inner.calls == 1
    await judge.judge_criterion(ctx(), CRIT, OPTS)
    assert inner.calls == 2  # nothing was kept
