"""HealthBench examples: official files by URL (or a local path), heart-related subset, seeded sample."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared import Criterion, Message, prompt_from_record, read_jsonl, rubric_from_record
from trainer._errors import SourceUnavailable
from trainer.heart import classify_lexical

_BASE = "https://openaipublic.blob.core.windows.net/simple-evals/healthbench/"
OFFICIAL = {
    "healthbench": _BASE + "2025-05-07-06-14-12_oss_eval.jsonl",
    "healthbench-hard": _BASE + "hard_2025-05-08-21-00-10.jsonl",
    "healthbench-consensus": _BASE + "consensus_2025-05-09-20-00-46.jsonl",
    "healthbench-meta": _BASE + "2025-05-07-06-14-12_oss_meta_eval.jsonl",
}


@dataclass
class Example:
    prompt_id: str
    conversation: list[Message]
    rubric: list[Criterion]
    example_tags: list[str]
    cardiac_theme: str | None
    ideal_completion: str | None


def read_records(source: str, cache_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """A local JSONL, a name from OFFICIAL, or a URL (downloaded once into `cache_dir`)."""
    url = OFFICIAL.get(source, source)
    if not url.startswith(("http://", "https://")):
        path = Path(url)
        if not path.exists():
            raise SourceUnavailable(f"no HealthBench file at {path}")
        return list(read_jsonl(path))
    cache = Path(cache_dir or ".") / Path(url).name
    if not cache.exists():
        import httpx

        try:
            r = httpx.get(url, timeout=120, follow_redirects=True)
            r.raise_for_status()
        except httpx.HTTPError as e:
            raise SourceUnavailable(
                f"could not download {url} ({type(e).__name__}: {e}). Offline? Download it elsewhere and pass "
                "--data path/to/healthbench.jsonl"
            ) from e
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(r.content)
    return list(read_jsonl(cache))


def to_example(record: dict[str, Any]) -> Example:
    conversation = prompt_from_record(record)
    text = "\n".join(m.content for m in conversation if m.role == "user")
    label = classify_lexical(text)
    ideal = (record.get("ideal_completions_data") or {}).get("ideal_completion")
    return Example(
        prompt_id=str(record.get("prompt_id") or record.get("id")),
        conversation=conversation,
        rubric=rubric_from_record(record),
        example_tags=list(record.get("example_tags") or []),
        cardiac_theme=label.theme,
        ideal_completion=ideal,
    )


def select(records: list[dict[str, Any]], *, heart_only: bool, n: int | None, seed: int) -> list[Example]:
    """Heart-related conversations (whole, every turn kept), then a seeded sample of n."""
    examples = [to_example(r) for r in records]
    if heart_only:
        examples = [e for e in examples if e.cardiac_theme is not None]
    examples.sort(key=lambda e: e.prompt_id)
    if n is not None and n < len(examples):
        examples = random.Random(seed).sample(examples, n)
        examples.sort(key=lambda e: e.prompt_id)
    return examples


def load_jsonl_map(path: Path, key: str = "prompt_id") -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:  # a line cut short by a crash: that example is redone
                continue
            out[row[key]] = row
    return out


def append_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with open(path, "a", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
        f.flush()
