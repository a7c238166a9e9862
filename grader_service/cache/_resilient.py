"""A shared store whose faults are cache misses: Redis down or SQLite failing never fails an item.

A failed read is a miss, a failed write is skipped, a failed claim is a claim granted (this process judges;
in-process sharing still holds), and while the store is down it is tried again only once per backoff.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from grader_service._outage import Outage
from grader_service.cache._base import Store, Value

T = TypeVar("T")


class ResilientStore:
    def __init__(self, inner: Store, name: str) -> None:
        self.inner = inner
        self.shared = inner.shared
        self.outage = Outage(f"cache ({name})", fallback="the in-process cache")

    async def _try(self, op: str, call: Callable[[], Awaitable[T]], fallback: T) -> T:
        if not self.outage.available():
            return fallback
        try:
            result = await call()
        except Exception as e:  # any store fault: the cache is an optimisation
            self.outage.failed(op, e)
            return fallback
        self.outage.ok()
        return result

    async def get(self, key: str) -> Value | None:
        return await self._try("get", lambda: self.inner.get(key), None)

    async def set(self, key: str, value: Value) -> None:
        await self._try("set", lambda: self.inner.set(key, value), None)

    async def claim(self, key: str, owner: str, ttl_s: float) -> bool:
        return await self._try("claim", lambda: self.inner.claim(key, owner, ttl_s), True)

    async def release(self, key: str, owner: str) -> None:
        await self._try("release", lambda: self.inner.release(key, owner), None)

    async def renew(self, key: str, owner: str, ttl_s: float) -> bool:
        return await self._try("renew", lambda: self.inner.renew(key, owner, ttl_s), True)

    async def aclose(self) -> None:
        with contextlib.suppress(Exception):  # closing a dead connection
            await self.inner.aclose()

    def stats(self) -> dict[str, Any]:
        try:
            inner = self.inner.stats()
        except Exception as e:  # stats of a dead store
            inner = {"error": f"{type(e).__name__}: {e}"[:200]}
        return {**inner, **self.outage.as_dict()}

    def health(self) -> dict[str, Any]:
        return self.outage.as_dict()
