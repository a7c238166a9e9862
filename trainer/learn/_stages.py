"""Run a pipeline's stages with one line each on the terminal and the libraries' own output in a log."""

from __future__ import annotations

import contextlib
import os
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO


class Stages:
    def __init__(self, log_path: Path, tag: str) -> None:
        self.log_path = log_path
        self.tag = tag
        self._log: TextIO = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - open for the whole run

    def say(self, msg: str) -> None:
        print(f"[{self.tag}] {msg}", flush=True)

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """The stage's own output (Python's and its children's, at the file-descriptor level) to the log."""
        t = time.perf_counter()
        self.say(f"{name} ...")
        saved = [os.dup(1), os.dup(2)]
        os.dup2(self._log.fileno(), 1)
        os.dup2(self._log.fileno(), 2)
        try:
            with (
                contextlib.redirect_stdout(self._log),
                contextlib.redirect_stderr(self._log),
                warnings.catch_warnings(),
            ):
                warnings.simplefilter("ignore")
                yield
        finally:
            self._log.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
        self.say(f"{name}: done in {time.perf_counter() - t:.1f} s")
