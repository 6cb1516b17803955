"""The broker: what the scaled mode needs from Redis, and its in-memory twin.

Several server processes share shows through a few Redis primitives, and
nothing else: streams (``XADD … MAXLEN ~``, ``XREAD BLOCK``) and keys with a
time to live (a show's lease: ``SET NX PX``, renewed and released only by its
holder's token). ``open_broker(url)`` picks the backend by URL: ``memory://``
(this module: one process, for tests of the same logic) or ``redis://…``
(``live.adapters.redisbroker``). Both raise ``BrokerDown`` for every failure
of the service itself, so the runtime handles one exception.

Stream entries are ``(id, fields)`` with string fields; ids compare as Redis
ids do (``ms-n``). Streams are never read with PubSub: a stream read can
resume where it left off after a reconnect, and redis-py's PubSub does not
reconnect by itself (redis-py #2089).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import Protocol

Fields = dict[str, str]
Entry = tuple[str, Fields]
# (stream, fields, maxlen): one XADD with an approximate MAXLEN
Add = tuple[str, Fields, int]


class BrokerDown(Exception):
    """The broker (Redis) did not answer: refused, reset, timed out or restarting."""


class Broker(Protocol):
    async def add(self, entries: Sequence[Add]) -> list[str]:
        """Append each entry to its stream, in order, trimmed to about maxlen; returns the ids."""
        ...

    async def read(self, positions: Mapping[str, str], block_ms: int, count: int) -> list[tuple[str, list[Entry]]]:
        """Entries after each stream's position (up to ``count`` a stream), waiting
        up to ``block_ms`` for the first; ``[]`` when none came."""
        ...

    async def last_id(self, stream: str) -> str:
        """The id of the stream's newest entry, ``0-0`` when it has none."""
        ...

    async def take(self, key: str, token: str, ttl_ms: int) -> bool:
        """Set ``key`` to ``token`` for ``ttl_ms`` if it is not set (SET NX PX); returns whether it was."""
        ...

    async def keep(self, key: str, token: str, ttl_ms: int) -> bool:
        """Renew ``key`` for ``ttl_ms`` if it holds ``token``, or take it again if it
        is gone (expired, or Redis restarted); False when another token holds it."""
        ...

    async def drop(self, key: str, token: str) -> bool:
        """Delete ``key`` if it holds ``token``; returns whether it did."""
        ...

    async def get(self, key: str) -> str | None: ...

    async def put(self, key: str, value: str, ttl_ms: int) -> None:
        """Set ``key`` for ``ttl_ms`` whatever it held (a heartbeat)."""
        ...

    async def exist(self, keys: Sequence[str]) -> list[bool]:
        """For each key, whether it is set."""
        ...

    async def expire(self, key: str, ttl_ms: int) -> None: ...

    async def ping(self) -> None:
        """Returns when the broker answers; raises BrokerDown."""
        ...

    async def close(self) -> None: ...


def _id(entry_id: str) -> tuple[int, int]:
    ms, _, n = entry_id.partition("-")
    return int(ms), int(n or 0)


