"""The FastAPI app. Routes are thin: the work happens in `grading`, `rubric_check` and `schemes`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from grader_service import grading
from grader_service.cache import LRUCache
from grader_service.judge import CachedJudge, Judge, OpenAIJudge, RetryPolicy, make_client
from grader_service.limiter import SemaphoreLimiter
from grader_service.rubric_check import RubricInvalid, check_rubric
from grader_service.schemes import SCHEMES
from grader_service.settings import GraderSettings
from shared import GradeRequest, GradeResponse, RubricValidationRequest, RubricValidationResponse


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
    )
    return CachedJudge(inner, LRUCache(settings.cache_size)), limiter


def create_app(settings: GraderSettings | None = None, judge: Judge | None = None) -> FastAPI:
    settings = settings or GraderSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if judge is None:
            app.state.judge, app.state.limiter = build_judge(settings)
        else:
            app.state.judge, app.state.limiter = judge, None
        yield
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

    @app.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        ok, detail = await request.app.state.judge.ready()
        body = {"status": "ready" if ok else "judge unreachable", "judge": settings.judge_base_url, "detail": detail}
        return JSONResponse(body, 200 if ok else 503)

    return app
