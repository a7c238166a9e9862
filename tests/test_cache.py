"""The judgement cache and in-flight sharing: unit tests with a counting judge (no HTTP)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from grader_service.cache import MemoryStore
from grader_service.judge import CachedJudge, ItemContext, Judgement, JudgeRequestOptions
from scripts.local_stack import free_port, judge, start_grader
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
    judge = CachedJudge(inner, MemoryStore(100))
    results = await asyncio.gather(*(judge.judge_criterion(ctx(), CRIT, OPTS) for _ in range(5)))
    assert inner.calls == 1
    assert sorted(r.usage.cache_hits for r in results) == [0, 1, 1, 1, 1]
    again = await judge.judge_criterion(ctx(), CRIT, OPTS)
    assert inner.calls == 1 and again.usage.cache_hits == 1 and again.p_met == 0.9


async def test_a_cancelled_leader_leaves_the_call_to_its_waiter() -> None:
    inner = CountingJudge(delay_s=0.2)
    judge = CachedJudge(inner, MemoryStore(100))
    leader = asyncio.ensure_future(judge.judge_criterion(ctx(), CRIT, OPTS))
    await asyncio.sleep(0.01)
    waiter = asyncio.ensure_future(judge.judge_criterion(ctx(), CRIT, OPTS))
    await asyncio.sleep(0.01)
    leader.cancel()
    result = await waiter  # not a CancelledError, and the call was not made twice: the waiter got it
    assert result.p_met == 0.9 and inner.calls == 1
    assert result.usage.cache_misses == 1  # the call's own usage, reported once
    with pytest.raises(asyncio.CancelledError):
        await leader


async def test_a_call_nobody_waits_for_is_cancelled() -> None:
    inner = CountingJudge(delay_s=0.3)
    finished: list[bool] = []
    real = inner.judge_criterion

    async def tracked(*a: object) -> Judgement:
        result = await real(*a)  # type: ignore[arg-type]
        finished.append(True)
        return result

    inner.judge_criterion = tracked  # type: ignore[method-assign]
    judge = CachedJudge(inner, MemoryStore(100))
    callers = [asyncio.ensure_future(judge.judge_criterion(ctx(), CRIT, OPTS)) for _ in range(3)]
    await asyncio.sleep(0.05)
    for c in callers:
        c.cancel()
    await asyncio.sleep(0.4)
    assert inner.calls == 1 and finished == []  # started once, then abandoned: cancelled, not completed
    again = await judge.judge_criterion(ctx(), CRIT, OPTS)  # a later caller starts afresh
    assert again.p_met == 0.9 and inner.calls == 2


async def test_cache_off_still_shares_calls_in_flight() -> None:
    inner = CountingJudge()
    judge = CachedJudge(inner, MemoryStore(0))
    await asyncio.gather(*(judge.judge_criterion(ctx(), CRIT, OPTS) for _ in range(3)))
    assert inner.calls == 1
    await judge.judge_criterion(ctx(), CRIT, OPTS)
    assert inner.calls == 2  # nothing was kept


async def test_a_dead_claimants_lease_lapses_and_a_live_one_is_renewed(tmp_path: Path) -> None:
    """Across processes, a claim is a short lease: a claimant that died (it claimed, then never renewed nor
    released) blocks a waiter for one lease, not for the longest call; a live claimant keeps its lease past
    it by renewing, and its waiter gets its judgement without calling."""
    from grader_service.cache import SQLiteStore
    from grader_service.judge._cached import _key

    store = SQLiteStore(tmp_path / "j.sqlite", ttl_s=60, max_entries=100)
    key = _key("criterion", ctx(), [CRIT], OPTS)
    assert await store.claim(key, "dead-replica", 0.6)  # then SIGKILLed: no renewal, no release
    inner = CountingJudge(delay_s=0.0)
    t0 = time.monotonic()
    result = await CachedJudge(inner, store, claim_lease_s=0.6, max_wait_s=30).judge_criterion(ctx(), CRIT, OPTS)
    assert inner.calls == 1 and result.usage.cache_misses == 1
    assert 0.5 < time.monotonic() - t0 < 3.0  # one lease, not max_wait_s

    other = CRIT.model_copy(update={"criterion": "Advises a troponin test."})
    slow = CountingJudge(delay_s=2.0)  # a live claimant working 3+ leases
    leader = asyncio.ensure_future(
        CachedJudge(slow, store, claim_lease_s=0.6, max_wait_s=30).judge_criterion(ctx(), other, OPTS)
    )
    await asyncio.sleep(0.1)
    waiter_inner = CountingJudge(delay_s=0.0)
    waited = await CachedJudge(waiter_inner, store, claim_lease_s=0.6, max_wait_s=30).judge_criterion(
        ctx(), other, OPTS
    )
    await leader
    assert slow.calls == 1 and waiter_inner.calls == 0 and waited.usage.cache_hits == 1


# ---------------------------------------------------------------- shared stores, real processes

ITEMS = [
    {
        "id": f"i{k}",
        "prompt": "Palpitations after coffee?",
        "response": f"answer {k}: cut down on caffeine",
        "rubric": [{"criterion": f"Mentions caffeine {j} [p=0.7]", "points": 1 + j} for j in range(4)],
    }
    for k in range(6)
]  # 24 distinct criteria
BODY = {"items": ITEMS, "scheme": "healthbench", "judge": {"mode": "logprob"}}


def grade(port: int) -> dict:
    r = httpx.post(f"http://127.0.0.1:{port}/v1/grade", json=BODY, timeout=120)
    r.raise_for_status()
    return r.json()


def judge_calls(judge_url: str) -> int:
    return int(httpx.get(judge_url.removesuffix("/v1") + "/_stats").json()["calls"])


@contextmanager
def graders(judge_url: str, model: str, count: int, **env: str) -> Iterator[list[int]]:
    ports = [free_port() for _ in range(count)]
    procs = [start_grader(judge_url, model, port, GRADER_JUDGE_PROBE="false", **env) for port in ports]
    try:
        yield ports
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)


def test_sqlite_cache_survives_a_restart(tmp_path: Path) -> None:
    env = {"GRADER_CACHE": "sqlite", "GRADER_CACHE_PATH": str(tmp_path / "judgements.sqlite")}
    with judge("scripted") as (judge_url, model):
        with graders(judge_url, model, 1, **env) as (port,):
            first = grade(port)
        calls = judge_calls(judge_url)
        with graders(judge_url, model, 1, **env) as (port,):  # a new process, the same file
            second = grade(port)
        assert judge_calls(judge_url) == calls  # nothing was judged again
    assert first["usage"]["judge_calls"] == 24 and first["usage"]["cache_misses"] == 24
    assert second["usage"]["judge_calls"] == 0 and second["usage"]["cache_hits"] == 24
    assert [r["reward"] for r in second["results"]] == [r["reward"] for r in first["results"]]


def _concurrent_duplicates(judge_url: str, ports: list[int]) -> list[dict]:
    httpx.post(judge_url.removesuffix("/v1") + "/_control", json={"latency_s": 0.3})  # calls overlap
    with ThreadPoolExecutor(len(ports) * 2) as pool:
        return list(pool.map(grade, ports * 2))  # every duplicate sent to every grader, twice


def test_two_grader_processes_behind_one_sqlite_file_judge_each_duplicate_once(tmp_path: Path) -> None:
    env = {"GRADER_CACHE": "sqlite", "GRADER_CACHE_PATH": str(tmp_path / "judgements.sqlite")}
    with judge("scripted") as (judge_url, model), graders(judge_url, model, 2, **env) as ports:
        results = _concurrent_duplicates(judge_url, ports)
        assert judge_calls(judge_url) == 24  # 4 requests x 24 criteria, each judged once
    rewards = {json.dumps([r["reward"] for r in res["results"]]) for res in results}
    assert len(rewards) == 1
    assert sum(res["usage"]["judge_calls"] for res in results) == 24


def test_grader_replicas_share_one_redis_cache(redis_url: str) -> None:
    env = {"GRADER_CACHE": "redis", "GRADER_REDIS_URL": redis_url}
    with judge("scripted") as (judge_url, model):
        with graders(judge_url, model, 2, **env) as ports:
            _concurrent_duplicates(judge_url, ports)
            assert judge_calls(judge_url) == 24
        with graders(judge_url, model, 1, **env) as (port,):  # a replica started later: all hits
            late = grade(port)
        assert judge_calls(judge_url) == 24
    assert late["usage"]["judge_calls"] == 0 and late["usage"]["cache_hits"] == 24


async def test_redis_claims_and_global_slots_are_leases(redis_url: str) -> None:
    """In Redis, too: a dead replica's claim and judge slot free up after one lease; live ones are renewed."""
    from grader_service.cache import RedisStore
    from grader_service.limiter import RedisSlots

    store = RedisStore(redis_url, ttl_s=60)
    assert await store.claim("k", "dead", 0.5)
    assert not await store.claim("k", "me", 0.5) and not await store.renew("k", "me", 0.5)
    await asyncio.sleep(0.7)
    assert await store.claim("k", "me", 0.5)  # lapsed
    for _ in range(4):  # renewed past several leases
        await asyncio.sleep(0.3)
        assert await store.renew("k", "me", 0.5)
    assert not await store.claim("k", "other", 0.5)
    await store.aclose()

    slots = RedisSlots(redis_url, limit=1, lease_s=0.6, key="test:slots")
    await slots.acquire()  # a replica killed while holding its only slot
    t0 = time.monotonic()
    live = await slots.acquire()
    assert 0.4 < time.monotonic() - t0 < 2.5  # one lease later, not a judge timeout later
    holder = asyncio.ensure_future(slots.hold(live))
    with pytest.raises(TimeoutError):  # held past two leases by renewal
        await asyncio.wait_for(slots.acquire(), 1.5)
    holder.cancel()
    await slots.release(live)
    assert await asyncio.wait_for(slots.acquire(), 1.0)
