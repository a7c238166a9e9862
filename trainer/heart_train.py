"""`python -m trainer heart-train`: fit the learned heart classifier on the hand labels and measure it.

Cross-validated (5 folds, each record's two views — with and without its answer — in one fold) against the
lexical rules on the same records: precision and recall with bootstrap CIs, with and without the answer, per
source; the cost in seconds per 1,000 records. Writes the weights (`trainer/heart/learned_smollm2.npz` by
default) and `results.json` / `report.md` under --output_dir.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from trainer.heart._labelled import load_labelled
from trainer.heart._learned import WEIGHTS, features, train

RAR_TRAIN_RECORDS = 17_926  # ScaleAI/RaR-Medicine's train split


@dataclass
class HeartTrainArguments:
    weights: str = field(default=str(WEIGHTS), metadata={"help": "where the fitted weights go"})
    output_dir: str = "runs/heart-train"
    seed: int = 0
    bootstrap: int = 2000


def prf_ci(truth: np.ndarray, pred: np.ndarray, n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Precision and recall, each with a bootstrap 95% CI over records."""
    rng = np.random.default_rng(seed)

    def pr(t: np.ndarray, p: np.ndarray) -> tuple[float, float]:
        tp = float((t & p).sum())
        return tp / max(1.0, float(p.sum())), tp / max(1.0, float(t.sum()))

    precision, recall = pr(truth, pred)
    draws = np.array([pr(truth[i], pred[i]) for i in (rng.integers(0, len(truth), len(truth)) for _ in range(n_boot))])
    lo, hi = np.percentile(draws, [2.5, 97.5], axis=0)
    return {
        "n": len(truth),
        "positives": int(truth.sum()),
        "precision": precision,
        "precision_ci": [float(lo[0]), float(hi[0])],
        "recall": recall,
        "recall_ci": [float(lo[1]), float(hi[1])],
    }


def run_heart_train(a: HeartTrainArguments) -> dict[str, Any]:
    from trainer.heart._embed import Embedder

    records = load_labelled()
    embedder = Embedder()
    start = time.perf_counter()
    x_with, lex_with = features(embedder, [(r.text, r.answer) for r in records])
    seconds = time.perf_counter() - start
    x_without, lex_without = features(embedder, [(r.text, None) for r in records])
    y = np.array([r.heart_related for r in records], dtype=float)
    model, cv = train(x_with, x_without, y, seed=a.seed)
    Path(a.weights).parent.mkdir(parents=True, exist_ok=True)
    model.save(a.weights)

    truth = y == 1
    sources = np.array([r.source for r in records])
    views = {
        "with answer": (cv["oof_with"], np.array([lab.heart_related for lab in lex_with])),
        "without answer": (cv["oof_without"], np.array([lab.heart_related for lab in lex_without])),
    }
    table: dict[str, Any] = {}
    for view, (oof, lexical) in views.items():
        learned = oof >= cv["threshold"]
        for name, pred in (("lexical", lexical), ("learned (cross-validated)", learned)):
            per_source = {s: prf_ci(truth[sources == s], pred[sources == s], a.bootstrap, a.seed) for s in set(sources)}
            overall = prf_ci(truth, pred, a.bootstrap, a.seed)
            table[f"{name}, {view}"] = {"all": overall, **dict(sorted(per_source.items()))}
    per_1000 = 1000 * seconds / len(records)
    results = {
        "config": asdict(a),
        "records": len(records),
        "positives": int(truth.sum()),
        "l2": cv["l2"],
        "threshold": cv["threshold"],
        "seconds_per_1000": per_1000,
        "rar_medicine_train_minutes": per_1000 * RAR_TRAIN_RECORDS / 1000 / 60,
        "table": table,
    }
    out = Path(a.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    (out / "report.md").write_text(markdown(results))
    return results


def _cell(m: dict[str, Any]) -> str:
    p, r = m["precision"], m["recall"]
    return (
        f"{p:.2f} [{m['precision_ci'][0]:.2f}, {m['precision_ci'][1]:.2f}] / "
        f"{r:.2f} [{m['recall_ci'][0]:.2f}, {m['recall_ci'][1]:.2f}] (n {m['n']}, {m['positives']} heart)"
    )


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "# The learned heart classifier, cross-validated on the hand labels",
        "",
        f"{results['records']} labelled questions ({results['positives']} heart-related), 5 folds; regularisation "
        f"{results['l2']:g}, threshold {results['threshold']:.2f} (chosen by F1 on the out-of-fold predictions). "
        f"Features: {results['seconds_per_1000']:.0f} s per 1,000 records on this machine (SmolLM2-135M, CPU), "
        f"so the RaR-Medicine train split would take about {results['rar_medicine_train_minutes']:.0f} min.",
        "",
        "| classifier | all: precision [95% CI] / recall [95% CI] | " + " | ".join(
            s for s in next(iter(results["table"].values())) if s != "all"
        ) + " |",
    ]  # fmt: skip
    cols = len(next(iter(results["table"].values())))
    lines.append("|---" * (cols + 1) + "|")
    for name, row in results["table"].items():
        lines.append(f"| {name} | " + " | ".join(_cell(m) for m in row.values()) + " |")
    return "\n".join(lines) + "\n"
