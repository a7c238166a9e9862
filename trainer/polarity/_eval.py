"""Precision and recall of `avoid` with bootstrap 95% CIs; items labelled `ambiguous` have no right answer
and are reported apart. A classifier's `ambiguous` counts as "not avoid" (it is then scored literally)."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from trainer.polarity._labels import LabelledPitfall


def _pr(pairs: Sequence[tuple[bool, bool]]) -> tuple[float | None, float | None]:
    tp = sum(t and p for t, p in pairs)
    pred = sum(p for _, p in pairs)
    true = sum(t for t, _ in pairs)
    return (tp / pred if pred else None, tp / true if true else None)


def _ci(values: list[float]) -> list[float] | None:
    if not values:
        return None
    values = sorted(values)
    return [values[int(0.025 * (len(values) - 1))], values[int(0.975 * (len(values) - 1))]]


def measure(
    items: Sequence[LabelledPitfall], classify: Callable[[LabelledPitfall], tuple[str, str]], n_boot: int = 2000
) -> dict[str, Any]:
    """Run `classify` (-> (polarity, rule)) on every item and measure it against the labels."""
    rows = [(it, *classify(it)) for it in items]
    scored = [(it.polarity == "avoid", pred == "avoid") for it, pred, _ in rows if it.polarity != "ambiguous"]
    precision, recall = _pr(scored)
    rng = random.Random(0)
    ps, rs = [], []
    for _ in range(n_boot):
        sample = [scored[rng.randrange(len(scored))] for _ in scored]
        p, r = _pr(sample)
        if p is not None:
            ps.append(p)
        if r is not None:
            rs.append(r)
    misses = [
        {"id": it.id, "label": it.polarity, "predicted": pred, "rule": rule, "title": it.title,
         "description": it.description}
        for it, pred, rule in rows
        if it.polarity != "ambiguous" and (it.polarity == "avoid") != (pred == "avoid")
    ]  # fmt: skip
    return {
        "n": len(items),
        "labels": dict(Counter(it.polarity for it in items)),
        "predicted": dict(Counter(pred for _, pred, _ in rows)),
        "avoid_precision": precision,
        "avoid_precision_ci": _ci(ps),
        "avoid_recall": recall,
        "avoid_recall_ci": _ci(rs),
        "accuracy_fault_avoid": sum(t == p for t, p in scored) / len(scored) if scored else None,
        "ambiguous_labelled_predicted": dict(Counter(pred for it, pred, _ in rows if it.polarity == "ambiguous")),
        "rules": dict(Counter(rule for _, _, rule in rows)),
        "misses": misses,
    }
