"""verifiers 0.4 runs our taskset through its own rollout-and-score path: `vf-eval rubric-medicine`.

Real parts: verifiers 0.4.0 in its own virtual environment (`make install-verifiers`: verifiers, our client
package and `environments/rubric_medicine`, with verifiers' openai<3), its `vf-eval` CLI, its plain chat
harness in a subprocess runtime behind its interception server, a llama.cpp server with SmolLM2-135M as
the policy, and our grader on loopback. The judge behind the grader is the scripted server (deterministic
verdicts from the reply's words, fault injection), so each trace's reward can be checked against
`/v1/grade` on the same prompt, reply and rubric. Records: long RaR-Medicine vignettes and a multi-turn
HealthBench chat from ../shared (skipped when absent); one rubric carries a criterion the judge refuses.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared import prompt_from_record, rubric_from_record
from tests.conftest import REPO, shared_records

VF_EVAL = REPO / ".venv-verifiers" / "bin" / "vf-eval"
pytestmark = pytest.mark.skipif(
    not VF_EVAL.exists(), reason="verifiers 0.4 environment not installed (make install-verifiers)"
)


def _records() -> list[dict[str, Any]]:
    rar = shared_records("rar_medicine", "rar_medicine_hf_schema_sample104.jsonl")
    rar.sort(key=lambda r: -len(r["question"]))
    hb = next(r for r in shared_records("healthbench", "hard_sample50.jsonl") if len(r["prompt"]) >= 3)
    out = [
        {"question": r["question"], "rubric": [c.model_dump(exclude_none=True) for c in rubric_from_record(r)]}
        for r in rar[:2]
    ]
    out[1]["rubric"].append({"criterion": "Mentions troponin [fault=400]", "points": 2})  # never judged
    out.append(
        {
            "prompt": [m.model_dump() for m in prompt_from_record(hb)],
            "rubric": [c.model_dump(exclude_none=True) for c in rubric_from_record(hb)][:6],
        }
    )
    return out


@pytest.fixture(scope="module")
def policy() -> Any:
    try:
        from scripts.local_stack import judge, smollm2_gguf

        smollm2_gguf()
    except (ImportError, SystemExit) as e:
        pytest.skip(f"no local policy model: {e}")
    with judge("llama") as (url, model):
        yield url, model


def _vf_eval(tmp: Path, policy: tuple[str, str], grader_url: str, name: str, *extra: str) -> list[dict[str, Any]]:
    url, model = policy
    cmd = [
        str(VF_EVAL), "rubric-medicine",
        "--env.taskset.source", str(tmp / "tasks.jsonl"),
        "--env.agent.runtime.type", "subprocess",
        "-n", "3", "-r", "2",
        "--model", model, "--client.base-url", url,
        "--sampling.max-tokens", "48", "--sampling.temperature", "0.8",
        "--no-push", "--no-rich", "-o", str(tmp), "--run.name", name,
        *extra,
    ]  # fmt: skip
    env = {**os.environ, "RUBRIC_GRADER_URL": grader_url, "RUBRIC_GRADER_MAX_ATTEMPTS": "1", "PRIME_API_KEY": "local"}
    env["PATH"] = f"{VF_EVAL.parent}:{env['PATH']}"  # the harness runs its chat program with uv from that venv
    env.pop("VIRTUAL_ENV", None)
    proc = subprocess.run(cmd, env=env, cwd=tmp, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    episodes = [json.loads(line) for line in (tmp / name / "traces.jsonl").read_text().splitlines() if line]
    return [ep["traces"][0] for ep in episodes]


def _reply(trace: dict[str, Any]) -> str:
    replies = [n["message"]["content"] for n in trace["nodes"] if n["message"]["role"] == "assistant"]
    return (replies[-1] or "").strip()


def _reference(grader_url: str, trace: dict[str, Any]) -> float | None:
    data = trace["task"]["data"]
    item = {"prompt": data["prompt"], "response": _reply(trace), "rubric": data["rubric"]}
    body = httpx.post(f"{grader_url}/v1/grade", json={"items": [item], "scheme": "hybrid"}, timeout=60).json()
    return body["results"][0]["reward"]


def _is_faulty(trace: dict[str, Any]) -> bool:
    return any("[fault=400]" in c["criterion"] for c in trace["task"]["data"]["rubric"])


def test_vf_eval_scores_rollouts_with_the_grader(tmp_path: Path, policy: tuple[str, str], grader_url: str) -> None:
    with open(tmp_path / "tasks.jsonl", "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in _records())
    traces = _vf_eval(tmp_path, policy, grader_url, "errored")
    assert len(traces) == 6
    assert sorted({len(t["task"]["data"]["prompt"]) for t in traces})[0] == 1  # vignettes
    assert max(len(t["task"]["data"]["prompt"]) for t in traces) >= 3  # and the multi-turn chat
    assert min(len(json.dumps(t["task"]["data"]["prompt"])) for t in traces) > 256  # past the group_id cap
    faulty = [t for t in traces if _is_faulty(t)]
    scored = [t for t in traces if not _is_faulty(t)]
    assert len(faulty) == 2 and len(scored) == 4
    for t in scored:
        assert t["ok"] and t["stop_condition"] == "agent_completed" and _reply(t)
        assert t["rewards"]["rubric_reward"]["score"] == pytest.approx(_reference(grader_url, t))
        assert t["metrics"]["rubric_null"] == 0.0 and t["metrics"]["rubric_std"] >= 0.0
    for t in faulty:  # no reward: the rollout is errored with the grader's reason, never scored 0
        assert _reference(grader_url, t) is None
        assert not t["ok"] and t["rewards"]["rubric_reward"] is None  # seeded, never scored
        (error,) = t["errors"]
        assert error["type"] == "TaskError" and "rubric reward is null (judge_bad_request" in error["message"]
        assert t["metrics"]["rubric_null"] == 1.0

    # on_null=fill: the same null scored as the configured value, counted by rubric_null
    filled = _vf_eval(
        tmp_path, policy, grader_url, "filled",
        "--env.taskset.task.on-null", "fill", "--env.taskset.task.null-reward", "-1",
    )  # fmt: skip
    for t in filled:
        if _is_faulty(t):
            assert t["ok"] and t["rewards"]["rubric_reward"]["score"] == -1.0 and t["metrics"]["rubric_null"] == 1.0
        else:
            assert t["rewards"]["rubric_reward"]["score"] == pytest.approx(_reference(grader_url, t))
