"""The prepared directory's files, and reading one split back as a Dataset (what sft and grpo train on)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared import read_jsonl
from trainer._errors import SourceUnavailable

FILES = {"grpo": "train.jsonl", "eval": "test.jsonl", "sft": "sft.jsonl"}
AUDIT = "pitfall_audit.jsonl"  # --normalise_pitfalls: every avoid or ambiguous pitfall, rewritten or kept
_LEGACY = {"grpo": "grpo.jsonl", "eval": "eval.jsonl", "sft": "sft.jsonl"}


def load_jsonl_dataset(path: str | Path, name: str) -> Any:
    """A prepared split (`grpo`, `sft` or `eval` of a prepared directory, or a JSONL file) as a Dataset."""
    from datasets import Dataset

    p = Path(path)
    file = p
    if p.is_dir():
        file = p / FILES[name]
        if not file.exists() and (p / _LEGACY[name]).exists():  # prepared before the split files were renamed
            file = p / _LEGACY[name]
    if not file.exists():
        raise SourceUnavailable(f"no prepared data at {file}: run `python -m trainer prepare` first")
    rows = list(read_jsonl(file))
    if not rows:
        raise SourceUnavailable(f"{file} is empty: loosen the prepare filters or use more source records")
    return Dataset.from_list(rows)
