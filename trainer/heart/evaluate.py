"""`python -m trainer heart-eval`: precision and recall of heart classifiers on a hand-labelled set.

Runs the lexical classifier, the learned ones (`learned`, `combined`: SmolLM2 features, offline) or the LLM
classifier (any OpenAI-compatible endpoint), one or several (`--classifier lexical,combined`), on a split of
`trainer/heart/labels/heart_labels.jsonl` or on the blind set over the team's samples; `--compare` adds the
lexical rules and their agreement; `--both_views` scores every classifier with and without the answer.
Writes `results.json` and `report.md`, precision and recall with bootstrap 95% CIs, overall and per source.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from trainer._output import write_results
from trainer.heart import make_classifier
from trainer.heart._labelled import (
    LABELLED_SET,
    agreement,
    evaluate,
    load_labelled,
    load_shared_blind,
)
from trainer.presets import run_command


@dataclass
class HeartEvalArguments:
    split: str = field(
        default="holdout3,holdout4",
        metadata={
            "help": "dev | test | holdout | holdout2 | holdout3 | holdout4 | all, or several joined by commas; "
            "blind-shared: the team's samples in ../shared/data (trainer/heart/labels/shared_blind_labels.jsonl)"
        },
    )
    shared_data: str = field(
        default=os.environ.get("RUBRIC_SHARED_DATA") or "../shared/data",
        metadata={"help": "the team's data folder, for --split blind-shared"},
    )
    classifier: str = field(
        default="lexical", metadata={"help": "lexical | learned | combined | llm, or several joined by commas"}
    )
    compare: bool = field(default=False, metadata={"help": "also run lexical, and report the agreement"})
    both_views: bool = field(default=False, metadata={"help": "score each classifier with and without the answer"})
    llm_base_url: str = field(default="http://localhost:8000/v1", metadata={"help": "judge endpoint for llm"})
    llm_model: str = "judge"
    llm_api_key: str | None = None
    use_answer: bool = field(
        default=True,
        metadata={"help": "give classifiers the source's answer, as prepare does with a reference answer"},
    )
    max_records: int | None = field(default=None, metadata={"help": "the first N of the split (slow endpoints)"})
    labelled_set: str = str(LABELLED_SET)
    output_dir: str = "runs/heart-eval"


def _fmt(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}"


def ci_cell(m: dict[str, Any]) -> str:
    """`precision [lo, hi] / recall [lo, hi]` of a `prf_ci` result."""
    p, r = m["precision_ci"], m["recall_ci"]
    return (
        f"{_fmt(m['precision'])} [{_fmt(p[0])}, {_fmt(p[1])}] / {_fmt(m['recall'])} [{_fmt(r[0])}, {_fmt(r[1])}]"
        f" ({m['positives']} of {m['n']})"
    )


def report_md(results: dict[str, Any]) -> str:
    answers = "with" if results["config"]["use_answer"] else "without"
    lines = [f"# Heart classifier on the labelled set (split `{results['split']}`, {answers} the answer)", ""]
    if "views" in results:
        sources = [k for k in next(iter(next(iter(results["views"].values())).values())) if k != "all"]
        lines += [
            "Precision [95% bootstrap CI] / recall [95% CI]:",
            "",
            "| classifier | view | all | " + " | ".join(sources) + " |",
            "|---" * (3 + len(sources)) + "|",
        ]
        for name, views in results["views"].items():
            for view, cell in views.items():
                row = " | ".join(ci_cell(cell[k]) for k in ["all", *sources])
                lines.append(f"| {name} | {view} | {row} |")
        lines.append("")
    for name, res in results["classifiers"].items():
        o = res["overall"]
        lines += [
            f"## {name}: precision {_fmt(o['precision'])}, recall {_fmt(o['recall'])}, F1 {_fmt(o['f1'])}",
            f"n={res['n']}, heart-related {res['positives']}; tp {o['tp']}, fp {o['fp']}, fn {o['fn']}, tn {o['tn']}; "
            f"theme right on {_fmt(res['theme_accuracy_on_true_positives'])} of the true positives",
            "",
            "| source | precision | recall | tp | fp | fn |",
            "|---|---|---|---|---|---|",
        ]
        for s, v in res["by_source"].items():
            lines.append(f"| {s} | {_fmt(v['precision'])} | {_fmt(v['recall'])} | {v['tp']} | {v['fp']} | {v['fn']} |")
        lines += ["", "| labelled theme | heart-related questions | found heart-related | recall |"]
        lines += ["|---|---|---|---|"]
        for t, v in res["found_by_theme"].items():
            lines.append(f"| {t} | {v['n']} | {v['found']} | {_fmt(v['found'] / v['n'])} |")
        lines += ["", "| theme (one against the rest) | precision | recall | tp | fp | fn |"]
        lines += ["|---|---|---|---|---|---|"]
        for t, v in res["by_theme"].items():
            lines.append(f"| {t} | {_fmt(v['precision'])} | {_fmt(v['recall'])} | {v['tp']} | {v['fp']} | {v['fn']} |")
        lines.append("")
    if "agreement" in results:
        a = results["agreement"]
        n = len(next(iter(results["classifiers"].values()))["methods"])
        first = a.get("classifier", "llm")
        lines.append(f"The {first} classifier's own label was used for {a['llm_labels_used']} of {n} questions.")
        lines.append(f"Agreement {first} vs lexical, all: {a['all']['agreement']:.3f} (kappa {a['all']['kappa']:.3f})")
        if a["where_llm_answered"]:
            w = a["where_llm_answered"]
            lines.append(f"Agreement where it gave its own label: {w['agreement']:.3f} (kappa {w['kappa']:.3f})")
    return "\n".join(lines) + "\n"


def run_heart_eval(args: HeartEvalArguments) -> dict[str, Any]:
    if args.split == "blind-shared":
        if not Path(args.shared_data).exists():
            raise SystemExit(f"the blind set's records are in ../shared/data: not found at {args.shared_data}")
        records = load_shared_blind(Path(args.shared_data))[: args.max_records]
    else:
        records = load_labelled(Path(args.labelled_set), args.split)[: args.max_records]
    if not records:
        raise SystemExit(f"no labelled records in split {args.split!r}")
    names = [n.strip() for n in args.classifier.split(",") if n.strip()]
    if args.compare and "lexical" not in names:
        names.append("lexical")
    classifiers = {name: make_classifier(name, args) for name in names}
    results: dict[str, Any] = {"config": asdict(args), "split": args.split, "classifiers": {}}
    for name, clf in classifiers.items():
        results["classifiers"][name] = evaluate(records, clf, use_answer=args.use_answer)
    if args.both_views:
        results["views"] = {
            name: {
                "with answer": results["classifiers"][name]["with_ci"]
                if args.use_answer
                else evaluate(records, clf, use_answer=True)["with_ci"],
                "without answer": evaluate(records, clf, use_answer=False)["with_ci"]
                if args.use_answer
                else results["classifiers"][name]["with_ci"],
            }
            for name, clf in classifiers.items()
        }
    if args.compare and len(classifiers) == 2:
        first = names[0]
        a, b = (results["classifiers"][n]["predictions"] for n in classifiers)
        methods = results["classifiers"][first]["methods"]
        own = [i for i, m in enumerate(methods) if m == first]
        results["agreement"] = {
            "classifier": first,
            "all": agreement(a, b),
            "llm_labels_used": len(own),
            # where the endpoint's answer was unusable the LLM classifier is the lexical one: leave those out
            "where_llm_answered": agreement([a[i] for i in own], [b[i] for i in own]) if own else None,
        }
    write_results(args.output_dir, results, report_md)
    return results


def main(argv: list[str]) -> dict[str, Any]:
    return run_command("heart-eval", HeartEvalArguments, run_heart_eval, argv, report_md)
