"""The hand-labelled pitfalls with their texts: the dev split's texts stay in ../shared (joined here in
place), the test split's records ship with the labels (`trainer/polarity/labels/`)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

LABELS_DIR = Path(__file__).resolve().parent / "labels"
SHARED_SAMPLE = ("rar_medicine", "rar_medicine_hf_schema_sample104.jsonl")
HEALTHBENCH_SAMPLE = ("healthbench", "hard_sample50.jsonl")
SPLITS = ("test", "dev-shared", "dev-healthbench")


@dataclass(frozen=True)
class LabelledPitfall:
    id: str
    split: str
    polarity: str  # fault | avoid | ambiguous
    title: str
    description: str
    weight: float


def record_id(question: str) -> str:
    return "rar-" + hashlib.sha256(question.encode()).hexdigest()[:12]


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _join(labels: list[dict], records: list[dict]) -> list[LabelledPitfall]:
    by_id = {record_id(r["question"]): r for r in records}
    out = []
    for lab in labels:
        rid, k = lab["id"].rsplit("/", 1)
        if rid not in by_id:
            raise ValueError(f"label {lab['id']}: no such record (has the sample changed?)")
        c = by_id[rid]["rubric"][int(k)]
        out.append(LabelledPitfall(lab["id"], lab["split"], lab["polarity"], c["title"], c["description"], c["weight"]))
    return out


def _join_healthbench(labels: list[dict], records: list[dict]) -> list[LabelledPitfall]:
    by_id = {r["prompt_id"]: r for r in records}
    out = []
    for lab in labels:
        rid, k = lab["id"].removeprefix("hb-").rsplit("/", 1)
        if rid not in by_id:
            raise ValueError(f"label {lab['id']}: no such record (has the sample changed?)")
        c = by_id[rid]["rubrics"][int(k)]
        out.append(LabelledPitfall(lab["id"], lab["split"], lab["polarity"], "", c["criterion"], c["points"]))
    return out


def _shared(shared_data: Path | None, parts: tuple[str, str]) -> list[dict]:
    path = shared_data.joinpath(*parts) if shared_data is not None else None
    if path is None or not path.exists():
        raise FileNotFoundError(f"the dev splits' texts are in ../shared/data: not found at {path}")
    return _read_jsonl(path)


def load_split(split: str, shared_data: Path | None = None) -> list[LabelledPitfall]:
    """`test` (records shipped here), `dev-shared` (the team's RaR-Medicine sample, read in place from
    `shared_data`) or `dev-healthbench` (every negative criterion of the team's HealthBench hard sample)."""
    if split == "test":
        return _join(_read_jsonl(LABELS_DIR / "test_labels.jsonl"), _read_jsonl(LABELS_DIR / "test_records.jsonl"))
    if split == "dev-shared":
        return _join(_read_jsonl(LABELS_DIR / "shared_labels.jsonl"), _shared(shared_data, SHARED_SAMPLE))
    if split == "dev-healthbench":
        labels = _read_jsonl(LABELS_DIR / "healthbench_labels.jsonl")
        return _join_healthbench(labels, _shared(shared_data, HEALTHBENCH_SAMPLE))
    raise ValueError(f"unknown split {split!r}: one of {', '.join(SPLITS)}")
