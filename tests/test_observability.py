"""Prometheus /metrics, structured logs with request ids, the judge limiter, and multi-worker graders."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from grader_service import create_app
from grader_service._logging import JsonFormatter
from grader_service.limiter import JudgeLimiter, TokenBucket
from scripts.local_stack import REPO, free_port, judge
from tests.conftest import grader_settings
from tests.scripted_judge import JudgeScript
from tests.servers import serve

ITEM = {
    "prompt": "Chest pain on stairs?",
    "response": "See a doctor soon.",
    "rubric": [
        {"criterion": "Advises a doctor [p=1]", "points": 2},
        {"criterion": "Mentions aspirin [p=0]", "points": 1},
    ],
}


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus' text format (0 when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        sample, _, rest = key.partition("{")
        got = ",".join(sorted(rest.rstrip("}").split(","))) if rest else ""
        if sample == name and got == want:
            return float(value)
    return 0.0


def test_metrics_are_scraped_after_grading(grader: httpx.Client) -> None:
    before = grader.get("/metrics").text
    assert grader.post("/v1/grade", json={"items": [ITEM, ITEM], "judge": {"mode": "logprob"}}).status_code == 200
    text = grader.get("/metrics").text
    calls = metric(text, "grader_judge_calls_total", mode="logprob", outcome="ok")
    assert calls - metric(before, "grader_judge_calls_total", mode="logprob", outcome="ok") == 2
    reused = sum(
        metric(text, "grader_cache_lookups_total", result=kind)
        - metric(before, "grader_cache_lookups_total", result=kind)
        for kind in ("hit", "shared")
    )
    assert reused == 2  # the second item repeats the first: from the store, or from the call in flight
    assert (
        metric(text, "grader_reward_count", scheme="hybrid") - metric(before, "grader_reward_count", scheme="hybrid")
        == 2
    )
    assert metric(text, "grader_http_requests_total", route="/v1/grade", status="200") >= 1
    assert metric(text, "grader_judge_concurrency_cap") > 0
    assert "grader_judge_call_seconds_bucket" in text and "grader_judge_queue_wait_seconds_bucket" in text


def test_429s_cut_the_cap_and_are_counted(judge_url: str, judge_script: JudgeScript) -> None:
    judge_script.fail_next = [429] * 3
    with serve(create_app(grader_settings(judge_url, judge_concurrency=8, judge_max_attempts=5))) as url:
        r = httpx.post(url + "/v1/grade", json={"items": [ITEM], "judge": {"mode": "logprob"}}, timeout=30)
        text = httpx.get(url + "/metrics").text
    assert r.json()["results"][0]["error"] is None  # retried through the 429s
    assert metric(text, "grader_judge_rate_limited_total") >= 3
    assert metric(text, "grader_judge_retries_total") >= 1


def test_each_request_gets_an_id_in_its_response_and_its_json_log_line(grader_url: str) -> None:
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(JsonFormatter().format(record))

    handler = Collect()
    logging.getLogger("grader.access").addHandler(handler)
    logging.getLogger("grader.access").setLevel(logging.INFO)
    try:
        given = httpx.post(grader_url + "/v1/grade", json={"items": [ITEM]}, headers={"X-Request-ID": "trace-42"})
        made = httpx.post(grader_url + "/v1/grade", json={"items": [ITEM]})
    finally:
        logging.getLogger("grader.access").removeHandler(handler)
    assert given.headers["x-request-id"] == "trace-42"
    assert len(made.headers["x-request-id"]) == 32
    records = [json.loads(line) for line in lines]
    mine = next(r for r in records if r.get("request_id") == "trace-42")
    assert mine["msg"] == "request" and mine["path"] == "/v1/grade" and mine["status"] == 200
    assert mine["items"] == 1 and "judge_calls" in mine and "ms" in mine


# ---------------------------------------------------------------- the limiter, without real time


def test_adaptive_cap_halves_on_429s_at_most_once_a_second_and_grows_back(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    lim = JudgeLimiter(16)
    lim.rate_limited()
    lim.rate_limited()  # the same burst: counted once
    assert lim.cap == 8
    now[0] += 1.5
    lim.rate_limited()
    assert lim.cap == 4
    lim._wake = lambda: None  # type: ignore[method-assign]
    for _ in range(4):
        lim.succeeded()
    assert lim.cap == 5  # a cap's worth of successes adds one


async def test_token_bucket_paces_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    slept: list[float] = []

    async def fake_sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    import asyncio

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    bucket = TokenBucket(per_minute=60)  # one a second, a burst of 60
    for _ in range(60):
        await bucket.take(1)
    assert slept == []
    await bucket.take(1)
    assert slept == [pytest.approx(1.0)]


# ---------------------------------------------------------------- several workers


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[tuple[str, str]]:
    with judge("scripted") as (judge_url, model):
        port = free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "GRADER_JUDGE_BASE_URL": judge_url,
            "GRADER_JUDGE_MODEL": model,
            "GRADER_PORT": str(port),
            "GRADER_HOST": "127.0.0.1",
            "GRADER_WORKERS": "2",
            "GRADER_CACHE": "sqlite",
            "GRADER_CACHE_PATH": str(tmp_path / "judgements.sqlite"),
            "GRADER_JUDGE_PROBE": "false",
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        }
        (tmp_path / "metrics").mkdir()
        proc = subprocess.Popen([sys.executable, "-m", "grader_service"], cwd=REPO, env=env, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        try:
            yield url, judge_url
        finally:
            proc.terminate()
            proc.wait(20)


def test_two_workers_share_the_cache_and_report_metrics_together(two_workers: tuple[str, str]) -> None:
    url, judge_url = two_workers
    items = [{**ITEM, "response": f"answer {k}: see a doctor"} for k in range(10)]  # 20 distinct criteria
    body = {"items": items, "scheme": "healthbench", "judge": {"mode": "logprob"}}
    with httpx.Client(timeout=60) as c:
        results = [c.post(url + "/v1/grade", json=body).json() for _ in range(6)]  # spread over both workers
        text = c.get(url + "/metrics").text
    calls = httpx.get(judge_url.removesuffix("/v1") + "/_stats").json()["calls"]
    assert calls == 20  # every duplicate judged once, whichever worker served it
    assert sum(r["usage"]["cache_hits"] for r in results) == 100
    assert metric(text, "grader_judge_calls_total", mode="logprob", outcome="ok") == 20
    assert metric(text, "grader_http_requests_total", route="/v1/grade", status="200") == 6
