"""Every adapter on real records: long RaR-Medicine exam vignettes and multi-turn HealthBench chats.

Six RaR-Medicine records (the longest prompts of the team's sample, all far past the grader's 256-character
cap on `group_id`) and three multi-turn HealthBench conversations, four completions each, one rubric
per record with a failing criterion added to one (`[fault=400]`). Each stack's own entry point must give
the rewards `/v1/grade` gives for the same items: verl's `compute_score` (with and without
`extra_info["index"]`) and `compute_score_batch`, verifiers' group reward function, OpenRLHF's remote
reward endpoint. The judge is the scripted server (deterministic verdicts from the response's words);
the records are the team's real data in ../shared (skipped when absent).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

import shared.adapters.verifiers as vf_adapter
import shared.adapters.verl as verl_adapter
from shared import prompt_from_record, rubric_from_record
from shared.adapters._common import group_key
from tests.conftest import shared_records
from tests.stacks import verl_0_9_1 as verl

COMPLETIONS = [
    "The most likely diagnosis is given by the findings; start treatment and monitor closely.",
    "I am not sure. Please ask a doctor.",
    "Given the history and examination, the answer is the first option, because the symptoms fit it best.",
    "Order an ECG and troponin, give aspirin, and refer urgently to cardiology.",
]


def _chat(rec: dict[str, Any]) -> list[dict[str, str]]:
    return [m.model_dump() for m in prompt_from_record(rec)]


def _rubric(rec: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"criterion": c.criterion, "points": c.points} for c in rubric_from_record(rec)]


@pytest.fixture
def records() -> list[dict[str, Any]]:
    """(chat prompt, rubric) per record: long vignettes first, then multi-turn conversations."""
    rar = shared_records("rar_medicine", "rar_medicine_hf_schema_sample104.jsonl")
    rar.sort(key=lambda r: -len(r["question"]))
    hb = [r for r in shared_records("healthbench", "hard_sample50.jsonl") if len(r["prompt"]) >= 3][:3]
    out = [{"prompt": _chat(r), "rubric": _rubric(r)} for r in rar[:6]]
    out += [{"prompt": _chat(r), "rubric": _rubric(r)[:6]} for r in hb]
    out[1]["rubric"].append({"criterion": "Mentions troponin [fault=400]", "points": 2})  # a failing item
    assert min(len(json.dumps(r["prompt"])) for r in out[:6]) > 256
    assert all(len(r["prompt"]) >= 3 for r in out[6:])
    return out


def _reference(grader_url: str, records: list[dict[str, Any]]) -> list[list[float | None]]:
    items = [{"prompt": r["prompt"], "response": c, "rubric": r["rubric"]} for r in records for c in COMPLETIONS]
    body = httpx.post(f"{grader_url}/v1/grade", json={"items": items, "scheme": "hybrid"}, timeout=120).json()
    flat = [x["reward"] for x in body["results"]]
    return [flat[i : i + len(COMPLETIONS)] for i in range(0, len(flat), len(COMPLETIONS))]


def _expect(got: list[float], want: list[float | None], null_value: float = 0.0) -> None:
    assert got == pytest.approx([null_value if w is None else w for w in want])


def test_group_keys_are_short_and_stable_whatever_the_prompt() -> None:
    long = [{"role": "user", "content": "x" * 10_000}]
    assert group_key(long) == group_key(json.loads(json.dumps(long))) and len(group_key(long)) == 18
    assert group_key(long) != group_key([{"role": "user", "content": "x" * 9_999}])


def test_verl_entry_points_on_real_records(stack_env: str, records: list[dict[str, Any]]) -> None:
    want = _reference(stack_env, records)
    assert want[1] == [None] * len(COMPLETIONS) and all(x is not None for x in want[0])
    path = str(verl_adapter.__file__)
    for with_index in (True, False):
        samples = [
            {
                "data_source": "rar_medicine",
                "response": c,
                "reward_model": {"ground_truth": json.dumps(r["rubric"])},
                "extra_info": {"prompt": r["prompt"], **({"index": n} if with_index else {})},
            }
            for n, r in enumerate(records)
            for c in COMPLETIONS
        ]
        batch = verl.load_custom_reward_fn(path, "compute_score_batch", {})
        out = verl.batch_manager(batch, samples, {})
        _expect([o["score"] for o in out], [w for ws in want for w in ws])
        assert [o["rubric_null"] for o in out] == [float(w is None) for ws in want for w in ws]
    single = verl.load_custom_reward_fn(path, "compute_score", {})
    rewards, _ = verl.naive_manager(single, samples[: 2 * len(COMPLETIONS)])
    _expect(rewards, [w for ws in want[:2] for w in ws])


def test_verifiers_group_function_on_real_records(stack_env: str, records: list[dict[str, Any]]) -> None:
    want = _reference(stack_env, records)
    for r, ws in zip(records, want, strict=True):
        completions = [[{"role": "assistant", "content": c}] for c in COMPLETIONS]
        got = asyncio.run(
            vf_adapter.rubric_reward(
                prompts=[r["prompt"]] * len(COMPLETIONS),
                completions=completions,
                answers=[json.dumps(r["rubric"])] * len(COMPLETIONS),
                infos=[{}] * len(COMPLETIONS),
            )
        )
        _expect(got, ws)
        nulls = vf_adapter.rubric_null([r["prompt"]] * len(COMPLETIONS), completions)
        assert nulls == [float(w is None) for w in ws]


def test_openrlhf_endpoint_on_real_records(stack_env: str, records: list[dict[str, Any]]) -> None:
    want = _reference(stack_env, records)
    for r, ws in zip(records, want, strict=True):
        prompt = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in r["prompt"])
        prompt += "<|im_start|>assistant\n"
        body = {
            "query": [prompt + c + "<|im_end|>" for c in COMPLETIONS],
            "prompts": [prompt] * len(COMPLETIONS),
            "labels": [json.dumps(r["rubric"])] * len(COMPLETIONS),
        }
        res = httpx.post(f"{stack_env}/v1/openrlhf/reward?null_reward=0", json=body, timeout=120)
        assert res.status_code == 200, res.text
        _expect(res.json()["rewards"], ws)
