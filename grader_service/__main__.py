"""`python -m grader_service`: serve the grader with uvicorn, configured by GRADER_* variables."""

from __future__ import annotations

import uvicorn

from grader_service.app import create_app
from grader_service.settings import GraderSettings


def main() -> None:
    settings = GraderSettings()
    if settings.workers > 1:  # each worker has its own judge cap and cache: size GRADER_JUDGE_CONCURRENCY per worker
        uvicorn.run(
            "grader_service.app:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_level="info",
        )
    else:
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")


if __name__ == "__main__":
    main()
