"""What the grader costs and sustains: judge calls/s against the concurrency bound C/L, the grader's own
CPU time per judge call (read from /proc), and its memory.

    python bench/bench_grader.py                       # the table: L in {0, 50, 100} ms at C = 64
    python bench/bench_grader.py --latencies 0.1 --concurrency 64 --workers 2

Workload: batches of 16 items x 8 criteria (every criterion distinct, cache off so each is a judge
call), 4 batches in flight, against the scripted judge (tests/scripted_judge.py) with latency L. The
grader runs as its own process; its utime+stime over the timed run, divided by the judge calls made, is
"CPU per call". Results also go to runs/bench/grader.json and .md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scripts.local_stack import free_port, judge, start_grader

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its children so far (workers of a multi-worker grader included)."""
    total = 0.0
    for p in [pid, *children(pid)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICK
    return total


def rss_mb(pid: int) -> float:
    total = 0
    for p in [pid, *children(pid)]:
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except FileNotFoundError:
            continue
        total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")))
    return total / 1024


def children(pid: int) -> list[int]:
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        return []
    out = [int(k) for k in kids]
    return out + [g for k in out for g in children(k)]


def batch(b: int, items: int, criteria: int, mode: str) -> dict[str, Any]:
    return {
        "scheme": "hybrid",
        "judge": {"mode": mode},
        "items": [
            {
                "prompt": "Chest pain on exertion, what now?",
                "response": f"Response {b}-{i}: see a cardiologist and get an ECG.",
                "rubric": [{"criterion": f"Mentions point {k} [p=0.5]", "points": 1 + k % 3} for k in range(criteria)],
                "group_id": f"g{b}-{i // 4}",
            }
            for i in range(items)
        ],
    }


async def drive(url: str, batches: int, items: int, criteria: int, parallel: int, mode: str) -> tuple[int, float]:
    sem = asyncio.Semaphore(parallel)
    calls = 0
    async with httpx.AsyncClient(base_url=url, timeout=600) as client:

        async def one(b: int) -> None:
            nonlocal calls
            async with sem:
                r = await client.post("/v1/grade", json=batch(b, items, criteria, mode))
                r.raise_for_status()
                data = r.json()
                assert all(x["reward"] is not None for x in data["results"]), data["results"][0]["error"]
                calls += data["usage"]["judge_calls"]

        t0 = time.perf_counter()
        await asyncio.gather(*(one(b) for b in range(batches)))
        return calls, time.perf_counter() - t0


def measure(latency: float, concurrency: int, workers: int, mode: str, batches: int, parallel: int) -> dict[str, Any]:
    port = free_port()
    env = {
        "GRADER_JUDGE_CONCURRENCY": str(concurrency),
        "GRADER_CACHE": "off",
        "GRADER_CACHE_SIZE": "0",
        "GRADER_JUDGE_PROBE": "false",
        "GRADER_WORKERS": str(workers),
        "GRADER_LOG_LEVEL": "warning",
    }
    with judge("scripted", latency) as (judge_url, model):
        proc = start_grader(judge_url, model, port, **env)
        url = f"http://127.0.0.1:{port}"
        try:
            asyncio.run(drive(url, parallel, 16, 8, parallel, mode))  # warm-up
            cpu0 = cpu_seconds(proc.pid)
            calls, secs = asyncio.run(drive(url, batches, 16, 8, parallel, mode))
            cpu = cpu_seconds(proc.pid) - cpu0
            rss = rss_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    bound = concurrency / latency if latency else None
    rate = calls / secs
    return {
        "latency_ms": round(latency * 1000),
        "concurrency": concurrency,
        "workers": workers,
        "mode": mode,
        "calls": calls,
        "seconds": round(secs, 2),
        "calls_per_s": round(rate, 1),
        "bound_c_over_l": round(bound, 1) if bound else None,
        "share_of_bound": round(rate / bound, 2) if bound else None,
        "cpu_ms_per_call": round(1000 * cpu / calls, 3),
        "rss_mb": round(rss, 1),
    }


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| judge latency L | C | workers | mode | calls/s | bound C/L | share of bound | grader CPU per call | RSS |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        bound = f"{r['bound_c_over_l']:.0f}" if r["bound_c_over_l"] else "—"
        share = f"{r['share_of_bound']:.2f}" if r["share_of_bound"] else "—"
        lines.append(
            f"| {r['latency_ms']} ms | {r['concurrency']} | {r['workers']} | {r['mode']} | {r['calls_per_s']:.0f} | "
            f"{bound} | {share} | {r['cpu_ms_per_call']:.2f} ms | {r['rss_mb']:.0f} MB |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latencies", default="0,0.05,0.1", help="judge latencies L in seconds")
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--mode", default="logprob", choices=["verdict", "logprob", "sample"])
    ap.add_argument("--batches", type=int, default=40)
    ap.add_argument("--parallel", type=int, default=4)
    ap.add_argument("--out", type=Path, default=Path("runs/bench"))
    a = ap.parse_args()
    rows = [
        measure(float(lat), a.concurrency, a.workers, a.mode, a.batches, a.parallel) for lat in a.latencies.split(",")
    ]
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "grader.json").write_text(json.dumps(rows, indent=1))
    table = markdown(rows)
    (a.out / "grader.md").write_text(table + "\n")
    print(f"grader throughput and cost ({os.cpu_count()} CPUs, scripted judge, cache off)\n{table}")


if __name__ == "__main__":
    main()
