"""Evaluation statistics as pure functions: HealthBench scores, bootstrap, Wilson, McNemar, paired tests."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClippedStats:
    """HealthBench's aggregate: the mean clipped to [0, 1], with a bootstrap std and 95% CI of it."""

    mean: float
    std: float
    ci_low: float
    ci_high: float
    n: int


def example_score(points: Sequence[float], met: Sequence[bool]) -> float | None:
    """Σ points of met criteria (negative ones subtract) / Σ positive points — not clipped; None (no
    score, not 0) for a rubric without positive points, as simple-evals' `calculate_score` returns."""
    total = sum(p for p in points if p > 0)
    if total <= 0:
        return None
    return sum(p for p, m in zip(points, met, strict=True) if m) / total


def clipped_stats(values: Sequence[float], *, n_boot: int = 1000, seed: int = 0) -> ClippedStats:
    """Clipping happens only here, at the aggregate, as in simple-evals' healthbench_eval."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return ClippedStats(math.nan, math.nan, math.nan, math.nan, 0)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(n_boot, x.size))
    boots = np.clip(x[idx].mean(axis=1), 0.0, 1.0)
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return ClippedStats(float(np.clip(x.mean(), 0, 1)), float(boots.std()), float(lo), float(hi), int(x.size))


def wilson(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    if n == 0:
        return (math.nan, math.nan)
    p = successes / n
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class BinaryMetrics:
    threshold: float
    n: int
    tp: int
    fp: int
    fn: int
    tn: int
    accuracy: float
    precision: float
    recall: float
    f1: float
    accuracy_ci: tuple[float, float]
    precision_ci: tuple[float, float]
    recall_ci: tuple[float, float]
    ground_truth: str


def binary_metrics(
    scores: Sequence[float], threshold: float = 0.5, truth: Sequence[bool] | None = None
) -> BinaryMetrics:
    """The seed paper's metric: "good" when the example's score exceeds `threshold`.

    The paper's ground truth labels every example positive (each should get a good answer); with that
    truth recall equals accuracy, precision is 1 when anything is predicted good, and F1 = 2·acc/(1+acc).
    Pass `truth` to use other labels.
    """
    pred = [s > threshold for s in scores]
    gt = [True] * len(pred) if truth is None else list(truth)
    tp = sum(p and t for p, t in zip(pred, gt, strict=True))
    fp = sum(p and not t for p, t in zip(pred, gt, strict=True))
    fn = sum(t and not p for p, t in zip(pred, gt, strict=True))
    tn = len(pred) - tp - fp - fn
    n = len(pred)
    acc = (tp + tn) / n if n else math.nan
    prec = tp / (tp + fp) if tp + fp else math.nan
    rec = tp / (tp + fn) if tp + fn else math.nan
    f1 = 2 * prec * rec / (prec + rec) if prec == prec and rec == rec and prec + rec > 0 else math.nan
    note = (
        "all examples labelled positive (the paper's convention): accuracy = recall = share of examples scoring "
        f"above {threshold}, precision = 1 whenever anything is predicted good, F1 = 2·acc/(1+acc) — it measures "
        "the score distribution, not agreement"
        if truth is None
        else "labels supplied by the caller"
    )
    return BinaryMetrics(
        threshold,
        n,
        tp,
        fp,
        fn,
        tn,
        acc,
        prec,
        rec,
        f1,
        wilson(tp + tn, n),
        wilson(tp, tp + fp),
        wilson(tp, tp + fn),
        note,
    )


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts b (A good, B not) and c (B good, A not)."""
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


@dataclass(frozen=True)
class PairedBootstrap:
    diff: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int


def paired_bootstrap(a: Sequence[float], b: Sequence[float], *, n_boot: int = 2000, seed: int = 0) -> PairedBootstrap:
    """Mean(b − a) over paired examples, its 95% CI, and a two-sided p-value for "no difference"."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape or x.size == 0:
        raise ValueError("paired samples must have the same, non-zero length")
    d = y - x
    rng = np.random.default_rng(seed)
    boots = d[rng.integers(0, d.size, size=(n_boot, d.size))].mean(axis=1)
    lo, hi = np.percentile(boots, [2.5, 97.5])
    p = 2 * min(float((boots <= 0).mean()), float((boots >= 0).mean()))
    return PairedBootstrap(float(d.mean()), float(lo), float(hi), min(1.0, p), int(d.size))
