"""Grader settings: environment variables prefixed GRADER_ (or a .env file)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared import JudgeMode

# sampling knobs that change neither the prompt, the model nor the token budget
DEFAULT_EXTRA_BODY_ALLOW = (
    "top_p",
    "top_k",
    "min_p",
    "seed",
    "repetition_penalty",
    "presence_penalty",
    "frequency_penalty",
    "chat_template_kwargs.enable_thinking",  # the grader's reasoning budget still bounds what it costs
)
# what the grader itself builds into every judge request: no request, and no allowlist, may set these
GRADER_OWNED_FIELDS = frozenset(
    {
        "messages",
        "model",
        "n",
        "stream",
        "stream_options",
        "max_tokens",
        "max_completion_tokens",
        "max_new_tokens",
        "logprobs",
        "top_logprobs",
        "tools",
        "tool_choice",
        "functions",
        "function_call",
        "logit_bias",
        "response_format",
        "prompt",
        "echo",
        "suffix",
    }
)


class GraderSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRADER_", env_file=".env", extra="ignore")

    # judge endpoint (any OpenAI-compatible server)
    judge_base_url: str = "http://localhost:8000/v1"
    judge_api_key: SecretStr | None = None
    judge_model: str = "judge"
    judge_mode: JudgeMode = Field(
        JudgeMode.logprob, description="logprob: soft verdicts where the server returns logprobs, hard ones otherwise"
    )
    judge_template: str = "default"
    judge_template_file: str | None = Field(
        None,
        description="a judge prompt of your own (placeholders as JudgeOptions.custom_template), used for every "
        "request that brings none: e.g. the reference grader prompt, for results comparable with published ones",
    )
    judge_samples: int = Field(5, ge=1, le=32)
    judge_temperature: float = Field(0.0, ge=0.0, le=2.0)
    judge_sample_temperature: float = Field(1.0, ge=0.0, le=2.0)
    judge_max_tokens: int = Field(512, ge=1, description="tokens for an explained verdict (reasoning not included)")
    judge_top_logprobs: int = Field(10, ge=1, le=20)
    judge_logprob_answer_tokens: int = Field(
        1,
        ge=1,
        le=16,
        description="logprob mode: tokens the first call may answer with. 1 is cheapest for a judge that says "
        "YES/NO at once; a small model that opens with a space or markup needs a second call of 6 unless this is 6",
    )
    judge_family: str = Field(
        "auto", description="server/model family (README judge table); 'auto' detects it from the model and server"
    )
    judge_extra_body: dict[str, Any] = Field(
        default_factory=dict,
        description='extra request fields, JSON (e.g. {"chat_template_kwargs": {"enable_thinking": false}})',
    )
    judge_reasoning_budget: int = Field(2048, ge=16, description="extra tokens for models that reason first")
    judge_min_answer_mass: float = Field(
        0.5, ge=0.0, le=1.0, description="logprob mode: least P(YES) + P(NO) at the answer position"
    )
    judge_transport: Literal["lean", "sdk"] = Field(
        "lean", description="lean: pre-built requests through the SDK's HTTP client; sdk: client.post in full"
    )
    judge_probe: bool = Field(True, description="check the judge's capabilities at start-up and in /readyz")
    judge_probe_ttl_s: float = Field(300.0, ge=0, description="how long a passing probe result is reused")

    # the judge's capacity
    judge_concurrency: int = Field(
        64, ge=1, description="cap on judge calls in flight: for all workers together (split evenly between them)"
    )
    judge_global_concurrency: bool = Field(
        False, description="hold the cap in Redis (GRADER_REDIS_URL) for every replica together"
    )
    judge_adaptive: bool = Field(True, description="halve the cap on 429s, grow it back on successes")
    judge_rpm: float | None = Field(None, gt=0, description="requests per minute the judge allows (all workers)")
    judge_tpm: float | None = Field(None, gt=0, description="tokens per minute the judge allows (all workers)")

    # failure handling
    judge_timeout_s: float = Field(60.0, gt=0)
    judge_max_attempts: int = Field(4, ge=1, le=20)
    judge_backoff_initial_s: float = Field(0.5, ge=0)
    judge_backoff_max_s: float = Field(8.0, ge=0)
    judge_max_reparse: int = Field(2, ge=0, le=10)

    # request limits
    max_items: int = Field(1024, ge=1)
    max_criteria: int = Field(64, ge=1)
    max_text_chars: int = Field(200_000, ge=1)
    max_body_bytes: int = Field(32 * 1024 * 1024, ge=1024, description="streaming limit: chunked bodies too")
    body_idle_timeout_s: float = Field(5.0, gt=0, description="a request body that stalls this long gets a 408")
    body_timeout_s: float = Field(60.0, gt=0, description="the whole body must arrive within this")

    # reward math
    pitfall_polarity: Literal["literal", "auto"] = Field(
        "auto",
        description="auto: a pitfall phrased as avoiding the error is penalised when not met (docs: pitfall "
        "polarity); literal: every pitfall is penalised when met, as RaR and HealthBench score them",
    )
    enum_max: int = Field(12, ge=0, le=20, description="exact enumeration up to 2^enum_max verdict vectors")
    mc_samples: int = Field(8192, ge=16)

    cache: Literal["sqlite", "redis", "memory", "off"] = Field(
        "sqlite", description="where successful judgements are kept: sqlite survives restarts and is shared by workers"
    )
    cache_size: int = Field(100_000, ge=0, description="entries in the in-process LRU (in front of sqlite/redis)")
    cache_path: str = Field(
        default_factory=lambda: str(Path.home() / ".cache" / "rubric-rewards" / "judgements.sqlite"),
        description="the SQLite file (GRADER_CACHE=sqlite)",
    )
    cache_ttl_s: float = Field(30 * 86400.0, gt=0, description="how long a judgement is kept")
    cache_max_entries: int = Field(5_000_000, ge=1, description="SQLite: oldest entries pruned beyond this")
    redis_url: str | None = Field(None, description="redis://host:6379/0 for GRADER_CACHE=redis and the global limit")
    claim_lease_s: float = Field(
        10.0,
        ge=1.0,
        description="lease on a claimed judgement and on a global judge slot, renewed every third of it while "
        "the call runs: how long a replica that dies mid-call blocks the others",
    )
    api_key: SecretStr | None = Field(
        None, description="one bearer token clients must send (the key named 'default'); see also api_keys_file"
    )
    api_keys_file: str | None = Field(
        None,
        description="named keys, each with its own quotas: a TOML file of name + SHA-256 of the token "
        "(`python -m grader_service keys add NAME` writes one); tokens are never kept in clear",
    )
    key_requests_per_minute: float | None = Field(
        None, gt=0, description="default request budget of a key that sets none (unset: unlimited)"
    )
    key_judge_tokens_per_minute: float | None = Field(
        None, gt=0, description="default judge-token budget of a key that sets none (unset: unlimited)"
    )
    open: bool = Field(
        False,
        description="listen beyond loopback without a bearer token, on purpose (otherwise the grader refuses "
        "to start so: anyone who reaches the port could use the judge)",
    )

    # what a request may change about the judge call (the owner decides; a refused field is a 422 naming it)
    judge_allowed_models: list[str] = Field(
        default_factory=list,
        description="models a request's judge.model may name besides GRADER_JUDGE_MODEL (JSON list)",
    )
    judge_extra_body_allow: list[str] = Field(
        default_factory=lambda: list(DEFAULT_EXTRA_BODY_ALLOW),
        description="keys a request's judge.extra_body may set (a dotted path allows one nested key, as "
        "chat_template_kwargs.enable_thinking); the fields the grader builds itself are never allowed",
    )
    judge_allow_custom_template: bool = Field(
        True, description="whether a request may bring its own judge prompt (judge.custom_template)"
    )
    max_explanation_chars: int = Field(
        1000, ge=0, description="a judge explanation returned to the caller is cut to this many characters"
    )
    ui: bool = Field(
        True,
        description="serve the rubric playground at /ui (a static page; its grading calls need the bearer token); "
        "turn off in production",
    )
    host: str = Field("127.0.0.1", description="loopback by default; another address needs a token or GRADER_OPEN")
    port: int = 8080
    workers: int = Field(1, ge=1, description="uvicorn worker processes (multi-core hosts)")
    shutdown_grace_s: float = Field(
        30.0,
        gt=0,
        description="on SIGTERM, how long requests in flight may take to finish before they are cancelled "
        "(clients retry them elsewhere or after the restart)",
    )
    log_format: Literal["json", "text"] = Field("json", description="json: one object a line, with the request id")
    log_level: str = Field("info")

    @field_validator("judge_family")
    @classmethod
    def _known_family(cls, v: str) -> str:
        from grader_service.judge.families import FAMILY_NAMES

        if v not in FAMILY_NAMES:
            raise ValueError(f"unknown judge family {v!r}; one of {', '.join(FAMILY_NAMES)}")
        return v

    @field_validator("judge_extra_body_allow")
    @classmethod
    def _not_grader_owned(cls, v: list[str]) -> list[str]:
        owned = sorted({k for k in v if k.split(".")[0] in GRADER_OWNED_FIELDS})
        if owned:
            raise ValueError(f"the grader builds {', '.join(owned)} itself: a request can never set them")
        return v

    @field_validator("judge_api_key", "api_key", mode="before")
    @classmethod
    def _empty_is_unset(cls, v: object) -> object:
        """`GRADER_API_KEY=` (empty, as compose passes an unset variable) means no key, not an empty one."""
        return None if isinstance(v, str) and not v.strip() else v
