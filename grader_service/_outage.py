"""Outage bookkeeping for the parts around the grader (the Redis or SQLite cache, the Redis-held judge limit).

They are optimisations: while one is unavailable the grader works without it. This tracks that state for
`/readyz` and the metrics, logs one line when it starts and one when it ends, and spaces out the attempts
to use it again (exponential backoff) so a dead Redis costs one failed call per backoff, not one per item.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from grader_service import metrics

log = logging.getLogger("rubric_grader")


class Outage:
    def __init__(self, component: str, *, fallback: str, backoff_initial_s: float = 0.5, backoff_max_s: float = 30.0):
        self.component = component
        self.fallback = fallback  # what is used instead, for the log and /readyz
        self.cause: str | None = None
        self.since: float | None = None
        self.errors = 0
        self._initial = backoff_initial_s
        self._max = backoff_max_s
        self._backoff = backoff_initial_s
        self._retry_at = 0.0
        metrics.DEGRADED.labels(component).set(0)

    @property
    def degraded(self) -> bool:
        return self.cause is not None

    def available(self) -> bool:
        """Whether to try the component now: always while it works, once per backoff while it does not."""
        return self.cause is None or time.monotonic() >= self._retry_at

    def failed(self, op: str, exc: BaseException) -> None:
        self.errors += 1
        metrics.CACHE_ERRORS.labels(self.component, op).inc()
        if self.cause is None:
            self.since = time.time()
            metrics.DEGRADED.labels(self.component).set(1)
            log.warning(
                "%s unavailable (%s: %s): grading continues with %s; retrying with backoff",
                self.component,
                type(exc).__name__,
                str(exc)[:200],
                self.fallback,
            )
        else:
            self._backoff = min(self._backoff * 2, self._max)
        self.cause = f"{type(exc).__name__}: {str(exc)[:200]}"
        self._retry_at = time.monotonic() + self._backoff

    def ok(self) -> None:
        if self.cause is None:
            return
        down = time.time() - (self.since or time.time())
        metrics.DEGRADED.labels(self.component).set(0)
        metrics.DEGRADED_SECONDS.labels(self.component).inc(down)
        log.warning("%s recovered after %.1f s", self.component, down)
        self.cause = None
        self.since = None
        self._backoff = self._initial

    def as_dict(self) -> dict[str, Any]:
        if self.cause is None:
            return {"status": "ok", "errors": self.errors}
        since = datetime.fromtimestamp(self.since or time.time(), UTC).isoformat(timespec="seconds")
        return {
            "status": "degraded",
            "cause": self.cause,
            "since": since,
            "using": self.fallback,
            "errors": self.errors,
        }
