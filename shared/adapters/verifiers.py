"""Reward functions for verifiers' rubrics (read from verifiers 0.1.14, `verifiers/rubrics/rubric.py`).

    import verifiers as vf
    from shared.adapters.verifiers import rubric_reward, rubric_null
    rubric = vf.Rubric(funcs=[rubric_reward, rubric_null], weights=[1.0, 0.0])

verifiers passes each function only the arguments its signature names, and treats a function whose
parameters are plural (`prompts`, `completions`, `answers`, `infos`) as a group function called once per
group of rollouts: so `rubric_reward` grades a whole group in one grader call, group kept. The rubric is
`info["rubric"]` or the `answer` (a list of rubric items or its JSON string, any format the loaders read).

verifiers has no missing reward (a reward function that raises scores 0.0 and is logged), so an item the
grader could not score gets `RUBRIC_REWARD_NULL_REWARD` (default 0.0), a warning names the cause, and the
`rubric_null` metric (weight 0) reports 1 for it in verifiers' metrics. (verifiers 0.2+ moved to a new
`verifiers.v1` task API; these functions follow the rubric-function convention of the 0.1 line.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shared._schemas import GradeItem
from shared.adapters._common import group_key, messages_of, report_nulls, rubric_of, text_of
from shared.adapters._runner import Grader

_grader: Grader | None = None
_nulls: dict[str, float] = {}  # rollout key -> 1.0 when its last reward was a stand-in (read by rubric_null)


def _key(prompt: Any, completion: Any) -> str:
    return group_key([prompt, completion])


def _get() -> Grader:
    global _grader
    if _grader is None:
        _grader = Grader()
    return _grader


async def rubric_reward(
    prompts: Sequence[Any],
    completions: Sequence[Any],
    answers: Sequence[Any],
    infos: Sequence[Mapping[str, Any] | None],
    **kwargs: Any,
) -> list[float]:
    """A group reward function: the group's rollouts graded together."""
    grader = _get()
    items = []
    for i, (p, c, a, info) in enumerate(zip(prompts, completions, answers, infos, strict=True)):
        info = dict(info or {})
        items.append(
            GradeItem(
                id=str(i),
                group_id=group_key(p),
                prompt=messages_of(p),
                response=text_of(c),
                rubric=rubric_of(info.get("rubric"), a, info),
            )
        )
    resp = await grader.agrade(items)
    report_nulls("verifiers", resp.results)
    fill = float(grader.reward.null_reward or 0.0)
    out = []
    for p, c, r in zip(prompts, completions, resp.results, strict=True):
        _nulls[_key(p, c)] = float(r.reward is None)
        out.append(r.reward if r.reward is not None else fill)
    return out


def rubric_null(prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """A metric (weight 0): 1.0 for each rollout whose rubric reward could not be computed."""
    return [_nulls.pop(_key(p, c), 0.0) for p, c in zip(prompts, completions, strict=True)]
