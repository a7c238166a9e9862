"""`make soak`: 30 minutes of GRPO-like load on a real grader with a real Redis, faults included.

    python scripts/soak.py [--minutes 30] [--out runs/soak]

Parts: the scripted judge (a real HTTP server with scripted verdicts and faults; tests/scripted_judge.py),
a real `redis-server` as the grader's cache and global judge limit, and the grader as its own process, driven
by our async client (bounded retries) as a trainer drives it:
- trainers: 4 loops, each grading one GRPO group a step (G=6 completions of one prompt, drawn from a few
  variants per prompt, so groups repeat completions and later steps repeat earlier ones: duplicates and
  cache hits); a burst of 16 groups at once every minute;
- judge faults, ~10% of calls: one item in ten carries a criterion the judge always fails on (HTTP 500,
  429, 400, a reply past the timeout, garbage, garbage once), and every 20 s the judge fails its next calls
  with 503/500/429 (retried by the grader);
- one Redis restart (at 2/3 of the run) and one grader restart (SIGTERM, a new process on the same port,
  at 1/3).
Reports requests, items, lost items (no result came back), untyped nulls (a null reward without an error
type), typed nulls by type, the grader's 5xx (its /metrics, summed over both processes), the grader's RSS
and open file descriptors (each process: after 2 minutes of warm-up, a sixth of shorter runs, and at its
end), and p50/p99 request latency per 5-minute window. Writes report.json and report.md to --out. Exit code 0
when the run holds: no lost items, no untyped nulls, no 5xx, RSS and FD growth under 10% in each process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scripts.local_stack import REPO, free_port, grader_env, judge
from shared import AsyncGraderClient, ClientSettings, GradeItem
from tests.servers import RedisServer

FAULTS = ["500", "429", "400", "slow", "garbage", "garbage-once"]
WORDS = (  # noqa: SIM905 - a sentence's words read better than a column of them
    "ECG troponin aspirin emergency ambulance cardiology follow-up blood pressure statin exercise chest pain "
    "shortness of breath palpitations referral echocardiogram rest hydration lifestyle smoking diet"
).split()
G = 6
TRAINERS = 4
BURST = 16


def _prompt(p: int) -> dict[str, Any]:
    rng = random.Random(p)
    crit = [f"Mentions {w} ({p}.{k})" for k, w in enumerate(rng.sample(WORDS, rng.randint(4, 7)))]
    return {"prompt": f"Case {p}: {' '.join(rng.sample(WORDS, 6))}. What should I do?", "criteria": crit}


class Load:
    def __init__(self, client: AsyncGraderClient, seed: int) -> None:
        self.client = client
        self.rng = random.Random(seed)
        self.prompts = [_prompt(p) for p in range(60)]
        self.samples: list[tuple[float, float]] = []  # (start, seconds) per request
        self.requests = self.items = self.lost = self.untyped = 0
        self.typed: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()

    def group(self) -> list[GradeItem]:
        p = self.rng.randrange(len(self.prompts))
        rec = self.prompts[p]
        variants = [" ".join(random.Random(p * 100 + v).sample(WORDS, 8)) for v in range(8)]
        items = []
        for g in range(G):
            rubric = [{"criterion": c, "points": 5 - k % 4} for k, c in enumerate(rec["criteria"])]
            if self.rng.random() < 0.1:  # one item in ten: a criterion the judge fails on
                rubric.append({"criterion": f"Mentions aspirin [fault={self.rng.choice(FAULTS)}]", "points": 2})
            items.append(
                GradeItem(
                    id=f"{self.requests}-{g}",
                    group_id=f"p{p}",
                    prompt=rec["prompt"],
                    response=self.rng.choice(variants),
                    rubric=rubric,
                )
            )
        return items

    async def step(self) -> None:
        items = self.group()
        t0 = time.monotonic()
        self.requests += 1
        self.items += len(items)
        try:
            resp = await self.client.grade(items, scheme="hybrid")
        except Exception as e:  # the client gave up: every item of the call is lost
            self.lost += len(items)
            self.errors[type(e).__name__] += 1
            return
        self.samples.append((t0, time.monotonic() - t0))
        got = {r.id for r in resp.results}
        self.lost += sum(it.id not in got for it in items)
        for r in resp.results:
            if r.reward is None:
                if r.error is None:
                    self.untyped += 1
                else:
                    self.typed[r.error.type.value] += 1


class Grader:
    """The grader process: restarted once, its 5xx and resource use read before it goes."""

    def __init__(self, judge_url: str, model: str, env: dict[str, str], warm_s: float, log: Any) -> None:
        self.judge_url, self.model, self.env = judge_url, model, env
        self.warm_s = warm_s
        self.log = log  # the grader's own output (its warnings: Redis gone, back)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0.0
        self.lives: list[dict[str, Any]] = []

    def start(self) -> None:
        """`python -m grader_service`, what users run, once it answers /healthz."""
        env = {**os.environ, "PYTHONPATH": str(REPO), **grader_env(self.judge_url, self.model, self.port, **self.env)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "grader_service"], cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the grader did not start (exit {self.proc.poll()})")
            time.sleep(0.1)
        self.started = time.monotonic()
        self.lives.append({"pid": self.proc.pid, "warm": None, "end": None, "http_5xx": 0, "shutdown_s": None})

    def resources(self) -> dict[str, float]:
        assert self.proc is not None
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        rss_kb = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
        return {"rss_mb": round(rss_kb / 1024, 1), "fds": len(os.listdir(f"/proc/{self.proc.pid}/fd"))}

    def sample(self) -> None:
        life = self.lives[-1]
        if life["warm"] is None and time.monotonic() - self.started >= self.warm_s:
            life["warm"] = self.resources()

    def server_errors(self) -> int:
        text = httpx.get(self.url + "/metrics", timeout=10).text
        found = re.finditer(r'grader_http_requests_total\{[^}]*status="5\d\d"[^}]*\} (\S+)', text)
        return int(sum(float(m[1]) for m in found))

    def stop(self) -> None:
        life = self.lives[-1]
        life["end"] = self.resources()
        life["http_5xx"] = self.server_errors()
        assert self.proc is not None
        t = time.monotonic()
        self.proc.terminate()
        self.proc.wait(120)  # GRADER_SHUTDOWN_GRACE_S (30 s) bounds the wait for requests in flight
        life["shutdown_s"] = round(time.monotonic() - t, 1)


async def run(minutes: float, seed: int, grader_log: Any) -> dict[str, Any]:
    duration = minutes * 60
    redis_exe = shutil.which("redis-server")
    if redis_exe is None:
        raise SystemExit("make soak needs redis-server (apt-get install redis-server)")
    redis = RedisServer(redis_exe)
    redis.start()
    events: list[str] = []
    try:
        with judge("scripted", 0.02) as (judge_url, model):
            control = judge_url.removesuffix("/v1") + "/_control"
            httpx.post(control, json={"slow_s": 3.0})
            env = {
                "GRADER_CACHE": "redis",
                "GRADER_REDIS_URL": redis.url,
                "GRADER_JUDGE_GLOBAL_CONCURRENCY": "true",
                "GRADER_JUDGE_CONCURRENCY": "16",
                "GRADER_JUDGE_TIMEOUT_S": "1.0",
                "GRADER_JUDGE_MAX_ATTEMPTS": "3",
                "GRADER_JUDGE_PROBE": "false",
                "GRADER_CACHE_SIZE": "20000",
            }
            grader = Grader(judge_url, model, env, warm_s=min(120.0, duration / 6), log=grader_log)
            grader.start()
            settings = ClientSettings(url=grader.url, timeout_s=60, deadline_s=180, max_concurrency=8)
            t0 = time.monotonic()
            async with AsyncGraderClient(settings) as client:
                load = Load(client, seed)
                stop = t0 + duration

                async def trainer() -> None:
                    while time.monotonic() < stop:
                        await load.step()

                async def conductor() -> None:
                    restarted = redis_restarted = False
                    last_burst = last_fault = time.monotonic()
                    while time.monotonic() < stop:
                        await asyncio.sleep(1)
                        now = time.monotonic()
                        grader.sample()
                        if now - last_fault >= 20:
                            last_fault = now
                            await asyncio.to_thread(httpx.post, control, json={"fail_next": [503, 500, 429, 503]})
                        if now - last_burst >= 60:
                            last_burst = now
                            await asyncio.gather(*(load.step() for _ in range(BURST)))
                        if not restarted and now - t0 >= duration / 3:
                            restarted = True
                            events.append(f"{now - t0:.0f} s: grader restarted (SIGTERM, new process)")
                            await asyncio.to_thread(grader.stop)
                            await asyncio.to_thread(grader.start)
                        if not redis_restarted and now - t0 >= 2 * duration / 3:
                            redis_restarted = True
                            events.append(f"{now - t0:.0f} s: redis-server stopped for 5 s, then started")
                            redis.stop()
                            await asyncio.sleep(5)
                            redis.start()

                await asyncio.gather(conductor(), *(trainer() for _ in range(TRAINERS)))
            ready = httpx.get(grader.url + "/readyz", timeout=10).json()
            grader.stop()
            judge_stats = httpx.get(judge_url.removesuffix("/v1") + "/_stats", timeout=10).json()
    finally:
        redis.stop()
    return summarise(load, grader, events, ready, judge_stats, minutes, t0)


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


def summarise(
    load: Load, grader: Grader, events: list[str], ready: dict, judge_stats: dict, minutes: float, t0: float
) -> dict[str, Any]:
    window = 300.0 if minutes >= 10 else 60.0
    windows: dict[int, list[float]] = {}
    for start, seconds in load.samples:
        windows.setdefault(int((start - t0) // window), []).append(seconds)
    lives = []
    for life in grader.lives:
        warm, end = life["warm"], life["end"]
        growth = None
        if warm and end:
            growth = {k: round(100 * (end[k] - warm[k]) / warm[k], 1) for k in ("rss_mb", "fds")}
        lives.append({**life, "growth_pct": growth})
    out = {
        "minutes": minutes,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "requests": load.requests,
        "items": load.items,
        "lost_items": load.lost,
        "untyped_nulls": load.untyped,
        "typed_nulls": dict(load.typed),
        "client_errors": dict(load.errors),
        "http_5xx": sum(life["http_5xx"] for life in grader.lives),
        "judge_calls": judge_stats["calls"],
        "judge_calls_by_fault": judge_stats["calls_by_fault"],
        "grader_processes": lives,
        "latency_windows": [
            {
                "from_min": round(k * window / 60, 1),
                "requests": len(v),
                "p50_s": round(_pct(v, 0.5), 3),
                "p99_s": round(_pct(v, 0.99), 3),
            }
            for k, v in sorted(windows.items())
        ],
        "events": events,
        "readyz_at_end": ready.get("status"),
    }
    growth_ok = all(life["growth_pct"] is None or max(life["growth_pct"].values()) < 10 for life in lives) and any(
        life["growth_pct"] is not None for life in lives
    )
    out["ok"] = out["lost_items"] == 0 and out["untyped_nulls"] == 0 and out["http_5xx"] == 0 and growth_ok
    return out


def markdown(r: dict[str, Any]) -> str:
    lines = [
        f"# Soak: {r['minutes']:g} minutes of GRPO-like load ({'passed' if r['ok'] else 'FAILED'})",
        "",
        f"Machine: {r['machine']}. Scripted judge (latency 20 ms, faults injected), real redis-server, the "
        "grader as its own process, driven by the async client. Events: " + "; ".join(r["events"]) + ".",
        "",
        "| requests | items | lost items | untyped nulls | 5xx | typed nulls | judge calls |",
        "|---|---|---|---|---|---|---|",
        f"| {r['requests']} | {r['items']} | {r['lost_items']} | {r['untyped_nulls']} | {r['http_5xx']} | "
        f"{sum(r['typed_nulls'].values())} ({', '.join(f'{k} {v}' for k, v in sorted(r['typed_nulls'].items()))}) "
        f"| {r['judge_calls']} |",
        "",
        "| grader process | RSS after warm-up (MB) | RSS at end | FDs after warm-up | FDs at end | growth (RSS, FDs) "
        "| SIGTERM to exit (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for n, life in enumerate(r["grader_processes"], 1):
        warm, end, g = life["warm"] or {}, life["end"] or {}, life["growth_pct"] or {}
        lines.append(
            f"| {n} (pid {life['pid']}) | {warm.get('rss_mb', '-')} | {end.get('rss_mb', '-')} | "
            f"{warm.get('fds', '-')} | {end.get('fds', '-')} | {g.get('rss_mb', '-')} %, {g.get('fds', '-')} % "
            f"| {life.get('shutdown_s', '-')} |"
        )
    lines += ["", "| window from (min) | requests | p50 (s) | p99 (s) |", "|---|---|---|---|"]
    lines += [f"| {w['from_min']} | {w['requests']} | {w['p50_s']} | {w['p99_s']} |" for w in r["latency_windows"]]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("runs/soak"))
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    with open(a.out / "grader.log", "w") as grader_log:
        report = asyncio.run(run(a.minutes, a.seed, grader_log))
    (a.out / "report.json").write_text(json.dumps(report, indent=1))
    (a.out / "report.md").write_text(markdown(report))
    print(markdown(report))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
