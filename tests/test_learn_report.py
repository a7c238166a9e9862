"""`make learn`'s parts that need no judge: data choice, curves, the change's bootstrap CI, the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainer.learn._curves import dumped_rewards, step_series, window_change
from trainer.learn._data import training_rows
from trainer.learn._report import markdown, plot_curves
from trainer.learn._signals import run_signals
from trainer.learn.cli import html_report

HEART = {
    "question": "A 60-year-old man has crushing chest pain radiating to the left arm. What is the diagnosis?",
    "reference_answer": "Acute myocardial infarction.",
    "rubric": [{"description": f"Essential Criteria: point {i}", "title": "t", "weight": 5} for i in range(4)],
}
OTHER = {
    "question": "A child has itchy eyes every spring. What is the diagnosis?",
    "reference_answer": "Vernal keratoconjunctivitis.",
    "rubric": [{"description": f"Important Criteria: point {i}", "title": "t", "weight": 3} for i in range(4)],
}


def test_heart_records_come_first_and_others_top_up() -> None:
    rows, picked = training_rows([OTHER, HEART, {**OTHER, "question": OTHER["question"] + " Twice."}], 2, seed=0)
    assert picked == {"heart": 1, "topped_up": 1}
    assert rows[0]["heart_related"] and not rows[1]["heart_related"]
    assert rows[0]["prompt"][0]["role"] == "system" and rows[0]["prompt"][1]["content"] == HEART["question"]
    assert [c["points"] for c in rows[0]["rubric"]] == [5, 5, 5, 5]
    few = {**HEART, "rubric": HEART["rubric"][:3]}  # GRPO prompts need more than 3 criteria
    assert training_rows([few], 5, seed=0)[0] == []


def test_window_change_is_the_difference_of_window_means_with_a_ci_around_it() -> None:
    per_step = [[0.0, 1.0]] * 4 + [[2.0, 3.0]] * 4
    c = window_change(per_step, 4, seed=1)
    assert c["first"] == 0.5 and c["last"] == 2.5 and c["change"] == 2.0
    assert c["ci95"] == [2.0, 2.0] and c["p_no_rise"] == 0.0  # every step alike: no spread to resample
    noisy = window_change([[0.0], [1.0], [0.0], [1.0], [1.0], [0.0], [1.0], [0.0]], 4, seed=1)
    assert noisy["change"] == 0.0 and noisy["ci95"][0] < 0 < noisy["ci95"][1]
    assert window_change([[1.0]], 4)["change"] is None  # too few steps to compare


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.lists(st.floats(-5, 5), min_size=1, max_size=6), min_size=2, max_size=20),
    st.integers(1, 6),
    st.floats(-3, 3),
)
def test_raising_every_reward_of_the_last_steps_shifts_the_change_and_its_ci(
    per_step: list[list[float]], window: int, d: float
) -> None:
    c = window_change(per_step, window, n_boot=300)
    w = c["window"]
    shifted = per_step[:-w] + [[x + d for x in s] for s in per_step[-w:]]
    if len(per_step) < 2 * w:  # the windows overlap: the shift moves both
        return
    moved = window_change(shifted, window, n_boot=300)
    assert moved["change"] == pytest.approx(c["change"] + d, abs=1e-9)
    assert moved["ci95"] == pytest.approx([c["ci95"][0] + d, c["ci95"][1] + d], abs=1e-9)
    assert c["ci95"][0] <= c["ci95"][1]


def test_curves_and_dumps_are_read_per_step(tmp_path: Path) -> None:
    history = [
        {"step": 1, "reward": 0.2, "frac_reward_zero_std": 0.0, "step_time": 3.0, "time/judging_s": 2.0},
        {"step": 2, "reward": 0.4, "kl": 0.01, "completions/mean_length": 40.0, "step_time": 2.5},
        {"train_runtime": 10.0, "step": 2},
    ]
    s = step_series(history)
    assert s["step"] == [1.0, 2.0] and s["reward"] == [0.2, 0.4] and s["kl"] == [None, 0.01]
    assert s["judging_s"] == [2.0, None]
    dump = tmp_path / "rewards"
    dump.mkdir()
    for call, rewards in ((10, [1.0, None]), (2, [0.5, 0.25])):  # numeric order, not text order
        with open(dump / f"batch-7-{call:06d}.jsonl", "w") as f:
            for r in rewards:
                f.write(json.dumps({"reward": r}) + "\n")
    assert dumped_rewards(dump) == [[0.5, 0.25], [1.0]]


def test_report_states_the_caveat_and_every_table(tmp_path: Path) -> None:
    series = step_series([{"step": i, "reward": 0.1 * i, "kl": 0.001 * i, "step_time": 1.0} for i in range(1, 5)])
    runs = {
        "hybrid": {
            "series": series,
            "change": window_change([[0.1], [0.1], [0.3], [0.3]], 2),
            "null_rewards": 0,
            "judge_calls_per_step": 48.0,
        }
    }
    stats = {"mean": 0.1, "ci95": [0.0, 0.2], "n": 3}
    summary = {
        "n_scored": 3,
        "n_examples": 4,
        "overall": stats,
        "binary": {"accuracy": 0.0, "accuracy_ci": [0.0, 0.5]},
    }
    results = {
        "config": {
            "policy": "gguf:smollm2",
            "preset": "cpu-learn",
            "steps": 4,
            "num_generations": 6,
            "seed": 0,
            "eval_max_new_tokens": 32,
        },
        "data": {
            "train_prompts": 4,
            "train_source": "x",
            "heart": 1,
            "topped_up": 3,
            "eval_records": 4,
            "eval_source": "y",
        },
        "judge": "j",
        "machine": "m",
        "wall_minutes": 1.0,
        "train_minutes": 0.5,
        "eval_minutes": 0.5,
        "window": 2,
        "runs": runs,
        "evaluation": {"base": {"summary": summary, "comparison": None, "expected": {**stats, "vs_base": None}}},
        "plots": {"curves": plot_curves(runs, tmp_path / "curves.png").name},
    }
    # reward dumps of 4 steps: the essential criterion never met in the first pass, always in the last; the
    # pitfall's verdict flips within the group at step 3
    dumps = tmp_path / "hybrid" / "rewards"
    dumps.mkdir(parents=True)
    rubric = [{"criterion": "Essential Criteria: Advises an ECG.", "points": 5}, {"criterion": "Waits.", "points": -2}]
    for step in range(1, 5):
        with open(dumps / f"batch-1-{step:06d}.jsonl", "w") as f:
            for g in range(2):
                verdicts = [{"met": step > 2, "p_met": 0.9 if step > 2 else 0.1}, {"met": step == 3 and g == 0}]
                row = {"group_id": "g", "prompt": [{"role": "user", "content": "q"}], "completion": f"c{g}"}
                row |= {"rubric": rubric, "reward": 1.0, "reward_std": 0.1, "error": None, "verdicts": verdicts}
                f.write(json.dumps(row) + "\n")
    runs["hybrid"]["criteria"] = run_signals(dumps, 2)
    md = markdown(results)
    assert "| hybrid | 0.00 → 1.00 | — → — | — → — | 0.00 → 0.25 | Waits. (1×) |" in md
    page = html_report(tmp_path, results).read_text()  # make learn's browsable report: the last pass
    assert page.count('"id": "hybrid/') == 4 and "GRPO under each reward scheme" in page
    assert "They say nothing about medical quality" in md
    assert "| hybrid | 0.100 | 0.300 | +0.200 [+0.200, +0.200] |" in md
    assert "| base | 3/4 |" in md and (tmp_path / "curves.png").stat().st_size > 10_000


def test_cpu_presets_train_the_pretrained_policy() -> None:
    from trainer.cli import preset_defaults

    for preset in ("cpu-smoke", "cpu-learn"):
        assert preset_defaults(preset, "grpo")["model_name_or_path"] == "gguf:smollm2"
    assert preset_defaults("cpu-learn", "grpo")["beta"] > 0  # the KL curve needs a reference
