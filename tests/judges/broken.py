"""A judge that answers HTTP 200 with bodies no chat-completion client can use.

The fault is chosen per criterion by a ``[broken=KIND]`` directive in its text, so one request can
mix healthy and broken criteria; criteria without a directive get a well-formed YES/NO reply.
Kinds: ``not-json``, ``array`` (``[]``), ``no-choices``, ``message-null``, ``content-number``,
``nan-logprob``, ``string-logprob``, ``positive-logprob``, ``top-not-list``; ``once-KIND`` breaks only
the first call for that criterion (a retry then succeeds).
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.responses import Response

from tests.judges._engine import ImitationServer, logprob_entries, think
from tests.scripted_judge import _CRITERION

_BROKEN = re.compile(r"\[broken=([\w-]+)\]")


class BrokenServer(ImitationServer):
    owned_by = "vllm"

    def __init__(self, model: str = "judge") -> None:
        super().__init__(model)
        self.seen: dict[str, int] = {}

    def reply(self, body: dict[str, Any]) -> Response:
        user = next(m["content"] for m in body["messages"] if m["role"] == "user")
        crit = _CRITERION.search(user)
        kind = m.group(1) if crit and (m := _BROKEN.search(crit.group(1))) else None
        if kind and kind.startswith("once-"):
            count = self.seen.get(user, 0)
            self.seen[user] = count + 1
            kind = kind[5:] if count == 0 else None
        thought = think(body["messages"], self.sampler, sample=False)
        entries = logprob_entries(thought.answer, int(body.get("top_logprobs") or 0))
        choice: dict[str, Any] = {
            "index": 0,
            "message": {"role": "assistant", "content": "".join(t.text for t in thought.answer)},
            "logprobs": {"content": entries} if body.get("logprobs") else None,
            "finish_reason": "stop",
        }
        raw: Any = None
        if kind == "not-json":
            return Response("<html><body>502 Bad Gateway</body></html>", 200, media_type="text/html")
        if kind == "array":
            raw = []
        elif kind == "no-choices":
            raw = {"id": "x", "object": "chat.completion", "choices": []}
        elif kind == "message-null":
            choice["message"] = None
        elif kind == "content-number":
            choice["message"]["content"] = 42
        elif kind in ("nan-logprob", "string-logprob", "positive-logprob") and entries:
            entries[0]["logprob"] = {"nan-logprob": float("nan"), "string-logprob": "-0.1", "positive-logprob": 0.7}[
                kind
            ]
            entries[0]["top_logprobs"][0]["logprob"] = entries[0]["logprob"]
        elif kind == "top-not-list" and entries:
            entries[0]["top_logprobs"] = {"YES": -0.1}
        if raw is None:
            raw = {
                "id": "chatcmpl-broken",
                "object": "chat.completion",
                "model": self.model,
                "choices": [choice],
                "usage": {"prompt_tokens": self.prompt_tokens(body), "completion_tokens": len(thought.answer)},
            }
        # json.dumps writes a NaN as the bare literal NaN, as servers that emit one do
        return Response(json.dumps(raw), 200, media_type="application/json")
