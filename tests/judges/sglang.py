"""SGLang's OpenAI-compatible server, imitated from its documentation and issue threads.

- `/v1/models`: ``owned_by: "sglang"``.
- ``chat_template_kwargs`` reaches the template (``enable_thinking`` for Qwen3); with
  ``--reasoning-parser``, ``separate_reasoning`` (default true) puts the reasoning in
  ``message.reasoning_content``, while ``logprobs.content`` still holds every raw token, reasoning
  and ``<think>``/``</think>`` included (sgl-project/sglang#25055).
"""

from __future__ import annotations

from typing import Any

from tests.judges._selfhosted import SelfHosted


class SGLangServer(SelfHosted):
    owned_by = "sglang"

    def split(self, body: dict[str, Any]) -> bool:
        return self.reasoning_parser and body.get("separate_reasoning", True) is not False
