"""`make compose-scale`: grader replicas behind HAProxy with one Redis, checked under load with a replica killed.

    python scripts/compose_scale.py [--replicas 3] [--requests 90] [--keep] [--summary FILE]

Runs `docker-compose.yml` + `docker-compose.scale.yml` with the scripted judge (tests/compose/scripted-judge.yml:
deterministic verdicts and a call count, so "judged once" can be counted; a real judge is the CPU profile's
job) and checks, through the balancer's published port:
1. the replicas all serve (HAProxy's X-Grader-Replica header);
2. duplicates across replicas are judged once: an item graded again on another replica is all cache hits,
   and the same fresh item sent to every replica at once costs one judge call per criterion;
3. one global judge limit: the judge never sees more calls in flight than GRADER_JUDGE_CONCURRENCY;
4. a replica killed (SIGKILL) mid-load loses no request: every grade call of the load, made with our client
   (bounded retries) as the trainer makes them, comes back with every reward;
5. the killed replica, started again, serves from the shared cache (no new judge calls).
Exit code 0 when every check passed, 77 when no Docker engine can be used here, 1 otherwise. The last line
printed is a JSON summary with the figures (requests, seconds, retries seen by HAProxy, judge calls).
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scripts._compose import SKIP, base_image, compose_or_skip, free_port, log, run, run_stack, stack_parser
from shared import AsyncGraderClient, ClientSettings, GradeItem

FILES = ["-f", "docker-compose.yml", "-f", "docker-compose.scale.yml", "-f", "tests/compose/scripted-judge.yml"]
JUDGE_CAP = 4
# HAProxy's httplog: ... backend/server Tq/Tw/Tc/Tr/Ta status bytes ... actconn/feconn/beconn/srv_conn/retries
_LOG = re.compile(r" graders/(\S+) \S+ (\d{3}) .*? \d+/\d+/\d+/\d+/(\+?\d+) \d+/\d+ \"(\w+) (\S+)")


def item(tag: str, n_criteria: int = 4) -> dict[str, Any]:
    return {
        "id": tag,
        "prompt": f"Case {tag}: chest pain on exertion. What should I do?",
        "response": f"Answer {tag}: see a doctor today, get an ECG and troponin, call an ambulance if it worsens.",
        "rubric": [
            {"criterion": f"Criterion {k} of {tag}: mentions an ECG.", "points": 5 - k} for k in range(n_criteria)
        ],
    }


class Stack:
    def __init__(self, compose: list[str], lb: str, judge: str) -> None:
        self.compose, self.lb, self.judge = compose, lb, judge

    def judge_calls(self) -> int:
        return int(httpx.get(self.judge + "/_stats", timeout=10).json()["calls"])

    def judge_max_in_flight(self) -> int:
        return int(httpx.get(self.judge + "/_stats", timeout=10).json()["max_in_flight"])

    def grade(self, items: list[dict[str, Any]]) -> tuple[dict[str, Any], str]:
        r = httpx.post(self.lb + "/v1/grade", json={"items": items, "scheme": "hybrid"}, timeout=120)
        r.raise_for_status()
        return r.json(), r.headers.get("x-grader-replica", "?")

    def containers(self, service: str) -> list[str]:
        out = run([*self.compose, *FILES, "ps", "-q", service], quiet=True)
        return [c for c in out.split() if c]

    def healthy_graders(self) -> int:
        states = [
            run(["docker", "inspect", "-f", "{{.State.Health.Status}}", c], quiet=True, check=False).strip()
            for c in self.containers("grader")
        ]
        return states.count("healthy")

    def lb_log(self) -> list[tuple[str, int, str, str]]:
        """(replica, status, retries field, path) of each request the balancer forwarded."""
        text = run([*self.compose, *FILES, "logs", "--no-color", "lb"], quiet=True, check=False)
        return [(m[1], int(m[2]), m[3], m[5]) for m in _LOG.finditer(text)]


def check_spread(stack: Stack) -> dict[str, Any]:
    seen = Counter(httpx.get(stack.lb + "/healthz", timeout=10).headers.get("x-grader-replica", "?") for _ in range(12))
    return {"healthz_by_replica": dict(seen)}


def check_duplicates(stack: Stack, replicas: int) -> dict[str, Any]:
    before = stack.judge_calls()
    sequential = []
    for _ in range(replicas):
        body, replica = stack.grade([item("dup-seq")])
        sequential.append({"replica": replica, **body["results"][0]["usage"]})
    after_seq = stack.judge_calls()

    async def burst() -> list[tuple[dict[str, Any], str]]:
        async with httpx.AsyncClient(timeout=120) as c:
            rs = await asyncio.gather(
                *(c.post(stack.lb + "/v1/grade", json={"items": [item("dup-burst")]}) for _ in range(2 * replicas))
            )
        return [(r.json(), r.headers.get("x-grader-replica", "?")) for r in rs]

    burst_results = asyncio.run(burst())
    after_burst = stack.judge_calls()
    return {
        "sequential": sequential,
        "sequential_judge_calls": after_seq - before,
        "burst_replicas": sorted({rep for _, rep in burst_results}),
        "burst_requests": len(burst_results),
        "burst_judge_calls": after_burst - after_seq,
        "burst_rewards": sorted({b["results"][0]["reward"] for b, _ in burst_results}),
    }


async def load_with_kill(stack: Stack, n_requests: int, items_each: int, kill_after: int) -> dict[str, Any]:
    settings = ClientSettings(url=stack.lb, batch_size=items_each, timeout_s=60, deadline_s=240, max_attempts=6)
    done, killed = 0, None
    nulls: list[str] = []
    t0 = time.monotonic()
    async with AsyncGraderClient(settings) as client:
        sem = asyncio.Semaphore(12)

        async def one(r: int) -> int:
            nonlocal done, killed
            items = [GradeItem(**item(f"load-{r}-{i}")) for i in range(items_each)]
            async with sem:
                resp = await client.grade(items, scheme="hybrid")
            done += 1
            if done == kill_after and killed is None:
                killed = stack.containers("grader")[1]
                run(["docker", "kill", "--signal", "KILL", killed], quiet=True)
                log(f"killed grader replica {killed[:12]} after {done} of {n_requests} requests")
            nulls.extend(f"{x.id}: {x.error.type.value}" for x in resp.results if x.reward is None and x.error)
            return sum(x.reward is not None for x in resp.results)

        rewarded = await asyncio.gather(*(one(r) for r in range(n_requests)))
    return {
        "requests": n_requests,
        "items": n_requests * items_each,
        "items_rewarded": sum(rewarded),
        "nulls": nulls[:10],
        "killed_after_requests": kill_after,
        "killed_container": (killed or "")[:12],
        "seconds": round(time.monotonic() - t0, 1),
    }


def main() -> int:
    ap = stack_parser(__doc__)
    ap.add_argument("--replicas", type=int, default=3)
    ap.add_argument("--requests", type=int, default=90, help="grade calls in the load (4 items x 4 criteria each)")
    a = ap.parse_args()
    if (compose := compose_or_skip()) is None:
        return SKIP
    lb_port, judge_port = free_port(), free_port()
    os.environ.update(
        {
            "COMPOSE_PROJECT_NAME": os.environ.get("COMPOSE_PROJECT_NAME", "rubric-rewards-scale"),
            "BUILD_NETWORK": "host",
            "GRADER_PORT": str(lb_port),
            "JUDGE_PORT": str(judge_port),
            "GRADER_REPLICAS": str(a.replicas),
            "GRADER_JUDGE_MODEL": "scripted",
            "GRADER_JUDGE_CONCURRENCY": str(JUDGE_CAP),
            "GRADER_JUDGE_MIN_ANSWER_MASS": "0",
            "SCRIPTED_LATENCY": "0.05",
        }
    )
    stack = Stack(compose, f"http://127.0.0.1:{lb_port}", f"http://127.0.0.1:{judge_port}")
    summary: dict[str, Any] = {"ok": False, "replicas": a.replicas, "judge_concurrency": JUDGE_CAP}

    def steps() -> None:
        os.environ["BASE_IMAGE"] = base_image()
        log(f"building grader, redis and lb images on {os.environ['BASE_IMAGE']}")
        run([*compose, *FILES, "build", "grader", "redis", "lb"])
        run([*compose, *FILES, "down", "-v", "--remove-orphans"], check=False, quiet=True)
        t = time.monotonic()
        run([*compose, *FILES, "up", "-d", "--wait", "judge", "redis", "grader", "lb"])
        summary["up_s"] = round(time.monotonic() - t, 1)

        summary["spread"] = check_spread(stack)
        summary["duplicates"] = check_duplicates(stack, a.replicas)
        calls_before = stack.judge_calls()
        summary["load"] = asyncio.run(load_with_kill(stack, a.requests, 4, kill_after=max(1, a.requests // 4)))
        summary["load"]["judge_calls"] = stack.judge_calls() - calls_before
        summary["load"]["unique_criteria"] = a.requests * 4 * 4
        summary["judge_max_in_flight"] = stack.judge_max_in_flight()
        lb = [entry for entry in stack.lb_log() if entry[3] == "/v1/grade"]
        summary["lb"] = {
            "grade_requests_by_replica": dict(Counter(e[0] for e in lb)),
            "statuses": dict(Counter(str(e[1]) for e in lb)),
            "requests_retried": sum(e[2] not in ("0", "+0") for e in lb),
        }
        summary["healthy_after_kill"] = stack.healthy_graders()

        killed = summary["load"]["killed_container"]
        run(["docker", "start", killed], quiet=True)
        deadline = time.monotonic() + 60
        while stack.healthy_graders() < a.replicas and time.monotonic() < deadline:
            time.sleep(1)
        time.sleep(3)  # two health checks for HAProxy to take it back
        before = stack.judge_calls()
        replayed = [stack.grade([item(f"load-{r}-0")]) for r in range(2 * a.replicas)]
        summary["after_restart"] = {
            "healthy": stack.healthy_graders(),
            "replicas_serving": sorted({rep for _, rep in replayed}),
            "judge_calls": stack.judge_calls() - before,
            "cache_hits": sum(b["results"][0]["usage"]["cache_hits"] for b, _ in replayed),
        }

    def finish(total_s: float) -> None:
        summary["total_s"] = round(total_s, 1)

    return run_stack(compose, FILES, summary, steps, keep=a.keep, summary_path=a.summary, log_tail=20, finish=finish)


if __name__ == "__main__":
    raise SystemExit(main())
