"""A small logistic regression (numpy, Newton steps): the learned heart classifier's weights.

Classes are weighted to balance (about one question in nine is heart-related); features are standardised
with the training set's mean and spread, stored with the weights. With a thousand or more hidden-state
features and a few thousand examples, the fit runs on the leading principal components of the standardised
features (`components`), and the weights are mapped back: what ships is one weight per original feature,
the mean and the spread (a few KB), and the model needs nothing but numpy to apply.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


def _sigmoid(s: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(s, -60.0, 60.0)))


@dataclass
class LinearModel:
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray  # the last one is the bias
    threshold: float = 0.5
    meta: dict[str, Any] = field(default_factory=dict)  # how the features were made (model, layers, kind)

    def proba(self, x: np.ndarray) -> np.ndarray:
        z = (np.atleast_2d(x) - self.mean) / self.scale
        return _sigmoid(z @ self.weights[:-1] + self.weights[-1])

    def save(self, path: str | Path) -> None:
        """float32 on disk (small enough to ship); the threshold exactly; `meta` as JSON."""
        f32 = {k: getattr(self, k).astype(np.float32) for k in ("mean", "scale", "weights")}
        np.savez_compressed(path, threshold=np.float64(self.threshold), meta=json.dumps(self.meta), **f32)

    @classmethod
    def load(cls, path: str | Path) -> LinearModel:
        with np.load(path) as d:
            arrays = (d[k].astype(np.float64) for k in ("mean", "scale", "weights"))
            return cls(*arrays, float(d["threshold"]), json.loads(str(d["meta"])) if "meta" in d.files else {})


def fit(x: np.ndarray, y: np.ndarray, l2: float = 10.0, max_steps: int = 50) -> LinearModel:
    """L2-regularised, class-balanced logistic regression by Newton's method (converges in a few steps)."""
    mean, scale = x.mean(0), x.std(0) + 1e-6
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    pos = float(y.mean())
    sample = np.where(y == 1, 0.5 / pos, 0.5 / (1 - pos)) / len(y)
    reg = np.r_[np.full(z.shape[1] - 1, l2 / len(y)), 0.0]
    w = np.zeros(z.shape[1])
    for _ in range(max_steps):
        p = _sigmoid(z @ w)
        grad = z.T @ (sample * (p - y)) + reg * w
        hess = (z * (sample * p * (1 - p))[:, None]).T @ z + np.diag(reg)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-7:
            break
    return LinearModel(mean, scale, w)


@dataclass(frozen=True)
class Projection:
    """The leading principal directions of the standardised first `dense` columns; the rest pass through."""

    mean: np.ndarray
    scale: np.ndarray
    basis: np.ndarray  # (dense, components)
    dense: int

    @classmethod
    def of(cls, x: np.ndarray, dense: int, components: int) -> Projection:
        mean, scale = x.mean(0), x.std(0) + 1e-6
        z = (x[:, :dense] - mean[:dense]) / scale[:dense]
        _, _, vt = np.linalg.svd(z, full_matrices=False)
        return cls(mean, scale, vt[:components].T, dense)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        z = (x - self.mean) / self.scale
        return np.hstack([z[:, : self.dense] @ self.basis, z[:, self.dense :]])

    def unfold(self, m: LinearModel) -> LinearModel:
        """The model `m` (fitted on projected features) as weights on the original features."""
        w, b = m.weights[:-1] / m.scale, m.weights[-1] - float((m.mean / m.scale) @ m.weights[:-1])
        k = self.basis.shape[1]
        full = np.r_[self.basis @ w[:k], w[k:]]
        return LinearModel(self.mean, self.scale, np.r_[full, b], m.threshold, dict(m.meta))


def fit_reduced(x: np.ndarray, y: np.ndarray, l2: float, *, dense: int, components: int) -> LinearModel:
    """`fit` on the leading `components` principal directions of the first `dense` columns (the rest as they
    are), returned as a model over the original columns."""
    proj = Projection.of(x, dense, components)
    return proj.unfold(fit(proj(x), y, l2))


def _f1(truth: np.ndarray, pred: np.ndarray) -> float:
    tp = float((truth & pred).sum())
    p, r = tp / max(1.0, float(pred.sum())), tp / max(1.0, float(truth.sum()))
    return 2 * p * r / (p + r) if p + r else 0.0


L2_GRID = (1.0, 10.0, 100.0, 1000.0)
THRESHOLDS = tuple(round(float(t), 2) for t in np.arange(0.3, 0.96, 0.05))


def folds_for(y: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Stratified fold of each record (seeded: the same records land together every run)."""
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(y), int)
    for cls in (0, 1):
        idx = np.flatnonzero(y == cls)
        rng.shuffle(idx)
        fold[idx] = np.arange(len(idx)) % folds
    return fold


def train(
    x_with: np.ndarray,
    x_without: np.ndarray,
    y: np.ndarray,
    *,
    dense: int | None = None,
    components: int = 128,
    folds: int = 5,
    seed: int = 0,
) -> tuple[LinearModel, dict[str, Any]]:
    """Cross-validated choice of the regularisation and the threshold (a record's two views, with and without
    its answer, always in one fold), by F1 over both views' out-of-fold predictions; then the final fit on
    everything. `dense` columns (the hidden states) are fitted through their principal components.
    Returns the model and the out-of-fold probabilities per view."""
    dense = x_with.shape[1] if dense is None else dense
    components = min(components, dense)
    fold = folds_for(y, folds, seed)
    x2, y2, f2 = np.vstack([x_with, x_without]), np.r_[y, y], np.r_[fold, fold]
    oof = {l2: np.zeros(len(y2)) for l2 in L2_GRID}
    for k in range(folds):
        proj = Projection.of(x2[f2 != k], dense, components)  # fitted on the training folds only
        train_x, held_x = proj(x2[f2 != k]), proj(x2[f2 == k])
        for l2 in L2_GRID:
            oof[l2][f2 == k] = fit(train_x, y2[f2 != k], l2).proba(held_x)
    best = max((_f1(y2 == 1, oof[l2] >= t), -l2, t) for l2 in L2_GRID for t in THRESHOLDS)
    _, neg_l2, thr = best
    l2 = -neg_l2
    model = fit_reduced(x2, y2, l2, dense=dense, components=components)
    model.threshold = thr
    n = len(y)
    return model, {
        "l2": l2,
        "threshold": thr,
        "components": components,
        "cv_f1": best[0],
        "oof_with": oof[l2][:n],
        "oof_without": oof[l2][n:],
        "fold": fold,
    }
