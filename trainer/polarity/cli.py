"""`python -m trainer polarity-eval`: the pitfall-polarity rules measured on the hand labels.

Writes `results.json` and `report.md` (precision and recall of `avoid` with bootstrap 95% CIs, the rule
that decided each call, every miss) under `--output_dir`.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from shared import pitfall_polarity
from trainer._output import write_results
from trainer.polarity._eval import measure
from trainer.polarity._labels import LabelledPitfall, load_split
from trainer.presets import run_command


@dataclass
class PolarityEvalArguments:
    split: str = field(
        default="test,dev-shared,dev-healthbench",
        metadata={"help": "test | dev-shared | dev-healthbench, or several joined by commas"},
    )
    shared_data: str = field(
        default=os.environ.get("RUBRIC_SHARED_DATA") or "../shared/data",
        metadata={"help": "the team's data folder (the dev split's texts)"},
    )
    output_dir: str = "runs/polarity-eval"


def _rules(it: LabelledPitfall) -> tuple[str, str]:
    call = pitfall_polarity(it.description, [f"title:{it.title}"] if it.title else [])
    return call.polarity.value, call.rule


def _cell(x: float | None, ci: list[float] | None) -> str:
    if x is None:
        return "—"
    return f"{x:.3f} [{ci[0]:.3f}–{ci[1]:.3f}]" if ci else f"{x:.3f}"


def report_md(results: dict[str, Any]) -> str:
    lines = [
        "# Pitfall polarity: the rules on the hand labels",
        "",
        "| split | pitfalls | labels | avoid precision [95% CI] | avoid recall [95% CI] | fault/avoid accuracy |",
        "|---|---|---|---|---|---|",
    ]
    for split, m in results["splits"].items():
        labels = ", ".join(f"{v} {k}" for k, v in sorted(m["labels"].items()))
        lines.append(
            f"| {split} | {m['n']} | {labels} | {_cell(m['avoid_precision'], m['avoid_precision_ci'])} | "
            f"{_cell(m['avoid_recall'], m['avoid_recall_ci'])} | {m['accuracy_fault_avoid']:.3f} |"
        )
    for split, m in results["splits"].items():
        lines += ["", f"## {split}: misses ({len(m['misses'])})", ""]
        lines += [f"- `{x['id']}` label {x['label']}, rules said {x['predicted']} ({x['rule']}): "
                  f"{x['title']} — {x['description']}" for x in m["misses"]]  # fmt: skip
        amb = m["ambiguous_labelled_predicted"]
        if amb:
            lines.append(f"- labelled ambiguous (not scored): the rules said {amb}")
    return "\n".join(lines) + "\n"


def run_polarity_eval(args: PolarityEvalArguments) -> dict[str, Any]:
    results: dict[str, Any] = {"config": asdict(args), "splits": {}}
    for split in [s.strip() for s in args.split.split(",") if s.strip()]:
        try:
            items = load_split(split, Path(args.shared_data))
        except FileNotFoundError as e:
            print(f"skipping {split}: {e}")
            continue
        results["splits"][split] = measure(items, _rules)
    write_results(args.output_dir, results, report_md)
    return results


def main(argv: list[str]) -> dict[str, Any]:
    return run_command("polarity-eval", PolarityEvalArguments, run_polarity_eval, argv, report_md)
