"""A new user's first hour: the small surprises found by following the README literally, each pinned.

The README's own blocks run in tests/test_readme.py; these are the behaviours around them.
"""

from __future__ import annotations

import importlib.util
import logging
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from grader_service import create_app
from grader_service.settings import GraderSettings
from tests.conftest import REPO, grader_settings
from tests.scripted_judge import JudgeScript, build_app
from tests.servers import serve
from trainer._errors import SourceUnavailable
from trainer.cli import main

PRESETS = REPO / "trainer" / "presets"


@pytest.mark.parametrize("preset", sorted(p.stem for p in PRESETS.glob("*.yaml")))
def test_every_logger_a_preset_reports_to_is_installed(preset: str) -> None:
    """`make train` stopped at start-up: the GPU presets log to tensorboard, which nothing installed."""
    doc = yaml.safe_load((PRESETS / f"{preset}.yaml").read_text())
    targets: set[str] = set()
    for section in doc.values():
        report_to = section.get("report_to", []) if isinstance(section, dict) else []
        targets.update([report_to] if isinstance(report_to, str) else report_to or [])
    missing = [t for t in targets - {"none"} if importlib.util.find_spec(t) is None]
    assert not missing, f"{preset} reports to {missing}, which `make install` does not install"


def test_presets_leave_the_sft_adapter_optional() -> None:
    for path in PRESETS.glob("*.yaml"):
        assert "sft_adapter" not in path.read_text(), path.name


def test_a_missing_sft_adapter_is_a_message_naming_the_flag(tmp_path: Path) -> None:
    from trl import ModelConfig

    from trainer.models import load_policy

    with pytest.raises(SourceUnavailable, match="--sft_adapter"):
        load_policy("unused", ModelConfig(), str(tmp_path / "no-sft-here"))


def test_grpo_help_shows_the_preset_first() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "trainer", "grpo", "-h"], capture_output=True, text=True, check=True, cwd=REPO
    ).stdout
    lines = out.splitlines()
    assert "--preset NAME" in lines[0], lines[0]  # the usage line, not the end of 1,300 lines of options
    assert any("cpu-smoke" in line for line in lines[:5]), lines[:5]


def test_prepare_says_when_a_split_is_empty(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from tests.test_trainer_pipeline import heart_fixture

    src = heart_fixture(tmp_path / "heart.jsonl")
    with caplog.at_level(logging.WARNING):
        s = main(["prepare", "--source", str(src), "--output_dir", str(tmp_path / "p"), "--eval_fraction", "0"])
    assert s["splits"]["eval"] == 0
    assert any("eval split is empty" in r.getMessage() for r in caplog.records), caplog.text


def test_the_served_default_mode_is_logprob() -> None:
    """The documented local judge returns logprobs; verdict mode gave it only null rewards."""
    assert GraderSettings(_env_file=None).judge_mode.value == "logprob"


def test_readyz_says_busy_not_down_when_the_judge_is_slow() -> None:
    script = JudgeScript()
    with serve(build_app(script)) as judge_url:
        httpx.post(f"{judge_url}/_control", json={"latency_s": 2.0}).raise_for_status()
        settings = grader_settings(judge_url + "/v1", judge_probe=True, judge_timeout_s=0.5, judge_max_attempts=1)
        with serve(create_app(settings)) as url:
            r = httpx.get(f"{url}/readyz", timeout=30)
    body = r.json()
    assert r.status_code == 200 and body["status"] == "busy", body
    assert "took longer" in body["probe"]["problems"][0]["problem"]


def test_dockerignore_keeps_the_build_context_to_what_images_copy() -> None:
    """After `make smoke` a clone held a 1.9 GB context (.venv, runs, models)."""
    rules = (REPO / ".dockerignore").read_text().splitlines()
    assert "**" in rules  # everything out, then only what the Dockerfiles copy back in
    allowed = {r[1:].rstrip("/") for r in rules if r.startswith("!")}
    copied = set()
    for dockerfile in (REPO / "docker").glob("*.Dockerfile"):
        for line in dockerfile.read_text().splitlines():
            if line.startswith("COPY ") and "--from" not in line:
                copied.update(p.rstrip("/") for p in line.split()[1:-1] if not p.startswith("--"))
    assert copied and copied <= allowed | {"."}, copied - allowed
    assert not allowed & {".venv", "runs", "models", "data"}


def test_shared_data_path_is_configurable(tmp_path: Path) -> None:
    code = "from tests.conftest import SHARED_DATA; print(SHARED_DATA)"
    env = {"RUBRIC_SHARED_DATA": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env, check=True)
    assert out.stdout.strip() == str(tmp_path)
