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


def _run_check(script: str, tmp_path: Path, timeout: int) -> dict:
    """Run one compose check script; its JSON summary, or a skip with its reason (exit 77: no engine)."""
    summary_file = tmp_path / "summary.json"
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / script), "--summary", str(summary_file)],
        cwd=REPO,
        text=True,
        capture_output=True,
        timeout=timeout,
    )
    if proc.returncode == 77:
        pytest.skip(proc.stdout.strip().splitlines()[-1])
    assert summary_file.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = json.loads(summary_file.read_text())
    assert proc.returncode == 0 and summary["ok"], json.dumps(summary, indent=1)[-4000:]
    return summary


def test_compose_cpu_profile_runs_end_to_end(tmp_path: Path) -> None:
    summary = _run_check("compose_cpu.py", tmp_path, timeout=3600)
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


def test_compose_scale_profile_loses_no_request_when_a_replica_is_killed(tmp_path: Path) -> None:
    """`docker-compose.scale.yml`: 3 grader replicas behind HAProxy, one Redis, one global judge cap; the
    scripted judge (exact call counts). What `make compose-scale` runs."""
    s = _run_check("compose_scale.py", tmp_path, timeout=1800)
    assert len(s["spread"]["healthz_by_replica"]) == 3  # every replica serves through the balancer
    # duplicates across replicas are judged once: in turn (cache hits elsewhere) and all at once
    seq = s["duplicates"]["sequential"]
    assert len({x["replica"] for x in seq}) == 3 and [x["judge_calls"] for x in seq] == [4, 0, 0]
    assert s["duplicates"]["sequential_judge_calls"] == 4
    assert len(s["duplicates"]["burst_replicas"]) >= 2 and s["duplicates"]["burst_judge_calls"] == 4
    assert len(s["duplicates"]["burst_rewards"]) == 1
    # one global judge cap for all replicas
    assert s["judge_max_in_flight"] <= s["judge_concurrency"]
    # the kill: every request of the load came back with every reward; the judge redid at most the calls
    # that were in flight on the killed replica
    load = s["load"]
    assert load["items_rewarded"] == load["items"] == 360 and load["nulls"] == []
    assert load["unique_criteria"] <= load["judge_calls"] <= load["unique_criteria"] + 4 * s["judge_concurrency"]
    assert s["healthy_after_kill"] == 2 and set(s["lb"]["statuses"]) <= {"200", "502", "503", "504"}
    # started again, the replica serves from the shared cache
    assert s["after_restart"]["healthy"] == 3 and s["after_restart"]["judge_calls"] == 0
    assert len(s["after_restart"]["replicas_serving"]) == 3
