"""Work for a client that went away is not paid for: its grading is cancelled when it disconnects.

The request's deadline is the client's own timeout: when it passes, the client closes the connection, and
the grader cancels the request's pending judge calls (those another live request waits for go on, see
`judge/_cached.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from starlette.requests import Request

T = TypeVar("T")

CLIENT_CLOSED = 499  # nginx's "client closed request": for the access log only, nobody receives it


async def unless_disconnected(request: Request, work: Awaitable[T]) -> tuple[T | None, bool]:
    """(`work`'s result, False), or (None, True) when the client disconnected first and `work` was cancelled."""
    task = asyncio.ensure_future(work)

    async def watch() -> None:
        while True:  # the body has been read: the next message is the disconnect
            if (await request.receive())["type"] == "http.disconnect":
                task.cancel()
                return

    watcher = asyncio.create_task(watch())
    try:
        return await task, False
    except asyncio.CancelledError:
        if watcher.done() and not watcher.cancelled():
            return None, True
        raise
    finally:
        watcher.cancel()
