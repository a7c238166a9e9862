"""Every fenced block in the README and the docs site runs as written, or says why it cannot run here.

Each block is preceded by a marker line (`readme:` in the README, `docs:` in docs/):
    <!-- docs: run -->               executed (bash or python) in a scratch directory
    <!-- docs: server -->            a command that starts a server: started, checked on /healthz, stopped
    <!-- docs: skip <reason> -->     needs a GPU, the network or a Docker engine (the reason says what)
    <!-- docs: output -->            sample output, not code
A block without a marker fails the test, so neither can grow an untested snippet. The blocks run in file
order (the README first), in one scratch directory, so a page can use what its earlier blocks made.

What the test changes, and only this (`REWRITES`): `localhost:8080` and `localhost:8000` become the
grader and scripted judge it started; the hub model `Qwen/Qwen3-0.6B` becomes a tiny model built
offline; GRPO runs 1 step on the CPU.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from scripts.local_stack import REPO, free_port, grader, judge

pytestmark = pytest.mark.slow

README = REPO / "README.md"
PAGES = [README, *sorted((REPO / "docs").rglob("*.md"))]
_BLOCK = re.compile(
    r"(?:^<!-- (?:readme|docs): (?P<marker>[^>]*?) -->\n)?^```(?P<lang>\w*)\n(?P<body>.*?)^```\s*$", re.M | re.S
)
CPU_GRPO_FLAGS = (
    " --max_steps 1 --per_device_train_batch_size 4 --num_generations 4 --max_completion_length 8"
    " --use_cpu true --bf16 false --report_to none --save_strategy no"
)


@dataclass
class Block:
    file: str
    line: int
    lang: str
    marker: str
    body: str

    @property
    def kind(self) -> str:
        return self.marker.split(" ", 1)[0]


def blocks() -> list[Block]:
    found = []
    for page in PAGES:
        text = page.read_text()
        name = str(page.relative_to(REPO))
        found += [
            Block(
                name,
                text[: m.start()].count("\n") + 1,
                m.group("lang"),
                (m.group("marker") or "").strip(),
                m.group("body"),
            )
            for m in _BLOCK.finditer(text)
        ]
    return found


def test_every_block_is_run_or_says_why_not() -> None:
    every = blocks()
    unmarked = [f"{b.file}:{b.line}" for b in every if b.kind not in ("run", "server", "skip", "output")]
    assert not unmarked, f"fenced blocks without a '<!-- docs: ... -->' marker: {unmarked}"
    for b in every:
        if b.kind == "skip":
            assert len(b.marker.split(" ", 1)) == 2 and len(b.marker) > 12, f"{b.file}:{b.line}: give the reason"
    assert sum(b.kind in ("run", "server") for b in every if b.file == "README.md") >= 2
    assert sum(b.kind in ("run", "server") for b in every) >= 8


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    work = tmp_path_factory.mktemp("readme")
    (work / "examples").symlink_to(REPO / "examples")
    tiny = work / "tiny-model"  # built in a child process: importing transformers here would freeze its settings
    code = f"from trainer.models.tiny import build_tiny_model; build_tiny_model({str(tiny)!r})"
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True, timeout=300)
    with judge("scripted") as (judge_url, model), grader(judge_url, model, GRADER_JUDGE_MODE="logprob") as url:
        yield {"work": str(work), "grader": url, "judge": judge_url.removesuffix("/v1"), "tiny": str(tiny)}


def rewrite(body: str, stack: dict[str, str]) -> str:
    body = body.replace("http://localhost:8080", stack["grader"]).replace("localhost:8080", stack["grader"][7:])
    body = body.replace("http://localhost:8000", stack["judge"])
    body = body.replace("Qwen/Qwen3-0.6B", stack["tiny"])
    body = re.sub(r"(trl grpo (?:[^\n\\]|\\\n)*)", lambda m: m.group(1) + CPU_GRPO_FLAGS, body)
    return body.replace(
        'GRPOConfig(output_dir="runs/grpo", max_steps=10)',
        'GRPOConfig(output_dir="runs/grpo", max_steps=1, per_device_train_batch_size=4, num_generations=4, '
        'max_completion_length=8, use_cpu=True, bf16=False, report_to="none", save_strategy="no")',
    )


def _env(stack: dict[str, str]) -> dict[str, str]:
    # The README assumes the project's environment is active (`make install`, then `source .venv/bin/activate`).
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {
        **os.environ,
        "PATH": path,
        "PYTHONPATH": str(REPO),
        "RUBRIC_GRADER_URL": stack["grader"],
        "HF_HUB_OFFLINE": "1",
    }


RUNNABLE = [b for b in blocks() if b.kind in ("run", "server")]


@pytest.mark.parametrize("block", RUNNABLE, ids=[f"{b.file}:{b.line}-{b.lang}" for b in RUNNABLE])
def test_readme_block_runs(block: Block, stack: dict[str, str]) -> None:
    body = rewrite(block.body, stack)
    env = _env(stack)
    if block.kind == "server":
        port = free_port()
        env |= {"GRADER_PORT": str(port), "GRADER_HOST": "127.0.0.1", "GRADER_CACHE": "memory"}
        proc = subprocess.Popen(["bash", "-c", body], cwd=stack["work"], env=env, start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                assert proc.poll() is None, f"{block.file}:{block.line}: the server exited ({proc.returncode})"
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                        assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=30).status_code == 200
                        return
                except httpx.HTTPError:
                    time.sleep(0.3)
            pytest.fail(f"{block.file}:{block.line}: the server did not answer /healthz")
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(20)
    cmd = ["bash", "-eo", "pipefail", "-c", body] if block.lang in ("bash", "sh", "") else [sys.executable, "-c", body]
    r = subprocess.run(cmd, cwd=stack["work"], env=env, capture_output=True, text=True, timeout=900)
    out = f"--- stdout\n{r.stdout[-3000:]}\n--- stderr\n{r.stderr[-3000:]}"
    assert r.returncode == 0, f"{block.file}:{block.line} failed:\n{body}\n{out}"
