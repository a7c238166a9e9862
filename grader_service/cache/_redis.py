"""A judgement store in Redis: one cache for grader replicas on several hosts.

Entries carry a TTL (Redis evicts them; bound its memory with `maxmemory` and an LRU policy). A claim is
a key set with NX and a short expiry its owner renews while it works; it is released or renewed only by its
owner (small Lua scripts).
"""

from __future__ import annotations

from typing import Any

from grader_service.cache._base import Value, decode, encode

_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
_RENEW = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"
)


def redis_client(url: str) -> Any:
    """A client whose pool waits (up to 2 s) for a free connection instead of failing past its size: hundreds of
    criteria in flight must queue for Redis, not find it "unavailable". A hung Redis is a miss after 2 s."""
    import redis.asyncio as redis

    pool = redis.BlockingConnectionPool.from_url(
        url, max_connections=64, timeout=2.0, socket_timeout=2.0, socket_connect_timeout=2.0
    )
    return redis.Redis(connection_pool=pool)


class RedisStore:
    shared = True

    def __init__(self, url: str, ttl_s: float, prefix: str = "rubric-grader:") -> None:
        self.r = redis_client(url)
        self.ttl_s = ttl_s
        self.prefix = prefix
        self.url = url
        self.hits = self.misses = 0
        self._release = self.r.register_script(_RELEASE)
        self._renew = self.r.register_script(_RENEW)

    async def get(self, key: str) -> Value | None:
        raw = await self.r.get(self.prefix + "j:" + key)
        value = decode(raw) if raw is not None else None
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    async def set(self, key: str, value: Value) -> None:
        await self.r.set(self.prefix + "j:" + key, encode(value), ex=max(1, int(self.ttl_s)))

    async def claim(self, key: str, owner: str, ttl_s: float) -> bool:
        return bool(await self.r.set(self.prefix + "c:" + key, owner, nx=True, px=max(1, int(ttl_s * 1000))))

    async def release(self, key: str, owner: str) -> None:
        await self._release(keys=[self.prefix + "c:" + key], args=[owner])

    async def renew(self, key: str, owner: str, ttl_s: float) -> bool:
        return bool(await self._renew(keys=[self.prefix + "c:" + key], args=[owner, max(1, int(ttl_s * 1000))]))

    async def aclose(self) -> None:
        await self.r.aclose()

    def stats(self) -> dict[str, Any]:
        return {"kind": "redis", "hits": self.hits, "misses": self.misses}
