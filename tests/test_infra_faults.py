"""Faults around the grader: the cache and the Redis-held judge limit fail, grading does not.

Real parts: `redis-server` (stopped and started again mid-test), SQLite files (corrupt, on a read-only
filesystem, on a full one: real tmpfs mounts where this machine allows them, skipped otherwise), grader
processes and the grader over HTTP on loopback. The judge is the scripted server (deterministic verdicts,
call counts), so "graded" and "judge calls after the disconnect" are exact.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from grader_service import create_app
from scripts.local_stack import REPO, free_port, grader_env, judge
from tests.conftest import grader_settings
from tests.servers import RedisServer, serve


def _items(tag: str, n: int = 5, criteria: int = 3) -> list[dict]:
    return [
        {
            "id": f"{tag}-{i}",
            "prompt": "Chest pain when climbing stairs. What should I do?",
            "response": f"{tag} answer {i}: book a doctor's visit and an ECG this week.",
            "rubric": [{"criterion": f"Recommends an ECG ({tag} {i} {k}).", "points": 3} for k in range(criteria)],
        }
        for i in range(n)
    ]


def _grade(url: str, items: list[dict]) -> dict:
    r = httpx.post(f"{url}/v1/grade", json={"items": items, "scheme": "hybrid"}, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def test_redis_stopped_mid_run_every_item_is_graded_and_readyz_says_degraded(
    judge_url: str, redis_server: RedisServer
) -> None:
    settings = grader_settings(
        judge_url, cache="redis", redis_url=redis_server.url, judge_global_concurrency=True, judge_concurrency=4
    )
    with serve(create_app(settings)) as url:
        first = _grade(url, _items("before"))
        assert all(r["reward"] is not None for r in first["results"])
        assert httpx.get(f"{url}/readyz").json()["status"] == "ready"

        redis_server.stop()  # between two requests, as in the report
        during = _grade(url, _items("during"))
        assert [r["reward"] is not None for r in during["results"]] == [True] * 5  # none null from the cache
        ready = httpx.get(f"{url}/readyz")
        body = ready.json()
        assert ready.status_code == 200 and body["status"] == "degraded"
        assert body["cache"]["status"] == "degraded" and "Connection" in body["cache"]["cause"]
        assert body["global_limit"]["status"] == "degraded" and body["global_limit"]["using"]
        again = _grade(url, _items("before"))  # the in-process layer still serves what it had
        assert again["usage"]["cache_hits"] == 15
        metrics = httpx.get(f"{url}/metrics").text
        assert 'grader_degraded{component="cache (redis)"} 1.0' in metrics
        assert "grader_cache_errors_total" in metrics

        redis_server.start()  # same port: the grader reconnects by itself, with backoff
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            _grade(url, _items(f"after-{int(time.monotonic())}", n=1))
            if httpx.get(f"{url}/readyz").json()["status"] == "ready":
                break
            time.sleep(0.5)
        body = httpx.get(f"{url}/readyz").json()
        assert body["status"] == "ready" and body["cache"]["status"] == "ok"
        assert body["global_limit"]["status"] == "ok"


@contextlib.contextmanager
def _grader_process(judge_url: str, model: str, **env: str) -> Iterator[tuple[str, Path]]:
    port = free_port()
    log = Path(env.pop("LOG_FILE"))
    with open(log, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "grader_service"],
            cwd=REPO,
            env={
                **os.environ,
                "PYTHONPATH": str(REPO),
                **grader_env(judge_url, model, port, GRADER_JUDGE_PROBE="false", GRADER_LOG_FORMAT="text", **env),
            },
            stdout=err,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                assert proc.poll() is None, f"grader exited {proc.returncode}:\n{log.read_text()[-3000:]}"
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                        break
                assert time.monotonic() < deadline, "grader did not start"
                time.sleep(0.1)
            yield url, log
        finally:
            proc.terminate()
            proc.wait(10)


def _warnings(log: Path, needle: str) -> list[str]:
    return [line for line in log.read_text().splitlines() if needle in line]


def test_a_corrupt_sqlite_file_is_moved_aside_and_the_grader_starts(tmp_path: Path) -> None:
    cache = tmp_path / "judgements.sqlite"
    junk = os.urandom(8192)
    cache.write_bytes(junk)  # random bytes, as in the report
    with judge("scripted") as (judge_url, model):
        env = {"GRADER_CACHE": "sqlite", "GRADER_CACHE_PATH": str(cache)}
        with _grader_process(judge_url, model, LOG_FILE=str(tmp_path / "log"), **env) as (url, _):
            assert all(r["reward"] is not None for r in _grade(url, _items("x"))["results"])
            assert httpx.get(url + "/readyz").json()["cache"]["status"] == "ok"
        with _grader_process(judge_url, model, LOG_FILE=str(tmp_path / "log2"), **env) as (url, _):  # a working cache
            assert _grade(url, _items("x"))["usage"]["cache_hits"] == 15
    aside = list(tmp_path.glob("judgements.sqlite.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == junk  # kept for inspection, untouched
    lines = _warnings(tmp_path / "log", "corrupt")
    assert len(lines) == 1 and "moved aside" in lines[0] and "Traceback" not in (tmp_path / "log").read_text()


@contextlib.contextmanager
def _tmpfs(path: Path, options: str) -> Iterator[Path]:
    """A real tmpfs mounted at `path` (root only); skip where this machine does not allow it."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a read-only or full filesystem needs root")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def test_a_read_only_cache_path_gives_one_warning_and_names_the_fallback(tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "ro", "ro,size=1m") as ro, judge("scripted") as (judge_url, model):
        env = {"GRADER_CACHE": "sqlite", "GRADER_CACHE_PATH": str(ro / "judgements.sqlite")}
        with _grader_process(judge_url, model, LOG_FILE=str(tmp_path / "log"), **env) as (url, _):
            assert all(r["reward"] is not None for r in _grade(url, _items("ro"))["results"])
            body = httpx.get(url + "/readyz").json()
    assert body["status"] == "degraded" and "in-process cache" in body["cache"]["using"]
    lines = _warnings(tmp_path / "log", "cannot use the SQLite cache")
    assert len(lines) == 1 and str(ro) in lines[0] and "using the in-process cache only" in lines[0]


