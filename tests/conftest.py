from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from grader_service import GraderSettings, create_app
from tests.scripted_judge import JudgeScript, build_app
from tests.servers import serve

REPO = Path(__file__).resolve().parents[1]
# the team's read-only samples; RUBRIC_SHARED_DATA points the tests at another copy
SHARED_DATA = Path(os.environ.get("RUBRIC_SHARED_DATA") or REPO.parent / "shared" / "data")


def shared_file(*parts: str) -> Path:
    """A file of ../shared/data, or a clean skip when the team material is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not present: {path} (set RUBRIC_SHARED_DATA to its folder)")
    return path


def shared_records(*parts: str) -> list[dict]:
    return [json.loads(line) for line in shared_file(*parts).read_text().splitlines() if line.strip()]


@pytest.fixture
def judge_script() -> JudgeScript:
    return JudgeScript()


@pytest.fixture
def judge_url(judge_script: JudgeScript) -> Iterator[str]:
    with serve(build_app(judge_script)) as url:
        yield url + "/v1"


def grader_settings(judge_url: str, **overrides) -> GraderSettings:
    base = dict(
        judge_base_url=judge_url,
        judge_model="scripted",
        judge_timeout_s=2.0,
        judge_max_attempts=3,
        judge_backoff_initial_s=0.01,
        judge_backoff_max_s=0.05,
        judge_probe=False,  # the start-up probe's calls would blur call counts; tests/test_judge_families.py covers it
        cache="memory",  # no judgement outlives its test (tests/test_cache.py covers sqlite and redis)
        _env_file=None,
    )
    base.update(overrides)
    return GraderSettings(**base)


@pytest.fixture
def grader_url(judge_url: str) -> Iterator[str]:
    with serve(create_app(grader_settings(judge_url))) as url:
        yield url


@pytest.fixture
def grader(grader_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=grader_url, timeout=30) as client:
        yield client
