"""The bus: carries a show's published events to every connection that follows it.

``open_bus(url)`` picks the backend by URL (``memory://``; more backends join
with the scaled mode). Fan-out never waits for the slowest connection: each
has a bounded queue and one that falls behind is cut off.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from overlays.protocol import Outgoing

QUEUE_SIZE = 2048


class Subscription:
    def __init__(self, bus: MemoryBus, show_id: str, maxsize: int, on_overflow: Callable[[], Any] | None) -> None:
        self.bus = bus
        self.show_id = show_id
        self.queue: asyncio.Queue[Outgoing] = asyncio.Queue(maxsize)
        self.overflowed = False
        self.on_overflow = on_overflow

    def deliver(self, item: Outgoing) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.overflowed = True
            self.bus.unsubscribe(self)
            if self.on_overflow is not None:
                self.on_overflow()

    async def get(self) -> Outgoing:
        return await self.queue.get()

    def close(self) -> None:
        self.bus.unsubscribe(self)


class MemoryBus:
    """One process: publish hands events straight to the subscribers' queues."""

    def __init__(self) -> None:
        self._subs: dict[str, set[Subscription]] = {}

    def subscribe(
        self, show_id: str, maxsize: int = QUEUE_SIZE, on_overflow: Callable[[], Any] | None = None
    ) -> Subscription:
        sub = Subscription(self, show_id, maxsize, on_overflow)
        self._subs.setdefault(show_id, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.show_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.show_id]

    def publish(self, show_id: str, events: list[dict[str, Any]]) -> None:
        subs = self._subs.get(show_id)
        if not subs:
            return
        items = [Outgoing(e) for e in events]
        for sub in list(subs):
            for item in items:
                sub.deliver(item)

    def count(self, show_id: str) -> int:
        return len(self._subs.get(show_id, ()))

    async def close(self) -> None:
        self._subs.clear()


def open_bus(url: str | None) -> MemoryBus:
    """``None`` or ``memory://`` → MemoryBus. Raises ValueError for other schemes."""
    if url is None or url == "" or url.startswith("memory://"):
        return MemoryBus()
    raise ValueError(
        f"unsupported bus URL scheme in {url.split('://')[0]!r}: this version runs one process with memory://"
    )
