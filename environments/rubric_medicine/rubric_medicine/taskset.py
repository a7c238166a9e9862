"""Medical QA tasks rewarded per rubric criterion by the rubric-rewards grader (verifiers 0.4, `verifiers.v1`).

Each record (RaR-Medicine's Hugging Face schema, HealthBench, or our heart subset; the format is detected)
becomes a task whose data carries the conversation and the rubric. A rollout's reply is graded by the
grader service through the client package (`RUBRIC_GRADER_URL`, `RUBRIC_REWARD_*`, or the task config):

- reward `rubric_reward` (weight 1): the grader's continuous reward under the chosen scheme;
- metrics `rubric_null` (1 when the grader could not score the reply) and `rubric_std` (the reward's
  uncertainty, when the grader reports one).

A reward that could not be computed is never a silent 0. By default (`on_null="error"`) the rollout's
scoring fails with a `TaskError` naming the grader's typed reason, so verifiers records the rollout as
errored (`ok: false`, the reward left `None`, the error on the trace) and trainers leave it out;
`on_null="fill"` scores it `null_reward` instead and `rubric_null` counts it. The metric and the reward
share one grader call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import verifiers.v1 as vf
from pydantic import Field

from shared import (
    ClientSettings,
    GradeItem,
    ItemResult,
    prompt_from_record,
    read_jsonl,
    rubric_from_record,
)
from shared.adapters._common import null_info
from shared.adapters._runner import Grader
from shared.rewards import RewardSettings


class RubricMedicineData(vf.TaskData):
    """The conversation to answer (`prompt`) and the rubric it is graded against."""

    rubric: list[dict[str, Any]] = Field(min_length=1)
    """Rubric criteria: `criterion`, `points` (negative for a pitfall), optional `tags`."""


class RubricMedicineTaskConfig(vf.TaskConfig):
    """How a reply is graded; configure under `--env.taskset.task.*`. Unset fields read the client package's
    environment variables (`RUBRIC_GRADER_URL`, `RUBRIC_REWARD_SCHEME`, ...)."""

    grader_url: str | None = None
    scheme: str | None = None
    """hybrid, complexity, rar_explicit, rar_implicit or healthbench (the grader's schemes)."""
    on_null: Literal["error", "fill"] = "error"
    """A reply the grader could not score: fail the rollout's scoring (`error`) or score it `null_reward`."""
    null_reward: float = 0.0


_graders: dict[tuple[str | None, str | None], Grader] = {}


def _grader(config: RubricMedicineTaskConfig) -> Grader:
    key = (config.grader_url, config.scheme)
    if key not in _graders:
        reward = RewardSettings(**({"scheme": config.scheme} if config.scheme else {}))
        client = ClientSettings(**({"url": config.grader_url} if config.grader_url else {}))
        _graders[key] = Grader(reward, client)
    return _graders[key]


class RubricMedicineTask(vf.Task[RubricMedicineData, vf.State, RubricMedicineTaskConfig]):
    """One question; its reply is graded once per rollout, shared by the metric and the reward."""

    def __init__(self, data: RubricMedicineData, config: RubricMedicineTaskConfig | None = None) -> None:
        super().__init__(data, config)
        self._results: dict[str, asyncio.Future[ItemResult]] = {}

    def grade_item(self, trace: vf.Trace) -> GradeItem:
        prompt = self.data.prompt
        messages = (
            [{"role": "user", "content": prompt}]
            if isinstance(prompt, str)
            else [{"role": m.role, "content": m.content} for m in (prompt or [])]
        )
        return GradeItem(
            id=trace.id[:64],
            group_id="g-" + self.key[:16],  # the task's content hash: the same for every rollout of it
            prompt=messages,
            response=trace.last_reply,
            rubric=self.data.rubric,
        )

    async def graded(self, trace: vf.Trace) -> ItemResult:
        """The grader's result for this rollout: one call however many signals ask for it."""
        if trace.id not in self._results:
            self._results[trace.id] = asyncio.ensure_future(self._grade(trace))
        return await self._results[trace.id]

    async def _grade(self, trace: vf.Trace) -> ItemResult:
        resp = await _grader(self.config).agrade([self.grade_item(trace)])
        return resp.results[0]

    @vf.metric
    async def rubric_signals(self, trace: vf.Trace) -> dict[str, float]:
        result = await self.graded(trace)
        out = {"rubric_null": float(result.reward is None)}
        if result.reward_std is not None:
            out["rubric_std"] = float(result.reward_std)
        return out

    @vf.reward(weight=1.0)
    async def rubric_reward(self, trace: vf.Trace) -> float:
        try:
            result = await self.graded(trace)
        finally:
            self._results.pop(trace.id, None)
        if result.reward is not None:
            return float(result.reward)
        if self.config.on_null == "fill":
            return self.config.null_reward
        raise vf.TaskError(f"rubric reward is null ({null_info(result)})")


class RubricMedicineConfig(vf.TasksetConfig):
    source: str = "ScaleAI/RaR-Medicine"
    """A JSONL file of records, or a Hugging Face dataset id (needs `datasets`; downloads once)."""
    split: str = "train"
    """The dataset split, for a Hugging Face source."""
    num_tasks: int | None = None
    """Keep only the first N records."""
    task: RubricMedicineTaskConfig = RubricMedicineTaskConfig()


class RubricMedicineTaskset(vf.Taskset[RubricMedicineTask, RubricMedicineConfig]):
    def load(self) -> Iterator[RubricMedicineTask]:
        for n, record in enumerate(self._records()):
            if self.config.num_tasks is not None and n >= self.config.num_tasks:
                return
            rid = record.get("prompt_id") or record.get("id")
            yield RubricMedicineTask(
                RubricMedicineData(
                    id=str(rid) if rid is not None else None,
                    prompt=[m.model_dump() for m in prompt_from_record(record)],
                    rubric=[c.model_dump(exclude_none=True) for c in rubric_from_record(record)],
                ),
                self.config.task,
            )

    def _records(self) -> Iterator[dict[str, Any]]:
        source = self.config.source
        if Path(source).exists():
            yield from read_jsonl(source)
            return
        try:
            import datasets
        except ImportError as e:
            raise vf.TaskError(
                f"taskset source {source!r} is not a file, and reading a Hugging Face dataset needs "
                "`pip install datasets`"
            ) from e
        yield from datasets.load_dataset(source, split=self.config.split)
