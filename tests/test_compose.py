"""`docker compose` really running: the CPU profile built and started with a real Docker engine.

Runs `scripts/compose_cpu.py` (what `make compose-up-cpu` runs): local base image when the public one
cannot be pulled, real llama.cpp judge, grader, one-shot prepare, GRPO trainer. Not part of `make test`
(it takes minutes); `make compose-test` and CI run it. Skips with the reason where no engine runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.compose


def test_compose_cpu_profile_runs_end_to_end(tmp_path: Path) -> None:
    summary_file = tmp_path / "summary.json"
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "compose_cpu.py"), "--summary", str(summary_file)],
        cwd=REPO,
        text=True,
        capture_output=True,
        timeout=3600,
    )
    if proc.returncode == 77:
        pytest.skip(proc.stdout.strip().splitlines()[-1])
    assert summary_file.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = json.loads(summary_file.read_text())
    assert proc.returncode == 0 and summary["ok"], json.dumps(summary, indent=1)[-4000:]
    # the host graded a request through the published port, with the real llama.cpp judge behind it
    assert summary["host_request"]["reward"] is not None
    assert summary["host_request"]["usage"]["judge_calls"] >= 3
    assert summary["readyz"]["status"] in ("ready", "degraded")
    # the trainer ran its steps against the grader and wrote a LoRA adapter
    assert summary["adapter"]["bytes"] > 1000
    assert any("grpo" in line or "train" in line for line in summary["trainer_last_lines"])
    services = " ".join(summary["ps"])
    for name in ("judge", "grader", "prepare", "trainer"):
        assert name in services
