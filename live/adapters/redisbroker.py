"""The broker on Redis (redis-py asyncio): streams and leased keys.

Every failure of Redis itself (refused, reset, timed out, loading after a
restart) is raised as ``BrokerDown``, never retried here: the caller decides
(a forwarded request fails at once with a clear error; the reader loop and the
lease loop try again on their next round). Commands give up after
``timeout`` seconds, so nothing waits long on a Redis that is gone; blocking
reads run on a client of their own whose socket waits ``block_ms`` longer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from live.adapters.broker import Add, BrokerDown, Entry

# Renew a lease its holder still has, or take it again when it is gone (it
# expired, or Redis restarted empty); 0 when another holder has it.
_KEEP = """
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0
"""
# Release a lease only if this holder has it.
_DROP = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisBroker:
    def __init__(self, url: str, timeout: float = 1.0, block_ms: int = 2000) -> None:
        options: dict[str, Any] = {
            "decode_responses": True,
            "socket_connect_timeout": timeout,
            "retry": Retry(NoBackoff(), 0),  # no hidden retries: a dead Redis fails fast
            "health_check_interval": 0,
        }
        self._redis = redis.from_url(url, socket_timeout=timeout, **options)
        self._blocking = redis.from_url(url, socket_timeout=timeout + block_ms / 1000, **options)
        self._keep = self._redis.register_script(_KEEP)
        self._drop = self._redis.register_script(_DROP)

    async def add(self, entries: Sequence[Add]) -> list[str]:
        if not entries:
            return []
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for stream, fields, maxlen in entries:
                    pipe.xadd(stream, fields, maxlen=maxlen, approximate=True)  # type: ignore[arg-type]
                return [str(i) for i in await pipe.execute()]
        except (RedisError, OSError) as exc:
            raise BrokerDown(type(exc).__name__) from None

    async def read(self, positions: Mapping[str, str], block_ms: int, count: int) -> list[tuple[str, list[Entry]]]:
        try:
            got: Any = await self._blocking.xread(dict(positions), count=count, block=block_ms or None)  # type: ignore[arg-type]
        except (RedisError, OSError) as exc:
            raise BrokerDown(type(exc).__name__) from None
        if isinstance(got, dict):  # RESP3
            got = list(got.items())
        return [(str(stream), [(str(i), dict(f)) for i, f in entries]) for stream, entries in got or ()]

    async def last_id(self, stream: str) -> str:
        try:
            newest = await self._redis.xrevrange(stream, count=1)
        except (RedisError, OSError) as exc:
            raise BrokerDown(type(exc).__name__) from None
        return str(newest[0][0]) if newest else "0-0"

    async def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return await getattr(self._redis, name)(*args, **kwargs)
        except (RedisError, OSError) as exc:
            raise BrokerDown(type(exc).__name__) from None

    async def take(self, key: str, token: str, ttl_ms: int) -> bool:
        return bool(await self._call("set", key, token, nx=True, px=ttl_ms))

    async def keep(self, key: str, token: str, ttl_ms: int) -> bool:
        try:
            return bool(await self._keep(keys=[key], args=[token, ttl_ms]))
        except (RedisError, OSError) as exc:
            raise BrokerDown(type(exc).__name__) from None

    async def drop(self, key: str, token: str) -> bool:
        try:
            return bool(await self._drop(keys=[key], args=[token]))
        except (RedisError, OSError) as exc:
            raise BrokerDown(type(exc).__name__) from None

    async def get(self, key: str) -> str | None:
        value = await self._call("get", key)
        return None if value is None else str(value)

    async def put(self, key: str, value: str, ttl_ms: int) -> None:
        await self._call("set", key, value, px=ttl_ms)

    async def exist(self, keys: Sequence[str]) -> list[bool]:
        if not keys:
            return []
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.exists(key)
                return [bool(n) for n in await pipe.execute()]
        except (RedisError, OSError) as exc:
            raise BrokerDown(type(exc).__name__) from None

    async def expire(self, key: str, ttl_ms: int) -> None:
        await self._call("pexpire", key, ttl_ms)

    async def ping(self) -> None:
        await self._call("ping")

    async def close(self) -> None:
        for client in (self._redis, self._blocking):
            try:
                await client.aclose()
            except (RedisError, OSError):
                pass
