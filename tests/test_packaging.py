"""Installs: the client package alone (no torch, no trainer code), and the grader extra without torch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def test_client_installs_and_grades_on_its_own(tmp_path: Path, grader_url: str) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    src = tmp_path / "src"  # build from a copy: setuptools writes build/ and egg-info beside the sources
    shutil.copytree(REPO / "shared", src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    subprocess.run([py, "-m", "pip", "install", "-q", str(src)], check=True, cwd=tmp_path)
    script = textwrap.dedent(
        f"""
        import sys, shared
        from shared import GraderClient
        with GraderClient(url="{grader_url}") as c:
            r = c.grade([{{"prompt": "p", "response": "r", "rubric": [{{"criterion": "c [p=1]", "points": 1}}]}}],
                        scheme="healthbench")
        assert r.results[0].reward == 1.0, r
        import shared.adapters.openrlhf, shared.adapters.verifiers, shared.adapters.verl  # the other stacks' adapters
        for mod in ("torch", "grader_service", "trainer", "fastapi", "openai"):
            try:
                __import__(mod)
            except ImportError:
                continue
            raise SystemExit(f"{{mod}} importable in the client-only venv")
        print("OK", shared.__file__)
        """
    )
    out = subprocess.run([py, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "site-packages/shared/__init__.py" in out.stdout


def test_grader_extra_resolves_without_torch(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--dry-run",
            "--ignore-installed",
            "--report",
            str(report),
            f"{REPO}[grader]",
        ],
        check=True,
        capture_output=True,
    )
    names = {i["metadata"]["name"].lower() for i in json.loads(report.read_text())["install"]}
    assert {"fastapi", "uvicorn", "openai", "httpx"} <= names
    assert not names & {"torch", "transformers", "trl", "peft", "nvidia-cudnn-cu12"}
