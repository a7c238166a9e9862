"""The two kinds of judge mode: one criterion at a time, or the whole rubric as one rating (rar_implicit)."""

from __future__ import annotations

from typing import Protocol

from grader_service.judge._base import Judgement, RatingJudgement
from grader_service.judge.modes._call import JudgeCall
from shared import Criterion


class CriterionMode(Protocol):
    """Builds the requests for one criterion and reads a `Judgement` (met, P(met)) from the answers."""

    name: str

    async def judge(self, call: JudgeCall, criterion: Criterion) -> Judgement: ...


class RubricMode(Protocol):
    """Builds the requests for a whole rubric and reads a 1-10 rating distribution from the answers."""

    name: str

    async def judge(self, call: JudgeCall, rubric: list[Criterion]) -> RatingJudgement: ...
