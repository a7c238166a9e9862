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
import tempfile
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


def measure(
    latency: float,
    concurrency: int,
    workers: int,
    mode: str,
    batches: int,
    parallel: int,
    transport: str = "lean",
    label: str = "",
) -> dict[str, Any]:
    port = free_port()
    env = {
        "GRADER_JUDGE_CONCURRENCY": str(concurrency),
        "GRADER_CACHE": "off",
        "GRADER_CACHE_SIZE": "0",
        "GRADER_JUDGE_PROBE": "false",
        "GRADER_WORKERS": str(workers),
        "GRADER_JUDGE_TRANSPORT": transport,
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
        "run": label or f"L={latency * 1000:.0f} ms, C={concurrency}",
        "transport": transport,
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
        "| run | L | C | workers | transport | calls/s | bound C/L | share | grader CPU/call | RSS |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        bound = f"{r['bound_c_over_l']:.0f}" if r["bound_c_over_l"] else "—"
        share = f"{r['share_of_bound']:.2f}" if r["share_of_bound"] else "—"
        lines.append(
            f"| {r['run']} | {r['latency_ms']} ms | {r['concurrency']} | {r['workers']} | {r['transport']} | "
            f"{r['calls_per_s']:.0f} | {bound} | {share} | {r['cpu_ms_per_call']:.2f} ms | {r['rss_mb']:.0f} MB |"
        )
    return "\n".join(lines)


def cache_effect(latency: float) -> dict[str, Any]:
    """A GRPO-like load: G = 6 completions per prompt, a third of them repeats of another (short answers
    collide), graded twice as two epochs would. Judge calls and wall time with the cache off and on."""
    out: dict[str, Any] = {}
    for cache in ("off", "sqlite"):
        port = free_port()
        env = {"GRADER_CACHE": cache, "GRADER_JUDGE_PROBE": "false", "GRADER_LOG_LEVEL": "warning"}
        if cache == "sqlite":
            env["GRADER_CACHE_PATH"] = str(Path(tempfile.mkdtemp()) / "judgements.sqlite")
        with judge("scripted", latency) as (judge_url, model):
            proc = start_grader(judge_url, model, port, **env)
            calls = 0
            t0 = time.perf_counter()
            try:
                with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as c:
                    for _epoch in range(2):
                        for b in range(4):
                            r = c.post("/v1/grade", json=grpo_batch(b))
                            r.raise_for_status()
                            calls += r.json()["usage"]["judge_calls"]
            finally:
                proc.terminate()
                proc.wait(15)
            out[cache] = {"judge_calls": calls, "seconds": round(time.perf_counter() - t0, 2)}
    out["criteria_graded"] = 2 * 4 * 16 * 8
    return out


def grpo_batch(b: int) -> dict[str, Any]:
    items = []
    for prompt in range(16 // 6 + 1):
        for g in range(6):
            if len(items) == 16:
                break
            text = f"Prompt {b}-{prompt}: answer {g % 4}"  # completions 4 and 5 repeat 0 and 1
            rubric = [{"criterion": f"Criterion {b}-{prompt}-{k} [p=0.6]", "points": 1 + k % 3} for k in range(8)]
            items.append(
                {"prompt": f"Question {b}-{prompt}", "response": text, "rubric": rubric, "group_id": f"{b}-{prompt}"}
            )
    return {"scheme": "hybrid", "judge": {"mode": "logprob"}, "items": items}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latencies", default="0,0.05,0.1", help="judge latencies L in seconds")
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--mode", default="logprob", choices=["verdict", "logprob", "sample"])
    ap.add_argument("--batches", type=int, default=40)
    ap.add_argument("--parallel", type=int, default=4)
    ap.add_argument("--quick", action="store_true", help="only the latency rows (no baselines, cache, workers)")
    ap.add_argument("--out", type=Path, default=Path("runs/bench"))
    a = ap.parse_args()
    rows = [
        measure(float(lat), a.concurrency, a.workers, a.mode, a.batches, a.parallel) for lat in a.latencies.split(",")
    ]
    extra: dict[str, Any] = {}
    if not a.quick:
        rows += [
            measure(0.1, 16, 1, a.mode, 10, a.parallel, label="smaller cap"),
            measure(0.1, 128, 1, a.mode, a.batches, 8, label="larger cap"),
            measure(0.1, 64, 1, a.mode, a.batches, a.parallel, transport="sdk", label="the SDK's full path"),
            measure(0.0, 64, 2, a.mode, a.batches, a.parallel, label="2 workers, CPU-bound"),
            measure(0.1, 1, 1, a.mode, 1, 1, label="sequential loop (seed script)"),
        ]
        extra["cache_effect"] = cache_effect(0.05)
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "grader.json").write_text(
        json.dumps({"machine": os.uname().nodename, "cpus": os.cpu_count(), "rows": rows, **extra}, indent=1)
    )
    table = markdown(rows)
    head = (
        f"grader throughput and cost ({os.cpu_count()} CPUs, scripted judge, cache off, "
        "16 items x 8 criteria a request)"
    )
    text = f"{head}\n{table}"
    if "cache_effect" in extra:
        ce = extra["cache_effect"]
        text += (
            f"\n\ncache on a GRPO-like load ({ce['criteria_graded']} criteria over 2 epochs, "
            "a third of completions repeated):"
            f" off {ce['off']['judge_calls']} judge calls in {ce['off']['seconds']} s;"
            f" sqlite {ce['sqlite']['judge_calls']} judge calls in {ce['sqlite']['seconds']} s"
        )
    (a.out / "grader.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
