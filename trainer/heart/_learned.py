"""The learned heart classifier: SmolLM2 sentence features plus the lexical rules' scores, a logistic
regression trained on the hand labels (`trainer/heart_labels/`), weights shipped in the package.

The rules stay as evidence and theme: a kept record still says which words made it cardiac (or that the
model's probability did, with the generic theme). Trained on every labelled question twice, with its answer
and without (a chat prompt has none), so one model serves both.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from trainer.heart._lexical import HeartLabel, classify_lexical
from trainer.heart._linear import LinearModel, fit
from trainer.heart._themes import GENERIC

WEIGHTS = Path(__file__).resolve().parent / "learned_smollm2.npz"


def model_text(question: str, answer: str | None) -> str:
    return question + (f"\nAnswer: {answer}" if answer else "")


def lexical_features(label: HeartLabel) -> list[float]:
    scores = list(label.scores.values()) or [0.0]
    return [float(label.heart_related), float(sum(scores)), float(max(scores))]


def features(embedder: Any, items: Sequence[tuple[str, str | None]]) -> tuple[np.ndarray, list[HeartLabel]]:
    lexical = [classify_lexical(q, answer=a) for q, a in items]
    emb = embedder([model_text(q, a) for q, a in items])
    return np.hstack([emb, np.array([lexical_features(lab) for lab in lexical])]), lexical


class LearnedClassifier:
    """`classify(question, answer=...)` like the others; `classify_many` embeds in batches."""

    def __init__(self, weights: str | Path = WEIGHTS, embedder: Any = None) -> None:
        if not Path(weights).exists():
            raise SystemExit(f"no learned heart classifier at {weights}: run `python -m trainer heart-train`")
        self.model = LinearModel.load(weights)
        if embedder is None:
            from trainer.heart._embed import Embedder

            embedder = Embedder()
        self.embedder = embedder

    def classify_many(self, items: Sequence[tuple[str, str | None]]) -> list[HeartLabel]:
        x, lexical = features(self.embedder, items)
        out = []
        for p, lex in zip(self.model.proba(x), lexical, strict=True):
            heart = bool(p >= self.model.threshold)
            theme = (lex.theme or GENERIC) if heart else None
            evidence = (*lex.evidence, f"learned P(heart) = {p:.2f}")
            out.append(HeartLabel(heart, theme, evidence, {**lex.scores, "learned": float(p)}, method="learned"))
        return out

    def __call__(self, question: str, *, answer: str | None = None) -> HeartLabel:
        return self.classify_many([(question, answer)])[0]


def _prf(truth: np.ndarray, pred: np.ndarray) -> tuple[float, float, float]:
    tp = float((truth & pred).sum())
    p = tp / max(1.0, float(pred.sum()))
    r = tp / max(1.0, float(truth.sum()))
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def train(
    x_with: np.ndarray, x_without: np.ndarray, y: np.ndarray, *, folds: int = 5, seed: int = 0
) -> tuple[LinearModel, dict[str, Any]]:
    """Cross-validated choice of the regularisation and the threshold (records, both views, kept in one fold),
    then the final fit on everything. Returns the model and the out-of-fold predictions per view."""
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(y), int)
    for cls in (0, 1):
        idx = np.flatnonzero(y == cls)
        rng.shuffle(idx)
        fold[idx] = np.arange(len(idx)) % folds
    x2, y2, f2 = np.vstack([x_with, x_without]), np.r_[y, y], np.r_[fold, fold]
    best: tuple[float, float, float, np.ndarray] | None = None
    for l2 in (1.0, 10.0, 100.0, 1000.0):
        oof = np.zeros(len(y2))
        for k in range(folds):
            m = fit(x2[f2 != k], y2[f2 != k], l2)
            oof[f2 == k] = m.proba(x2[f2 == k])
        for thr in np.arange(0.3, 0.96, 0.05):
            f1 = _prf(y2 == 1, oof >= thr)[2]
            if best is None or f1 > best[0]:
                best = (f1, l2, float(thr), oof)
    assert best is not None
    _, l2, thr, oof = best
    model = fit(x2, y2, l2)
    model.threshold = thr
    n = len(y)
    return model, {"l2": l2, "threshold": thr, "oof_with": oof[:n], "oof_without": oof[n:], "fold": fold}
