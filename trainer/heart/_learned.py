"""The learned heart classifiers: SmolLM2 sentence features (question and answer apart), with or without the
lexical rules' scores beside them, and a logistic regression trained on the hand labels
(`trainer/heart/labels/`); the weights ship in the package (`trainer/heart/*_smollm2.npz`).

- `learned`: the model's features alone;
- `combined`: the same plus four numbers from the rules (their verdict, total, best theme score, themes hit).

The rules stay as evidence and theme: a kept record still says which words made it cardiac, and the
probability that made the call. Each labelled question is trained on twice, with its answer and without
(a chat prompt has none; the answer's features are then zeros and a flag says so), so one model serves both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from trainer.heart._lexical import HeartLabel, answer_opening, classify_lexical, pick_theme
from trainer.heart._linear import LinearModel

KINDS = ("learned", "combined")
HERE = Path(__file__).resolve().parent


def weights_path(kind: str) -> Path:
    if kind not in KINDS:
        raise SystemExit(f"learned classifier kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return HERE / f"{kind}_smollm2.npz"


def usable_answer(answer: str | None) -> str | None:
    """The answer's opening, as the rules read it; a yes/no/maybe answer says nothing about the topic."""
    if not answer or answer.strip().lower() in ("yes", "no", "maybe"):
        return None
    return answer_opening(answer)


def lexical_features(label: HeartLabel) -> list[float]:
    scores = list(label.scores.values()) or [0.0]
    hit = sum(1 for s in scores if s > 0)
    return [float(label.heart_related), math.log1p(max(0.0, sum(scores))), float(max(scores)), float(hit)]


def features(embedder: Any, items: Sequence[tuple[str, str | None]], kind: str) -> tuple[np.ndarray, list[HeartLabel]]:
    """One row per (question, answer): question features, answer features (zeros without one), has-answer,
    and for `combined` the rules' four numbers. Returns the rules' labels too (evidence and theme)."""
    lexical = [classify_lexical(q, answer=a) for q, a in items]
    answers = [usable_answer(a) for _, a in items]
    q = embedder([question for question, _ in items])
    given = [a for a in answers if a is not None]
    a_emb = embedder(given) if given else np.zeros((0, q.shape[1]), dtype=np.float32)
    a = np.zeros_like(q)
    a[[i for i, x in enumerate(answers) if x is not None]] = a_emb
    has = np.array([[float(x is not None)] for x in answers], dtype=np.float32)
    parts = [q, a, has]
    if kind == "combined":
        parts.append(np.array([lexical_features(lab) for lab in lexical], dtype=np.float32))
    return np.hstack(parts), lexical


class LearnedClassifier:
    """`classify(question, answer=...)` like the others; `classify_many` embeds in batches."""

    def __init__(self, kind: str = "combined", weights: str | Path | None = None, embedder: Any = None) -> None:
        path = Path(weights) if weights else weights_path(kind)
        if not path.exists():
            raise SystemExit(f"no learned heart classifier at {path}: run `python -m trainer heart-train`")
        self.kind = kind
        self.model = LinearModel.load(path)
        if embedder is None:
            from trainer.heart._embed import MODEL, Embedder

            meta = self.model.meta
            if meta.get("model", MODEL) != MODEL or meta.get("kind", kind) != kind:
                raise SystemExit(
                    f"{path} holds a {meta.get('kind')} model on {meta.get('model')}, not {kind} on {MODEL}"
                )
            layers, pooling = tuple(meta["layers"]), tuple(meta.get("pooling", ["mean"]))
            embedder = Embedder(layers=layers, pooling=pooling, max_tokens=int(meta["max_tokens"]))
        self.embedder = embedder

    def classify_many(self, items: Sequence[tuple[str, str | None]]) -> list[HeartLabel]:
        x, lexical = features(self.embedder, items, self.kind)
        out = []
        for p, lex in zip(self.model.proba(x), lexical, strict=True):
            heart = bool(p >= self.model.threshold)
            theme = (lex.theme or pick_theme(lex.scores)) if heart else None
            evidence = (*lex.evidence, f"{self.kind} P(heart) = {p:.2f}") if heart else ()
            out.append(HeartLabel(heart, theme, evidence, {**lex.scores, "learned": float(p)}, method=self.kind))
        return out

    def __call__(self, question: str, *, answer: str | None = None) -> HeartLabel:
        return self.classify_many([(question, answer)])[0]
