"""An ASGI wrapper that injects faults in front of the real grader app (for client tests)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any


@dataclass
class GraderFaults:
    fail_next: list[int] = field(default_factory=list)  # statuses for the next /v1/grade requests
    retry_after: str | None = None
    delay_s: float = 0.0
    grade_requests: int = 0


class FaultyGrader:
    def __init__(self, app: Any, faults: GraderFaults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/v1/grade":
            f = self.faults
            f.grade_requests += 1
            if f.delay_s:
                await asyncio.sleep(f.delay_s)
            if f.fail_next:
                status = f.fail_next.pop(0)
                headers = [(b"content-type", b"application/json")]
                if f.retry_after is not None:
                    headers.append((b"retry-after", f.retry_after.encode()))
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": b'{"detail": "injected fault"}'})
                return
        await self.app(scope, receive, send)
