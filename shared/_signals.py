"""Per-criterion signals of a graded batch: what the reward aggregates hide.

A policy that learns to trip one pitfall, or to satisfy only the optional criteria, moves the mean reward
little; these show it while training: per category the met rate, the pitfalls triggered per item, and the
criteria whose verdict flips within a GRPO group (the ones that carry the group's learning signal).
Pure functions over the grader's response; `shared.rewards` logs them through TRL's `log_metric`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from shared._categories import infer_category
from shared._schemas import CriterionResult, GradeItem, ItemResult


def category_of(c: CriterionResult) -> str:
    """The criterion's category: given, or read from its text's prefix ("Essential Criteria: ..."), or, for
    rubrics without one (HealthBench), `pitfall` for negative points."""
    category = c.category or infer_category(c.criterion, c.points)
    return category.value if category is not None else "uncategorised"


def category_met_rates(results: Sequence[ItemResult]) -> dict[str, float]:
    """Share of judged criteria met, per category (a pitfall met is a pitfall triggered)."""
    met: Counter[str] = Counter()
    judged: Counter[str] = Counter()
    for r in results:
        for c in r.criteria:
            if c.met is not None:
                cat = category_of(c)
                judged[cat] += 1
                met[cat] += bool(c.met)
    return {cat: met[cat] / n for cat, n in judged.items()}


def pitfalls_per_item(results: Sequence[ItemResult]) -> float:
    items = [r for r in results if r.criteria]
    if not items:
        return 0.0
    return sum(sum(1 for c in r.criteria if c.met and c.points < 0) for r in items) / len(items)


def flipped_criteria(items: Sequence[GradeItem], results: Sequence[ItemResult]) -> Counter[str]:
    """For each criterion text, in how many groups its verdict differed between completions."""
    verdicts: dict[tuple[str, str], set[bool]] = defaultdict(set)
    for it, r in zip(items, results, strict=True):
        for c in r.criteria:
            if c.met is not None:
                verdicts[(it.group_id or it.id or "", c.criterion)].add(bool(c.met))
    return Counter(crit for (_, crit), seen in verdicts.items() if len(seen) == 2)


def flip_rate(items: Sequence[GradeItem], results: Sequence[ItemResult]) -> float:
    """Share of (group, criterion) pairs whose verdict flips within the group."""
    pairs: dict[tuple[str, str], set[bool]] = defaultdict(set)
    for it, r in zip(items, results, strict=True):
        for c in r.criteria:
            if c.met is not None:
                pairs[(it.group_id or it.id or "", c.criterion)].add(bool(c.met))
    return sum(len(v) == 2 for v in pairs.values()) / len(pairs) if pairs else 0.0


def signals(items: Sequence[GradeItem], results: Sequence[ItemResult]) -> dict[str, float]:
    """The batch's per-criterion metrics, named for TensorBoard (`rubric/criteria/...`)."""
    out = {f"rubric/criteria/met_rate/{cat}": rate for cat, rate in sorted(category_met_rates(results).items())}
    out["rubric/criteria/pitfalls_per_item"] = pitfalls_per_item(results)
    out["rubric/criteria/flip_rate"] = flip_rate(items, results)
    return out
