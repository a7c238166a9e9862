"""Async batched client for the grader (httpx + tenacity), with a thin synchronous wrapper.

One pooled `httpx.AsyncClient`; items split into batches that never split a GRPO group (unless the
group alone exceeds the batch size); batches sent concurrently under a cap; connection errors, 429
(honouring Retry-After) and 5xx retried with capped exponential backoff and jitter until the overall
deadline (a grader restarting for a minute is waited out, not given up on after a few tries); other
4xx never retried; results returned in input order. A batch that still fails comes back as items with
a null reward and a typed `grader_unavailable` error, so the batches that succeeded are never lost.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any, Literal, TypeVar

import httpx
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, stop_after_delay
from tenacity.wait import wait_exponential_jitter

from shared._groups import extra_reward, group_stats
from shared._retry import retry_after_seconds
from shared._schemas import (
    CriterionResult,
    ErrorType,
    GradeError,
    GradeItem,
    GradeResponse,
    ItemResult,
    JudgeOptions,
    SchemeReward,
    SchemeSpec,
    Usage,
)

T = TypeVar("T")


class ClientSettings(BaseSettings):
    """Environment variables prefixed RUBRIC_GRADER_ (e.g. RUBRIC_GRADER_URL)."""

    model_config = SettingsConfigDict(env_prefix="RUBRIC_GRADER_", env_file=".env", extra="ignore")

    url: str = "http://localhost:8080"
    api_key: SecretStr | None = None
    batch_size: int = Field(64, ge=1)
    max_concurrency: int = Field(8, ge=1, description="batches in flight at once")
    timeout_s: float = Field(300.0, gt=0, description="one HTTP request")
    deadline_s: float = Field(900.0, gt=0, description="one grade() call, retries included")
    max_attempts: int | None = Field(
        None, ge=1, description="cap on tries per batch; unset: retry until the deadline (capped backoff)"
    )
    backoff_initial_s: float = Field(0.5, ge=0)
    backoff_max_s: float = Field(15.0, ge=0)
    max_retry_after_s: float = Field(60.0, ge=0)

    @field_validator("api_key", mode="before")
    @classmethod
    def _empty_is_unset(cls, v: object) -> object:
        return None if isinstance(v, str) and not v.strip() else v


class GraderError(Exception):
    """Base class of client errors."""


class GraderRequestError(GraderError):
    """The grader rejected the request (4xx other than 429): fix the input, retrying will not help."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(f"grader rejected the request ({status}): {detail}")
        self.status = status
        self.detail = detail


class GraderUnavailable(GraderError):
    """The grader could not be reached or kept failing after the retry budget."""

    def __init__(self, message: str, *, attempts: int, cause: BaseException | None) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.cause = cause


class GraderDeadlineExceeded(GraderUnavailable):
    """The overall deadline passed before every batch was graded."""


class _RetryableStatus(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"grader answered {response.status_code}: {response.text[:300]}")
        self.response = response


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, _RetryableStatus | httpx.TransportError)


def _retry_after_s(exc: BaseException | None) -> float | None:
    return retry_after_seconds(exc.response.headers) if isinstance(exc, _RetryableStatus) else None


def batches(items: Sequence[GradeItem], size: int) -> list[list[int]]:
    """Index batches of at most `size` that keep each run of equal group_id together where it fits."""
    out: list[list[int]] = []
    current: list[int] = []
    i = 0
    while i < len(items):
        j = i + 1
        gid = items[i].group_id
        while gid is not None and j < len(items) and items[j].group_id == gid:
            j += 1
        run = list(range(i, j))
        if current and len(current) + len(run) > size:
            out.append(current)
            current = []
        while len(run) > size:  # a group larger than a batch: split it
            out.append(run[:size])
            run = run[size:]
        current.extend(run)
        i = j
    if current:
        out.append(current)
    return out