class MemoryBroker:
    """The broker in one process (tests run the scaled mode's logic on it and on
    Redis alike). ``down`` makes every call raise BrokerDown, as a Redis that is
    not running would; ``restart()`` also forgets everything, as a Redis
    without persistence does."""

    def __init__(self) -> None:
        self.streams: dict[str, list[Entry]] = {}
        self.keys: dict[str, tuple[str, float | None]] = {}  # key → (value, expires at, monotonic seconds)
        self.down = False
        self._last = 0  # ids keep growing across restarts, as Redis's (time-based) do
        self._waiters: set[asyncio.Future[None]] = set()

    def _check(self) -> None:
        if self.down:
            raise BrokerDown("memory broker is down")

    def restart(self) -> None:
        """Forget every stream and key (a Redis restart without persistence)."""
        self.streams.clear()
        self.keys.clear()

    def _wake(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    def set_down(self, down: bool) -> None:
        """Stop (True) or resume answering; blocked reads fail at once when it stops."""
        self.down = down
        for waiter in self._waiters:
            if waiter.done():
                continue
            if down:
                waiter.set_exception(BrokerDown("memory broker is down"))
            else:
                waiter.set_result(None)
        self._waiters.clear()

    async def add(self, entries: Sequence[Add]) -> list[str]:
        self._check()
        ids: list[str] = []
        for stream, fields, maxlen in entries:
            self._last += 1
            entry_id = f"{self._last}-0"
            held = self.streams.setdefault(stream, [])
            held.append((entry_id, dict(fields)))
            if len(held) > maxlen:
                del held[: len(held) - maxlen]
            ids.append(entry_id)
        if entries:
            self._wake()
        return ids

    def _after(self, positions: Mapping[str, str], count: int) -> list[tuple[str, list[Entry]]]:
        out: list[tuple[str, list[Entry]]] = []
        for stream, position in positions.items():
            after = _id(position)
            found = [e for e in self.streams.get(stream, ()) if _id(e[0]) > after][:count]
            if found:
                out.append((stream, found))
        return out

    async def read(self, positions: Mapping[str, str], block_ms: int, count: int) -> list[tuple[str, list[Entry]]]:
        self._check()
        found = self._after(positions, count)
        if found or block_ms <= 0:
            return found
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter, block_ms / 1000)
        except TimeoutError:
            return []
        finally:
            self._waiters.discard(waiter)
        self._check()
        return self._after(positions, count)

    async def last_id(self, stream: str) -> str:
        self._check()
        held = self.streams.get(stream)
        return held[-1][0] if held else "0-0"

    def _value(self, key: str) -> str | None:
        held = self.keys.get(key)
        if held is None:
            return None
        value, expires = held
        if expires is not None and time.monotonic() >= expires:
            del self.keys[key]
            return None
        return value

    def _set(self, key: str, value: str, ttl_ms: int) -> None:
        self.keys[key] = (value, time.monotonic() + ttl_ms / 1000)

    async def take(self, key: str, token: str, ttl_ms: int) -> bool:
        self._check()
        if self._value(key) is not None:
            return False
        self._set(key, token, ttl_ms)
        return True

    async def keep(self, key: str, token: str, ttl_ms: int) -> bool:
        self._check()
        value = self._value(key)
        if value is not None and value != token:
            return False
        self._set(key, token, ttl_ms)
        return True

    async def drop(self, key: str, token: str) -> bool:
        self._check()
        if self._value(key) != token:
            return False
        del self.keys[key]
        return True

    async def get(self, key: str) -> str | None:
        self._check()
        return self._value(key)

    async def put(self, key: str, value: str, ttl_ms: int) -> None:
        self._check()
        self._set(key, value, ttl_ms)

    async def exist(self, keys: Sequence[str]) -> list[bool]:
        self._check()
        return [self._value(k) is not None for k in keys]

    async def expire(self, key: str, ttl_ms: int) -> None:
        self._check()  # streams in memory never expire: a test's broker lives as long as the test

    async def ping(self) -> None:
        self._check()

    async def close(self) -> None:
        self._wake()


def open_broker(url: str, timeout: float = 1.0, block_ms: int = 2000) -> Broker:
    """``memory://`` → MemoryBroker; ``redis://``, ``rediss://`` or ``unix://`` →
    RedisBroker, whose calls give up after ``timeout`` seconds (a blocking read
    after ``block_ms`` more). Raises ValueError for other schemes."""
    if url.startswith("memory://"):
        return MemoryBroker()
    if url.startswith(("redis://", "rediss://", "unix://")):
        from live.adapters.redisbroker import RedisBroker

        return RedisBroker(url, timeout=timeout, block_ms=block_ms)
    raise ValueError(f"unsupported broker URL scheme {url.split('://')[0]!r}: use redis:// (or memory:// in tests)")
