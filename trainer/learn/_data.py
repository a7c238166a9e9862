"""Which records a learning run trains and evaluates on."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from shared import RubricFormatError, prompt_from_record, read_jsonl, rubric_from_record
from trainer.heart import classify_lexical
from trainer.prepare import HEART_SYSTEM_PROMPT


def _row(rec: dict[str, Any], heart: bool, theme: str | None) -> dict[str, Any] | None:
    try:
        criteria = rubric_from_record(rec)
        turns = [m.model_dump() for m in prompt_from_record(rec) if m.role != "system"]
    except (RubricFormatError, KeyError, ValueError):
        return None
    return {
        "prompt": [{"role": "system", "content": HEART_SYSTEM_PROMPT}, *turns],
        "rubric": [{"criterion": c.criterion, "points": c.points} for c in criteria],
        "heart_related": heart,
        "heart_theme": theme,
    }


def training_rows(
    records: Iterable[dict[str, Any]], n: int, *, seed: int, min_criteria: int = 4, max_chars: int = 1200
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """`n` GRPO prompts: every heart-related record first (lexical filter), topped up with other records
    when there are too few to learn from; prompts longer than `max_chars` are left out (CPU generation)."""
    heart: list[dict[str, Any]] = []
    other: list[dict[str, Any]] = []
    for rec in records:
        question = str(rec.get("question") or "")
        label = classify_lexical(question, answer=rec.get("reference_answer")) if question else None
        row = _row(rec, bool(label and label.heart_related), label.theme if label else None)
        if row is None or len(row["rubric"]) < min_criteria:
            continue
        if sum(len(m["content"]) for m in row["prompt"][1:]) > max_chars:
            continue
        (heart if row["heart_related"] else other).append(row)
    rng = random.Random(seed)
    rng.shuffle(heart)
    rng.shuffle(other)
    chosen = (heart + other)[:n]
    return chosen, {"heart": min(len(heart), n), "topped_up": max(0, len(chosen) - len(heart))}


def write_rows(rows: list[dict[str, Any]], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return path


def concat_jsonl(sources: list[Path], out: Path) -> Path:
    """Several HealthBench files as one (evaluate reads one), in order, without duplicate prompt ids."""
    seen: set[str] = set()
    rows = []
    for src in sources:
        for rec in read_jsonl(src):
            pid = str(rec.get("prompt_id"))
            if pid not in seen:
                seen.add(pid)
                rows.append(rec)
    return write_rows(rows, out)
