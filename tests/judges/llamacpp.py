"""llama.cpp's ``llama-server``, imitated from its source (tools/server) and issue threads.

- `/v1/models`: ``owned_by: "llamacpp"``.
- ``n`` other than 1 raises in ``oaicompat_chat_params_parse`` and comes back as HTTP 500
  ``{"error": {"code": 500, "message": "Only one completion choice is allowed", "type": "server_error"}}``.
- ``logprobs`` with ``top_logprobs`` (20 by default); unknown fields are passed through and ignored.
- ``reasoning_format`` (default ``auto``) splits a thinking model's reasoning into ``reasoning_content``.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from tests.judges._selfhosted import SelfHosted


class LlamaCppServer(SelfHosted):
    owned_by = "llamacpp"

    def refuse(self, body: dict[str, Any]) -> Response | None:
        if int(body.get("n") or 1) != 1:
            return JSONResponse(
                {"error": {"code": 500, "message": "Only one completion choice is allowed", "type": "server_error"}},
                500,
            )
        return None

    def split(self, body: dict[str, Any]) -> bool:
        return body.get("reasoning_format", "auto") != "none" and self.style != "instruct"
