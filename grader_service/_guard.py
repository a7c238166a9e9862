"""Limits before work, as a plain ASGI middleware in front of the app.

In this order, for every request with a body: the bearer token, which names the key (before a byte of
the body is read), then the key's quota (a 429 with Retry-After when it is spent), then the body itself
under a streaming size limit (chunked bodies too) and read deadlines (a sender that stalls gets a 408),
then the body must be UTF-8 JSON (a 422 otherwise), and for `/v1/grade` the item and criteria counts
are taken from the raw JSON.
JSON parsing holds the GIL, so a large body is counted in a worker process: a body that is going to
be rejected never stalls the event loop. Accepted bodies go on to the app unchanged.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from grader_service import metrics
from grader_service.keys import KeyRing
from grader_service.quotas import Quotas

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

INLINE_BYTES = 1 << 20  # bodies up to this size are counted on the event loop (a few ms at most)


def _exit_with_parent(parent: int) -> None:
    """The counting worker's initializer: a grader that dies without shutting its pool down (SIGKILL, a
    crash, an OOM kill) must not leave the worker behind, holding memory for good."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def token_ok(header: str | None, expected: str) -> bool:
    """Constant-time check of an `Authorization: Bearer <token>` header."""
    if not header or header[:7].lower() != "bearer ":
        return False
    return hmac.compare_digest(header[7:].strip().encode("utf-8", "surrogatepass"), expected.encode("utf-8"))


def count_problem(
    body: bytes, max_items: int, max_criteria: int, counted: bool = True
) -> tuple[int, list[Any], str] | None:
    """A 422 for a body that is not UTF-8 JSON; with `counted`, a 413 for too many items or criteria,
    found on the raw JSON (no models built). None when the app should see the body: anything else that
    is wrong with it is the app's own validation to name."""
    try:
        data = json.loads(body.decode("utf-8"))  # bytes would be sniffed for UTF-16/32: JSON over HTTP is UTF-8
    except UnicodeDecodeError:
        return 422, ["body"], "the body is not UTF-8 text"
    except ValueError as e:
        return 422, ["body"], f"the body is not valid JSON: {str(e)[:120]}"
    except RecursionError:
        return 422, ["body"], "the body's JSON is nested too deeply"
    if not counted or not isinstance(data, dict) or not isinstance(items := data.get("items"), list):
        return None
    if len(items) > max_items:
        return 413, ["body", "items"], f"at most {max_items} items per request (got {len(items)})"
    for i, item in enumerate(items):
        rubric = item.get("rubric") if isinstance(item, dict) else None
        if isinstance(rubric, list) and len(rubric) > max_criteria:
            return 413, ["body", "items", i, "rubric"], f"at most {max_criteria} criteria per item"
    return None


class Guard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        keys: KeyRing,
        quotas: Quotas,
        open_paths: frozenset[str],
        json_paths: frozenset[str],
        max_body_bytes: int,
        max_items: int,
        max_criteria: int,
        idle_timeout_s: float,
        body_timeout_s: float,
    ) -> None:
        self.app = app
        self.keys = keys
        self.quotas = quotas
        self.open_paths = open_paths
        self.json_paths = json_paths
        self.max_body_bytes = max_body_bytes
        self.max_items = max_items
        self.max_criteria = max_criteria
        self.idle_timeout_s = idle_timeout_s
        self.body_timeout_s = body_timeout_s
        self._pool: ProcessPoolExecutor | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if self.keys.required and path not in self.open_paths and not _is_docs(path):
            headers = dict(scope.get("headers") or [])
            key = self.keys.identify(headers.get(b"authorization", b"").decode("latin-1"))
            if key is None:
                await _reply(send, 401, "missing or wrong bearer token", ["header", "authorization"], bearer=True)
                return
            log = scope.setdefault("state", {}).setdefault("log", {})
            log["client"] = key.name
            over = self.quotas.admit(key.name)
            if over is not None:
                metrics.CLIENT_REQUESTS.labels(key.name, f"over_{over.budget}").inc()
                msg = f"key {key.name!r} is over its {over.budget.replace('_', ' ')}; retry in {over.retry_after_s} s"
                await _reply(send, 429, msg, ["header", "authorization"], retry_after=over.retry_after_s)
                return
            metrics.CLIENT_REQUESTS.labels(key.name, "admitted").inc()
            try:
                await self._serve(scope, receive, send, path)
            finally:  # what the request cost the judge, known only now (routes put it in the access log)
                spent = int(log.get("judge_tokens") or 0)
                self.quotas.charge(key.name, spent)
                if spent:
                    metrics.CLIENT_JUDGE_TOKENS.labels(key.name).inc(spent)
            return
        await self._serve(scope, receive, send, path)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        if scope.get("method") != "POST" or path not in self.json_paths:  # the router answers 404/405
            await self.app(scope, receive, send)
            return
        body = await self._read(scope, receive, send)
        if body is None:
            return
        problem = await self._count(body, counted=path == "/v1/grade")
        if problem is not None:
            status, loc, msg = problem
            await _reply(send, status, msg, loc)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await _reply(send, 413, f"body exceeds {self.max_body_bytes} bytes", ["body"])
            return None
        chunks: list[bytes] = []
        total = 0
        deadline = time.monotonic() + self.body_timeout_s
        while True:
            wait = min(self.idle_timeout_s, deadline - time.monotonic())
            try:
                message = await asyncio.wait_for(receive(), timeout=max(wait, 0.001))
            except TimeoutError:
                await _reply(send, 408, "the request body did not arrive in time", ["body"])
                return None
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > self.max_body_bytes:  # holds for chunked bodies, which declare no length
                await _reply(send, 413, f"body exceeds {self.max_body_bytes} bytes", ["body"])
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _count(self, body: bytes, counted: bool) -> tuple[int, list[Any], str] | None:
        if len(body) <= INLINE_BYTES or self._pool is None:
            return count_problem(body, self.max_items, self.max_criteria, counted)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, count_problem, body, self.max_items, self.max_criteria, counted)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def wrapped_receive() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._pool = ProcessPoolExecutor(max_workers=1, initializer=_exit_with_parent, initargs=(os.getpid(),))
            elif message["type"] == "lifespan.shutdown" and self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
            return message

        await self.app(scope, wrapped_receive, send)


def _is_docs(path: str) -> bool:
    # no secrets there: the API docs, and the playground's static page (its calls carry the token)
    return path in ("/docs", "/redoc", "/openapi.json", "/ui") or path.startswith(("/docs/", "/ui/"))


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _reply(
    send: Send, status: int, msg: str, loc: list[Any], bearer: bool = False, retry_after: int | None = None
) -> None:
    payload = json.dumps({"detail": [{"loc": loc, "msg": msg, "type": "request_rejected"}]}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    if bearer:
        headers.append((b"www-authenticate", b"Bearer"))
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    if status in (408, 413):
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
