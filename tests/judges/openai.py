"""OpenAI's chat completions API, imitated from its API reference and the errors users report.

Chat models (gpt-4.1-mini): ``max_tokens`` (deprecated) and ``max_completion_tokens``, logprobs with
``top_logprobs`` up to 20, ``n``. Unknown fields are refused:
``{"error": {"message": "Unrecognized request argument supplied: X", "type": "invalid_request_error",
"param": null, "code": null}}``.

Reasoning models (o3-mini, o4-mini, gpt-5): hidden reasoning that counts against
``max_completion_tokens`` (a budget it exhausts gives ``content: ""`` and ``finish_reason: "length"``;
``usage.completion_tokens_details.reasoning_tokens`` says how many were spent), and these refusals:
- ``max_tokens``: 400 ``Unsupported parameter: 'max_tokens' is not supported with this model. Use
  'max_completion_tokens' instead.`` (param ``max_tokens``, code ``unsupported_parameter``);
- a temperature other than 1: 400 ``Unsupported value: 'temperature' does not support 0.0 with this
  model. Only the default (1) value is supported.`` (code ``unsupported_value``);
- ``logprobs``: 403 ``You are not allowed to request logprobs from this model`` (o4-mini,
  confident-ai/deepeval#2184).
"""

from __future__ import annotations

from typing import Any, ClassVar

from starlette.responses import JSONResponse, Response

from tests.judges._engine import ImitationServer, completion, logprob_entries, think

_KNOWN = {
    "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "n", "stop", "logprobs",
    "top_logprobs", "presence_penalty", "frequency_penalty", "seed", "user", "response_format", "reasoning_effort",
    "stream", "metadata", "store", "logit_bias", "service_tier",
}  # fmt: skip


def _error(status: int, message: str, param: str | None = None, code: str | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}, status
    )


class OpenAIChatServer(ImitationServer):
    owned_by = "system"

    def refuse(self, body: dict[str, Any]) -> Response | None:
        for key in body:
            if key not in _KNOWN:
                return _error(400, f"Unrecognized request argument supplied: {key}")
        if body.get("top_logprobs") is not None and int(body["top_logprobs"]) > 20:
            return _error(400, "Invalid 'top_logprobs': integer above maximum value.", "top_logprobs")
        return None

    def reply(self, body: dict[str, Any]) -> Response:
        choices, used = [], 0
        for i in range(self.n(body)):
            thought = think(body["messages"], self.sampler, sample=self.sampled(body))
            tokens = thought.answer[: self.max_tokens(body)]
            finish = "length" if len(tokens) < len(thought.answer) else "stop"
            lp = (
                {"content": logprob_entries(tokens, int(body.get("top_logprobs") or 0))}
                if body.get("logprobs")
                else None
            )
            content = "".join(t.text for t in tokens)
            choices.append(
                {
                    "index": i,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "logprobs": lp,
                    "finish_reason": finish,
                }
            )
            used += len(tokens)
        return completion(self.model, choices, self.prompt_tokens(body), used)


class OpenAIReasoningServer(OpenAIChatServer):
    hidden: ClassVar[dict[str, int]] = {"low": 48, "medium": 192, "high": 768}

    def refuse(self, body: dict[str, Any]) -> Response | None:
        if "max_tokens" in body:
            return _error(
                400,
                "Unsupported parameter: 'max_tokens' is not supported with this model. "
                "Use 'max_completion_tokens' instead.",
                "max_tokens",
                "unsupported_parameter",
            )
        if "temperature" in body and float(body["temperature"]) != 1.0:
            t = body["temperature"]
            return _error(
                400,
                f"Unsupported value: 'temperature' does not support {t} with this model. "
                "Only the default (1) value is supported.",
                "temperature",
                "unsupported_value",
            )
        if body.get("logprobs") or "top_logprobs" in body:
            return JSONResponse(
                {
                    "error": {
                        "message": "You are not allowed to request logprobs from this model",
                        "type": "invalid_request_error",
                        "param": None,
                        "code": None,
                    }
                },
                403,
            )
        return super().refuse(body)

    def reply(self, body: dict[str, Any]) -> Response:
        budget = self.max_tokens(body, default=100_000)
        hidden = self.hidden.get(str(body.get("reasoning_effort", "medium")), 192)
        choices, used, spent = [], 0, 0
        for i in range(self.n(body)):
            thought = think(body["messages"], self.sampler, sample=True)  # temperature is always 1
            room = max(0, budget - hidden)
            tokens = thought.answer[:room]
            finish = "length" if len(tokens) < len(thought.answer) else "stop"
            content = "".join(t.text for t in tokens) if finish == "stop" else ""
            choices.append(
                {
                    "index": i,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "logprobs": None,
                    "finish_reason": finish,
                }
            )
            used += min(budget, hidden + len(thought.answer))
            spent += min(budget, hidden)
        details = {"completion_tokens_details": {"reasoning_tokens": spent}}
        return completion(self.model, choices, self.prompt_tokens(body), used, **details)
