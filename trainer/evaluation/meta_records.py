"""Meta-eval records built locally: HealthBench conversations and completions, with labels kept apart.

simple-evals' meta-eval file pairs a (conversation, completion, criterion) with physicians'
`binary_labels`. Where that file is out of reach, or for labels of your own, a labels file names the
HealthBench record (`prompt_id`), the completion (`ideal`, or `ref:<k>` for the k-th reference
completion), the criterion (`criterion_index` into the record's rubric) and the labels with their
labellers; `build_meta_records` joins them into records the meta-evaluation reads. The labels file holds
no text of the data it points into.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class LabelError(ValueError):
    """A label row that does not point at a completion and criterion of the HealthBench file."""


def _completion(record: dict[str, Any], which: str) -> str:
    data = record.get("ideal_completions_data") or {}
    if which == "ideal":
        text = data.get("ideal_completion")
    elif which.startswith("ref:") and which[4:].isdigit():
        refs = data.get("ideal_completions_ref_completions") or []
        k = int(which[4:])
        text = refs[k] if k < len(refs) else None
    else:
        raise LabelError(f"completion {which!r}: use 'ideal' or 'ref:<k>'")
    if not text:
        raise LabelError(f"{record['prompt_id']}: no {which} completion in this file")
    return str(text)


def _category(tags: list[str]) -> str:
    """The criterion's cluster, as the reference reports per cluster; example-level criteria share one."""
    return next((t.split(":", 1)[1] for t in tags if t.startswith("cluster:")), "example-level")


def build_meta_records(healthbench: Iterable[dict[str, Any]], labels: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records in the meta-eval layout (`prompt`, `completion`, `rubric`, `category`, `binary_labels`,
    `anonymized_physician_ids`), one per label row, in the labels' order."""
    by_id = {r["prompt_id"]: r for r in healthbench}
    out = []
    for n, row in enumerate(labels, 1):
        record = by_id.get(row["prompt_id"])
        if record is None:
            raise LabelError(f"label {n}: prompt_id {row['prompt_id']} is not in the HealthBench data")
        i = int(row["criterion_index"])
        if not 0 <= i < len(record["rubrics"]):
            raise LabelError(f"label {n}: criterion_index {i} outside the rubric's {len(record['rubrics'])}")
        labs, who = list(row["binary_labels"]), list(row["labeller_ids"])
        if not labs or len(labs) != len(who) or not all(isinstance(x, bool) for x in labs):
            raise LabelError(f"label {n}: binary_labels must be booleans, one per labeller_ids entry")
        criterion = record["rubrics"][i]
        out.append(
            {
                "prompt_id": record["prompt_id"],
                "prompt": record["prompt"],
                "completion": _completion(record, row["completion"]),
                "completion_id": row["completion"],
                "rubric": criterion["criterion"],
                "criterion_index": i,
                "points": criterion["points"],
                "category": _category(criterion.get("tags", [])),
                "binary_labels": labs,
                "anonymized_physician_ids": who,
            }
        )
    return out
