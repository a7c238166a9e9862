"""Groq's OpenAI-compatible API serving gpt-oss, imitated from its API reference and user reports.

- ``logprobs``/``top_logprobs``: 400 ``\\`logprobs\\` is not supported with this model`` (groq/groq-python#25).
- ``n`` other than 1: 400 ``'n' : number must be at most 1`` (the API reference: "only n=1 is
  supported. Other values will result in a 400 response"; stanfordnlp/dspy#1155).
- Unknown fields: 400 ``property 'X' is unsupported`` (musistudio/llms#64).
- gpt-oss answers in the final channel; the analysis comes back in ``message.reasoning``;
  ``reasoning_effort`` is low | medium | high.
- Errors: ``{"error": {"message": ..., "type": "invalid_request_error"}}``.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from tests.judges._selfhosted import SelfHosted

_KNOWN = {
    "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "n", "stop", "seed",
    "user", "response_format", "reasoning_effort", "reasoning_format", "include_reasoning", "stream",
    "logprobs", "top_logprobs", "presence_penalty", "frequency_penalty",
}  # fmt: skip


def _error(message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "invalid_request_error"}}, 400)


class GroqServer(SelfHosted):
    owned_by = "OpenAI"

    def __init__(self, model: str = "openai/gpt-oss-20b") -> None:
        super().__init__(model, style="harmony", reasoning_parser=True)

    def refuse(self, body: dict[str, Any]) -> Response | None:
        for key in body:
            if key not in _KNOWN:
                return _error(f"property '{key}' is unsupported")
        if body.get("logprobs") or "top_logprobs" in body:
            return _error("`logprobs` is not supported with this model")
        if int(body.get("n") or 1) != 1:
            return _error("'n' : number must be at most 1")
        return None

    def reasoning_field(self, reasoning: str | None) -> dict[str, Any]:
        return {"reasoning": reasoning}
