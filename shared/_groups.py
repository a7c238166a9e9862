"""Per-group reward statistics (GRPO groups: the G completions of one prompt)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable

from shared._schemas import GroupStats, ItemResult


def group_stats(
    results: Iterable[ItemResult], reward: Callable[[ItemResult], float | None] = lambda r: r.reward
) -> dict[str, GroupStats]:
    """Mean and population std over each group's scored items, and whether the variance is zero.

    Zero variance is the failure GRPO's advantage suffers from: every completion gets advantage 0.
    `reward` picks which reward to group (an extra scheme's, say).
    """
    by_group: dict[str, list[float | None]] = defaultdict(list)
    for r in results:
        if r.group_id is not None:
            by_group[r.group_id].append(reward(r))
    out = {}
    for gid, rewards in by_group.items():
        scored = [x for x in rewards if x is not None]
        mean = std = None
        if scored:
            mean = sum(scored) / len(scored)
            std = math.sqrt(sum((x - mean) ** 2 for x in scored) / len(scored))
        out[gid] = GroupStats(
            n=len(rewards),
            n_scored=len(scored),
            mean=mean,
            std=std,
            zero_variance=len(scored) >= 2 and std is not None and std <= 1e-12,
        )
    return out


def extra_reward(key: str) -> Callable[[ItemResult], float | None]:
    """Picks an extra scheme's reward out of an item result (for `group_stats`)."""
    return lambda r: r.extra_rewards[key].reward if key in r.extra_rewards else None
