"""Training with our rewards moves a model the way the judge asks, and only then.

The guard against rewards reaching the trainer misaligned, negated or dropped: real GRPO steps (TRL's
GRPOTrainer, built by `trainer.grpo.build_trainer` as `python -m trainer grpo` builds it), the real
reward function and HTTP client, the real grader on loopback, and a scripted judge (tests/scripted_judge.py,
a deterministic server, not a model) whose P(met) grows with the share of the letter "e" in a response,
so the right policy change is known. Three runs per seed from the same initial policy:

- rewards as the grader gives them: the judge's reward must rise;
- control, rewards shuffled within each group (same values, no link to the completions): must not rise;
- control, rewards negated: the judge's reward must fall.

Each run logs the judge's own reward of every completion (before any control transform), and the
assertions compare the mean over the first and the last steps.
"""

from __future__ import annotations

import json
import random
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shared import ClientSettings
from shared.rewards import RewardSettings, make_rubric_reward
from tests.conftest import cpu_grpo_config

STEPS = 40
WINDOW = 8
G = 8
SEEDS = (0, 1)
RUBRIC = [
    {"criterion": "Essential Criteria: Writes with the letter e [letter=e]", "points": 5},
    {"criterion": "Important Criteria: Uses the letter e often [letter=e]", "points": 3},
]

Transform = Callable[[list[float | None], random.Random], list[float | None]]


def _as_given(rewards: list[float | None], rng: random.Random) -> list[float | None]:
    return rewards


def _shuffled(rewards: list[float | None], rng: random.Random) -> list[float | None]:
    out: list[float | None] = []
    for i in range(0, len(rewards), G):  # TRL lays out each prompt's G completions consecutively
        group = rewards[i : i + G]
        rng.shuffle(group)
        out.extend(group)
    return out


def _negated(rewards: list[float | None], rng: random.Random) -> list[float | None]:
    return [None if r is None else -r for r in rewards]


def _dataset(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    with open(path / "train.jsonl", "w") as f:
        for i in range(64):
            prompt = [{"role": "user", "content": f"Question {i}: what should I know about chest pain?"}]
            f.write(json.dumps({"prompt": prompt, "rubric": RUBRIC}) + "\n")
    return path


def _train(grader_url: str, model_dir: Path, data: Path, out: Path, seed: int, transform: Transform) -> list[float]:
    """Mean judge reward per step of one GRPO run."""
    from trl import ModelConfig

    from trainer.grpo import GRPOScriptArguments, build_trainer

    per_step: list[float] = []
    reward = make_rubric_reward(
        RewardSettings(scheme="hybrid", judge={"mode": "logprob"}, _env_file=None),
        ClientSettings(url=grader_url, _env_file=None),
    )
    rng = random.Random(seed)

    async def controlled(prompts: Any, completions: Any, **kwargs: Any) -> list[float | None]:
        rewards = await reward(prompts, completions, **kwargs)
        per_step.append(statistics.fmean(r for r in rewards if r is not None))
        return transform(list(rewards), rng)

    controlled.__name__ = "rubric_hybrid"
    args = cpu_grpo_config(
        out,
        max_steps=STEPS,
        per_device_train_batch_size=G,
        num_generations=G,
        max_completion_length=16,
        learning_rate=3e-3,  # full fine-tuning of a tiny random model: learning is certain within 40 steps
        logging_steps=10,
        seed=seed,
        disable_tqdm=True,
    )
    model = ModelConfig(model_name_or_path=str(model_dir), use_peft=False)
    script = GRPOScriptArguments(dataset_path=str(data))
    trainer = build_trainer(script, args, model, reward_funcs=controlled)
    trainer.train()
    assert len(per_step) == STEPS
    return per_step


def _change(per_step: list[float]) -> float:
    return statistics.fmean(per_step[-WINDOW:]) - statistics.fmean(per_step[:WINDOW])


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_grpo_learns_what_the_judge_rewards_and_the_controls_do_not(grader_url: str, tmp_path: Path, seed: int) -> None:
    from trainer.models.tiny import build_tiny_model

    model_dir = build_tiny_model(tmp_path / "tiny")
    data = _dataset(tmp_path / "data")
    runs = {
        name: _train(grader_url, model_dir, data, tmp_path / name, seed, fn)
        for name, fn in (("given", _as_given), ("shuffled", _shuffled), ("negated", _negated))
    }
    change = {name: _change(per_step) for name, per_step in runs.items()}
    start = statistics.fmean(runs["given"][:WINDOW])
    print(json.dumps({"seed": seed, "start": start, "change": change}))
    # the reward the judge gives rises by a clear margin when the trainer gets it as given ...
    assert change["given"] > 0.25 * start, change
    # ... and not when the same values reach the trainer unlinked from their completions, or negated
    assert change["shuffled"] < 0.5 * change["given"], change
    assert change["negated"] < 0, change
