from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import settings

from grader_service import GraderSettings, create_app
from tests.scripted_judge import JudgeScript, build_app
from tests.servers import RedisServer, serve

# Property tests assert values, not speed: a busy 2-core CI machine must not fail them on a 200 ms deadline.
settings.register_profile("rubric", deadline=None)
settings.load_profile("rubric")

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
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server (Debian's package; .ci/run installs it), skipped where it is missing."""
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("no redis-server (apt-get install redis-server; .ci/run installs it)")
    server = RedisServer(exe)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


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


def cpu_grpo_config(output_dir: str | Path, **overrides: Any) -> Any:
    """TRL's GRPOConfig for a CPU test run: G=4 completions of one prompt a step, nothing saved or reported."""
    from trainer.grpo import cpu_grpo_config as config

    return config(output_dir, **({"seed": 0, "temperature": 1.0} | overrides))


@pytest.fixture
def stack_env(grader_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The grader's URL in the RUBRIC_* environment the RL-stack adapters read, their cached graders reset."""
    import shared.adapters.verifiers as vf_adapter
    import shared.adapters.verl as verl_adapter

    monkeypatch.setenv("RUBRIC_GRADER_URL", grader_url)
    monkeypatch.setenv("RUBRIC_GRADER_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("RUBRIC_REWARD_SCHEME", "hybrid")
    verl_adapter._graders.clear()
    vf_adapter._grader = None
    yield grader_url
    verl_adapter._graders.clear()
    vf_adapter._grader = None
