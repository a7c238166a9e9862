"""`python -m grader_service`: serve the grader with uvicorn, configured by GRADER_* variables."""

from __future__ import annotations

import uvicorn

from grader_service.app import create_app
from grader_service.settings import GraderSettings


def main() -> None:
    settings = GraderSettings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")


if __name__ == "__main__":
    main()
