"""Grader settings: environment variables prefixed GRADER_ (or a .env file)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared import JudgeMode


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
    api_key: SecretStr | None = Field(None, description="bearer token clients must send (unset: open)")
    ui: bool = Field(
        True,
        description="serve the rubric playground at /ui (a static page; its grading calls need the bearer token); "
        "turn off in production",
    )
    host: str = "0.0.0.0"
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

    @field_validator("judge_api_key", "api_key", mode="before")
    @classmethod
    def _empty_is_unset(cls, v: object) -> object:
        """`GRADER_API_KEY=` (empty, as compose passes an unset variable) means no key, not an empty one."""
        return None if isinstance(v, str) and not v.strip() else v
