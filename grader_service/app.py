"""The FastAPI app. Routes are thin: the work happens in `grading`, `rubric_check` and `schemes`."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import fields
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles

from grader_service import _openapi, grading, metrics, openrlhf
from grader_service._disconnect import CLIENT_CLOSED, unless_disconnected
from grader_service._guard import Guard
from grader_service._logging import RequestLog
from grader_service._redact import redact_url
from grader_service.cache import make_store
from grader_service.judge import CachedJudge, Judge, JudgeRequestOptions, OpenAIJudge, RetryPolicy, make_transport
from grader_service.judge.families import FAMILIES
from grader_service.judge.modes import Knobs
from grader_service.keys import KeyRing
from grader_service.limiter import JudgeLimiter, RedisSlots
from grader_service.probe import Prober
from grader_service.quotas import Quotas
from grader_service.rubric_check import RubricInvalid, check_rubric
from grader_service.schemes import SCHEMES
from grader_service.settings import GraderSettings
from shared import GradeRequest, GradeResponse, JudgeOptions, RubricValidationRequest, RubricValidationResponse

log = logging.getLogger("grader")
# Swagger UI 5 and ReDoc, shipped in a package: /docs and /redoc work with no network (no CDN)
UI_ASSETS = Path(__file__).resolve().parent / "ui"
DOCS_ASSETS = Path(importlib.util.find_spec("fastapi_offline").origin).parent / "static"  # type: ignore[union-attr,arg-type]
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/v1/schemes", "/v1/judge"})
ROUTES = OPEN_PATHS | {"/v1/grade", "/v1/rubrics/validate", "/v1/openrlhf/reward", "/docs", "/openapi.json"}


_BRANCHES = {"str", "int", "float", "bool", "dict", "list", "none"}


def _is_branch_label(part: object) -> bool:
    """pydantic's names for union branches and validators in a `loc` ("function-after[...]", "list[...]")."""
    return isinstance(part, str) and (
        "[" in part or part in _BRANCHES or part.startswith(("function-", "constrained-"))
    )


