"""What the adapters share: rubric and prompt extraction, the grader settings, and null accounting."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from shared._rubrics import load_rubric
from shared._schemas import Criterion, ItemResult, Message

log = logging.getLogger("rubric_rewards.adapters")


def rubric_of(*candidates: Any) -> list[Criterion]:
    """The first candidate that holds a rubric: a list of items, a JSON string of one, or a record with one."""
    errors = []
    for c in candidates:
        if c is None or c == "":
            continue
        if isinstance(c, Mapping) and "rubric" not in c and "rubrics" not in c:
            continue
        try:
            return load_rubric(c)
        except Exception as e:
            errors.append(f"{type(e).__name__}: {e}")
    raise ValueError("no rubric in the sample's fields" + (f" ({'; '.join(errors)})" if errors else ""))


def messages_of(prompt: Any) -> str | list[Message]:
    """A stack's prompt as our prompt: text, or chat messages (OpenAI-style dicts)."""
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, Sequence):
        out = []
        for m in prompt:
            content = m.get("content")
            if isinstance(content, list):  # content blocks
                content = "".join(b.get("text", "") for b in content if isinstance(b, Mapping))
            out.append(Message(role=m.get("role", "user"), content=content or ""))
        return out
    raise TypeError(f"unsupported prompt type {type(prompt).__name__}")


def text_of(completion: Any) -> str:
    """A completion as text: a string, or the assistant turns of a message list."""
    if isinstance(completion, str):
        return completion
    turns = [m for m in completion if isinstance(m, Mapping) and m.get("role", "assistant") == "assistant"]
    parts = []
    for m in turns:
        content = m.get("content")
        if isinstance(content, list):
            content = "".join(b.get("text", "") for b in content if isinstance(b, Mapping))
        if content:
            parts.append(content)
    return "\n".join(parts)


def group_key(value: Any) -> str:
    """A short, stable key for any JSON-able value (a prompt, an index, settings): `g-` and 16 hex digits of
    the SHA-256 of its canonical JSON. The grader caps `group_id` at 256 characters, and a real prompt (an
    exam vignette, a multi-turn chat) is far longer than that: the key must not grow with the prompt."""
    canonical = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return "g-" + hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def null_info(result: ItemResult) -> str:
    """Why an item has no reward: its error type and message, for the stack's log."""
    err = result.error
    return f"{err.type.value}: {err.message}" if err is not None else "unknown"


def report_nulls(stack: str, results: Sequence[ItemResult]) -> int:
    nulls = [r for r in results if r.reward is None]
    for r in nulls:
        log.warning("%s: no rubric reward for item %s (%s)", stack, r.id, null_info(r))
    return len(nulls)
