"""Per-criterion signals of a GRPO run, from its reward dumps: per category the met rate, the pitfalls
triggered per completion, first pass against last, and the criteria whose verdict most often flips within a
group (computed by `shared._signals`, the same functions the training logs use)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared import CriterionResult, GradeItem, ItemResult, read_jsonl
from shared._signals import category_met_rates, flipped_criteria, pitfalls_per_item


def dump_batches(dump_dir: str | Path) -> list[list[dict[str, Any]]]:
    """The dump rows of each reward call, in step order."""
    files = sorted(Path(dump_dir).glob("batch-*.jsonl"), key=lambda p: int(p.stem.rsplit("-", 1)[-1]))
    return [list(read_jsonl(f)) for f in files]


def as_graded(rows: list[dict[str, Any]]) -> tuple[list[GradeItem], list[ItemResult]]:
    items, results = [], []
    for n, row in enumerate(rows):
        rubric = row.get("rubric") or []
        verdicts = row.get("verdicts") or [{} for _ in rubric]
        items.append(
            GradeItem(
                id=str(n), group_id=row.get("group_id"), prompt=row["prompt"], response=row["completion"], rubric=rubric
            )
        )
        criteria = [
            CriterionResult(
                criterion=c["criterion"],
                points=c["points"],
                category=c.get("category"),
                met=v.get("met"),
                p_met=v.get("p_met"),
            )
            for c, v in zip(rubric, verdicts, strict=False)
        ]
        results.append(
            ItemResult(id=str(n), reward=row.get("reward"), reward_std=row.get("reward_std"), criteria=criteria)
        )
    return items, results


def run_signals(dump_dir: str | Path, window: int, top: int = 5) -> dict[str, Any]:
    batches = dump_batches(dump_dir)
    w = max(1, min(window, len(batches) // 2))

    def part(bs: list[list[dict[str, Any]]]) -> dict[str, Any]:
        _, results = as_graded([r for b in bs for r in b])
        return {"met_rate": category_met_rates(results), "pitfalls_per_item": pitfalls_per_item(results)}

    flips: dict[str, int] = {}
    for rows in batches:
        for crit, count in flipped_criteria(*as_graded(rows)).items():
            flips[crit] = flips.get(crit, 0) + count
    ranked = sorted(flips.items(), key=lambda kv: -kv[1])[:top]
    return {"first": part(batches[:w]), "last": part(batches[-w:]), "top_flipped": ranked}
