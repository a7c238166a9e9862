"""The grading contract shared by the grader service and its clients (pydantic v2)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, field_validator, model_validator

from shared._categories import Category, infer_category
from shared._polarity import Polarity

Role = Literal["system", "developer", "user", "assistant", "tool"]
MAX_POINTS = 1000.0  # real rubrics use -10..10; the bound keeps every sum exact and finite
MAX_ID_CHARS = 256


def _utf8(v: str) -> str:
    """Text must be valid Unicode: an unpaired surrogate ('\\ud800') cannot be encoded, judged or echoed."""
    try:
        v.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError(f"text holds an unpaired surrogate at position {e.start}; send valid UTF-8") from None
    return v


Text = Annotated[str, AfterValidator(_utf8)]
ShortText = Annotated[str, Field(max_length=MAX_ID_CHARS), AfterValidator(_utf8)]


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Role
    content: Text


class Criterion(BaseModel):
    """One rubric item. Negative points mark a pitfall: being *met* is bad (HealthBench convention)."""

    model_config = ConfigDict(extra="forbid")

    criterion: Annotated[str, Field(min_length=1, max_length=20_000, pattern=r"\S"), AfterValidator(_utf8)]
    points: Annotated[
        float,
        Strict(),  # a number, as the schema says: not true/false, not "5"
        Field(
            ge=-MAX_POINTS,
            le=MAX_POINTS,
            allow_inf_nan=False,
            description="negative: a pitfall (being met is bad); 0: judged and reported, no effect on points",
        ),
    ]
    category: Category | None = None
    id: ShortText | None = None
    tags: Annotated[list[ShortText], Field(max_length=64)] = Field(default_factory=list)
    polarity: Polarity | None = Field(
        default=None,
        description="pitfalls only: 'fault' (met = the response errs: penalised when met) or 'avoid' (met = the "
        "response avoided the error: penalised when not met); unset: read from the wording under "
        "pitfall_polarity=auto",
    )

    @model_validator(mode="after")
    def _infer_category(self) -> Criterion:
        if self.category is None:
            self.category = infer_category(self.criterion, self.points)
        if self.polarity is not None and self.points >= 0:
            raise ValueError("polarity applies to pitfalls (negative points) only")
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
    samples: Annotated[int, Strict(), Field(ge=1, le=32)] | None = None
    temperature: Annotated[float, Strict(), Field(ge=0.0, le=2.0, allow_inf_nan=False)] | None = None
    model: Annotated[ShortText, Field(min_length=1)] | None = None
    family: Annotated[ShortText, Field(min_length=1, max_length=64)] | None = Field(
        default=None, description="judge server/model family (GET /v1/judge lists them); default: the grader's"
    )
    extra_body: dict[str, Any] | None = Field(
        default=None,
        description="extra request fields for the judge (at most 8 KiB of JSON), merged over the grader's "
        "GRADER_JUDGE_EXTRA_BODY",
    )
    custom_template: Annotated[str, Field(min_length=1, max_length=32_768), AfterValidator(_utf8)] | None = Field(
        default=None,
        description="your own judge prompt, sent as one user message (verdict and sample modes): placeholders "
        "{{conversation}} (the conversation with the response as its last assistant turn, 'role: content' "
        "blocks), {{response}}, {{criterion}}, {{points}}; simple-evals' <<conversation>> and <<rubric_item>> "
        "('[points] criterion') work too. The judge must end with a JSON verdict such as "
        '{"criteria_met": true}. Default: the grader\'s GRADER_JUDGE_TEMPLATE_FILE, else our prompts.',
    )

    @field_validator("custom_template")
    @classmethod
    def _placeholders(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if "{{criterion}}" not in v and "<<rubric_item>>" not in v:
            raise ValueError("a judge template needs a {{criterion}} (or <<rubric_item>>) placeholder")
        if not any(p in v for p in ("{{conversation}}", "{{response}}", "<<conversation>>")):
            raise ValueError("a judge template needs a {{conversation}}, {{response}} or <<conversation>> placeholder")
        return v

    @field_validator("extra_body")
    @classmethod
    def _small_json(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        if v is None:
            return v
        try:
            size = len(json.dumps(v, allow_nan=False).encode("utf-8"))
        except (ValueError, UnicodeEncodeError) as e:
            raise ValueError(f"extra_body must be plain JSON: {type(e).__name__}") from None
        if size > 8192:
            raise ValueError("extra_body holds more than 8 KiB of JSON")
        return v


def judge_template_label(custom_template: str | None) -> str:
    """How a response and a report name the judge prompt: 'ours', or 'custom:<sha256 of the template>'."""
    if custom_template is None:
        return "ours"
    import hashlib

    return "custom:" + hashlib.sha256(custom_template.encode("utf-8")).hexdigest()


class OnJudgeError(StrEnum):
    null = "null"
    skip = "skip"


class GradeItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: ShortText | None = None
    prompt: Text | Annotated[list[Message], Field(min_length=1, max_length=256)]
    response: Text
    rubric: Rubric
    group_id: ShortText | None = None

    def messages(self) -> list[Message]:
        if isinstance(self.prompt, str):
            return [Message(role="user", content=self.prompt)]
        return list(self.prompt)


SchemeName = Literal["healthbench", "rar_explicit", "rar_implicit", "hybrid", "complexity"]
# the schemes scored from per-criterion verdicts (rar_implicit judges the whole rubric in one call instead)
PerCriterionScheme = Literal["healthbench", "rar_explicit", "hybrid", "complexity"]
MAX_EXTRA_SCHEMES = 8


PitfallPolarityMode = Literal["literal", "auto"]


class SchemeSpec(BaseModel):
    """One more scheme scored from the same verdicts: a scheme name, or the name with its parameters."""

    model_config = ConfigDict(extra="forbid")

    scheme: PerCriterionScheme
    scheme_params: dict[str, Any] = Field(default_factory=dict)
    name: Annotated[ShortText, Field(min_length=1, max_length=64)] | None = Field(
        default=None, description="its key in `extra_rewards` (default: the scheme); tells two variants apart"
    )

    @model_validator(mode="before")
    @classmethod
    def _bare_name(cls, data: Any) -> Any:
        return {"scheme": data} if isinstance(data, str) else data

    @property
    def key(self) -> str:
        return self.name or self.scheme


class GradeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: Annotated[list[GradeItem], Field(min_length=1)]
    scheme: SchemeName = "hybrid"
    scheme_params: dict[str, Any] = Field(
        default_factory=dict, description="the scheme's constants (GET /v1/schemes lists them, with their bounds)"
    )
    extra_schemes: Annotated[list[SchemeSpec], Field(max_length=MAX_EXTRA_SCHEMES)] = Field(
        default_factory=list,
        description="more schemes scored from the same verdicts, judged once: each item's `extra_rewards` and the "
        "response's `extra_groups` hold them under the scheme's name (or its `name`); those keys must be unique and "
        "differ from the main scheme's (422 otherwise)",
    )
    judge: JudgeOptions = Field(default_factory=JudgeOptions)
    on_judge_error: OnJudgeError = OnJudgeError.null
    pitfall_polarity: PitfallPolarityMode | None = Field(
        default=None,
        description="'literal': every pitfall penalised when met (RaR's and HealthBench's reading); 'auto': a "
        "pitfall phrased as avoiding the error ('Does not mention unrelated nerves') is penalised when NOT met. "
        "Default: the grader's GRADER_PITFALL_POLARITY",
    )


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
    grader_unavailable = "grader_unavailable"  # set by the client: the item's batch never got through
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
    polarity: Polarity | None = Field(None, description="pitfalls only: what the criterion's wording describes")
    polarity_source: str | None = Field(
        None, description="how the polarity was decided: 'given' (the criterion says), or 'rules:<rule>'"
    )
    penalised_when: Literal["met", "not_met"] | None = Field(
        None, description="pitfalls only: whether `met` or `not met` is the error the reward penalises"
    )


class Usage(BaseModel):
    judge_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    ms: float = 0.0

    def add(self, other: Usage) -> None:
        self.judge_calls += other.judge_calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cache_hits += other.cache_hits
        self.cache_misses += other.cache_misses


Estimate = Literal["exact", "closed_form", "sums", "enumeration", "monte_carlo"]


class SchemeReward(BaseModel):
    """One scheme's reward for an item, from the item's verdicts."""

    reward: float | None
    reward_std: float | None
    estimate: Estimate | None = None
    reward_stderr: float | None = None
    error: GradeError | None = None


class ItemResult(BaseModel):
    id: str | None
    group_id: str | None = None
    reward: float | None
    reward_std: float | None
    estimate: Estimate | None = Field(
        None, description="how `reward` was computed from the verdicts' probabilities; all but monte_carlo are exact"
    )
    reward_stderr: float | None = Field(None, description="monte_carlo only: the standard error of `reward`")
    error: GradeError | None = None
    criteria: list[CriterionResult]
    skipped_criteria: int = Field(0, description="criteria left out under on_judge_error='skip'")
    extra_rewards: dict[str, SchemeReward] = Field(
        default_factory=dict, description="the request's `extra_schemes`, scored from the same verdicts"
    )
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
    judge_template: str = Field(
        "ours", description="'ours' (the grader's prompts), or 'custom:<sha256>' of the template used"
    )
    pitfall_polarity: PitfallPolarityMode = "literal"
    results: list[ItemResult]
    groups: dict[str, GroupStats] = Field(default_factory=dict)
    extra_schemes: dict[str, SchemeSpec] = Field(
        default_factory=dict, description="each extra scheme's key, scheme and resolved parameters"
    )
    extra_groups: dict[str, dict[str, GroupStats]] = Field(
        default_factory=dict, description="per extra scheme, the same group statistics as `groups`"
    )
    usage: Usage = Field(default_factory=Usage)


class RubricValidationRequest(BaseModel):
    """A rubric (`{"rubric": [...]}` or a bare list) or a record (`{"record": {...}}` or the raw record
    itself) in any supported format."""

    model_config = ConfigDict(extra="forbid")

    rubric: Annotated[list[Any], Field(max_length=1024)] | None = None
    record: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _raw(cls, data: Any) -> Any:
        if isinstance(data, list):
            return {"rubric": data}
        if isinstance(data, dict) and data and not set(data) <= {"rubric", "record"}:
            return {"record": data}  # a raw record posted as the body
        return data

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
    pitfalls: list[PitfallReading] = Field(
        default_factory=list, description="each pitfall's polarity and how it was decided, by index in `criteria`"
    )


class PitfallReading(BaseModel):
    index: int
    polarity: Polarity
    source: str