class AsyncGraderClient:
    def __init__(
        self, settings: ClientSettings | None = None, *, http_client: httpx.AsyncClient | None = None, **overrides: Any
    ) -> None:
        base = settings or ClientSettings()
        self.settings = base.model_copy(update=overrides) if overrides else base
        s = self.settings
        headers = {"Authorization": f"Bearer {s.api_key.get_secret_value()}"} if s.api_key else {}
        self._own_client = http_client is None
        self._http = http_client or httpx.AsyncClient(
            base_url=s.url,
            timeout=httpx.Timeout(s.timeout_s, connect=min(10.0, s.timeout_s)),
            limits=httpx.Limits(max_connections=s.max_concurrency, max_keepalive_connections=s.max_concurrency),
            headers=headers,
        )

    async def __aenter__(self) -> AsyncGraderClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._own_client:
            await self._http.aclose()

    # ------------------------------------------------------------ requests

    async def _post(self, path: str, body: Mapping[str, Any], deadline: float) -> Any:
        s = self.settings
        exp = wait_exponential_jitter(initial=s.backoff_initial_s, max=s.backoff_max_s)

        def wait(state: RetryCallState) -> float:
            hinted = _retry_after_s(state.outcome.exception() if state.outcome else None)
            delay = min(hinted, s.max_retry_after_s) if hinted is not None else exp(state)
            return max(0.0, min(delay, deadline - time.monotonic()))

        attempts = 0
        try:
            stop = stop_after_delay(max(0.0, deadline - time.monotonic()))
            if s.max_attempts is not None:
                stop = stop | stop_after_attempt(s.max_attempts)
            async for attempt in AsyncRetrying(
                stop=stop,
                wait=wait,
                retry=retry_if_exception(_retryable),
                reraise=True,
            ):
                with attempt:
                    attempts += 1
                    r = await self._http.post(path, json=body)
                    if r.status_code == 429 or r.status_code >= 500:
                        raise _RetryableStatus(r)
                    if r.status_code >= 400:
                        try:
                            detail = r.json().get("detail", r.text)
                        except ValueError:
                            detail = r.text
                        raise GraderRequestError(r.status_code, detail)
                    return r.json()
        except (_RetryableStatus, httpx.TransportError) as e:
            cause = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
            raise GraderUnavailable(
                f"grader at {s.url} failed after {attempts} attempt(s): {cause}", attempts=attempts, cause=e
            ) from e
        raise AssertionError("unreachable")  # pragma: no cover

    async def grade(
        self,
        items: Sequence[GradeItem | Mapping[str, Any]],
        *,
        scheme: str = "hybrid",
        scheme_params: Mapping[str, Any] | None = None,
        judge: JudgeOptions | Mapping[str, Any] | None = None,
        on_judge_error: str = "null",
        extra_schemes: Sequence[str | SchemeSpec | Mapping[str, Any]] = (),
        pitfall_polarity: Literal["literal", "auto"] | None = None,
    ) -> GradeResponse:
        """Grade any number of items; results come back in input order, groups over all batches.

        `extra_schemes` are scored from the same verdicts (one judge pass): see `ItemResult.extra_rewards`.
        `pitfall_polarity`: None leaves the grader's default (see `GradeRequest.pitfall_polarity`).
        """
        parsed = [it if isinstance(it, GradeItem) else GradeItem.model_validate(it) for it in items]
        if not parsed:
            raise ValueError("no items to grade")
        judge_opts = judge if isinstance(judge, JudgeOptions) else JudgeOptions.model_validate(judge or {})
        common = {
            "scheme": scheme,
            "scheme_params": dict(scheme_params or {}),
            "judge": judge_opts.model_dump(exclude_none=True, mode="json"),
            "on_judge_error": on_judge_error,
        }
        if pitfall_polarity is not None:
            common["pitfall_polarity"] = pitfall_polarity
        if extra_schemes:
            common["extra_schemes"] = [
                SchemeSpec.model_validate(s).model_dump(mode="json", exclude_none=True) for s in extra_schemes
            ]
        deadline = time.monotonic() + self.settings.deadline_s
        sem = asyncio.Semaphore(self.settings.max_concurrency)

        async def send(idx: list[int]) -> tuple[list[int], GradeResponse | GraderUnavailable]:
            async with sem:
                body = {**common, "items": [parsed[i].model_dump(mode="json", exclude_none=True) for i in idx]}
                try:
                    async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                        raw = await self._post("/v1/grade", body, deadline)
                except GraderUnavailable as e:
                    return idx, e
                except TimeoutError as e:
                    return idx, GraderDeadlineExceeded(
                        f"batch of {len(idx)} items not graded within the {self.settings.deadline_s} s deadline",
                        attempts=0,
                        cause=e,
                    )
                return idx, GradeResponse.model_validate(raw)

        done = await asyncio.gather(*(send(b) for b in batches(parsed, self.settings.batch_size)))
        failures = [r for _, r in done if isinstance(r, GraderUnavailable)]
        if len(failures) == len(done):
            raise failures[0]  # nothing graded at all: the caller decides (stop, or all-None rewards)
        return _merge(done, parsed)

    async def schemes(self) -> dict[str, Any]:
        r = await self._http.get("/v1/schemes")
        r.raise_for_status()
        return r.json()

    async def validate_rubric(self, rubric: Any = None, record: Any = None) -> dict[str, Any]:
        body = {"rubric": rubric} if record is None else {"record": record}
        return await self._post("/v1/rubrics/validate", body, time.monotonic() + self.settings.deadline_s)

    async def ready(self) -> bool:
        try:
            return (await self._http.get("/readyz")).status_code == 200
        except httpx.HTTPError:
            return False


