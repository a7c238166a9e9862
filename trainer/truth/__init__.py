"""A known-truth rubric set: heart-related prompts whose every criterion a program can check exactly.

Written for this project (in the style of RaR-Medicine and HealthBench, not copied from them): 24 prompts,
18 for training and 6 held out, each with 6-7 criteria in the four RaR categories (Essential 5-4,
Important 4-2, Optional 2-1, Pitfall -1/-2) and a reference response that meets the essential ones. Each
criterion carries a predicate (`_predicates.py`) over the response text: the truth a simulated judge can
be measured against, and a trained policy scored by. The predicates are surface checks (phrases,
negations, lengths), so the truth is "the response says this", not "the response is medically right".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared import read_jsonl
from trainer.truth._predicates import Predicate, check, holds

DATA = Path(__file__).resolve().parent / "known_truth.jsonl"


@dataclass(frozen=True)
class TruthRecord:
    id: str
    split: str  # train | test
    theme: str
    prompt: str
    reference: str
    rubric: list[dict[str, Any]]  # criterion, points, predicate

    def verdicts(self, response: str) -> list[bool]:
        """The true verdict of every criterion (a pitfall's verdict is whether the fault is present)."""
        return [holds(c["predicate"], response) for c in self.rubric]

    def score(self, response: str) -> float:
        """HealthBench's score on the true verdicts: Σ points met / Σ positive points (not clipped)."""
        positive = sum(c["points"] for c in self.rubric if c["points"] > 0)
        met = sum(c["points"] for c, v in zip(self.rubric, self.verdicts(response), strict=True) if v)
        return met / positive

    def essential_share(self, response: str) -> float:
        essential = [v for c, v in zip(self.rubric, self.verdicts(response), strict=True) if _is(c, "Essential")]
        return sum(essential) / len(essential)

    def grade_rubric(self) -> list[dict[str, Any]]:
        """The rubric as the grader takes it (criterion and points; the predicate stays here)."""
        return [{"criterion": c["criterion"], "points": c["points"]} for c in self.rubric]


def _is(criterion: dict[str, Any], category: str) -> bool:
    return criterion["criterion"].startswith(f"{category} Criteria:")


def load_known_truth(split: str | None = None, path: Path = DATA) -> list[TruthRecord]:
    """The records (`split`: train, test, or every one), predicates checked on load."""
    records = []
    for row in read_jsonl(path):
        for c in row["rubric"]:
            check(c["predicate"])
        records.append(TruthRecord(**row))
    return [r for r in records if split is None or r.split == split]


__all__ = ["DATA", "Predicate", "TruthRecord", "holds", "load_known_truth"]
