"""An in-process LRU store: the fastest, and the front layer of the shared stores."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

from grader_service.cache._base import Value


class MemoryStore:
    shared = False

    def __init__(self, max_size: int, ttl_s: float | None = None) -> None:
        self.max_size = max_size
        self.ttl_s = ttl_s
        self._data: OrderedDict[str, tuple[float, Value]] = OrderedDict()
        self.hits = self.misses = 0
        self.notice: dict[str, Any] | None = None  # set when it stands in for a persistent cache that failed

    def get_now(self, key: str) -> Value | None:
        item = self._data.get(key)
        if item is None or (self.ttl_s is not None and item[0] < time.monotonic()):
            if item is not None:
                del self._data[key]
            self.misses += 1
            return None
        self._data.move_to_end(key)
        self.hits += 1
        return item[1]

    def set_now(self, key: str, value: Value) -> None:
        if self.max_size <= 0:
            return
        expires = time.monotonic() + self.ttl_s if self.ttl_s is not None else float("inf")
        self._data[key] = (expires, value)
        self._data.move_to_end(key)
        while len(self._data) > self.max_size:
            self._data.popitem(last=False)

    async def get(self, key: str) -> Value | None:
        return self.get_now(key)

    async def set(self, key: str, value: Value) -> None:
        self.set_now(key, value)

    async def claim(self, key: str, owner: str, ttl_s: float) -> bool:
        return True  # one process: its own in-flight sharing is enough

    async def release(self, key: str, owner: str) -> None:
        return None

    async def renew(self, key: str, owner: str, ttl_s: float) -> bool:
        return True

    async def aclose(self) -> None:
        return None

    def health(self) -> dict[str, Any]:
        return self.notice or {"status": "ok"}

    def stats(self) -> dict[str, Any]:
        return {"kind": "memory", "entries": len(self._data), "hits": self.hits, "misses": self.misses}

    def __len__(self) -> int:
        return len(self._data)
