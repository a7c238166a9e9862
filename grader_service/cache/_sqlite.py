"""A judgement store in one SQLite file: survives restarts, shared by every worker on the host.

WAL mode lets readers and one writer work at once; each statement is a few tens of microseconds, so
it runs on the event loop. Entries expire after `ttl_s`; past `max_entries` the oldest are pruned. A corrupt
file is moved aside and replaced at start; faults while running are misses (`_resilient.py`).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

from grader_service.cache._base import Value, decode, encode

_SCHEMA = """
CREATE TABLE IF NOT EXISTS judgements (key TEXT PRIMARY KEY, value TEXT NOT NULL, created REAL NOT NULL,
                                       expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS judgements_created ON judgements (created);
CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, owner TEXT NOT NULL, expires REAL NOT NULL);
"""
PRUNE_EVERY = 1000  # writes between checks of the size bound
log = logging.getLogger("rubric_grader")


class CacheFileUnusable(OSError):
    """The SQLite cache cannot be opened or written where it is asked for (read-only path, no permission)."""


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
    except BaseException:
        db.close()
        raise
    return db


def _move_aside(path: Path) -> Path:
    """Rename a corrupt cache file (and its WAL files) out of the way, keeping it for inspection."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    path.rename(aside)
    for suffix in ("-wal", "-shm"):
        extra = path.with_name(path.name + suffix)
        if extra.exists():
            extra.rename(aside.with_name(aside.name + suffix))
    return aside


def open_db(path: Path) -> sqlite3.Connection:
    """The cache database at `path`: a corrupt file is moved aside (one warning) and a fresh one made; a path
    that cannot be written raises CacheFileUnusable, for the caller to fall back on."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return _connect(path)
        except sqlite3.DatabaseError as e:
            if isinstance(e, sqlite3.OperationalError):  # cannot open or write: not corruption
                raise
            aside = _move_aside(path)
            log.warning("SQLite cache %s is corrupt (%s): moved aside to %s, starting a fresh one", path, e, aside)
            return _connect(path)
    except (OSError, sqlite3.OperationalError) as e:
        raise CacheFileUnusable(f"{type(e).__name__}: {e}") from e


class SQLiteStore:
    shared = True

    def __init__(self, path: str | Path, ttl_s: float, max_entries: int) -> None:
        self.path = Path(path)
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.db = open_db(self.path)
        self.hits = self.misses = self.writes = 0

    async def get(self, key: str) -> Value | None:
        row = self.db.execute("SELECT value, expires FROM judgements WHERE key = ?", (key,)).fetchone()
        if row is None or row[1] < time.time():
            self.misses += 1
            return None
        value = decode(row[0])
        if value is None:
            self.misses += 1
            return None
        self.hits += 1
        return value

    async def set(self, key: str, value: Value) -> None:
        now = time.time()
        self.db.execute(
            "INSERT OR REPLACE INTO judgements (key, value, created, expires) VALUES (?, ?, ?, ?)",
            (key, encode(value), now, now + self.ttl_s),
        )
        self.writes += 1
        if self.writes % PRUNE_EVERY == 0:
            self.prune()

    def prune(self) -> None:
        now = time.time()
        self.db.execute("DELETE FROM judgements WHERE expires < ?", (now,))
        self.db.execute("DELETE FROM claims WHERE expires < ?", (now,))
        (count,) = self.db.execute("SELECT COUNT(*) FROM judgements").fetchone()
        if count > self.max_entries:
            self.db.execute(
                "DELETE FROM judgements WHERE key IN (SELECT key FROM judgements ORDER BY created LIMIT ?)",
                (count - self.max_entries,),
            )

    async def claim(self, key: str, owner: str, ttl_s: float) -> bool:
        now = time.time()
        cur = self.db.execute(
            "INSERT OR IGNORE INTO claims (key, owner, expires) VALUES (?, ?, ?)", (key, owner, now + ttl_s)
        )
        if cur.rowcount == 1:
            return True
        cur = self.db.execute(  # a claim whose owner died: take it over
            "UPDATE claims SET owner = ?, expires = ? WHERE key = ? AND expires < ?", (owner, now + ttl_s, key, now)
        )
        return cur.rowcount == 1

    async def release(self, key: str, owner: str) -> None:
        self.db.execute("DELETE FROM claims WHERE key = ? AND owner = ?", (key, owner))

    async def renew(self, key: str, owner: str, ttl_s: float) -> bool:
        cur = self.db.execute(
            "UPDATE claims SET expires = ? WHERE key = ? AND owner = ?", (time.time() + ttl_s, key, owner)
        )
        return cur.rowcount == 1

    async def aclose(self) -> None:
        self.db.close()

    def stats(self) -> dict[str, Any]:
        (count,) = self.db.execute("SELECT COUNT(*) FROM judgements").fetchone()
        return {"kind": "sqlite", "path": str(self.path), "entries": count, "hits": self.hits, "misses": self.misses}
