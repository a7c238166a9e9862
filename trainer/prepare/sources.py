"""Reading RaR-Medicine-style records from the Hugging Face hub or local JSONL/JSON/Parquet files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shared import read_jsonl
from trainer._errors import SourceUnavailable


def _read_file(path: Path) -> Iterator[dict[str, Any]]:
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        yield from read_jsonl(path)
    elif suffix == ".json":
        data = json.loads(path.read_text())
        yield from (data if isinstance(data, list) else data.get("data", []))
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        yield from pq.read_table(path).to_pylist()
    else:
        raise SourceUnavailable(f"unsupported file type {path}: use .jsonl, .json or .parquet")


def load_records(source: str, splits: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(split, record) pairs from a local file/directory, or a hub dataset id when no such path exists."""
    path = Path(source)
    if path.is_file():
        yield from (("train", r) for r in _read_file(path))
        return
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".jsonl", ".json", ".parquet"))
        if not files:
            raise SourceUnavailable(f"no .jsonl/.json/.parquet files in {path}")
        for f in files:
            split = next((s for s in ("train", "validation", "test") if s in f.stem), "train")
            yield from ((split, r) for r in _read_file(f))
        return
    try:
        from datasets import load_dataset

        for split in splits:
            for r in load_dataset(source, split=split):
                yield split, dict(r)
    except Exception as e:
        raise SourceUnavailable(
            f"could not load '{source}' from the Hugging Face hub ({type(e).__name__}: {e}). Offline? Download it "
            "elsewhere and pass a local file or directory: --source path/to/rar_medicine.jsonl (JSONL, JSON or "
            "Parquet in the Hugging Face schema, or the paper's heart-subset format)."
        ) from e
