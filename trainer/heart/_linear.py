"""A small logistic regression (numpy, Newton steps): the learned heart classifier's weights.

Classes are weighted to balance (about one question in nine is heart-related); features are standardised
with the training set's mean and spread, which are stored with the weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class LinearModel:
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray  # the last one is the bias
    threshold: float = 0.5

    def proba(self, x: np.ndarray) -> np.ndarray:
        z = (np.atleast_2d(x) - self.mean) / self.scale
        return 1.0 / (1.0 + np.exp(-(z @ self.weights[:-1] + self.weights[-1])))

    def save(self, path: str | Path) -> None:
        np.savez_compressed(path, mean=self.mean, scale=self.scale, weights=self.weights, threshold=self.threshold)

    @classmethod
    def load(cls, path: str | Path) -> LinearModel:
        d = np.load(path)
        return cls(d["mean"], d["scale"], d["weights"], float(d["threshold"]))


def fit(x: np.ndarray, y: np.ndarray, l2: float = 10.0, max_steps: int = 50) -> LinearModel:
    """L2-regularised, class-balanced logistic regression by Newton's method (converges in a few steps)."""
    mean, scale = x.mean(0), x.std(0) + 1e-6
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    pos = float(y.mean())
    sample = np.where(y == 1, 0.5 / pos, 0.5 / (1 - pos)) / len(y)
    reg = np.r_[np.full(z.shape[1] - 1, l2 / len(y)), 0.0]
    w = np.zeros(z.shape[1])
    for _ in range(max_steps):
        p = 1.0 / (1.0 + np.exp(-z @ w))
        grad = z.T @ (sample * (p - y)) + reg * w
        hess = (z * (sample * p * (1 - p))[:, None]).T @ z + np.diag(reg)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-7:
            break
    return LinearModel(mean, scale, w)
