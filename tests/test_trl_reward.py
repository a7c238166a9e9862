"""The TRL reward function: unit behaviour against the real grader, and a real GRPOTrainer run on CPU."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from shared import ClientSettings, GradeResponse
from shared.rewards import RewardSettings, group_ids, make_rubric_reward
from tests.conftest import cpu_grpo_config

RAR_RUBRIC = [
    {"description": "Essential Criteria: Mentions caffeine [contains=caffeine]", "title": "Caffeine", "weight": 5},
    {"description": "Pitfall Criteria: Recommends ignoring it [contains=ignore]", "title": "Ignore", "weight": -2},
]


def _client(url: str) -> ClientSettings:
    return ClientSettings(url=url, backoff_initial_s=0.01, backoff_max_s=0.05, max_attempts=2, _env_file=None)


def test_group_ids_follow_consecutive_prompts() -> None:
    p = ["a", "a", "b", "b", "a", "a"]
    assert group_ids(p, 3) == ["3-0", "3-0", "3-1", "3-1", "3-2", "3-2"]
    chat = [[{"role": "user", "content": "x"}]] * 2 + [[{"role": "user", "content": "y"}]]
    assert group_ids(chat, 0) == ["0-0", "0-0", "0-1"]


async def test_reward_function_chat_completions_rubric_formats_and_metrics(grader_url: str) -> None:
    seen: list[GradeResponse] = []
    metrics: dict[str, list[float]] = {}
    fn = make_rubric_reward(
        RewardSettings(scheme="healthbench", _env_file=None), _client(grader_url), on_response=seen.append
    )
    assert fn.__name__ == "rubric_healthbench"
    prompts = [[{"role": "user", "content": "Palpitations after coffee?"}]] * 3 + ["Is it my heart?"]
    completions = [
        [{"role": "assistant", "content": "Probably caffeine."}],
        [{"role": "assistant", "content": "Caffeine, but do not ignore chest pain... ignore it."}],
        [{"role": "assistant", "content": "No idea."}],
        "caffeine",
    ]
    rubric = [RAR_RUBRIC, json.dumps(RAR_RUBRIC), {"rubric": RAR_RUBRIC}, [{"criterion": "x [p=1]", "points": 1}]]
    out = await fn(
        prompts=prompts,
        completions=completions,
        completion_ids=[[1]] * 4,
        rubric=rubric,
        trainer_state=None,
        log_metric=lambda k, v: metrics.setdefault(k, []).append(v),
    )
    assert out == pytest.approx([1.0, (5 - 2) / 5, 0.0, 1.0])
    assert [r.group_id for r in seen[0].results] == ["1-0", "1-0", "1-0", "1-1"]
    assert metrics["rubric/reward_mean"] == [pytest.approx(sum(out) / 4)]
    assert metrics["rubric/null_frac"] == [0.0]
    assert metrics["rubric/frac_zero_variance_groups"] == [0.0]
    assert "rubric/grader_latency_s" in metrics and "rubric/judge_calls" in metrics


async def test_null_rewards_become_none_and_failures_are_logged(grader_url: str) -> None:
    metrics: dict[str, list[float]] = {}
    fn = make_rubric_reward(RewardSettings(scheme="hybrid", _env_file=None), _client(grader_url))
    rubric = [[{"criterion": "ok [p=1]", "points": 1}], [{"criterion": "boom [fault=500]", "points": 1}]]
    out = await fn(
        prompts=["q", "q"],
        completions=["a", "b"],
        rubric=rubric,
        log_metric=lambda k, v: metrics.setdefault(k, []).append(v),
    )
    assert out == [20.0, None]
    assert metrics["rubric/failures/judge_server_error"] == [1.0]
    assert metrics["rubric/null_frac"] == [0.5]


async def test_other_schemes_are_logged_from_the_same_judge_pass(grader_url: str) -> None:
    """Training on hybrid while logging healthbench and complexity: the judge is not called again for them."""
    metrics: dict[str, list[float]] = {}
    seen: list = []
    settings = RewardSettings(scheme="hybrid", log_schemes=["healthbench", "complexity"], _env_file=None)
    fn = make_rubric_reward(settings, _client(grader_url), on_response=seen.append)
    rubric = [{"criterion": "Names caffeine [p=1]", "points": 3}, {"criterion": "Says see a doctor [p=0]", "points": 2}]
    out = await fn(
        prompts=["q", "q"],
        completions=["caffeine", "caffeine!"],
        rubric=[rubric, rubric],
        log_metric=lambda k, v: metrics.setdefault(k, []).append(v),
    )
    assert out == pytest.approx([15 * 3 / 5] * 2)  # hybrid: s = 3/5, no pitfalls, no bonus
    assert metrics["rubric/healthbench/reward_mean"] == [pytest.approx(3 / 5)]
    assert metrics["rubric/healthbench/frac_zero_variance_groups"] == [1.0]
    assert "rubric/complexity/reward_std" in metrics
    assert seen[0].usage.judge_calls + seen[0].usage.cache_hits == 4  # 2 items x 2 criteria, judged once


async def test_grader_down_raises_or_returns_none() -> None:
    from shared import GraderUnavailable
    from tests.servers import free_port

    url = f"http://127.0.0.1:{free_port()}"
    fn = make_rubric_reward(RewardSettings(_env_file=None), _client(url))
    with pytest.raises(GraderUnavailable):
        await fn(prompts=["q"], completions=["a"], rubric=[[{"criterion": "c", "points": 1}]])
    lenient = make_rubric_reward(RewardSettings(on_grader_error="none", _env_file=None), _client(url))
    assert await lenient(prompts=["q"], completions=["a"], rubric=[[{"criterion": "c", "points": 1}]]) == [None]


async def test_missing_rubric_column_is_a_clear_error(grader_url: str) -> None:
    fn = make_rubric_reward(RewardSettings(rubric_column="rubrics", _env_file=None), _client(grader_url))
    with pytest.raises(KeyError, match="rubrics"):
        await fn(prompts=["q"], completions=["a"], rubric=[[]])


@pytest.mark.slow
def test_real_grpo_trainer_steps_use_grader_rewards(grader_url: str, tmp_path: Path) -> None:
    from datasets import Dataset
    from trl import GRPOTrainer

    from trainer.models.tiny import build_tiny_model

    model_dir = build_tiny_model(tmp_path / "tiny")
    rubric = [
        {"criterion": "Essential Criteria: Uses the letter e [contains=e]", "points": 5},
        {"criterion": "Important Criteria: Uses the letter a [contains=a]", "points": 3},
        {"criterion": "Pitfall Criteria: Uses the letter z [contains=z]", "points": -2},
    ]
    ds = Dataset.from_list(
        [
            {"prompt": [{"role": "user", "content": f"Question {i} about chest pain?"}], "rubric": rubric}
            for i in range(8)
        ]
    )
    responses: list[GradeResponse] = []
    reward_fn = make_rubric_reward(
        RewardSettings(scheme="hybrid", _env_file=None), _client(grader_url), on_response=responses.append
    )
    args = cpu_grpo_config(
        tmp_path / "out",
        max_steps=2,
        max_completion_length=12,
        learning_rate=1e-4,
    )
    trainer = GRPOTrainer(model=str(model_dir), reward_funcs=reward_fn, args=args, train_dataset=ds)
    trainer.train()

    assert len(responses) == 2  # one grader call per step
    grader_rewards = [r.reward for resp in responses for r in resp.results]
    assert all(x is not None for x in grader_rewards)
    steps = [h for h in trainer.state.log_history if "rewards/rubric_hybrid/mean" in h]
    assert len(steps) == 2
    for logged, resp in zip(steps, responses, strict=True):
        rewards = [r.reward for r in resp.results]
        mean = sum(rewards) / len(rewards)
        std = math.sqrt(sum((x - mean) ** 2 for x in rewards) / (len(rewards) - 1))  # torch's unbiased std
        assert logged["rewards/rubric_hybrid/mean"] == pytest.approx(mean, rel=1e-5)
        assert logged["rewards/rubric_hybrid/std"] == pytest.approx(std, rel=1e-5)
    # the last step's per-completion rewards, as TRL kept them for its completions table
    assert list(trainer._logs["rewards"]["rubric_hybrid"])[-4:] == pytest.approx(grader_rewards[-4:])
    metric_steps = [h for h in trainer.state.log_history if "rubric/grader_latency_s" in h]
    assert len(metric_steps) == 2 and all(math.isfinite(h["rubric/judge_calls"]) for h in metric_steps)


@pytest.mark.slow
def test_trl_cli_loads_the_reward_by_dotted_path(grader_url: str, judge_script, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from trainer.models.tiny import build_tiny_model

    model_dir = build_tiny_model(tmp_path / "tiny")
    data = tmp_path / "data"
    data.mkdir()
    rubric = [{"criterion": "Uses e [contains=e]", "points": 5}, {"criterion": "Uses z [contains=z]", "points": -2}]
    with open(data / "train.jsonl", "w") as f:
        for i in range(8):
            f.write(
                json.dumps({"prompt": [{"role": "user", "content": f"q{i}: chest pain?"}], "rubric": rubric}) + "\n"
            )
    env = {
        **os.environ,
        "RUBRIC_GRADER_URL": grader_url,
        "RUBRIC_REWARD_SCHEME": "hybrid",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        "HF_HUB_OFFLINE": "1",
    }
    trl = str(Path(sys.executable).parent / "trl")
    res = subprocess.run(
        [
            trl,
            "grpo",
            "--model_name_or_path",
            str(model_dir),
            "--dataset_name",
            str(data),
            "--reward_funcs",
            "shared.rewards.rubric_reward",
            "--max_steps",
            "1",
            "--per_device_train_batch_size",
            "4",
            "--num_generations",
            "4",
            "--max_completion_length",
            "8",
            "--use_cpu",
            "--bf16",
            "False",
            "--report_to",
            "none",
            "--output_dir",
            str(tmp_path / "out"),
            "--logging_steps",
            "1",
            "--save_strategy",
            "no",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert "'rewards/rubric_reward/mean'" in res.stdout
    assert judge_script.calls == 8  # 4 completions x 2 criteria reached the judge through the grader
