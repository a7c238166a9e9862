"""The judge interface: what the grading layer needs from any judge backend."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from shared import Criterion, ErrorType, GradeError, JudgeMode, Message, Usage


@dataclass(frozen=True)
class JudgeRequestOptions:
    """Judge options resolved against the grader's settings; part of every cache key."""

    mode: JudgeMode
    template: str
    samples: int
    temperature: float
    model: str
    family: str = "auto"
    extra_body: dict[str, Any] = field(default_factory=dict)


@dataclass
class Judgement:
    met: bool | None
    p_met: float | None
    explanation: str | None = None
    error: GradeError | None = None
    usage: Usage = field(default_factory=Usage)
    answer_mass: float | None = None  # logprob mode: P(YES) + P(NO) at the answer position


@dataclass
class RatingJudgement:
    """A Likert judgement of a whole rubric: a distribution over ratings 1..10."""

    rating_probs: dict[int, float] | None
    explanation: str | None = None
    error: GradeError | None = None
    usage: Usage = field(default_factory=Usage)


class JudgeError(Exception):
    """A judge call that failed for good (after bounded retries)."""

    def __init__(self, type_: ErrorType, message: str) -> None:
        super().__init__(message)
        self.type = type_
        self.message = message

    def as_error(self) -> GradeError:
        return GradeError(type=self.type, message=self.message)


class Judge(Protocol):
    async def judge_criterion(
        self, conversation: list[Message], response: str, criterion: Criterion, opts: JudgeRequestOptions
    ) -> Judgement: ...

    async def judge_rubric(
        self, conversation: list[Message], response: str, rubric: list[Criterion], opts: JudgeRequestOptions
    ) -> RatingJudgement: ...

    async def ready(self) -> tuple[bool, str]: ...

    async def aclose(self) -> None: ...
