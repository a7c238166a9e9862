"""Precision and recall of a heart classifier on the hand-labelled question set (`trainer/heart/labels/`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from trainer.heart._lexical import HeartLabel

LABELLED_SET = Path(__file__).resolve().parent / "labels" / "heart_labels.jsonl"
BLIND_SHARED = LABELLED_SET.with_name("shared_blind_labels.jsonl")  # ids into ../shared/data, labels only


class Classifier(Protocol):
    def __call__(self, question: str, *, answer: str | None = None) -> HeartLabel: ...


@dataclass(frozen=True)
class Labelled:
    id: str
    source: str
    split: str
    text: str
    heart_related: bool
    theme: str | None
    answer: str | None = None


def question_text(record: dict[str, Any]) -> str:
    """The question as a trainer sees it: the stem, then its options one per line when it has any."""
    options = "\n".join(f"{k}. {v}" for k, v in (record.get("options") or {}).items())
    return record["question"] + ("\n" + options if options else "")


def load_labelled(path: Path = LABELLED_SET, split: str | None = None) -> list[Labelled]:
    """Records of one split, several joined by commas ("holdout3,holdout4"), or all (None or "all")."""
    wanted = None if split in (None, "all") else set(split.split(","))
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        if wanted is None or r["split"] in wanted:
            out.append(
                Labelled(
                    r["id"], r["source"], r["split"], question_text(r), r["heart_related"], r["theme"], r.get("answer")
                )
            )
    return out


def load_shared_blind(shared_data: Path, labels: Path = BLIND_SHARED) -> list[Labelled]:
    """The blind set over the team's samples: labels from `labels`, text from `shared_data` (never copied):
    RaR-Medicine questions with their reference answers, HealthBench conversations' user turns without one."""
    import hashlib

    from shared import prompt_from_record, read_jsonl

    texts: dict[str, tuple[str, str | None]] = {}
    for r in read_jsonl(shared_data / "rar_medicine" / "rar_medicine_hf_schema_sample104.jsonl"):
        key = "rar-" + hashlib.sha256(r["question"].encode()).hexdigest()[:12]
        texts[key] = (r["question"], r.get("reference_answer"))
    for name in ("hard_sample50.jsonl", "context_seeking_consensus104.jsonl"):
        for r in read_jsonl(shared_data / "healthbench" / name):
            texts[r["prompt_id"]] = ("\n".join(m.content for m in prompt_from_record(r) if m.role == "user"), None)
    out = []
    for line in labels.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        text, answer = texts[row["id"]]
        out.append(Labelled(row["id"], row["source"], row["split"], text, row["heart_related"], row["theme"], answer))
    return out


def prf_ci(truth: np.ndarray, pred: np.ndarray, n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Precision and recall, each with a percentile bootstrap 95% CI over records."""
    rng = np.random.default_rng(seed)

    def pr(t: np.ndarray, p: np.ndarray) -> tuple[float, float]:
        tp = float((t & p).sum())
        return (tp / float(p.sum()) if p.sum() else np.nan), (tp / float(t.sum()) if t.sum() else np.nan)

    precision, recall = pr(truth, pred)
    draws = np.array([pr(truth[i], pred[i]) for i in (rng.integers(0, len(truth), len(truth)) for _ in range(n_boot))])
    lo, hi = np.nanpercentile(draws, [2.5, 97.5], axis=0) if len(truth) else (np.full(2, np.nan),) * 2

    def num(v: float) -> float | None:
        return None if np.isnan(v) else float(v)

    return {
        "n": len(truth),
        "positives": int(truth.sum()),
        "flagged": int(pred.sum()),
        "precision": num(precision),
        "precision_ci": [num(lo[0]), num(hi[0])],
        "recall": num(recall),
        "recall_ci": [num(lo[1]), num(hi[1])],
        "f1": num(2 * precision * recall / (precision + recall)) if precision and recall else None,
    }


def _prf(pairs: Iterable[tuple[bool, bool]]) -> dict[str, Any]:
    tp = fp = fn = tn = 0
    for truth, pred in pairs:
        tp += truth and pred
        fp += pred and not truth
        fn += truth and not pred
        tn += not truth and not pred
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else None
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": precision, "recall": recall, "f1": f1}


def evaluate(records: list[Labelled], classify: Classifier, *, use_answer: bool = True) -> dict[str, Any]:
    """Overall, per source and per theme (one theme against the rest) precision/recall, and the errors.

    `use_answer=False` hides the source's answer, as for a chat prompt that comes without one.
    """
    items = [(r.text, r.answer if use_answer else None) for r in records]
    many = getattr(classify, "classify_many", None)  # the learned ones embed in batches
    labels = many(items) if many else [classify(q, answer=a) for q, a in items]
    pairs = [(r.heart_related, lab.heart_related) for r, lab in zip(records, labels, strict=True)]
    by_source = {
        s: _prf(p for r, p in zip(records, pairs, strict=True) if r.source == s)
        for s in sorted({r.source for r in records})
    }
    themes = sorted({r.theme for r in records if r.theme} | {lab.theme for lab in labels if lab.theme})
    by_theme = {t: _prf((r.theme == t, lab.theme == t) for r, lab in zip(records, labels, strict=True)) for t in themes}
    # of the questions labelled with a theme, how many the classifier calls heart-related at all
    found_by_theme = {
        t: {
            "n": sum(1 for r in records if r.theme == t),
            "found": sum(1 for r, lab in zip(records, labels, strict=True) if r.theme == t and lab.heart_related),
        }
        for t in sorted({r.theme for r in records if r.theme})
    }
    theme_agreement = [
        r.theme == lab.theme for r, lab in zip(records, labels, strict=True) if r.heart_related and lab.heart_related
    ]
    errors = [
        {"id": r.id, "truth": r.heart_related, "predicted": lab.heart_related, "theme": r.theme, "scores": lab.scores}
        for r, lab in zip(records, labels, strict=True)
        if r.heart_related != lab.heart_related
    ]
    truth = np.array([t for t, _ in pairs], dtype=bool)
    pred = np.array([p for _, p in pairs], dtype=bool)
    sources = np.array([r.source for r in records])
    return {
        "n": len(records),
        "positives": sum(r.heart_related for r in records),
        "overall": _prf(pairs),
        "with_ci": {
            "all": prf_ci(truth, pred),
            **{s: prf_ci(truth[sources == s], pred[sources == s]) for s in sorted(set(sources))},
        },
        "by_source": by_source,
        "by_theme": by_theme,
        "found_by_theme": found_by_theme,
        "theme_accuracy_on_true_positives": sum(theme_agreement) / len(theme_agreement) if theme_agreement else None,
        "errors": errors,
        "predictions": [lab.heart_related for lab in labels],
        # "llm" where the endpoint's label was used, "lexical (llm ...)" where it fell back
        "methods": [lab.method for lab in labels],
    }


def agreement(a: list[bool], b: list[bool]) -> dict[str, float]:
    """Raw agreement and Cohen's kappa between two classifiers' yes/no labels."""
    n = len(a)
    po = sum(x == y for x, y in zip(a, b, strict=True)) / n
    pa, pb = sum(a) / n, sum(b) / n
    pe = pa * pb + (1 - pa) * (1 - pb)
    return {"agreement": po, "kappa": (po - pe) / (1 - pe) if pe < 1 else 1.0}
