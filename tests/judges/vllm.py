"""vLLM's OpenAI-compatible server (v0.10-0.11), imitated from its documentation and issue threads.

- `/v1/models` lists the model with ``owned_by: "vllm"``.
- Accepts ``max_tokens`` and ``max_completion_tokens``, ``logprobs``/``top_logprobs`` (at most
  ``--max-logprobs``, 20 by default; more is a 400), ``n``, and extra fields such as
  ``chat_template_kwargs`` (passed to the chat template) and ``reasoning_effort`` (gpt-oss).
- ``--reasoning-parser`` splits the reasoning into ``message.reasoning_content``; gpt-oss (harmony)
  is always parsed. The logprobs keep covering every generated token.
- Errors: ``{"object": "error", "message": ..., "type": "BadRequestError", "param": null, "code": 400}``.
- A probability of zero is sent as ``-9999.0`` (JSON has no -inf).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from tests.judges._selfhosted import SelfHosted


class VLLMServer(SelfHosted):
    owned_by = "vllm"
    max_logprobs = 20

    def refuse(self, body: dict[str, Any]) -> Response | None:
        k = body.get("top_logprobs")
        if k is not None and int(k) > self.max_logprobs:
            return JSONResponse(
                {
                    "object": "error",
                    "message": f"Requested top logprobs of {k} exceeds the maximum of {self.max_logprobs}",
                    "type": "BadRequestError",
                    "param": None,
                    "code": 400,
                },
                400,
            )
        return None
