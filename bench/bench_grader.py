"""Judge calls per second the grader sustains against the scripted judge.

Default: judge latency 50 ms, grader concurrency cap 64, cache off (every criterion is a judge call),
batches of 16 items x 8 criteria sent 4 at a time. Prints one line of numbers per run.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scripts.local_stack import judge_and_grader


def _batch(b: int, items: int, criteria: int) -> dict:
    return {
        "scheme": "hybrid",
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


async def run(url: str, batches: int, items: int, criteria: int, parallel: int, mode: str) -> tuple[int, float]:
    sem = asyncio.Semaphore(parallel)
    calls = 0
    async with httpx.AsyncClient(base_url=url, timeout=300) as client:

        async def one(b: int) -> None:
            nonlocal calls
            async with sem:
                body = _batch(b, items, criteria) | {"judge": {"mode": mode}}
                r = await client.post("/v1/grade", json=body)
                r.raise_for_status()
                data = r.json()
                assert all(x["reward"] is not None for x in data["results"])
                calls += data["usage"]["judge_calls"]

        await one(-1)  # warm-up
        calls = 0
        t0 = time.perf_counter()
        await asyncio.gather(*(one(b) for b in range(batches)))
        return calls, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--batches", type=int, default=40)
    ap.add_argument("--items", type=int, default=16)
    ap.add_argument("--criteria", type=int, default=8)
    ap.add_argument("--parallel", type=int, default=4)
    ap.add_argument("--mode", default="verdict", choices=["verdict", "logprob", "sample"])
    a = ap.parse_args()
    with judge_and_grader(a.latency, a.concurrency, GRADER_CACHE_SIZE="0") as url:
        calls, secs = asyncio.run(run(url, a.batches, a.items, a.criteria, a.parallel, a.mode))
    ideal = a.concurrency / a.latency if a.latency else float("inf")
    print(
        f"grader: {calls} judge calls in {secs:.2f} s = {calls / secs:.0f} calls/s "
        f"(mode={a.mode}, latency={a.latency * 1000:.0f} ms, concurrency={a.concurrency}, "
        f"ceiling {ideal:.0f} calls/s)"
    )


if __name__ == "__main__":
    main()
