"""Start the scripted judge and the grader as separate processes for benchmarks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


@contextmanager
def judge_and_grader(latency_s: float, concurrency: int, **grader_env: str) -> Iterator[str]:
    """Yield the grader's base URL, with the scripted judge behind it; both stopped on exit."""
    jport, gport = free_port(), free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    judge = subprocess.Popen(
        [sys.executable, "-m", "tests.scripted_judge", "--port", str(jport), "--latency", str(latency_s)],
        cwd=REPO,
        env=env,
    )
    genv = {
        **env,
        "GRADER_JUDGE_BASE_URL": f"http://127.0.0.1:{jport}/v1",
        "GRADER_JUDGE_MODEL": "scripted",
        "GRADER_JUDGE_CONCURRENCY": str(concurrency),
        "GRADER_PORT": str(gport),
        "GRADER_HOST": "127.0.0.1",
        **grader_env,
    }
    grader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import uvicorn; from grader_service import create_app;"
            f"uvicorn.run(create_app(), host='127.0.0.1', port={gport}, log_level='warning', access_log=False)",
        ],
        cwd=REPO,
        env=genv,
    )
    try:
        _wait(f"http://127.0.0.1:{jport}/v1/models", judge)
        _wait(f"http://127.0.0.1:{gport}/healthz", grader)
        yield f"http://127.0.0.1:{gport}"
    finally:
        for p in (grader, judge):
            p.terminate()
        for p in (grader, judge):
            p.wait(timeout=10)
