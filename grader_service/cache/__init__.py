"""Judgement stores: in memory, in one SQLite file (the default), or in Redis; chosen by GRADER_CACHE."""

from __future__ import annotations

import logging
from typing import Any

from grader_service.cache._base import Store, Value, decode, encode
from grader_service.cache._memory import MemoryStore
from grader_service.cache._redis import RedisStore
from grader_service.cache._resilient import ResilientStore
from grader_service.cache._sqlite import CacheFileUnusable, SQLiteStore

log = logging.getLogger("rubric_grader")


class LayeredStore:
    """A small in-process LRU in front of a shared store: repeats within a process never leave it."""

    def __init__(self, front: MemoryStore, back: Store) -> None:
        self.front = front
        self.back = back
        self.shared = back.shared

    async def get(self, key: str) -> Value | None:
        value = self.front.get_now(key)
        if value is None:
            value = await self.back.get(key)
            if value is not None:
                self.front.set_now(key, value)
        return value

    async def set(self, key: str, value: Value) -> None:
        self.front.set_now(key, value)
        await self.back.set(key, value)

    async def claim(self, key: str, owner: str, ttl_s: float) -> bool:
        return await self.back.claim(key, owner, ttl_s)

    async def release(self, key: str, owner: str) -> None:
        await self.back.release(key, owner)

    async def renew(self, key: str, owner: str, ttl_s: float) -> bool:
        return await self.back.renew(key, owner, ttl_s)

    async def aclose(self) -> None:
        await self.back.aclose()

    def stats(self) -> dict[str, Any]:
        return {**self.back.stats(), "memory_front": self.front.stats()}

    def health(self) -> dict[str, Any]:
        health = getattr(self.back, "health", None)
        return health() if health is not None else {"status": "ok"}


def make_store(kind: str, *, size: int, ttl_s: float, path: str, max_entries: int, redis_url: str | None) -> Store:
    """The store GRADER_CACHE asks for. Shared stores sit behind an in-process LRU and fail soft (a fault is a
    miss); a SQLite path that cannot be written leaves the in-process cache alone, with one warning."""
    if kind == "off":
        return MemoryStore(0)
    front = MemoryStore(size, ttl_s)
    if kind == "memory":
        return front
    if kind == "sqlite":
        try:
            return LayeredStore(front, ResilientStore(SQLiteStore(path, ttl_s, max_entries), "sqlite"))
        except CacheFileUnusable as e:
            using = "the in-process cache only (judgements do not survive a restart or reach other workers)"
            log.warning("cannot use the SQLite cache at %s (%s): using %s", path, e, using)
            front.notice = {"status": "degraded", "cause": f"SQLite cache at {path}: {e}"[:300], "using": using}
            return front
    if kind == "redis":
        if not redis_url:
            raise ValueError("GRADER_CACHE=redis needs GRADER_REDIS_URL")
        return LayeredStore(front, ResilientStore(RedisStore(redis_url, ttl_s), "redis"))
    raise ValueError(f"unknown cache kind {kind!r}: off | memory | sqlite | redis")


__all__ = [
    "LayeredStore",
    "MemoryStore",
    "RedisStore",
    "ResilientStore",
    "SQLiteStore",
    "Store",
    "Value",
    "decode",
    "encode",
    "make_store",
]
