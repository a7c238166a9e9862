"""`python -m trainer heart-train`: fit the learned heart classifiers on the hand labels and measure them.

Features: SmolLM2-135M's hidden states, mean- and max-pooled at several layers (computed once, cached). For
each kind (`learned`: the model's features; `combined`: plus the rules' scores) the layers are chosen by 5-fold
cross-validation on the labelled set (each record's two views, with and without its answer, in one fold),
then the regularisation and the threshold inside that. Reported against the lexical rules on the same
records: precision and recall with bootstrap CIs, with and without the answer, per source and per theme, and
the cost in seconds per 1,000 records. The default classifier is the one with the best cross-validated F1
(mean of the two views); it is chosen here, before any blind set is scored.

Writes the weights (`trainer/heart/{learned,combined}_smollm2.npz` by default), `results.json` and
`report.md` under --output_dir.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from trainer.heart._embed import MODEL, Embedder
from trainer.heart._labelled import load_labelled, prf_ci
from trainer.heart._learned import HERE, KINDS, lexical_features, usable_answer
from trainer.heart._lexical import classify_lexical
from trainer.heart._linear import train
from trainer.heart.evaluate import ci_cell
from trainer.presets import run_command

RAR_TRAIN_RECORDS = 17_926  # ScaleAI/RaR-Medicine's train split
HIDDEN = 576  # SmolLM2-135M's hidden size
LAYER_SETS = ((8,), (12,), (16,), (20,), (24,), (8, 16), (12, 20), (8, 16, 24))
POOL_SETS = (("mean",), ("max",), ("mean", "max"))


@dataclass
class HeartTrainArguments:
    output_dir: str = "runs/heart-train"
    weights_dir: str = field(default=str(HERE), metadata={"help": "where {learned,combined}_smollm2.npz go"})
    search_layers: str = field(default="8,16,24", metadata={"help": "layers computed once, then chosen"})
    search_pooling: str = field(default="mean,max", metadata={"help": "poolings computed once, then chosen"})
    components: int = field(default=128, metadata={"help": "principal components of the hidden states fitted"})
    seed: int = 0
    bootstrap: int = 2000
    max_records: int | None = field(default=None, metadata={"help": "the first N labelled records (tests)"})
    cost_records: int = field(default=200, metadata={"help": "records timed afresh for the cost figure"})


def _columns(
    search: tuple[int, ...], pools: tuple[str, ...], layers: tuple[int, ...], pooling: tuple[str, ...]
) -> np.ndarray:
    """Where (layer, pooling) blocks sit in the searched features, in the order `Embedder` writes them."""
    blocks = [search.index(k) * len(pools) + pools.index(how) for k in layers for how in pooling]
    return np.concatenate([np.arange(b * HIDDEN, (b + 1) * HIDDEN) for b in blocks])


def design(q: np.ndarray, a: np.ndarray, has: np.ndarray, lex: np.ndarray, kind: str) -> np.ndarray:
    """The same columns as `trainer.heart._learned.features`: question, answer, has-answer[, rules]."""
    parts = [q, a, has[:, None]]
    if kind == "combined":
        parts.append(lex)
    return np.hstack(parts)


def run_heart_train(a: HeartTrainArguments) -> dict[str, Any]:
    records = load_labelled()[: a.max_records]
    search = tuple(int(k) for k in a.search_layers.split(","))
    pools = tuple(a.search_pooling.split(","))
    embedder = Embedder(layers=search, pooling=pools)
    q = embedder([r.text for r in records])
    answers = [usable_answer(r.answer) for r in records]
    given = [i for i, x in enumerate(answers) if x is not None]
    a_full = np.zeros_like(q)
    if given:
        a_full[given] = embedder([answers[i] for i in given])
    has = np.array([float(x is not None) for x in answers])
    lex_with = [classify_lexical(r.text, answer=r.answer) for r in records]
    lex_without = [classify_lexical(r.text) for r in records]
    lexf_with = np.array([lexical_features(lab) for lab in lex_with])
    lexf_without = np.array([lexical_features(lab) for lab in lex_without])
    y = np.array([r.heart_related for r in records], dtype=float)
    truth = y == 1

    search_rows: list[dict[str, Any]] = []
    chosen: dict[str, dict[str, Any]] = {}
    candidates = [
        (layers, pooling)
        for layers in LAYER_SETS
        if set(layers) <= set(search)
        for pooling in POOL_SETS
        if set(pooling) <= set(pools)
    ]
    for kind in KINDS:
        for layers, pooling in candidates:
            cols = _columns(search, pools, layers, pooling)
            x_with = design(q[:, cols], a_full[:, cols], has, lexf_with, kind)
            x_without = design(q[:, cols], np.zeros_like(q[:, cols]), np.zeros_like(has), lexf_without, kind)
            model, cv = train(x_with, x_without, y, dense=len(cols), components=a.components, seed=a.seed)
            row = {"kind": kind, "layers": list(layers), "pooling": list(pooling)}
            row |= {"l2": cv["l2"], "threshold": cv["threshold"]}
            row["cv_f1"] = cv["cv_f1"]
            search_rows.append(row)
            if kind not in chosen or cv["cv_f1"] > chosen[kind]["cv"]["cv_f1"]:
                chosen[kind] = {"layers": layers, "pooling": pooling, "model": model, "cv": cv}

    table: dict[str, Any] = {}
    preds: dict[str, dict[str, np.ndarray]] = {
        "lexical": {
            "with answer": np.array([lab.heart_related for lab in lex_with]),
            "without answer": np.array([lab.heart_related for lab in lex_without]),
        }
    }
    for kind, c in chosen.items():
        thr = c["cv"]["threshold"]
        preds[kind] = {"with answer": c["cv"]["oof_with"] >= thr, "without answer": c["cv"]["oof_without"] >= thr}
    sources = np.array([r.source for r in records])
    themes = np.array([r.theme or "" for r in records])
    for name, views in preds.items():
        table[name] = {}
        for view, pred in views.items():
            cell: dict[str, Any] = {"all": prf_ci(truth, pred, a.bootstrap, a.seed)}
            for s in sorted(set(sources)):
                cell[s] = prf_ci(truth[sources == s], pred[sources == s], a.bootstrap, a.seed)
            cell["recall_by_theme"] = {
                t: {"n": int((themes == t).sum()), "found": int(pred[themes == t].sum())}
                for t in sorted(set(themes) - {""})
            }
            table[name][view] = cell

    def mean_f1(name: str) -> float:
        return float(np.mean([table[name][v]["all"]["f1"] or 0.0 for v in ("with answer", "without answer")]))

    default = max(table, key=mean_f1)
    weights_dir = Path(a.weights_dir)
    weights_dir.mkdir(parents=True, exist_ok=True)
    for kind, c in chosen.items():
        model = c["model"]
        model.meta = {
            "kind": kind,
            "model": MODEL,
            "layers": list(c["layers"]),
            "pooling": list(c["pooling"]),
            "max_tokens": embedder.max_tokens,
            "l2": c["cv"]["l2"],
            "components": c["cv"]["components"],
            "trained_on": f"trainer/heart/labels/heart_labels.jsonl ({len(records)} records, both views)",
            "cv_f1": c["cv"]["cv_f1"],
        }
        model.save(weights_dir / f"{kind}_smollm2.npz")

    timed = chosen.get(default, chosen["combined"])
    cost = measure_cost(records[: a.cost_records], tuple(timed["layers"]), tuple(timed["pooling"]))
    results = {
        "config": asdict(a),
        "records": len(records),
        "positives": int(truth.sum()),
        "layer_search": search_rows,
        "chosen": {
            k: {
                "layers": list(c["layers"]),
                "pooling": list(c["pooling"]),
                "l2": c["cv"]["l2"],
                "threshold": c["cv"]["threshold"],
            }
            for k, c in chosen.items()
        },
        "cv_mean_f1": {name: mean_f1(name) for name in table},
        "default": default,
        "cost": cost,
        "table": table,
    }
    out = Path(a.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    (out / "report.md").write_text(markdown(results))
    return results


def measure_cost(records: list[Any], layers: tuple[int, ...], pooling: tuple[str, ...]) -> dict[str, Any]:
    """Seconds per 1,000 records for features from scratch (an empty cache; the model already converted):
    question and answer passes plus the rules, on this machine."""
    if not records:
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        embedder = Embedder(layers=layers, pooling=pooling, cache=Path(tmp))
        embedder(["warm-up"])  # loading the model is paid once per process, not per record
        start = time.perf_counter()
        embedder([r.text for r in records])
        embedder([x for x in (usable_answer(r.answer) for r in records) if x])
        for r in records:
            classify_lexical(r.text, answer=r.answer)
        seconds = time.perf_counter() - start
    per_1000 = 1000 * seconds / len(records)
    chars = float(np.mean([len(r.text) for r in records]))
    return {
        "records_timed": len(records),
        "mean_chars": chars,
        "seconds_per_1000": per_1000,
        "rar_medicine_train_minutes": per_1000 * RAR_TRAIN_RECORDS / 1000 / 60,
        "layers": list(layers),
        "pooling": list(pooling),
    }


def markdown(results: dict[str, Any]) -> str:
    table = results["table"]
    sources = [s for s in next(iter(next(iter(table.values())).values())) if s not in ("all", "recall_by_theme")]
    cost = results["cost"]
    lines = [
        "# The heart classifiers, cross-validated on the hand labels",
        "",
        f"{results['records']} labelled questions ({results['positives']} heart-related), 5 folds, each question "
        "with and without its answer. Cells: precision [95% bootstrap CI] / recall [95% CI].",
        "",
        "| classifier | view | all | " + " | ".join(sources) + " |",
        "|---" * (3 + len(sources)) + "|",
    ]
    for name, views in table.items():
        for view, cell in views.items():
            lines.append(
                f"| {name} | {view} | {ci_cell(cell['all'])} | " + " | ".join(ci_cell(cell[s]) for s in sources) + " |"
            )
    lines += [
        "",
        "The rules were written and fixed on these labels (trainer/heart/labels/README.md), so `lexical` and the "
        "rules' part of `combined` are measured in-sample here: a fresh set is the fair test.",
        "",
        "Heart-related questions found, by labelled theme (how many labelled in brackets):",
        "",
        "| theme | " + " | ".join(f"{name}, with answer | {name}, without" for name in table) + " |",
        "|---" * (1 + 2 * len(table)) + "|",
    ]
    first = next(iter(table.values()))["with answer"]["recall_by_theme"]
    for theme, v in first.items():
        found = [
            f"{views['with answer']['recall_by_theme'][theme]['found']} | "
            f"{views['without answer']['recall_by_theme'][theme]['found']}"
            for views in table.values()
        ]
        lines.append(f"| {theme} ({v['n']}) | " + " | ".join(found) + " |")
    f1s = ", ".join(f"{k} {v:.3f}" for k, v in results["cv_mean_f1"].items())
    lines += ["", f"Cross-validated F1, mean of the two views: {f1s}; default: **{results['default']}**."]
    for kind, c in results["chosen"].items():
        pooled = "+".join(c["pooling"])
        lines.append(
            f"- {kind}: layers {c['layers']} ({pooled}-pooled), L2 {c['l2']:g}, threshold {c['threshold']:.2f}"
        )
    if cost:
        lines += [
            "",
            f"Cost: {cost['seconds_per_1000']:.0f} s per 1,000 records (features from scratch, {cost['records_timed']} "
            f"labelled questions of {cost['mean_chars']:.0f} characters on average, layers {cost['layers']}, this "
            f"machine's CPU); the RaR-Medicine train split ({RAR_TRAIN_RECORDS:,} records) would take about "
            f"{cost['rar_medicine_train_minutes']:.0f} min.",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> dict[str, Any]:
    return run_command("heart-train", HeartTrainArguments, run_heart_train, argv, markdown)
