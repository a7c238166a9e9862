"""The grader behind verl, OpenRLHF and verifiers: each adapter's rewards equal `/v1/grade`'s for the same
items, a failing item included (scripted judge: `[p=..]` fixes a verdict, `[fault=400]` fails a criterion).

Which library each test exercises: verifiers 0.1.14 and OpenRLHF 0.11.2 are the real packages (installed
with --no-deps by `make install`; skipped without them); verl 0.9.1 needs ray, so its call sites are copied
from its source into tests/stacks/verl_0_9_1.py.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

import shared.adapters.verifiers as vf_adapter
import shared.adapters.verl as verl_adapter
from shared.adapters.openrlhf import chat_from_template, items_from_request, response_of
from tests.stacks import verl_0_9_1 as verl

GOOD = [
    {"criterion": "Advises seeing a doctor [p=1]", "points": 5},
    {"criterion": "Mentions aspirin [p=0]", "points": 3},
    {"criterion": "Pitfall: suggests waiting [p=1]", "points": -2},
]
BAD = [*GOOD[:1], {"criterion": "Mentions troponin [fault=400]", "points": 2}]
PROMPT = "Crushing chest pain on the stairs. What now?"
RESPONSES = ["See a doctor now.", "Wait and see.", "Call an ambulance."]


def reference(grader_url: str, rubrics: list[list[dict]], responses: list[str], prompt: str = PROMPT) -> list:
    items = [{"prompt": prompt, "response": r, "rubric": rb} for r, rb in zip(responses, rubrics, strict=True)]
    body = httpx.post(f"{grader_url}/v1/grade", json={"items": items, "scheme": "hybrid"}, timeout=30).json()
    return [r["reward"] for r in body["results"]]


# ---------------------------------------------------------------- verl (call sites copied from 0.9.1)


def _verl_samples(rubrics: list[list[dict]]) -> list[dict]:
    return [
        {
            "data_source": "rar_medicine",
            "response": r,
            "reward_model": {"ground_truth": json.dumps(rb)},  # verl's parquet keeps it as a string
            "extra_info": {"prompt": PROMPT, "index": 7},
        }
        for r, rb in zip(RESPONSES, rubrics, strict=True)
    ]


def test_verl_naive_and_batch_managers_match_the_grader(stack_env: str) -> None:
    rubrics = [GOOD, GOOD, BAD]
    want = reference(stack_env, rubrics, RESPONSES)
    assert want[2] is None and want[0] is not None
    path = str(Path(verl_adapter.__file__))

    fn = verl.load_custom_reward_fn(path, "compute_score", {})
    rewards, extra = verl.naive_manager(fn, _verl_samples(rubrics))
    assert rewards[:2] == pytest.approx(want[:2])
    assert rewards[2] == 0.0 and extra["rubric_null"] == [0.0, 0.0, 1.0]  # counted, with the cause logged

    batch = verl.load_custom_reward_fn(path, "compute_score_batch", {})
    out = verl.batch_manager(batch, _verl_samples(rubrics), {})
    assert [o["score"] for o in out[:2]] == pytest.approx(want[:2]) and out[2]["rubric_null"] == 1.0


def test_verl_reward_loop_awaits_the_async_function_and_reward_kwargs_apply(stack_env: str) -> None:
    rubrics = [GOOD, GOOD, BAD]
    want = reference(stack_env, rubrics, RESPONSES)
    path = str(Path(verl_adapter.__file__))
    fn = verl.load_custom_reward_fn(path, "compute_score_async", {"null_reward": -1.0})
    got = [asyncio.run(verl.reward_loop_single(fn, s)) for s in _verl_samples(rubrics)]
    assert got[:2] == pytest.approx(want[:2]) and got[2] == -1.0  # reward_kwargs: null_reward


def test_verl_sample_without_prompt_says_where_to_put_it(stack_env: str) -> None:
    with pytest.raises(ValueError, match=r"extra_info\['prompt'\]"):
        verl_adapter.compute_score("x", "resp", json.dumps(GOOD), {})


# ---------------------------------------------------------------- OpenRLHF 0.11.2 (the real executor)


CHATML_PROMPT = (
    "<|im_start|>system\nYou are a careful doctor.<|im_end|>\n<|im_start|>user\n" + PROMPT + "<|im_end|>\n"
    "<|im_start|>assistant\n"
)


def test_openrlhf_query_parsing() -> None:
    msgs = chat_from_template(CHATML_PROMPT)
    assert [(m.role, m.content) for m in msgs or []] == [("system", "You are a careful doctor."), ("user", PROMPT)]
    assert response_of(CHATML_PROMPT + "See a doctor now.<|im_end|>", CHATML_PROMPT) == "See a doctor now."
    items = items_from_request([CHATML_PROMPT + "a"] * 2, [CHATML_PROMPT] * 2, [GOOD, {"rubric": GOOD}])
    assert items[0].group_id == items[1].group_id and items[1].rubric[0].points == 5
    with pytest.raises(ValueError, match=r"labels\[1\]"):
        items_from_request(["q", "q"], ["p", "p"], [GOOD, "not a rubric"])


def test_openrlhf_remote_rm_endpoint_with_the_real_executor(stack_env: str) -> None:
    agent = pytest.importorskip("openrlhf.utils.agent")
    rubrics = [GOOD, GOOD, BAD]
    want = reference(stack_env, rubrics, RESPONSES, prompt=PROMPT)
    queries = [CHATML_PROMPT + r + "<|im_end|>" for r in RESPONSES]
    labels = [json.dumps(rb) for rb in rubrics]

    executor = agent.SingleTurnAgentExecutor(remote_rm_url=f"{stack_env}/v1/openrlhf/reward?null_reward=0")
    got = asyncio.run(executor._fetch_rewards_via_http(queries, [CHATML_PROMPT] * 3, labels))
    (reply,) = got  # one server: one shard, one reply
    assert reply["rewards"][:2] == pytest.approx(want[:2]) and reply["rewards"][2] == 0.0
    assert reply["extra_logs"]["rubric_null"] == [0.0, 0.0, 1.0]

    # without null_reward the failing sample makes the call fail: OpenRLHF leaves that sample without a reward
    r = httpx.post(
        f"{stack_env}/v1/openrlhf/reward",
        json={"query": queries[2:], "prompts": [CHATML_PROMPT], "labels": labels[2:]},
        timeout=30,
    )
    assert r.status_code == 502 and r.json()["items"][0]["error"].startswith("judge_bad_request")
    r = httpx.post(f"{stack_env}/v1/openrlhf/reward", json={"query": ["q"], "prompts": ["p"], "labels": ["?"]})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "labels", 0]


def test_openrlhf_reward_func_file_with_the_real_executor(stack_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    agent = pytest.importorskip("openrlhf.utils.agent")
    import shared.adapters.openrlhf as module

    monkeypatch.setenv("RUBRIC_REWARD_NULL_REWARD", "-3")
    want = reference(stack_env, [GOOD, BAD], RESPONSES[:2])
    executor = agent.SingleTurnAgentExecutor(remote_rm_url=module.__file__)  # `--remote_rm_url file.py`
    got = asyncio.run(
        executor._fetch_rewards_via_func(
            [CHATML_PROMPT + r for r in RESPONSES[:2]], [CHATML_PROMPT] * 2, [GOOD, json.dumps(BAD)]
        )
    )
    assert [g["rewards"][0] for g in got] == pytest.approx([want[0], -3.0])  # the func is called per sample
    assert [g["extra_logs"]["rubric_null"][0] for g in got] == [0.0, 1.0]


# ---------------------------------------------------------------- verifiers 0.1.14 (the real Rubric)


def test_verifiers_rubric_scores_a_group_like_the_grader(stack_env: str) -> None:
    vf = pytest.importorskip("verifiers")
    rubrics = [GOOD, GOOD, BAD]
    want = reference(stack_env, rubrics, RESPONSES)
    rubric = vf.Rubric(funcs=[vf_adapter.rubric_reward, vf_adapter.rubric_null], weights=[1.0, 0.0])
    states = [
        vf.State(
            {
                "input": {
                    "prompt": [{"role": "user", "content": PROMPT}],
                    "answer": json.dumps(rb),
                    "info": {},
                    "example_id": 0,
                },
                "completion": [{"role": "assistant", "content": r}],
                "trajectory": [],
            }
        )
        for r, rb in zip(RESPONSES, rubrics, strict=True)
    ]
    asyncio.run(rubric.score_group(states))
    assert [s["reward"] for s in states[:2]] == pytest.approx(want[:2])
    assert states[2]["reward"] == 0.0  # RUBRIC_REWARD_NULL_REWARD's default, and counted:
    assert [s["metrics"]["rubric_null"] for s in states] == [0.0, 0.0, 1.0]
    assert states[0]["metrics"]["rubric_reward"] == pytest.approx(want[0])
