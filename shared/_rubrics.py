"""Loaders that turn each real rubric format into our `Criterion` list.

Formats:
- RaR-Medicine (Hugging Face schema): ``rubric: [{description, title, weight}]``, ``question``.
- The seed paper's heart subset: ``rubrics: [{criterion, points, title}]``, ``prompt`` (chat list).
- HealthBench: ``rubrics: [{criterion, points, tags}]``, multi-turn ``prompt``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from shared._schemas import MAX_ID_CHARS, Criterion, Message

RecordFormat = Literal["rar_medicine", "heart_subset", "healthbench"]


class RubricFormatError(ValueError):
    """A record or rubric that no loader understands; `loc` says where (e.g. ``("rubrics", 2, "points")``)."""

    def __init__(self, msg: str, loc: tuple[str | int, ...] = ()) -> None:
        super().__init__(msg)
        self.msg = msg
        self.loc = loc

    def within(self, *outer: str | int) -> RubricFormatError:
        return RubricFormatError(self.msg, (*outer, *self.loc))


def _criterion(item: Any) -> Criterion:
    if not isinstance(item, Mapping):
        raise RubricFormatError(f"a rubric item must be an object, got {type(item).__name__}")
    try:
        return criterion_from_item(item)
    except ValidationError as e:
        err = e.errors()[0]
        raise RubricFormatError(err["msg"], tuple(err["loc"])) from None


def _criteria(items: Any, key: str | None) -> list[Criterion]:
    """Every item of a rubric list, errors located at the item's index (under `key` when given)."""
    outer: tuple[str | int, ...] = (key,) if key else ()
    if not isinstance(items, list):
        raise RubricFormatError(f"a rubric must be a list of items, got {type(items).__name__}", outer)
    if not items:
        raise RubricFormatError("rubric is empty", outer)
    out = []
    for i, item in enumerate(items):
        try:
            out.append(_criterion(item))
        except RubricFormatError as e:
            raise e.within(*outer, i) from None
    return out


MAX_TITLE_CHARS = MAX_ID_CHARS - len("title:")  # a title travels as the tag "title:<title>"


def _title_tag(item: Mapping[str, Any]) -> list[str]:
    title = item.get("title")
    if title is not None and not isinstance(title, str):
        raise RubricFormatError("title must be a string", ("title",))
    if title and len(title) > MAX_TITLE_CHARS:
        raise RubricFormatError(f"title must have at most {MAX_TITLE_CHARS} characters", ("title",))
    return [f"title:{title}"] if title else []


def criterion_from_item(item: Mapping[str, Any]) -> Criterion:
    """One rubric item in any supported format (or ours) → `Criterion`."""
    if item.get("criterion") is not None and item.get("points") is not None:
        tags = item.get("tags")
        tags = [] if tags is None else tags
        if not isinstance(tags, list):
            raise RubricFormatError("tags must be a list of strings", ("tags",))
        tags = list(tags) + _title_tag(item)
        return Criterion(
            criterion=item["criterion"],
            points=item["points"],
            category=item.get("category"),
            id=item.get("id"),
            tags=tags,
            polarity=item.get("polarity"),
        )
    if item.get("description") is not None and item.get("weight") is not None:
        return Criterion(criterion=item["description"], points=item["weight"], id=item.get("id"), tags=_title_tag(item))
    raise RubricFormatError(
        f"rubric item needs 'criterion'+'points' or 'description'+'weight', got keys {sorted(item)}"
    )


def load_rubric(value: Any) -> list[Criterion]:
    """A rubric column value (list of items, a JSON string of one, or a whole record) → criteria."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as e:
            raise RubricFormatError(f"rubric string is not JSON: {e}") from e
    if isinstance(value, Mapping):
        return rubric_from_record(value)
    if isinstance(value, Iterable) and not isinstance(value, list):
        value = list(value)
    return _criteria(value, None)


def detect_format(record: Mapping[str, Any]) -> RecordFormat:
    if isinstance(record.get("rubric"), list):
        return "rar_medicine"
    rubrics = record.get("rubrics")
    if isinstance(rubrics, list) and rubrics:
        first = rubrics[0]
        if (isinstance(first, Mapping) and "tags" in first) or "prompt_id" in record:
            return "healthbench"
        return "heart_subset"
    keys = sorted(str(k) for k in record)[:20]
    raise RubricFormatError(f"cannot tell the record's format: it needs 'rubric' or 'rubrics' (keys: {keys})")


def rubric_from_record(record: Mapping[str, Any]) -> list[Criterion]:
    fmt = detect_format(record)
    key = "rubric" if fmt == "rar_medicine" else "rubrics"
    return _criteria(record[key], key)


def prompt_from_record(record: Mapping[str, Any]) -> list[Message]:
    """The conversation to answer: HealthBench and heart-subset chat lists are kept whole."""
    prompt = record.get("prompt")
    if isinstance(prompt, list) and prompt:
        return [Message(role=m["role"], content=m["content"]) for m in prompt]
    if isinstance(prompt, str) and prompt:
        return [Message(role="user", content=prompt)]
    if record.get("question"):
        return [Message(role="user", content=record["question"])]
    raise RubricFormatError("record has neither 'prompt' nor 'question'")


def read_jsonl(path: str | Path) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as e:
                raise RubricFormatError(f"{path}:{n}: not JSON: {e}") from e
