"""Standalone rubric grader: FastAPI over an OpenAI-compatible LLM judge."""

from grader_service.app import create_app
from grader_service.settings import GraderSettings

__all__ = ["GraderSettings", "create_app"]
