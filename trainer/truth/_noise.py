"""The simulated judge's noise model: how a judge that knows the truth t ∈ {0, 1} answers.

One knob, β (sharpness): P(YES) = sigmoid(β·(2t − 1) + ε), with ε ~ Normal(0, σ) drawn deterministically
from a hash of (seed, criterion, response), so the same question always gets the same answer and a
different seed is a different judge. β = ∞ is a perfect judge (P(YES) = t exactly); small β is a judge
that barely sees the truth. Verdicts and samples are drawn from that probability, again by hash; a
whole-rubric Likert rating (rar_implicit) is 1 + 9·(true score) plus Normal noise of scale 9/β, rounded
and clipped to 1..10.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from statistics import NormalDist

_UNIT = 2.0**64


def _uniform(*key: object) -> float:
    """A number in (0, 1) fixed by `key`."""
    digest = hashlib.sha256("\x1f".join(map(str, key)).encode()).digest()
    return (int.from_bytes(digest[:8], "big") + 0.5) / _UNIT


def _normal(*key: object) -> float:
    return NormalDist().inv_cdf(_uniform(*key))


def p_yes(truth: bool, beta: float, criterion: str, response: str, *, seed: int = 0, sigma: float = 1.0) -> float:
    if math.isinf(beta):
        return 1.0 if truth else 0.0
    z = beta * (1.0 if truth else -1.0) + sigma * _normal("eps", seed, criterion, response)
    return 1.0 / (1.0 + math.exp(-z))


def sample_verdict(p: float, criterion: str, response: str, *, seed: int = 0, draw: int = 0) -> bool:
    """One verdict drawn from P(YES) = p (draw k of several samples of the same question)."""
    return _uniform("verdict", seed, draw, criterion, response) < p


def likert(true_score: float, beta: float, response: str, *, seed: int = 0) -> int:
    """A 1-10 rating of the whole rubric: the true score in [0, 1] seen through Normal(0, 9/β) noise."""
    noise = 0.0 if math.isinf(beta) else (9.0 / beta) * _normal("likert", seed, response)
    return max(1, min(10, round(1 + 9 * min(1.0, max(0.0, true_score)) + noise)))


def agreement(truth: Sequence[bool], verdicts: Sequence[bool]) -> dict[str, float]:
    """Accuracy and macro F1 (met / not met) of verdicts against the truth, as judge meta-evaluations report."""
    if len(truth) != len(verdicts) or not truth:
        raise ValueError("truth and verdicts: two non-empty sequences of the same length")
    pairs = list(zip(truth, verdicts, strict=True))
    f1s = []
    for label in (True, False):
        tp = sum(t == label and v == label for t, v in pairs)
        fp = sum(t != label and v == label for t, v in pairs)
        fn = sum(t == label and v != label for t, v in pairs)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0)
    return {"accuracy": sum(t == v for t, v in pairs) / len(pairs), "macro_f1": sum(f1s) / 2}