def _clean_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Locations without union-branch labels; a branch's "wrong type" error is dropped where another
    branch got further into the same field (the input was of that branch's type)."""
    cleaned = [
        {"loc": [p for p in e["loc"] if not _is_branch_label(p)], "msg": e["msg"], "type": e["type"]} for e in errors
    ]
    out = []
    for e in cleaned:
        deeper = any(
            o is not e and len(o["loc"]) > len(e["loc"]) and o["loc"][: len(e["loc"])] == e["loc"] for o in cleaned
        )
        if not (deeper and e["type"].endswith("_type")):
            out.append(e)
    return out


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


def components(judge: Judge, limiter: JudgeLimiter | None) -> dict[str, dict[str, Any]]:
    """The state of what sits around the judge, for /readyz: the cache and the Redis-held global limit."""
    out: dict[str, dict[str, Any]] = {}
    store = getattr(judge, "store", None)
    if store is not None and hasattr(store, "health"):
        out["cache"] = store.health()
    if limiter is not None and (limit := limiter.health()) is not None:
        out["global_limit"] = limit
    return out


def overall(judge_status: str, parts: dict[str, dict[str, Any]]) -> str:
    """A working judge with a degraded part around it is `degraded` (still serving: HTTP 200)."""
    if judge_status == "ready" and any(p.get("status") == "degraded" for p in parts.values()):
        return "degraded"
    return judge_status


def build_limiter(settings: GraderSettings) -> JudgeLimiter:
    """The cap and quotas are the judge's, for all workers together: without Redis each worker takes an
    even share; with GRADER_JUDGE_GLOBAL_CONCURRENCY the cap is held in Redis for every replica."""
    share = settings.workers
    global_slots = None
    if settings.judge_global_concurrency:
        if not settings.redis_url:
            raise ValueError("GRADER_JUDGE_GLOBAL_CONCURRENCY needs GRADER_REDIS_URL")
        global_slots = RedisSlots(settings.redis_url, settings.judge_concurrency, settings.claim_lease_s)
        share = 1
    return JudgeLimiter(
        max(1, -(-settings.judge_concurrency // share)),
        rpm=settings.judge_rpm / settings.workers if settings.judge_rpm else None,
        tpm=settings.judge_tpm / settings.workers if settings.judge_tpm else None,
        adaptive=settings.judge_adaptive,
        global_slots=global_slots,
    )


def build_judge(settings: GraderSettings) -> tuple[Judge, JudgeLimiter]:
    limiter = build_limiter(settings)
    key = settings.judge_api_key.get_secret_value() if settings.judge_api_key else None
    inner = OpenAIJudge(
        make_transport(
            settings.judge_base_url,
            key,
            settings.judge_timeout_s,
            max(settings.judge_concurrency, 16),
            settings.judge_transport,
        ),
        limiter,
        retry=RetryPolicy(settings.judge_max_attempts, settings.judge_backoff_initial_s, settings.judge_backoff_max_s),
        knobs=Knobs(**{f.name: getattr(settings, f"judge_{f.name}") for f in fields(Knobs)}),  # GRADER_JUDGE_*
        family_name=settings.judge_family,
        extra_body=settings.judge_extra_body,
        secrets=tuple(s for s in (key, settings.api_key.get_secret_value() if settings.api_key else None) if s),
    )
    store = make_store(
        settings.cache,
        size=settings.cache_size,
        ttl_s=settings.cache_ttl_s,
        path=settings.cache_path,
        max_entries=settings.cache_max_entries,
        redis_url=settings.redis_url,
    )
    max_wait_s = settings.judge_timeout_s * settings.judge_max_attempts + 10.0
    return CachedJudge(inner, store, claim_lease_s=settings.claim_lease_s, max_wait_s=max_wait_s), limiter


def default_options(settings: GraderSettings) -> JudgeRequestOptions:
    return grading.resolve_options(GradeRequest.model_construct(judge=JudgeOptions()), settings)


# /docs and /redoc: the OpenAPI pages, their assets served by the grader itself (they work offline)
API_PAGE = {"openapi_url": "/openapi.json", "title": "Rubric grader — API"}


def create_app(settings: GraderSettings | None = None, judge: Judge | None = None) -> FastAPI:
    settings = settings or GraderSettings()
    if settings.judge_template_file:  # unreadable, or without its placeholders: stop here, not on a request
        grading.template_file(settings.judge_template_file)

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
        docs_url=None,  # served below from a package: the default page loads Swagger UI from a CDN
        redoc_url=None,
    )
    app.mount("/docs/static", StaticFiles(directory=DOCS_ASSETS), name="docs-static")
    if settings.ui:  # the rubric playground: static HTML/JS over this API (GRADER_UI=false turns it off)
        app.mount("/ui", StaticFiles(directory=UI_ASSETS, html=True), name="ui")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            **API_PAGE,
            swagger_js_url="/docs/static/swagger-ui-bundle.js",
            swagger_css_url="/docs/static/swagger-ui.css",
            swagger_favicon_url="/docs/static/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            **API_PAGE,
            redoc_js_url="/docs/static/redoc.standalone.js",
            redoc_favicon_url="/docs/static/favicon.png",
            with_google_fonts=False,
        )

    app.state.settings = settings
    bearer = HTTPBearer(auto_error=False)
    keys = KeyRing.from_settings(settings)
    app.state.keys = keys

    def authorise(creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        """Declares the bearer scheme in the OpenAPI document; `Guard` has already checked the token."""
        header = f"Bearer {creds.credentials}" if creds is not None else None
        if keys.identify(header) is None:
            raise HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})

    app.add_middleware(
        Guard,
        keys=keys,
        quotas=Quotas(keys.keys, share=settings.workers),
        open_paths=OPEN_PATHS,
        json_paths=frozenset({"/v1/grade", "/v1/rubrics/validate", "/v1/openrlhf/reward"}),
        max_body_bytes=settings.max_body_bytes,
        max_items=settings.max_items,
        max_criteria=settings.max_criteria,
        idle_timeout_s=settings.body_idle_timeout_s,
        body_timeout_s=settings.body_timeout_s,
    )
    app.add_middleware(RequestLog, routes=ROUTES)  # outermost: times and ids every request, rejected ones too

    @app.exception_handler(grading.RequestRejected)
    async def _rejected(_: Request, exc: grading.RequestRejected) -> JSONResponse:
        return JSONResponse({"detail": exc.detail()}, exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _clean_errors(list(exc.errors()))
        return JSONResponse({"detail": jsonable_encoder(errors)}, 422)

    # the bearer scheme appears in the OpenAPI document only where a token is really required
    auth = [Depends(authorise)] if keys.required else []

    @app.post("/v1/grade", response_model=GradeResponse, dependencies=auth)
    async def grade(body: GradeRequest, request: Request) -> Response:
        result, gone = await unless_disconnected(request, grading.grade(body, request.app.state.judge, settings))
        log = request.scope["state"]["log"]
        if result is None or gone:
            log.update({"items": len(body.items), "disconnected": "grading cancelled"})
            return Response(status_code=CLIENT_CLOSED)
        log.update(
            {
                "items": len(result.results),
                "judge_calls": result.usage.judge_calls,
                "judge_tokens": result.usage.prompt_tokens + result.usage.completion_tokens,
                "cache_hits": result.usage.cache_hits,
                "null_rewards": sum(r.reward is None for r in result.results),
            }
        )
        # serialised once by pydantic; returning the model would have FastAPI validate it all over again
        return Response(result.model_dump_json(), media_type="application/json")

    @app.post("/v1/openrlhf/reward", dependencies=auth, tags=["adapters"])
    async def openrlhf_reward(
        body: openrlhf.OpenRLHFRequest, request: Request, params: Annotated[openrlhf.OpenRLHFParams, Query()]
    ) -> JSONResponse:
        """OpenRLHF's remote reward model protocol: `--remote_rm_url http://grader:8080/v1/openrlhf/reward`."""
        work = openrlhf.reward(body, params, request.app.state.judge, settings)
        done, gone = await unless_disconnected(request, work)
        if done is None or gone:
            return Response(status_code=CLIENT_CLOSED)
        status, payload, usage = done
        request.scope["state"]["log"].update(
            {"judge_calls": usage.judge_calls, "judge_tokens": usage.prompt_tokens + usage.completion_tokens}
        )
        return JSONResponse(payload, status)

    @app.post("/v1/rubrics/validate", response_model=RubricValidationResponse, dependencies=auth)
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

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        body, content_type = metrics.scrape()
        return Response(body, media_type=content_type)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    judge_info = {"url": redact_url(settings.judge_base_url), "model": settings.judge_model}

    @app.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        parts = components(request.app.state.judge, request.app.state.limiter)
        if not settings.judge_probe:
            ok, detail = await request.app.state.judge.ready()
            body = {"status": overall("ready" if ok else "unreachable", parts), "judge": judge_info, "detail": detail}
            return JSONResponse({**body, **parts}, 200 if ok else 503)
        report = await request.app.state.prober.report()
        body = {"status": overall(report.status, parts), "judge": judge_info, "probe": report.as_dict()}
        return JSONResponse({**body, **parts}, 200 if report.healthy else 503)

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

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            policy = _openapi.JudgePolicy(
                settings.judge_model,
                settings.judge_allowed_models,
                settings.judge_extra_body_allow,
                settings.judge_allow_custom_template,
            )
            app.openapi_schema = _openapi.patch(
                get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes), policy
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
