"""verl's custom reward function (read from verl 0.9.1).

    reward.custom_reward_function.path=<site-packages>/shared/adapters/verl.py
    reward.custom_reward_function.name=compute_score          # or compute_score_batch with reward_manager=batch

verl calls `compute_score(data_source=, solution_str=, ground_truth=, extra_info=)` per sample (the naive
reward manager, and awaited when async in the reward loop) or the plural form per batch (the batch
reward manager); `custom_reward_function.reward_kwargs` arrive as keyword arguments. The rubric is the
sample's `ground_truth` (`reward_model.ground_truth` in verl's parquet), any format the loaders read, or
`extra_info["rubric"]`; the prompt is `extra_info["prompt"]` (text or chat messages) or
`extra_info["question"]` — verl does not pass the prompt to reward functions, so the data preparation puts
it there. Groups: samples sharing `extra_info["index"]` (or `uid`), else the same prompt.

verl has no missing reward (its own timeout path scores 0.0), so an item the grader could not score gets
`RUBRIC_REWARD_NULL_REWARD` (default 0.0) and is counted: every result is a dict whose `rubric_null` (0 or
1) verl collects into `reward_extra_info` and logs, with `rubric_reward_std`; a warning names the cause.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shared._schemas import GradeItem, ItemResult
from shared.adapters._common import group_key, messages_of, report_nulls, rubric_of
from shared.adapters._runner import Grader
from shared.rewards import RewardSettings

_graders: dict[str, Grader] = {}  # one per distinct reward_kwargs: each keeps its pooled connections


def _settings(kwargs: Mapping[str, Any]) -> Grader:
    """reward_kwargs (scheme, judge, ...) override the RUBRIC_REWARD_* environment."""
    known = {k: v for k, v in kwargs.items() if k in RewardSettings.model_fields}
    key = group_key(known)
    if key not in _graders:
        _graders[key] = Grader(RewardSettings(**known))
    return _graders[key]


def _item(i: int, solution_str: str, ground_truth: Any, extra_info: Mapping[str, Any] | None) -> GradeItem:
    info = dict(extra_info or {})
    prompt = info.get("prompt") or info.get("question")
    if prompt is None:
        raise ValueError("verl sample without a prompt: put it in extra_info['prompt'] (text or chat messages)")
    group = info.get("index", info.get("uid"))
    return GradeItem(
        id=str(i),
        group_id=group_key(group if group is not None else prompt),
        prompt=messages_of(prompt),
        response=solution_str,
        rubric=rubric_of(ground_truth, info.get("rubric"), info),
    )


def _result(r: ItemResult, null_reward: float | None) -> dict[str, float]:
    score = r.reward if r.reward is not None else float(null_reward or 0.0)
    return {"score": score, "rubric_null": float(r.reward is None), "rubric_reward_std": r.reward_std or 0.0}


def compute_score(
    data_source: Any, solution_str: str, ground_truth: Any, extra_info: Mapping[str, Any] | None = None, **kwargs: Any
) -> dict[str, float]:
    """verl's per-sample signature (naive reward manager)."""
    grader = _settings(kwargs)
    resp = grader.grade([_item(0, solution_str, ground_truth, extra_info)])
    report_nulls("verl", resp.results)
    return _result(resp.results[0], grader.reward.null_reward)


async def compute_score_async(
    data_source: Any, solution_str: str, ground_truth: Any, extra_info: Mapping[str, Any] | None = None, **kwargs: Any
) -> dict[str, float]:
    """The same, awaited by verl's reward loop (it awaits coroutine functions)."""
    grader = _settings(kwargs)
    resp = await grader.agrade([_item(0, solution_str, ground_truth, extra_info)])
    report_nulls("verl", resp.results)
    return _result(resp.results[0], grader.reward.null_reward)


def compute_score_batch(
    data_sources: Sequence[Any],
    solution_strs: Sequence[str],
    ground_truths: Sequence[Any],
    extra_infos: Sequence[Mapping[str, Any] | None],
    **kwargs: Any,
) -> list[dict[str, float]]:
    """verl's batch signature (reward_manager=batch): one grader call for the whole batch, groups kept."""
    grader = _settings(kwargs)
    items = [
        _item(i, s, g, e) for i, (s, g, e) in enumerate(zip(solution_strs, ground_truths, extra_infos, strict=True))
    ]
    resp = grader.grade(items)
    report_nulls("verl", resp.results)
    return [_result(r, grader.reward.null_reward) for r in resp.results]
