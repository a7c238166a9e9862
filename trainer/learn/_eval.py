"""The expected HealthBench score of an evaluation run: the judge's probabilities, not its hard verdicts.

HealthBench's score counts a criterion as met when the judge says so; a 135M judge almost never gives
P(YES) above one half, so every hard score is 0 and no policy can be told from another. The grader's
`healthbench` reward is the same score's expectation under the judge's P(met) (`grader_reward` in
graded.jsonl): continuous, so a change in the answers shows. Both are reported; neither is medical quality.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trainer.evaluation.data import load_jsonl_map
from trainer.evaluation.metrics import clipped_stats, paired_bootstrap


def expected_scores(run_dir: str | Path) -> dict[str, float]:
    rows = load_jsonl_map(Path(run_dir) / "graded.jsonl")
    return {k: float(r["grader_reward"]) for k, r in rows.items() if r.get("grader_reward") is not None}


def expected_summary(run_dir: str | Path, base_dir: str | Path | None, *, seed: int = 0) -> dict[str, Any]:
    scores = expected_scores(run_dir)
    s = clipped_stats(list(scores.values()), n_boot=2000, seed=seed)
    out: dict[str, Any] = {"mean": s.mean, "ci95": [s.ci_low, s.ci_high], "n": s.n, "vs_base": None}
    if base_dir is not None:
        base = expected_scores(base_dir)
        shared = sorted(set(base) & set(scores))
        if shared:
            b = paired_bootstrap([base[k] for k in shared], [scores[k] for k in shared], seed=seed)
            out["vs_base"] = {"diff": b.diff, "ci95": [b.ci_low, b.ci_high], "p_value": b.p_value, "n": b.n}
    return out
