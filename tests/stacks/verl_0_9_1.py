"""verl 0.9.1's call sites for a custom reward function, copied from its source (verl is not installed here:
it needs ray). Each function below makes the call exactly as the cited verl code does.

- verl/trainer/ppo/reward.py `get_custom_reward_fn` + `_call_with_kwargs`: the function is loaded from
  `custom_reward_function.path`/`.name`; `reward_kwargs` are merged over the call's keyword arguments.
- verl/workers/reward_manager/naive.py (NaiveRewardManager.__call__): `self.compute_score(data_source=,
  solution_str=, ground_truth=, extra_info=)`; a dict result gives `score["score"]` as the reward and every
  key into `reward_extra_info`.
- verl/experimental/reward_loop/reward_manager/naive.py (run_single): awaited when the function is a
  coroutine function, else run in an executor; same keywords.
- verl/workers/reward_manager/batch.py (verify): `self.compute_score(data_sources=, solution_strs=,
  ground_truths=, extra_infos=, **self.reward_kwargs)`.
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
from collections import defaultdict
from functools import partial
from typing import Any


def load_custom_reward_fn(path: str, name: str, reward_kwargs: dict[str, Any]) -> Any:
    spec = importlib.util.spec_from_file_location("custom_module", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    raw_fn = getattr(module, name)

    def _call_with_kwargs(raw_fn: Any, extra_kwargs: dict, *args: Any, **kwargs: Any) -> Any:
        return raw_fn(*args, **{**kwargs, **extra_kwargs})

    async def _call_with_kwargs_async(raw_fn: Any, extra_kwargs: dict, *args: Any, **kwargs: Any) -> Any:
        return await raw_fn(*args, **{**kwargs, **extra_kwargs})

    if not inspect.iscoroutinefunction(raw_fn):
        return partial(_call_with_kwargs, raw_fn, dict(reward_kwargs))
    return partial(_call_with_kwargs_async, raw_fn, dict(reward_kwargs))


def naive_manager(compute_score: Any, samples: list[dict[str, Any]]) -> tuple[list[float], dict[str, list]]:
    rewards, reward_extra_info = [], defaultdict(list)
    for s in samples:
        score = compute_score(
            data_source=s["data_source"],
            solution_str=s["response"],
            ground_truth=s["reward_model"]["ground_truth"],
            extra_info=s["extra_info"],
        )
        if isinstance(score, dict):
            reward = score["score"]
            for key, value in score.items():
                reward_extra_info[key].append(value)
        else:
            reward = score
        rewards.append(reward)
    return rewards, reward_extra_info


async def reward_loop_single(compute_score: Any, s: dict[str, Any]) -> float:
    kwargs = dict(
        data_source=s["data_source"],
        solution_str=s["response"],
        ground_truth=s["reward_model"]["ground_truth"],
        extra_info=s["extra_info"],
    )
    if inspect.iscoroutinefunction(compute_score) or inspect.iscoroutinefunction(getattr(compute_score, "func", None)):
        result = await compute_score(**kwargs)
    else:
        result = await asyncio.get_running_loop().run_in_executor(None, lambda: compute_score(**kwargs))
    return result["score"] if isinstance(result, dict) else result


def batch_manager(compute_score: Any, samples: list[dict[str, Any]], reward_kwargs: dict[str, Any]) -> list[Any]:
    return compute_score(
        data_sources=[s["data_source"] for s in samples],
        solution_strs=[s["response"] for s in samples],
        ground_truths=[s["reward_model"].get("ground_truth", None) for s in samples],
        extra_infos=[s["extra_info"] for s in samples],
        **reward_kwargs,
    )
