"""The grading contract shared by the grader service and its clients (pydantic v2)."""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared._categories import Category, infer_category

Role = Literal["system", "developer", "user", "assistant", "tool"]


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Role
    content: str


class Criterion(BaseModel):
    """One rubric item. Negative points mark a pitfall: being *met* is bad (HealthBench convention)."""

    model_config = ConfigDict(extra="forbid")

    criterion: Annotated[str, Field(min_length=1, max_length=20_000)]
    points: Annotated[float, Field(allow_inf_nan=False)]
    category: Category | None = None
    id: str | None = None
    tags: list[str] = Field(default_factory=list)

    @field_validator("points")
    @classmethod
    def _non_zero(cls, v: float) -> float:
        if v == 0 or not math.isfinite(v):
            raise ValueError("points must be a finite non-zero number")
        return v

    @field_validator("criterion")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("criterion text must not be blank")
        return v

    @model_validator(mode="after")
    def _infer_category(self) -> Criterion:
        if self.category is None:
            self.category = infer_category(self.criterion, self.points)
        return self

    @property
    def is_pitfall(self) -> bool:
        return self.points < 0


Rubric = Annotated[list[Criterion], Field(min_length=1)]


class JudgeMode(StrEnum):
    verdict = "verdict"
    logprob = "logprob"
    sample = "sample"


class JudgeOptions(BaseModel):
    """Per-request judge options; unset fields fall back to the grader's settings."""

    model_config = ConfigDict(extra="forbid")

    mode: JudgeMode | None = None
    template: Literal["default", "healthbench"] | None = Field(
        default=None,
        description="'default' judges the final response against the conversation; 'healthbench' "
        "judges the whole conversation including the response as its last assistant turn.",
    )
    samples: Annotated[int, Field(ge=1, le=32)] | None = None
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] | None = None
    model: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    family: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        default=None, description="judge server/model family (GET /v1/judge lists them); default: the grader's"
    )
    extra_body: dict[str, Any] | None = Field(
        default=None, description="extra request fields for the judge, merged over the grader's GRADER_JUDGE_EXTRA_BODY"
    )


class OnJudgeError(StrEnum):
    null = "null"
    skip = "skip"


class GradeItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    prompt: str | list[Message]
    response: str
    rubric: Rubric
    group_id: str | None = None

    @field_validator("prompt")
    @classmethod
    def _prompt_not_empty(cls, v: str | list[Message]) -> str | list[Message]:
        if isinstance(v, list) and not v:
            raise ValueError("prompt must hold at least one message")
        return v

    def messages(self) -> list[Message]:
        if isinstance(self.prompt, str):
            return [Message(role="user", content=self.prompt)]
        return list(self.prompt)


SchemeName = Literal["healthbench", "rar_explicit", "rar_implicit", "hybrid", "complexity"]


class GradeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: Annotated[list[GradeItem], Field(min_length=1)]
    scheme: SchemeName = "hybrid"
    scheme_params: dict[str, Any] = Field(default_factory=dict)
    judge: JudgeOptions = Field(default_factory=JudgeOptions)
    on_judge_error: OnJudgeError = OnJudgeError.null


class ErrorType(StrEnum):
    judge_timeout = "judge_timeout"
    judge_rate_limited = "judge_rate_limited"
    judge_server_error = "judge_server_error"
    judge_connection_error = "judge_connection_error"
    judge_bad_request = "judge_bad_request"
    judge_unparseable = "judge_unparseable"
    judge_truncated = "judge_truncated"
    judge_bad_response = "judge_bad_response"
    judge_low_answer_mass = "judge_low_answer_mass"
    not_judged = "not_judged"
    internal_error = "internal_error"
    no_scorable_criteria = "no_scorable_criteria"


class GradeError(BaseModel):
    type: ErrorType
    message: str


class CriterionResult(BaseModel):
    criterion: str
    points: float
    category: Category | None
    met: bool | None
    p_met: float | None
    explanation: str | None = None
    error: GradeError | None = None


class Usage(BaseModel):
    judge_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cache_hits: int = 0
    ms: float = 0.0

    def add(self, other: Usage) -> None:
        self.judge_calls += other.judge_calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cache_hits += other.cache_hits


class ItemResult(BaseModel):
    id: str | None
    group_id: str | None = None
    reward: float | None
    reward_std: float | None
    error: GradeError | None = None
    criteria: list[CriterionResult]
    skipped_criteria: int = Field(0, description="criteria left out under on_judge_error='skip'")
    usage: Usage = Field(default_factory=Usage)


class GroupStats(BaseModel):
    n: int
    n_scored: int
    mean: float | None
    std: float | None
    zero_variance: bool


class GradeResponse(BaseModel):
    scheme: SchemeName
    scheme_params: dict[str, Any]
    mode: JudgeMode
    model: str
    results: list[ItemResult]
    groups: dict[str, GroupStats] = Field(default_factory=dict)
    usage: Usage = Field(default_factory=Usage)


class RubricValidationRequest(BaseModel):
    """A rubric in our schema or a raw record in any supported format."""

    model_config = ConfigDict(extra="forbid")

    rubric: list[dict[str, Any]] | None = None
    record: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> RubricValidationRequest:
        if (self.rubric is None) == (self.record is None):
            raise ValueError("give exactly one of 'rubric' or 'record'")
        return self


class RubricValidationResponse(BaseModel):
    valid: bool
    format: str
    criteria: list[Criterion]
    positive_points: float
    negative_points: float
    categories: dict[str, int]
    warnings: list[str]
