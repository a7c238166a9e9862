"""`make compose-up-cpu`: build and run the whole compose stack on a CPU, check it end to end, tear down.

    python scripts/compose_cpu.py [--keep] [--steps N] [--summary FILE]

1. a base image: the public `python:3.11-slim-bookworm` when it can be pulled, else one built from
   Debian packages by docker/build-local-base.sh (cached as an image);
2. wheels cached in docker/wheels/: the CPU build of torch when one is at hand locally, and
   llama-cpp-python built once (its compile is the slow part of the judge image);
3. `docker compose -f docker-compose.yml -f docker-compose.cpu.yml` build, then up;
4. waits for the judge and grader to be healthy, grades a request from this host, waits for the
   trainer to finish its GRPO steps, checks the adapter it wrote, and tears everything down.
Exit code 0 when every check passed, 77 when no Docker engine can be used here, 1 otherwise.
The last line printed is a JSON summary (timings, `docker compose ps`, the trainer's last lines).
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scripts._compose import REPO, SKIP, base_image, compose_or_skip, free_port, log, run, run_stack, stack_parser

WHEELS = REPO / "docker" / "wheels"
FILES = ["-f", "docker-compose.yml", "-f", "docker-compose.cpu.yml"]


def cache_wheels() -> dict[str, str]:
    """Wheels the image builds reuse; returns build settings that follow from what was found."""
    WHEELS.mkdir(parents=True, exist_ok=True)
    env: dict[str, str] = {}
    pip = [sys.executable, "-m", "pip"]
    if not list(WHEELS.glob("torch-*.whl")):
        links = os.environ.get("PIP_FIND_LINKS", "")
        got = links and subprocess.run(
            [
                *pip,
                "download",
                "-q",
                "--no-deps",
                "--no-index",
                "--find-links",
                links,
                "-d",
                str(WHEELS),
                "torch==2.13.0",
            ],
            capture_output=True,
        )
        if got and got.returncode == 0:
            log("cached the local CPU torch wheel")
    if list(WHEELS.glob("torch-*+cpu*.whl")):
        env["TORCH_INDEX_URL"] = ""  # the wheel is here: no need for the CPU index
    if not list(WHEELS.glob("llama_cpp_python-*.whl")):
        try:
            version = importlib.metadata.version("llama-cpp-python")
        except importlib.metadata.PackageNotFoundError:
            version = None
        if version:  # built before for `make install-judge`: pip's wheel cache makes this quick
            log(f"caching the llama-cpp-python {version} wheel")
            run(
                [*pip, "wheel", "-q", "--no-deps", "-w", str(WHEELS), f"llama-cpp-python=={version}"],
                env={"CMAKE_ARGS": "-DGGML_NATIVE=OFF"},
            )
    return env


def wait_healthy(compose: list[str], service: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        cid = run([*compose, *FILES, "ps", "-q", service], quiet=True).strip()
        if cid:
            state = run(
                [
                    "docker",
                    "inspect",
                    "-f",
                    "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}",
                    cid,
                ],
                quiet=True,
            ).split()
            if state[:2] == ["running", "healthy"]:
                return
            if state and state[0] == "exited":
                raise RuntimeError(
                    f"{service} exited:\n"
                    + run([*compose, *FILES, "logs", "--tail", "40", service], check=False, quiet=True)
                )
        time.sleep(2)
    raise RuntimeError(f"{service} not healthy after {timeout_s:.0f} s")


def wait_exited(compose: list[str], service: str, timeout_s: float) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        cid = run([*compose, *FILES, "ps", "-a", "-q", service], quiet=True).strip()
        if cid:
            status, code = run(
                ["docker", "inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", cid], quiet=True
            ).split()
            if status == "exited":
                return int(code)
        time.sleep(3)
    raise RuntimeError(f"{service} still running after {timeout_s:.0f} s")


GRADE = {
    "scheme": "hybrid",
    "judge": {"mode": "logprob"},
    "items": [
        {
            "id": "host-1",
            "prompt": "Crushing chest pain spreading to my left arm. What do I do?",
            "response": "Call emergency services now and chew an aspirin unless you are allergic.",
            "rubric": [
                {"criterion": "Essential Criteria: Tells the user to call emergency services.", "points": 5},
                {"criterion": "Important Criteria: Mentions aspirin.", "points": 3},
                {"criterion": "Pitfall Criteria: Suggests waiting to see if the pain passes.", "points": -2},
            ],
        }
    ],
}


def main() -> int:
    ap = stack_parser(__doc__)
    ap.add_argument("--steps", type=int, default=2, help="GRPO steps the trainer runs")
    a = ap.parse_args()
    if (compose := compose_or_skip()) is None:
        return SKIP

    t0 = time.monotonic()
    timings: dict[str, float] = {}
    summary: dict[str, Any] = {"ok": False}
    grader_port, judge_port = free_port(), free_port()
    env = {
        "COMPOSE_PROJECT_NAME": os.environ.get("COMPOSE_PROJECT_NAME", "rubric-rewards-cpu"),
        "BUILD_NETWORK": "host",  # builds reach the package index through the host's network
        "GRADER_PORT": str(grader_port),
        "JUDGE_PORT": str(judge_port),
        "TRAINER_STEPS": str(a.steps),
    }
    os.environ.update(env)

    def steps() -> None:
        os.environ["BASE_IMAGE"] = base_image()
        timings["base_image_s"] = time.monotonic() - t0
        os.environ.update(cache_wheels())
        timings["wheels_s"] = time.monotonic() - t0 - timings["base_image_s"]
        log(f"building images on {os.environ['BASE_IMAGE']}")
        t = time.monotonic()
        run([*compose, *FILES, "build"])
        timings["build_s"] = time.monotonic() - t

        t = time.monotonic()
        run([*compose, *FILES, "down", "-v", "--remove-orphans"], check=False, quiet=True)
        run([*compose, *FILES, "up", "-d"])
        wait_healthy(compose, "judge", 300)
        wait_healthy(compose, "grader", 120)
        timings["up_to_healthy_s"] = time.monotonic() - t

        t = time.monotonic()
        url = f"http://127.0.0.1:{grader_port}"
        ready = httpx.get(url + "/readyz", timeout=120).json()
        r = httpx.post(url + "/v1/grade", json=GRADE, timeout=300)
        r.raise_for_status()
        result = r.json()["results"][0]
        if result["reward"] is None:
            raise RuntimeError(f"the host's request got no reward: {result['error']}")
        summary["host_request"] = {
            "reward": result["reward"],
            "reward_std": result["reward_std"],
            "usage": result["usage"],
        }
        summary["readyz"] = ready
        timings["grade_request_s"] = time.monotonic() - t

        t = time.monotonic()
        code = wait_exited(compose, "trainer", 900)
        timings["trainer_s"] = time.monotonic() - t
        summary["trainer_last_lines"] = run(
            [*compose, *FILES, "logs", "--no-color", "--tail", "15", "trainer"], quiet=True
        ).splitlines()
        if code != 0:
            raise RuntimeError(f"trainer exited {code}")
        cid = run([*compose, *FILES, "ps", "-a", "-q", "trainer"], quiet=True).strip()
        dest = REPO / "runs" / "compose-cpu"
        dest.mkdir(parents=True, exist_ok=True)
        run(
            ["docker", "cp", f"{cid}:/runs/grpo/adapter_model.safetensors", str(dest / "adapter_model.safetensors")],
            quiet=True,
        )
        size = (dest / "adapter_model.safetensors").stat().st_size
        if size <= 0:
            raise RuntimeError("the trainer wrote an empty adapter")
        summary["adapter"] = {"path": str(dest / "adapter_model.safetensors"), "bytes": size}
        summary["ps"] = run(
            [*compose, *FILES, "ps", "-a", "--format", "table {{.Service}}\t{{.Status}}"], quiet=True
        ).splitlines()

    def finish(total_s: float) -> None:
        timings["total_s"] = total_s
        summary["timings"] = {k: round(v, 1) for k, v in timings.items()}

    return run_stack(compose, FILES, summary, steps, keep=a.keep, summary_path=a.summary, log_tail=30, finish=finish)


if __name__ == "__main__":
    raise SystemExit(main())
