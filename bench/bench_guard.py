"""How responsive the grader stays while it rejects the worst bodies: /healthz latency, per attack.

    python bench/bench_guard.py

A grader process (scripted judge behind it, bearer auth on, 48 MiB body limit) gets, one at a time:
400,000 tiny items inside the body limit (413 for the item count), 60 MB chunked with no token (401),
60 MB chunked with a token (413 for size), and half a body that stalls (408). Meanwhile another
thread calls /healthz every 20 ms. Prints, per attack, the status, how long the rejection took and
the /healthz latencies (median, p99, max).
"""

from __future__ import annotations

import json
import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scripts.local_stack import free_port, judge, start_grader

TOKEN = "bench-token"


def probe_health(url: str, stop: threading.Event, out: list[float]) -> None:
    with httpx.Client(timeout=10) as c:
        while not stop.is_set():
            t = time.perf_counter()
            c.get(url + "/healthz")
            out.append((time.perf_counter() - t) * 1000)
            time.sleep(0.02)


def chunked(total: int, chunk: int = 1 << 16) -> Iterator[bytes]:
    yield b'{"items": ['
    sent = 0
    piece = b'{"prompt": "' + b"a" * (chunk - 16) + b'"},'
    while sent < total:
        yield piece
        sent += len(piece)
    yield b"]}"


def stalled(url: str) -> int:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(
            f"POST /v1/grade HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
            'Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"items": ['.encode()
        )
        return int(s.recv(4096).split()[1])


def main() -> int:
    tiny = {"prompt": "p", "response": "r", "rubric": [{"criterion": "c", "points": 1}]}
    many = json.dumps({"items": [tiny] * 400_000}).encode()
    auth = {"Authorization": f"Bearer {TOKEN}", "content-type": "application/json"}
    attacks: list[tuple[str, Callable[[str], int]]] = [
        (
            f"400k items in {len(many) / 2**20:.0f} MiB",
            lambda u: httpx.post(u + "/v1/grade", content=many, headers=auth, timeout=120).status_code,
        ),
        (
            "60 MB chunked, no token",
            lambda u: _post_or_closed(u, chunked(60_000_000), {"content-type": "application/json"}),
        ),
        ("60 MB chunked, over the limit", lambda u: _post_or_closed(u, chunked(60_000_000), auth)),
        ("half a body, then silence", stalled),
    ]
    rows = []
    port = free_port()
    with judge("scripted") as (judge_url, model):
        env = {"GRADER_API_KEY": TOKEN, "GRADER_MAX_BODY_BYTES": str(48 * 2**20), "GRADER_JUDGE_PROBE": "false"}
        proc = start_grader(judge_url, model, port, **env)
        url = f"http://127.0.0.1:{port}"
        try:
            for name, attack in attacks:
                lat: list[float] = []
                stop = threading.Event()
                t = threading.Thread(target=probe_health, args=(url, stop, lat), daemon=True)
                t.start()
                time.sleep(0.2)
                t0 = time.perf_counter()
                status = attack(url)
                took = time.perf_counter() - t0
                time.sleep(0.2)
                stop.set()
                t.join()
                lat.sort()
                rows.append(
                    {
                        "attack": name,
                        "status": status,
                        "rejected_in_s": round(took, 2),
                        "healthz_ms_median": round(statistics.median(lat), 1),
                        "healthz_ms_p99": round(lat[int(0.99 * (len(lat) - 1))], 1),
                        "healthz_ms_max": round(lat[-1], 1),
                        "healthz_calls": len(lat),
                    }
                )
        finally:
            proc.kill()
    print("| attack | status | rejected in | /healthz median | p99 | max | calls |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['attack']} | {r['status']} | {r['rejected_in_s']} s | {r['healthz_ms_median']} ms | "
            f"{r['healthz_ms_p99']} ms | {r['healthz_ms_max']} ms | {r['healthz_calls']} |"
        )
    print(json.dumps(rows))
    return 0


def _post_or_closed(url: str, body: Iterator[bytes], headers: dict[str, str]) -> int:
    try:
        return httpx.post(url + "/v1/grade", content=body, headers=headers, timeout=120).status_code
    except httpx.TransportError:
        return -1  # the server answered and closed while we were still sending: rejected before reading it all


if __name__ == "__main__":
    raise SystemExit(main())
