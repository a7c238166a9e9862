"""A GRPO run's learning curves (from TRL's log history) and its rewards (from the reward dumps)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from shared import read_jsonl

# what each curve is called in TRL's log history (and in ours: trainer/grpo/timed.py, shared/rewards.py)
SERIES = {
    "reward": "reward",
    "zero_variance_share": "frac_reward_zero_std",
    "kl": "kl",
    "completion_length": "completions/mean_length",
    "null_share": "rubric/null_frac",
    "generation_s": "time/generation_s",
    "judging_s": "time/judging_s",
    "optimisation_s": "time/optimisation_s",
    "step_s": "step_time",
}


def step_series(log_history: list[dict[str, Any]]) -> dict[str, list[float | None]]:
    """One value per logged training step for each curve (None where a step did not log it)."""
    steps = [h for h in log_history if "step_time" in h or "reward" in h]
    out: dict[str, list[float | None]] = {"step": [float(h.get("step", i + 1)) for i, h in enumerate(steps)]}
    for name, key in SERIES.items():
        out[name] = [float(h[key]) if h.get(key) is not None else None for h in steps]
    return out


def dumped_rewards(dump_dir: str | Path) -> list[list[float]]:
    """Per reward call (one GRPO step each, in order), the rewards the grader gave, nulls left out."""
    files = sorted(Path(dump_dir).glob("batch-*.jsonl"), key=lambda p: int(p.stem.rsplit("-", 1)[-1]))
    return [[float(r["reward"]) for r in read_jsonl(f) if r.get("reward") is not None] for f in files]


def window_change(per_step: list[list[float]], window: int, *, n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Mean reward of the last `window` steps minus the first `window`, with a bootstrap 95% CI that
    resamples whole steps (a step's completions share a prompt, so they are not independent draws)."""
    steps = [s for s in per_step if s]
    w = min(window, len(steps) // 2)
    if w == 0:
        return {"window": 0, "first": None, "last": None, "change": None, "ci95": [None, None], "p_no_rise": None}
    first, last = steps[:w], steps[-w:]
    rng = np.random.default_rng(seed)

    def means(block: list[list[float]]) -> np.ndarray:
        picks = rng.integers(0, len(block), size=(n_boot, len(block)))
        sums = np.array([[sum(block[j]) for j in row] for row in picks])
        counts = np.array([[len(block[j]) for j in row] for row in picks])
        return sums.sum(axis=1) / counts.sum(axis=1)

    boots = means(last) - means(first)
    lo, hi = np.percentile(boots, [2.5, 97.5])
    f = float(np.mean([x for s in first for x in s]))
    la = float(np.mean([x for s in last for x in s]))
    return {
        "window": w,
        "first": f,
        "last": la,
        "change": la - f,
        "ci95": [float(lo), float(hi)],
        "p_no_rise": float((boots <= 0).mean()),
    }
