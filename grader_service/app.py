"""The FastAPI app. Routes are thin: the work happens in `grading`, `rubric_check` and `schemes`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from grader_service import grading
from grader_service._redact import redact_url
from grader_service.cache import LRUCache
from grader_service.judge import CachedJudge, Judge, JudgeRequestOptions, OpenAIJudge, RetryPolicy, make_client
from grader_service.judge.families import FAMILIES
from grader_service.limiter import SemaphoreLimiter
from grader_service.probe import Prober
from grader_service.rubric_check import RubricInvalid, check_rubric
from grader_service.schemes import SCHEMES
from grader_service.settings import GraderSettings
from shared import GradeRequest, GradeResponse, JudgeOptions, RubricValidationRequest, RubricValidationResponse

log = logging.getLogger("grader")


async def _startup_probe(prober: Prober) -> None:
    """Check the judge once at start-up and say plainly in the log what works and what to change."""
    try:
        report = await prober.report()
    except Exception:  # the probe must never take the service down
        log.exception("judge probe failed")
        return
    log.warning("judge probe: %s (family %s, mode %s)", report.status, report.family, report.mode)
    for p in report.problems:
        log.warning("judge probe: %s -- fix: %s", p["problem"], p["fix"])
    for a in report.adapted:
        log.warning("judge probe: adapted: %s", a)


def build_judge(settings: GraderSettings) -> tuple[Judge, SemaphoreLimiter]:
    limiter = SemaphoreLimiter(settings.judge_concurrency)
    key = settings.judge_api_key.get_secret_value() if settings.judge_api_key else None
    inner = OpenAIJudge(
        make_client(settings.judge_base_url, key, settings.judge_timeout_s),
        limiter,
        retry=RetryPolicy(settings.judge_max_attempts, settings.judge_backoff_initial_s, settings.judge_backoff_max_s),
        max_reparse=settings.judge_max_reparse,
        top_logprobs=settings.judge_top_logprobs,
        max_tokens=settings.judge_max_tokens,
        family_name=settings.judge_family,
        extra_body=settings.judge_extra_body,
        reasoning_budget=settings.judge_reasoning_budget,
        min_answer_mass=settings.judge_min_answer_mass,
        secrets=tuple(s for s in (key, settings.api_key.get_secret_value() if settings.api_key else None) if s),
    )
    return CachedJudge(inner, LRUCache(settings.cache_size)), limiter


def default_options(settings: GraderSettings) -> JudgeRequestOptions:
    return grading.resolve_options(GradeRequest.model_construct(judge=JudgeOptions()), settings)


def create_app(settings: GraderSettings | None = None, judge: Judge | None = None) -> FastAPI:
    settings = settings or GraderSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if judge is None:
            app.state.judge, app.state.limiter = build_judge(settings)
        else:
            app.state.judge, app.state.limiter = judge, None
        app.state.prober = Prober(
            app.state.judge,
            default_options(settings),
            ttl_s=settings.judge_probe_ttl_s,
            timeout_s=min(settings.judge_timeout_s, 120.0),
        )
        startup = asyncio.create_task(_startup_probe(app.state.prober)) if settings.judge_probe else None
        yield
        if startup is not None:
            startup.cancel()
        await app.state.judge.aclose()

    app = FastAPI(
        title="Rubric grader",
        version="0.1.0",
        summary="Continuous rubric rewards from an LLM judge, with per-criterion breakdown and uncertainty.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    bearer = HTTPBearer(auto_error=False)

    def authorise(creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        if settings.api_key is None:
            return
        if creds is None or creds.credentials != settings.api_key.get_secret_value():
            raise HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})

    @app.middleware("http")
    async def limit_body(request: Request, call_next: Any) -> Any:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > settings.max_body_bytes:
            return JSONResponse(
                {"detail": [{"loc": ["body"], "msg": f"body exceeds {settings.max_body_bytes} bytes"}]}, 413
            )
        return await call_next(request)

    @app.exception_handler(grading.RequestRejected)
    async def _rejected(_: Request, exc: grading.RequestRejected) -> JSONResponse:
        return JSONResponse({"detail": exc.detail()}, exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return JSONResponse({"detail": jsonable_encoder(errors)}, 422)

    @app.post("/v1/grade", response_model=GradeResponse, dependencies=[Depends(authorise)])
    async def grade(body: GradeRequest, request: Request) -> GradeResponse:
        return await grading.grade(body, request.app.state.judge, settings)

    @app.post("/v1/rubrics/validate", response_model=RubricValidationResponse, dependencies=[Depends(authorise)])
    async def validate(body: RubricValidationRequest) -> RubricValidationResponse:
        try:
            return check_rubric(body)
        except RubricInvalid as e:
            raise grading.RequestRejected(422, e.loc, e.msg) from e

    @app.get("/v1/schemes")
    async def schemes() -> dict[str, Any]:
        return {
            name: {
                "description": s.description,
                "per_criterion": s.per_criterion,
                "range": s.reward_range,
                "defaults": s.params().model_dump(),
                "params_schema": s.params.model_json_schema(),
            }
            for name, s in SCHEMES.items()
        }

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    judge_info = {"url": redact_url(settings.judge_base_url), "model": settings.judge_model}

    @app.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        if not settings.judge_probe:
            ok, detail = await request.app.state.judge.ready()
            body = {"status": "ready" if ok else "unreachable", "judge": judge_info, "detail": detail}
            return JSONResponse(body, 200 if ok else 503)
        report = await request.app.state.prober.report()
        body = {"status": report.status, "judge": judge_info, "probe": report.as_dict()}
        return JSONResponse(body, 200 if report.healthy else 503)

    @app.get("/v1/judge")
    async def judge_families(request: Request) -> dict[str, Any]:
        backend = getattr(request.app.state.judge, "inner", request.app.state.judge)
        last = request.app.state.prober.last
        return {
            "judge": {**judge_info, "family": settings.judge_family, "mode": settings.judge_mode.value},
            "families": {name: cls.summary for name, cls in FAMILIES.items()},
            "capabilities": backend.capabilities() if hasattr(backend, "capabilities") else {},
            "last_probe": last.as_dict() if last is not None else None,
        }

    return app