def test_a_full_disk_skips_cache_writes_and_fails_no_item(tmp_path: Path, judge_url: str) -> None:
    with _tmpfs(tmp_path / "full", "size=128k") as full:
        settings = grader_settings(judge_url, cache="sqlite", cache_path=str(full / "judgements.sqlite"))
        with serve(create_app(settings)) as url:
            graded = [_grade(url, _items(f"fill{k}", n=20, criteria=5)) for k in range(12)]  # 1,200 judgements
            body = httpx.get(url + "/readyz").json()
    assert all(r["reward"] is not None for g in graded for r in g["results"])
    assert body["cache"]["status"] == "degraded" and "full" in body["cache"]["cause"]


def test_a_client_that_disconnects_stops_paying_for_its_judge_calls(judge_script, judge_url: str) -> None:
    judge_script.latency_s = 0.4
    settings = grader_settings(judge_url, judge_concurrency=2, judge_timeout_s=5.0)
    items = _items("gone", n=1, criteria=20)  # 20 calls, 2 at a time: ~4 s of judging
    with serve(create_app(settings)) as url:
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(f"{url}/v1/grade", json={"items": items}, timeout=httpx.Timeout(5.0, read=1.0))
        at_disconnect = judge_script.calls
        time.sleep(2.5)
        after = judge_script.calls
        # a second request for the same criteria still gets everything (nothing half-cancelled is cached)
        rest = _grade(url, items)
    assert 2 <= at_disconnect <= 8  # what was judged before the client left
    assert after == at_disconnect  # nothing judged for it after it left (those in flight were counted)
    assert rest["results"][0]["reward"] is not None


async def test_a_judge_call_cancelled_twice_gives_its_slots_back(redis_url: str) -> None:
    """A call abandoned twice (its last waiter gone, then again while it cleans up) must still free its local
    and global slots: before, the second cancellation could interrupt the Redis release and skip the
    bookkeeping, and after a few of those no judge call went out at all (the first 30-minute soak)."""
    import asyncio

    from grader_service.limiter import JudgeLimiter, RedisSlots

    limiter = JudgeLimiter(1, global_slots=RedisSlots(redis_url, limit=1, lease_s=30, key="test:twice"))

    async def call() -> None:
        async with limiter.slot():
            await asyncio.sleep(30)

    for _ in range(3):
        task = asyncio.ensure_future(call())
        await asyncio.sleep(0.2)  # holding both slots
        task.cancel()
        await asyncio.sleep(0)  # now in its cleanup
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert limiter.in_flight == 0
    async with asyncio.timeout(5):  # the next call gets both slots (the global one is not left leased for 30 s)
        async with limiter.slot():
            pass
