"""Rubric reward function for TRL's GRPOTrainer, calling the grader over HTTP.

Use it by dotted path (``trl grpo ... --reward_funcs shared.rewards.rubric_reward``, configured by
RUBRIC_REWARD_* and RUBRIC_GRADER_* variables) or build one in code with `make_rubric_reward`.
It needs no torch: TRL hands it plain lists and turns the `None`s it returns into NaN, which TRL
leaves out of the group baseline.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared._client import AsyncGraderClient, ClientSettings
from shared._rubrics import load_rubric
from shared._schemas import GradeItem, GradeResponse, GroupStats, JudgeOptions, Message, SchemeSpec
from shared._signals import category_of, signals

RewardFunc = Callable[..., Awaitable[list[float | None]]]


class RewardSettings(BaseSettings):
    """Environment variables prefixed RUBRIC_REWARD_."""

    model_config = SettingsConfigDict(env_prefix="RUBRIC_REWARD_", env_file=".env", extra="ignore")

    scheme: str = "hybrid"
    scheme_params: dict[str, Any] = Field(default_factory=dict)
    judge: JudgeOptions = Field(default_factory=JudgeOptions)
    on_judge_error: Literal["null", "skip"] = "null"
    pitfall_polarity: Literal["literal", "auto"] | None = Field(
        None, description="'literal' | 'auto' for every grade call; unset: the grader's GRADER_PITFALL_POLARITY"
    )
    rubric_column: str = "rubric"
    on_grader_error: Literal["raise", "none"] = Field(
        "raise", description="'raise' stops training when the grader is down; 'none' returns all-None rewards"
    )
    null_reward: float | None = Field(
        None,
        description="for stacks with no missing reward (verl, verifiers; OpenRLHF if set): the value given to an "
        "item the grader could not score, always counted (rubric_null); TRL's function returns None instead",
    )
    dump_dir: str | None = Field(
        None,
        description="save every batch's prompts, completions and rubrics here as JSONL "
        "(`python -m trainer compare-schemes --rollouts DIR` grades them under every scheme)",
    )
    log_schemes: list[str | SchemeSpec] = Field(
        default_factory=list,
        description="more schemes scored from the same judge pass and logged as rubric/<scheme>/... metrics, "
        "to compare rewards while training on one (RUBRIC_REWARD_LOG_SCHEMES='[\"complexity\"]')",
    )


def _content(content: Any) -> str:
    """Message content as text: a string, or the text of a list of content blocks."""
    if isinstance(content, list):
        return "".join(b.get("text", "") for b in content if isinstance(b, dict))
    return content or ""


def completion_text(completion: Any) -> str:
    """A completion as text: a string, or the assistant turns of a chat completion."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence):
        turns = [m for m in completion if isinstance(m, dict) and m.get("role", "assistant") == "assistant"]
        return "\n".join(t for t in (_content(m.get("content")) for m in turns) if t)
    raise TypeError(f"unsupported completion type {type(completion).__name__}")


def _prompt(prompt: Any) -> str | list[Message]:
    if isinstance(prompt, str):
        return prompt
    return [Message(role=m["role"], content=_content(m["content"])) for m in prompt]


def group_ids(prompts: Sequence[Any], call: int) -> list[str]:
    """Consecutive completions of the same prompt share a group (TRL repeats each prompt G times)."""
    out: list[str] = []
    run = -1
    previous: str | None = None
    for p in prompts:
        key = json.dumps(p, sort_keys=True, default=str)
        if key != previous:
            run += 1
            previous = key
        out.append(f"{call}-{run}")
    return out


def build_items(
    prompts: Sequence[Any], completions: Sequence[Any], rubrics: Sequence[Any], call: int
) -> list[GradeItem]:
    gids = group_ids(prompts, call)
    return [
        GradeItem(id=str(i), prompt=_prompt(p), response=completion_text(c), rubric=load_rubric(r), group_id=g)
        for i, (p, c, r, g) in enumerate(zip(prompts, completions, rubrics, gids, strict=True))
    ]


def _spread(
    prefix: str, rewards: list[float], groups: dict[str, GroupStats], log: Callable[[str, float], None]
) -> None:
    if rewards:
        mean = sum(rewards) / len(rewards)
        log(f"{prefix}/reward_mean", mean)
        log(f"{prefix}/reward_std", (sum((x - mean) ** 2 for x in rewards) / len(rewards)) ** 0.5)
    if groups:
        log(f"{prefix}/frac_zero_variance_groups", sum(g.zero_variance for g in groups.values()) / len(groups))


async def grade_with(client: AsyncGraderClient, items: Sequence[GradeItem], cfg: RewardSettings) -> GradeResponse:
    """One grader call with the RUBRIC_REWARD_* choices (scheme, judge, extra schemes to log)."""
    return await client.grade(
        items,
        scheme=cfg.scheme,
        scheme_params=cfg.scheme_params,
        judge=cfg.judge,
        on_judge_error=cfg.on_judge_error,
        extra_schemes=cfg.log_schemes,
        pitfall_polarity=cfg.pitfall_polarity,
    )


