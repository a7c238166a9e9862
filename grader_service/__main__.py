"""`python -m grader_service`: serve the grader with uvicorn, configured by GRADER_* variables."""

from __future__ import annotations

import os
import tempfile

import uvicorn

from grader_service._logging import configure
from grader_service.settings import GraderSettings


def main() -> None:
    settings = GraderSettings()
    configure(settings.log_format, settings.log_level)
    common = {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": settings.shutdown_grace_s,
    }
    if settings.workers > 1:
        # every worker writes its metrics where /metrics (in any worker) can add them up; the judge cap,
        # quotas and cache are shared as GRADER_JUDGE_CONCURRENCY and GRADER_CACHE describe (README)
        os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="grader-metrics-"))
        uvicorn.run("grader_service.app:create_app", factory=True, workers=settings.workers, **common)
    else:
        from grader_service.app import create_app

        uvicorn.run(create_app(settings), **common)


if __name__ == "__main__":
    main()
