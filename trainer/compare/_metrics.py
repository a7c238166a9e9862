"""Scheme-comparison statistics over grouped rewards: pure functions, property-tested."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

Groups = Mapping[str, Sequence[float | None]]  # group id -> the rewards of its completions (None: not scored)


def _scored(groups: Groups) -> dict[str, list[float]]:
    return {g: [x for x in xs if x is not None and math.isfinite(x)] for g, xs in groups.items()}


def _std(xs: Sequence[float]) -> float:
    m = sum(xs) / len(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / len(xs))


def spread(groups: Groups, *, tol: float = 1e-9) -> dict[str, Any]:
    """What GRPO's advantage sees: how many groups have zero variance, how much variance sits within groups.

    `within_share` is the within-group share of the total variance (1: all of it inside groups, which is what
    GRPO learns from; 0: every group is flat and only prompts differ). Groups need two scored completions.
    """
    scored = {g: xs for g, xs in _scored(groups).items() if len(xs) >= 2}
    everything = [x for xs in scored.values() for x in xs]
    if not scored:
        return {"groups": 0, "items": 0, "zero_variance_frac": None, "within_std_mean": None, "within_share": None}
    stds = [_std(xs) for xs in scored.values()]
    total_var = _std(everything) ** 2
    within_var = sum(len(xs) * s**2 for xs, s in zip(scored.values(), stds, strict=True)) / len(everything)
    return {
        "groups": len(scored),
        "items": len(everything),
        "zero_variance_frac": sum(s <= tol for s in stds) / len(stds),
        "within_std_mean": sum(stds) / len(stds),
        "within_share": within_var / total_var if total_var > tol else None,
        "mean": sum(everything) / len(everything),
        "std": math.sqrt(total_var),
        "min": min(everything),
        "max": max(everything),
    }


def ranks(xs: Sequence[float]) -> list[float]:
    """1-based ranks, ties sharing their average rank."""
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    out = [0.0] * len(xs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def spearman(a: Sequence[float | None], b: Sequence[float | None]) -> float | None:
    """Rank correlation over the positions where both are scored; None when either side is constant."""
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
    if len(pairs) < 3:
        return None
    ra, rb = ranks([p[0] for p in pairs]), ranks([p[1] for p in pairs])
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb, strict=True))
    va, vb = sum((x - ma) ** 2 for x in ra), sum((y - mb) ** 2 for y in rb)
    return cov / math.sqrt(va * vb) if va > 0 and vb > 0 else None