def dump_batch(items: Sequence[GradeItem], path: Path, resp: GradeResponse | None = None) -> None:
    """One GRPO batch as item rows (group_id, prompt, completion, rubric), for comparing schemes later; with
    the grader's answer, each row also keeps its reward, the reward's std, a null's reason and every
    criterion's verdict (`met`, `p_met`), so a run's rewards can be studied without re-judging."""
    path.parent.mkdir(parents=True, exist_ok=True)
    results = {r.id: r for r in resp.results} if resp is not None else {}
    with open(path, "w", encoding="utf-8") as f:
        for it in items:
            row: dict[str, Any] = {
                "group_id": it.group_id,
                "prompt": [m.model_dump() for m in it.messages()],
                "completion": it.response,
                "rubric": [c.model_dump(exclude_none=True) for c in it.rubric],
            }
            if (r := results.get(it.id)) is not None:
                row["reward"] = r.reward
                row["reward_std"] = r.reward_std
                row["error"] = r.error.type.value if r.error is not None else None
                row["verdicts"] = [
                    {"met": c.met, "p_met": c.p_met, "category": category_of(c), "penalised_when": c.penalised_when}
                    for c in r.criteria
                ]
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def log_metrics(
    resp: GradeResponse, latency_s: float, log: Callable[[str, float], None], items: Sequence[GradeItem] = ()
) -> None:
    if items:
        for name, value in signals(items, resp.results).items():
            log(name, value)
    _spread("rubric", [r.reward for r in resp.results if r.reward is not None], resp.groups, log)
    for key in resp.extra_schemes:
        extra = [x.reward for r in resp.results if (x := r.extra_rewards.get(key)) and x.reward is not None]
        _spread(f"rubric/{key}", extra, resp.extra_groups.get(key, {}), log)
    stds = [r.reward_std for r in resp.results if r.reward_std is not None]
    if stds:
        log("rubric/judge_uncertainty_mean", sum(stds) / len(stds))
    log("rubric/null_frac", sum(r.reward is None for r in resp.results) / len(resp.results))
    # items whose batch never got through to the grader (an outage longer than the client's deadline)
    log(
        "rubric/lost_items",
        float(sum(r.error is not None and r.error.type == "grader_unavailable" for r in resp.results)),
    )
    failures = Counter(c.error.type.value for r in resp.results for c in r.criteria if c.error is not None)
    for r in resp.results:
        if r.error is not None and not any(c.error for c in r.criteria):
            failures[r.error.type.value] += 1
    for etype, count in failures.items():
        log(f"rubric/failures/{etype}", float(count))
    log("rubric/grader_latency_s", latency_s)
    log("rubric/judge_calls", float(resp.usage.judge_calls))
    log("rubric/cache_hits", float(resp.usage.cache_hits))


def make_rubric_reward(
    reward: RewardSettings | None = None,
    client: ClientSettings | None = None,
    *,
    name: str | None = None,
    on_response: Callable[[GradeResponse], None] | None = None,
) -> RewardFunc:
    """An async reward function for GRPOTrainer; `on_response` sees every grader response (tests, logs)."""
    cfg = reward or RewardSettings()
    client_settings = client or ClientSettings()
    clients: dict[int, AsyncGraderClient] = {}  # one pooled client per event loop
    calls = 0

    async def rubric_reward(prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
        nonlocal calls
        calls += 1
        rubrics = kwargs.get(cfg.rubric_column)
        if rubrics is None:
            raise KeyError(f"the dataset has no '{cfg.rubric_column}' column (RUBRIC_REWARD_RUBRIC_COLUMN)")
        loop_id = id(asyncio.get_running_loop())
        if loop_id not in clients:
            clients[loop_id] = AsyncGraderClient(client_settings)
        items = build_items(prompts, completions, rubrics, calls)
        dump = Path(cfg.dump_dir) / f"batch-{os.getpid()}-{calls:06d}.jsonl" if cfg.dump_dir else None
        start = time.perf_counter()
        try:
            resp = await grade_with(clients[loop_id], items, cfg)
        except Exception:
            if dump is not None:
                dump_batch(items, dump)
            if cfg.on_grader_error == "none":
                return [None] * len(items)
            raise
        if dump is not None:
            dump_batch(items, dump, resp)
        if on_response is not None:
            on_response(resp)
        log_metric = kwargs.get("log_metric")
        if log_metric is not None:
            log_metrics(resp, time.perf_counter() - start, log_metric, items)
        return [r.reward for r in resp.results]

    rubric_reward.__name__ = name or f"rubric_{cfg.scheme}"
    rubric_reward.__qualname__ = rubric_reward.__name__
    return rubric_reward


_default: RewardFunc | None = None


async def rubric_reward(prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
    """Dotted-path entry point for `trl grpo --reward_funcs shared.rewards.rubric_reward` (env-configured)."""
    global _default
    if _default is None:
        _default = make_rubric_reward()
    return await _default(prompts, completions, **kwargs)
