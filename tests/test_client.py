"""The async batched client against the real grader on loopback (scripted judge), with grader faults."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from grader_service import create_app
from shared import (
    AsyncGraderClient,
    ClientSettings,
    GradeItem,
    GraderClient,
    GraderDeadlineExceeded,
    GraderRequestError,
    GraderUnavailable,
)
from shared._client import batches
from tests.conftest import grader_settings
from tests.faults import FaultyGrader, GraderFaults
from tests.servers import free_port, serve

FAST = dict(backoff_initial_s=0.01, backoff_max_s=0.05, max_attempts=4)


def make_items(n: int, group: int = 4) -> list[dict]:
    return [
        {
            "id": f"i{k}",
            "prompt": "Palpitations after coffee?",
            "response": f"answer {k}" + (" caffeine" if k % 2 else ""),
            "rubric": [{"criterion": "Mentions caffeine", "points": 2}, {"criterion": "Advises an ECG", "points": 1}],
            "group_id": f"g{k // group}",
        }
        for k in range(n)
    ]


@pytest.fixture
def faults() -> GraderFaults:
    return GraderFaults()


@pytest.fixture
def faulty_url(judge_url: str, faults: GraderFaults) -> Iterator[str]:
    with serve(FaultyGrader(create_app(grader_settings(judge_url)), faults)) as url:
        yield url


def test_batches_keep_groups_together() -> None:
    items = [GradeItem.model_validate(x) for x in make_items(10, group=3)]
    got = batches(items, 5)
    assert [len(b) for b in got] == [3, 3, 4]  # groups of 3,3,3,1: the last two share a batch
    assert sorted(i for b in got for i in b) == list(range(10))
    for b in got:
        assert len(b) <= 5
        groups = {items[i].group_id for i in b}
        for g in groups:  # a group is never split across batches when it fits
            assert all(items[i].group_id != g for other in got if other is not b for i in other)
    big = [GradeItem.model_validate(x) for x in make_items(7, group=7)]
    assert [len(b) for b in batches(big, 3)] == [3, 3, 1]


async def test_results_in_input_order_across_concurrent_batches(grader_url: str) -> None:
    async with AsyncGraderClient(url=grader_url, batch_size=4, max_concurrency=3, **FAST) as client:
        resp = await client.grade(make_items(22, group=2), scheme="healthbench", judge={"mode": "verdict"})
    assert [r.id for r in resp.results] == [f"i{k}" for k in range(22)]
    assert [r.reward for r in resp.results] == [2 / 3 if k % 2 else 0.0 for k in range(22)]
    assert len(resp.groups) == 11 and all(not g.zero_variance for g in resp.groups.values())
    assert resp.usage.judge_calls + resp.usage.cache_hits == 44


async def test_503_twice_then_success(faulty_url: str, faults: GraderFaults) -> None:
    faults.fail_next = [503, 503]
    async with AsyncGraderClient(url=faulty_url, **FAST) as client:
        resp = await client.grade(make_items(4), scheme="healthbench", judge={"mode": "verdict"})
    assert faults.grade_requests == 3
    assert [r.reward for r in resp.results] == [0.0, 2 / 3, 0.0, 2 / 3]


async def test_429_retry_after_is_honoured(faulty_url: str, faults: GraderFaults) -> None:
    faults.fail_next, faults.retry_after = [429], "1"
    async with AsyncGraderClient(url=faulty_url, **FAST) as client:
        t0 = time.monotonic()
        await client.grade(make_items(2))
    assert time.monotonic() - t0 >= 1.0 and faults.grade_requests == 2


async def test_persistent_5xx_raises_after_budget(faulty_url: str, faults: GraderFaults) -> None:
    faults.fail_next = [502] * 10
    async with AsyncGraderClient(url=faulty_url, **FAST) as client:
        with pytest.raises(GraderUnavailable, match="502") as e:
            await client.grade(make_items(2))
    assert e.value.attempts == 4 and faults.grade_requests == 4


async def test_other_4xx_is_not_retried(faulty_url: str, faults: GraderFaults) -> None:
    bad = make_items(1)
    bad[0]["rubric"] = [{"criterion": "only a pitfall", "points": -1}]
    async with AsyncGraderClient(url=faulty_url, **FAST) as client:
        with pytest.raises(GraderRequestError) as e:
            await client.grade(bad, scheme="hybrid")
    assert e.value.status == 422 and faults.grade_requests == 1
    assert e.value.detail[0]["loc"] == ["body", "items", 0, "rubric"]


async def test_grader_down_raises_with_cause_quickly() -> None:
    async with AsyncGraderClient(url=f"http://127.0.0.1:{free_port()}", **FAST) as client:
        t0 = time.monotonic()
        with pytest.raises(GraderUnavailable) as e:
            await client.grade(make_items(2))
    assert time.monotonic() - t0 < 5
    assert e.value.attempts == 4 and "ConnectError" in str(e.value)


async def test_slow_grader_hits_the_deadline(faulty_url: str, faults: GraderFaults) -> None:
    faults.delay_s = 3.0
    async with AsyncGraderClient(url=faulty_url, timeout_s=0.3, deadline_s=1.0, **FAST) as client:
        t0 = time.monotonic()
        with pytest.raises(GraderUnavailable) as e:
            await client.grade(make_items(2))
    assert time.monotonic() - t0 < 2.5
    assert isinstance(e.value, GraderDeadlineExceeded) or "Timeout" in str(e.value)


def test_sync_wrapper_and_bearer_token(judge_url: str) -> None:
    with serve(create_app(grader_settings(judge_url, api_key="tok"))) as url:
        with GraderClient(ClientSettings(url=url, api_key="tok", _env_file=None)) as client:
            resp = client.grade(make_items(3), scheme="healthbench", judge={"mode": "verdict"})
            assert [r.reward for r in resp.results] == [0.0, 2 / 3, 0.0]
            assert "hybrid" in client.schemes() and client.ready()
        with GraderClient(url=url) as anon, pytest.raises(GraderRequestError) as e:
            anon.grade(make_items(1))
        assert e.value.status == 401


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUBRIC_GRADER_URL", "http://grader:9999")
    monkeypatch.setenv("RUBRIC_GRADER_BATCH_SIZE", "7")
    s = ClientSettings(_env_file=None)
    assert s.url == "http://grader:9999" and s.batch_size == 7


def test_retry_after_header_forms() -> None:
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    from shared import retry_after_seconds

    assert retry_after_seconds({"retry-after": "3"}) == 3.0
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= retry_after_seconds({"retry-after": later}) <= 31
    assert retry_after_seconds({"retry-after": "soon"}) is None and retry_after_seconds({}) is None


# ---------------------------------------------------------------- outages: wait them out, keep what got through


async def test_an_outage_longer_than_a_few_retries_is_waited_out(faulty_url: str, faults: GraderFaults) -> None:
    """The old client gave up after 5 tries (about 10 s) although its deadline was 900 s."""
    faults.down_until = time.monotonic() + 2.0
    settings = dict(backoff_initial_s=0.01, backoff_max_s=0.2, deadline_s=30.0)  # no attempt cap
    async with AsyncGraderClient(url=faulty_url, **settings) as client:
        resp = await client.grade(make_items(4), scheme="healthbench")
    assert all(r.reward is not None for r in resp.results)
    assert faults.grade_requests > 5  # it kept trying past the old attempt count


async def test_a_batch_that_fails_for_good_keeps_the_others(faulty_url: str, faults: GraderFaults) -> None:
    items = make_items(12, group=4)
    items[5]["response"] = "POISON " + items[5]["response"]  # its batch (group g1) always gets a 503
    faults.fail_marker = "POISON"
    async with AsyncGraderClient(url=faulty_url, batch_size=4, deadline_s=1.5, **FAST) as client:
        resp = await client.grade(items, scheme="healthbench")
    lost = [r for r in resp.results if r.error is not None and r.error.type == "grader_unavailable"]
    assert [r.id for r in lost] == ["i4", "i5", "i6", "i7"]
    assert all(r.reward is None and all(c.met is None for c in r.criteria) for r in lost)
    kept = [r for r in resp.results if r.id not in {"i4", "i5", "i6", "i7"}]
    assert len(kept) == 8 and all(r.reward is not None for r in kept)
    assert [r.id for r in resp.results] == [f"i{k}" for k in range(12)]


async def test_when_every_batch_fails_the_call_raises(faulty_url: str, faults: GraderFaults) -> None:
    faults.fail_marker = "answer"  # every item
    async with AsyncGraderClient(url=faulty_url, batch_size=4, deadline_s=1.0, **FAST) as client:
        with pytest.raises(GraderUnavailable):
            await client.grade(make_items(8), scheme="healthbench")
