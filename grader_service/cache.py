"""Judgement caches: GRPO groups often repeat identical completions, and evaluation reruns repeat all."""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, Protocol, TypeVar

V = TypeVar("V")


class Cache(Protocol[V]):
    def get(self, key: str) -> V | None: ...

    def set(self, key: str, value: V) -> None: ...


class LRUCache(Generic[V]):
    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self._data: OrderedDict[str, V] = OrderedDict()

    def get(self, key: str) -> V | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def set(self, key: str, value: V) -> None:
        if self.max_size <= 0:
            return
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.max_size:
            self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)
