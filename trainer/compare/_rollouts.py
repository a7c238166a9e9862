"""The rollouts to compare schemes on: G completions per prompt, from a file, a saved GRPO batch, or a model."""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared import Criterion, GradeItem, Message, load_rubric, prompt_from_record, read_jsonl, rubric_from_record


@dataclass
class Group:
    id: str
    prompt: list[Message]
    rubric: list[Criterion]
    completions: list[str]


def _prompt(row: dict[str, Any]) -> list[Message]:
    p = row.get("prompt")
    if isinstance(p, list) and p and isinstance(p[0], dict) and "role" in p[0]:
        return [Message(role=m["role"], content=m["content"]) for m in p]
    return prompt_from_record(row)


def _rubric(row: dict[str, Any]) -> list[Criterion]:
    try:
        return rubric_from_record(row)
    except Exception:
        return load_rubric(row["rubric"])


def _rows(path: Path) -> list[dict[str, Any]]:
    if path.is_dir():  # a prepared directory's train split, or a directory of saved GRPO batches
        files = [path / "train.jsonl"] if (path / "train.jsonl").exists() else sorted(path.glob("*.jsonl"))
        return [r for f in files for r in read_jsonl(f)]
    return list(read_jsonl(path))


def load_rollouts(path: str | Path) -> list[Group]:
    """Rows with `completions` (a list: one group each), or item rows with `completion` and `group_id`
    (what `RUBRIC_REWARD_DUMP_DIR` saves from a GRPO run), in any rubric format the loaders read."""
    groups: dict[str, Group] = {}
    for n, row in enumerate(_rows(Path(path))):
        if "completions" in row:
            gid = str(row.get("id", n))
            groups[gid] = Group(gid, _prompt(row), _rubric(row), [str(c) for c in row["completions"]])
        elif "completion" in row:
            gid = str(row.get("group_id", n))
            g = groups.setdefault(gid, Group(gid, _prompt(row), _rubric(row), []))
            g.completions.append(str(row["completion"]))
        else:
            raise ValueError(f"{path}: row {n + 1} has neither `completions` nor `completion`")
    return list(groups.values())


def load_prompts(path: str | Path, max_prompts: int | None, seed: int) -> list[Group]:
    """Prompts and rubrics to generate completions for (a prepared directory, or records in any format)."""
    rows = _rows(Path(path))
    random.Random(seed).shuffle(rows)
    out = []
    for n, row in enumerate(rows[: max_prompts or len(rows)]):
        out.append(Group(str(row.get("id", n)), _prompt(row), _rubric(row), []))
    return out


async def _generate(groups: list[Group], base_url: str, model: str, api_key: str | None, **sampling: Any) -> None:
    from openai import AsyncOpenAI

    sem = asyncio.Semaphore(sampling.pop("concurrency"))
    n = sampling.pop("n")
    async with AsyncOpenAI(base_url=base_url, api_key=api_key or "EMPTY", max_retries=3, timeout=600) as client:

        async def one(g: Group) -> None:
            async with sem:
                for _ in range(n):  # one call per completion: `n` is refused or ignored by some servers
                    r = await client.chat.completions.create(
                        model=model, messages=[m.model_dump() for m in g.prompt], **sampling
                    )
                    g.completions.append(r.choices[0].message.content or "")

        await asyncio.gather(*(one(g) for g in groups))


def generate(groups: list[Group], base_url: str, model: str, api_key: str | None, **sampling: Any) -> list[Group]:
    """G sampled completions per prompt from any OpenAI-compatible endpoint (vLLM serving the policy, say)."""
    asyncio.run(_generate(groups, base_url, model, api_key, **sampling))
    return groups


def generate_local(
    groups: list[Group], model_spec: str, *, n: int, temperature: float, max_tokens: int, seed: int
) -> list[Group]:
    """G sampled completions per prompt from a local model (`gguf:smollm2`, `tiny:DIR`, a directory or hub id),
    with transformers on this machine: no server needed."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from trainer.models import resolve_model_path

    path = resolve_model_path(model_spec)
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path).eval()
    torch.manual_seed(seed)
    for g in groups:
        enc = tok.apply_chat_template(
            [m.model_dump() for m in g.prompt], add_generation_prompt=True, return_dict=True, return_tensors="pt"
        )
        with torch.no_grad():
            out = model.generate(
                **enc,
                do_sample=True,
                temperature=temperature,
                max_new_tokens=max_tokens,
                num_return_sequences=n,
                pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id,
            )
        start = enc["input_ids"].shape[1]
        g.completions.extend(tok.decode(row[start:], skip_special_tokens=True) for row in out)
    return groups


def save_rollouts(groups: list[Group], path: Path) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for g in groups:
            row = {
                "id": g.id,
                "prompt": [m.model_dump() for m in g.prompt],
                "rubric": [c.model_dump(exclude_none=True) for c in g.rubric],
                "completions": g.completions,
            }
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def grade_items(groups: list[Group]) -> list[GradeItem]:
    return [
        GradeItem(id=f"{g.id}/{k}", group_id=g.id, prompt=g.prompt, response=c, rubric=g.rubric)
        for g in groups
        for k, c in enumerate(g.completions)
    ]
