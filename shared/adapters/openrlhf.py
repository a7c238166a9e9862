"""OpenRLHF's remote reward model protocol (read from OpenRLHF 0.11.2, `openrlhf/utils/agent.py`).

OpenRLHF posts `{"query": [prompt + response text], "prompts": [prompt text], "labels": [label]}` to
`--remote_rm_url` and reads `rewards` (and `scores`, `extra_logs`) from the JSON answer; its own
`openrlhf.cli.serve_rm` answers lists. The grader serves this at `/v1/openrlhf/reward` (no code on the
trainer side); this module holds the conversion both ways, and `reward_func` for OpenRLHF's other
option, `--remote_rm_url /path/to/this/file.py`. The rubric travels in the label (`--label_key`): a list
of rubric items, its JSON string, or a record holding one, in any format the loaders read.

A reward the grader could not compute: OpenRLHF's own convention for a reward it cannot fetch is a
sample with no reward (a failed RM call is logged and the reward left unset), so by default the endpoint
answers 502 naming the items and `reward_func` raises; with `null_reward` set, that value is returned
instead and counted in `extra_logs.rubric_null`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from shared._schemas import GradeItem, ItemResult, Message
from shared.adapters._common import null_info, rubric_of

END_TOKENS = ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "</s>", "<|end|>", "<end_of_turn>", "<｜end▁of▁sentence｜>")
START_TOKENS = ("<|begin_of_text|>", "<s>", "<bos>", "<｜begin▁of▁sentence｜>")
_CHATML = re.compile(r"<\|im_start\|>(system|user|assistant|tool)\n(.*?)(?:<\|im_end\|>|\Z)", re.S)
_LLAMA3 = re.compile(
    r"<\|start_header_id\|>(system|user|assistant|ipython)<\|end_header_id\|>\n\n(.*?)(?:<\|eot_id\|>|\Z)", re.S
)


def chat_from_template(text: str) -> list[Message] | None:
    """The conversation inside a ChatML or Llama-3 templated prompt; None for plain text."""
    for pattern in (_CHATML, _LLAMA3):
        turns = [(r, c.strip()) for r, c in pattern.findall(text)]
        if turns:
            if turns[-1][0] == "assistant" and not turns[-1][1]:  # the generation prompt
                turns = turns[:-1]
            roles = {"ipython": "tool"}
            return [Message(role=roles.get(r, r), content=c) for r, c in turns if c] or None  # type: ignore[arg-type]
    return None


def _strip(text: str, tokens: Sequence[str], *, end: bool) -> str:
    changed = True
    while changed:
        changed = False
        text = text.strip()
        for t in tokens:
            if end and text.endswith(t):
                text, changed = text[: -len(t)], True
            elif not end and text.startswith(t):
                text, changed = text[len(t) :], True
    return text


def response_of(query: str, prompt: str) -> str:
    """The completion: the query after its prompt, without the end-of-turn tokens the decoder kept."""
    text = query[len(prompt) :] if prompt and query.startswith(prompt) else query
    return _strip(text, END_TOKENS, end=True)


def items_from_request(queries: Sequence[str], prompts: Sequence[str], labels: Sequence[Any] | None) -> list[GradeItem]:
    """Grade items from one request; completions of the same prompt form a group. Raises ValueError
    naming the position of a sample whose label holds no rubric."""
    if len(prompts) != len(queries) or (labels is not None and len(labels) != len(queries)):
        raise ValueError("query, prompts and labels must have the same length")
    groups: dict[str, str] = {}
    items = []
    for i, (query, prompt) in enumerate(zip(queries, prompts, strict=True)):
        label = labels[i] if labels is not None else None
        try:
            rubric = rubric_of(label)
        except ValueError as e:
            raise ValueError(f"labels[{i}]: {e}") from None
        gid = groups.setdefault(prompt, f"p{len(groups)}")
        bare = _strip(prompt, START_TOKENS, end=False)
        items.append(
            GradeItem(
                id=str(i),
                group_id=gid,
                prompt=chat_from_template(bare) or bare or "(empty prompt)",
                response=response_of(query, prompt),
                rubric=rubric,
            )
        )
    return items


class NullRewards(RuntimeError):
    """Some samples have no reward and no `null_reward` was set: OpenRLHF leaves them without one."""

    def __init__(self, results: Sequence[ItemResult]) -> None:
        self.items = [{"index": int(r.id or 0), "error": null_info(r)} for r in results if r.reward is None]
        super().__init__(f"{len(self.items)} sample(s) have no rubric reward: {self.items[:3]}")


def reply(results: Sequence[ItemResult], null_reward: float | None) -> dict[str, Any]:
    """OpenRLHF's answer: `rewards` and `scores` per sample, `extra_logs` with the nulls and the judge's std."""
    if null_reward is None and any(r.reward is None for r in results):
        raise NullRewards(results)
    rewards = [r.reward if r.reward is not None else float(null_reward or 0.0) for r in results]
    return {
        "rewards": rewards,
        "scores": rewards,
        "extra_logs": {
            "rubric_null": [float(r.reward is None) for r in results],
            "rubric_reward_std": [r.reward_std or 0.0 for r in results],
        },
    }


def reward_func(queries: list[str], prompts: list[str], labels: list[Any]) -> dict[str, Any]:
    """For `--remote_rm_url /path/to/shared/adapters/openrlhf.py`: grades through the grader.

    Configured like the TRL reward function: RUBRIC_GRADER_URL, RUBRIC_REWARD_SCHEME, RUBRIC_REWARD_JUDGE,
    RUBRIC_REWARD_NULL_REWARD (unset: a sample without a reward raises, and OpenRLHF leaves it unset).
    """
    from shared._client import GraderClient
    from shared.rewards import RewardSettings

    cfg = RewardSettings()
    items = items_from_request(queries, prompts, labels)
    with GraderClient() as client:
        resp = client.grade(
            items,
            scheme=cfg.scheme,
            scheme_params=cfg.scheme_params,
            judge=cfg.judge,
            on_judge_error=cfg.on_judge_error,
        )
    return reply(resp.results, cfg.null_reward)
