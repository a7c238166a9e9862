"""Client throughput (items/s) against the grader with the scripted judge at zero latency,
and the overhead the client adds per batch over a bare httpx POST of the same body.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scripts.local_stack import judge_and_grader
from shared import AsyncGraderClient


def items(n: int, criteria: int, tag: str) -> list[dict]:
    return [
        {
            "prompt": "Palpitations after coffee?",
            "response": f"{tag} answer {k}: caffeine may cause it",
            "rubric": [{"criterion": f"Mentions caffeine {j} [p=0.6]", "points": 1 + j % 3} for j in range(criteria)],
            "group_id": f"{tag}-g{k // 6}",
        }
        for k in range(n)
    ]


async def throughput(url: str, n: int, criteria: int, batch: int, conc: int) -> float:
    async with AsyncGraderClient(url=url, batch_size=batch, max_concurrency=conc) as client:
        await client.grade(items(batch, criteria, "warm"))
        t0 = time.perf_counter()
        resp = await client.grade(items(n, criteria, "run"))
        secs = time.perf_counter() - t0
    assert all(r.reward is not None for r in resp.results)
    return n / secs


async def overhead(url: str, batch: int, criteria: int, reps: int) -> tuple[float, float]:
    """Median seconds per batch: client.grade vs a bare POST, on cached judgements (grader work ~constant)."""
    body_items = items(batch, criteria, "ovh")
    async with AsyncGraderClient(url=url, batch_size=batch) as client, httpx.AsyncClient(base_url=url) as raw:
        await client.grade(body_items)  # fill the grader's cache: both paths then cost the grader the same
        client_t, raw_t = [], []
        for _ in range(reps):
            t0 = time.perf_counter()
            await client.grade(body_items)
            client_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            r = await raw.post("/v1/grade", json={"items": body_items, "scheme": "hybrid"})
            r.json()
            raw_t.append(time.perf_counter() - t0)
    return statistics.median(client_t), statistics.median(raw_t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=3072)
    ap.add_argument("--criteria", type=int, default=8)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--concurrency", type=int, default=8)
    a = ap.parse_args()
    with judge_and_grader(0.0, 64, GRADER_CACHE_SIZE="0") as url:
        ips = asyncio.run(throughput(url, a.items, a.criteria, a.batch, a.concurrency))
    with judge_and_grader(0.0, 64) as url:
        c, r = asyncio.run(overhead(url, a.batch, a.criteria, 30))
    print(
        f"client: {ips:.0f} items/s ({ips * a.criteria:.0f} criteria/s; {a.items} items x {a.criteria} criteria, "
        f"batch {a.batch}, {a.concurrency} batches in flight, judge latency 0)"
    )
    print(
        f"client overhead per batch of {a.batch}: {(c - r) * 1000:.2f} ms "
        f"(client {c * 1000:.2f} ms vs bare httpx POST {r * 1000:.2f} ms, median of 30, cached judgements)"
    )


if __name__ == "__main__":
    main()
