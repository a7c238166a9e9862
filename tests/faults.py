"""An ASGI wrapper that injects faults in front of the real grader app (for client tests)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class GraderFaults:
    fail_next: list[int] = field(default_factory=list)  # statuses for the next /v1/grade requests
    retry_after: str | None = None
    delay_s: float = 0.0
    down_until: float = 0.0  # time.monotonic() before which every /v1/grade is a 503 (an outage)
    fail_marker: str | None = None  # a /v1/grade body holding this text always gets a 503
    grade_requests: int = 0


class FaultyGrader:
    def __init__(self, app: Any, faults: GraderFaults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/v1/grade":
            f = self.faults
            f.grade_requests += 1
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            if f.delay_s:
                await asyncio.sleep(f.delay_s)
            status = None
            if f.fail_next:
                status = f.fail_next.pop(0)
            elif time.monotonic() < f.down_until or (f.fail_marker and f.fail_marker.encode() in body):
                status = 503
            if status is not None:
                headers = [(b"content-type", b"application/json")]
                if f.retry_after is not None:
                    headers.append((b"retry-after", f.retry_after.encode()))
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": b'{"detail": "injected fault"}'})
                return

            sent = False

            async def replay() -> dict:
                nonlocal sent
                if not sent:
                    sent = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            await self.app(scope, replay, send)
            return
        await self.app(scope, receive, send)