def _unavailable(item: GradeItem, error: GraderUnavailable) -> ItemResult:
    """An item whose batch failed for good: null reward, typed error, its criteria unjudged."""
    err = GradeError(type=ErrorType.grader_unavailable, message=str(error)[:300])
    criteria = [
        CriterionResult(criterion=c.criterion, points=c.points, category=c.category, met=None, p_met=None)
        for c in item.rubric
    ]
    return ItemResult(id=item.id, group_id=item.group_id, reward=None, reward_std=None, error=err, criteria=criteria)


def _merge(done: list[tuple[list[int], GradeResponse | GraderUnavailable]], items: list[GradeItem]) -> GradeResponse:
    results: list[Any] = [None] * len(items)
    usage = Usage()
    first: GradeResponse | None = None
    for idx, resp in done:
        if isinstance(resp, GraderUnavailable):
            for i in idx:
                results[i] = _unavailable(items[i], resp)
            continue
        first = first or resp
        for i, res in zip(idx, resp.results, strict=True):
            results[i] = res
        usage.add(resp.usage)
        usage.ms = max(usage.ms, resp.usage.ms)
    assert first is not None
    for r in results:  # an item whose batch never got through has no reward under any scheme
        if r.error is not None and r.error.type is ErrorType.grader_unavailable:
            r.extra_rewards = {
                k: SchemeReward(reward=None, reward_std=None, error=r.error) for k in first.extra_schemes
            }
    extra_groups = {key: group_stats(results, extra_reward(key)) for key in first.extra_schemes}
    return first.model_copy(
        update={"results": results, "groups": group_stats(results), "extra_groups": extra_groups, "usage": usage}
    )


class GraderClient:
    """Synchronous wrapper for scripts: one background event loop, one pooled connection set."""

    def __init__(self, settings: ClientSettings | None = None, **overrides: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="grader-client")
        self._thread.start()
        self._async = self._run(_make_async(settings, overrides))

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def grade(self, items: Sequence[GradeItem | Mapping[str, Any]], **kwargs: Any) -> GradeResponse:
        return self._run(self._async.grade(items, **kwargs))

    def schemes(self) -> dict[str, Any]:
        return self._run(self._async.schemes())

    def validate_rubric(self, rubric: Any = None, record: Any = None) -> dict[str, Any]:
        return self._run(self._async.validate_rubric(rubric, record))

    def ready(self) -> bool:
        return self._run(self._async.ready())

    def close(self) -> None:
        if self._loop.is_running():
            self._run(self._async.aclose())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)

    def __enter__(self) -> GraderClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


async def _make_async(settings: ClientSettings | None, overrides: dict[str, Any]) -> AsyncGraderClient:
    return AsyncGraderClient(settings, **overrides)
