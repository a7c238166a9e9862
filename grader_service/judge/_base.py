"""The judge interface: what the grading layer needs from any judge backend."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any, Protocol

from grader_service.judge import _prompts as prompts
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
    custom_template: str | None = None

    @cached_property
    def fingerprint(self) -> str:
        """Everything here that changes the judge's answer, as a stable string (part of every cache key)."""
        return json.dumps({**asdict(self), "mode": self.mode.value}, sort_keys=True, default=str)


class ItemContext:
    """One (conversation, response) being graded: what every criterion's judge call shares, worked out
    once per item rather than once per criterion (the digest for cache keys, the prompt's context block)."""

    __slots__ = ("_blocks", "_digest", "conversation", "response")

    def __init__(self, conversation: list[Message], response: str) -> None:
        self.conversation = conversation
        self.response = response
        self._digest: str | None = None
        self._blocks: dict[str, str] = {}

    @property
    def digest(self) -> str:
        if self._digest is None:
            h = hashlib.sha256()
            for m in self.conversation:
                h.update(m.role.encode())
                h.update(b"\x00")
                h.update(m.content.encode("utf-8", "surrogatepass"))
                h.update(b"\x01")
            h.update(self.response.encode("utf-8", "surrogatepass"))
            self._digest = h.hexdigest()
        return self._digest

    def block(self, template: str) -> str:
        if template not in self._blocks:
            self._blocks[template] = prompts.context_block(self.conversation, self.response, template)
        return self._blocks[template]


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
    async def judge_criterion(self, ctx: ItemContext, criterion: Criterion, opts: JudgeRequestOptions) -> Judgement: ...

    async def judge_rubric(
        self, ctx: ItemContext, rubric: list[Criterion], opts: JudgeRequestOptions
    ) -> RatingJudgement: ...

    async def ready(self) -> tuple[bool, str]: ...

    async def aclose(self) -> None: ...
