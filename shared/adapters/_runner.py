"""One pooled grader client per event loop, and a background loop for the stacks that call synchronously."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

from shared._client import AsyncGraderClient, ClientSettings
from shared._schemas import GradeItem, GradeResponse
from shared.rewards import RewardSettings, grade_with

T = TypeVar("T")


class Grader:
    """Grades items with the RUBRIC_REWARD_* choices, from async code or (through a private loop) sync code."""

    def __init__(self, reward: RewardSettings | None = None, client: ClientSettings | None = None) -> None:
        self.reward = reward or RewardSettings()
        self.client_settings = client or ClientSettings()
        self._clients: dict[int, AsyncGraderClient] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    async def agrade(self, items: Sequence[GradeItem]) -> GradeResponse:
        key = id(asyncio.get_running_loop())
        if key not in self._clients:
            self._clients[key] = AsyncGraderClient(self.client_settings)
        return await grade_with(self._clients[key], items, self.reward)

    def grade(self, items: Sequence[GradeItem]) -> GradeResponse:
        """From sync code, including code running inside someone else's event loop (verl's executors)."""
        return self._run(self.agrade(items))

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                threading.Thread(target=self._loop.run_forever, daemon=True, name="rubric-grader").start()
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()
