"""The bus: carries a show's published events to every connection that follows it.

``open_bus(url)`` gives this process's fan-out for any bus URL: with
``redis://`` the scaled mode (``live.runtime.fleet``) relays the events of
shows owned by other processes into it. Fan-out never waits for the slowest
connection: each has a bounded queue and one that falls behind is cut off.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

from live.core.failures import describe
from live.core.protocol import PUBLIC, Delivery, Notice, Outgoing

log = logging.getLogger("live.bus")
K = TypeVar("K")

# Events a connection may have waiting before it counts as too slow. Read at
# subscribe time (not bound as a default) so tests can make it tiny.
QUEUE_SIZE = 2048


class CutOff(Exception):
    """Raised by ``Subscription.get`` once the bus has dropped a subscriber that fell behind."""


class Mailbox:
    """A bounded FIFO with one reader. What ``asyncio.Queue`` does, minus what a
    fan-out to 10,000 sockets does not need (waiting putters, task accounting):
    a put is a deque append and, when the reader sleeps, one future set."""

    __slots__ = ("_items", "_waiter", "maxsize")

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        # made on the first put: most connections keep up, and never queue anything
        # (a deque is ~0.7 KiB, per connection, of 10,000)
        self._items: deque[Delivery] | None = None
        self._waiter: asyncio.Future[None] | None = None

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items) if self._items is not None else 0

    def put_nowait(self, item: Delivery) -> bool:
        """Append ``item``; returns False (appending nothing) when full."""
        if self._items is None:
            self._items = deque()
        elif len(self._items) >= self.maxsize:
            return False
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        return True

    def get_nowait(self) -> Delivery:
        """The oldest item; raises IndexError when empty."""
        if self._items is None:
            raise IndexError("empty")
        return self._items.popleft()

    def clear(self) -> None:
        self._items = None

    async def get(self) -> Delivery:
        """The oldest item, waiting for one (one reader at a time)."""
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()


class Subscription:
    """One connection's bounded queue of events for one show; ``audience`` is the
    connection's (``staff`` or ``public``), which decides the notices it gets."""

    def __init__(self, bus: MemoryBus, show_id: str, maxsize: int, on_overflow: Callable[[], Any] | None,
                 audience: str = PUBLIC, sink: Callable[[Delivery], bool] | None = None) -> None:
        self.bus = bus
        # The direct lane: ``sink(item)`` writes the item out at once and returns
        # True, or returns False (its connection is backpressured or not ready):
        # the item then waits in the bounded queue, as do all after it until the
        # queue is empty again, so the order holds.
        self.sink = sink
        self.show_id = show_id
        self.audience = audience
        self.queue = Mailbox(maxsize)
        self.overflowed = False
        self.on_overflow = on_overflow
        self.closing: tuple[int, str] | None = None  # set by ``MemoryBus.close_all``: the close code and reason

    def deliver(self, item: Delivery) -> bool:
        """Queue ``item`` without waiting; returns False (and cuts this subscriber
        off, once) when the queue is full. Never raises."""
        if self.overflowed:
            return False
        sink = self.sink
        if sink is not None and self.queue.empty() and sink(item):
            return True
        if self.queue.put_nowait(item):
            return True
        # Full: this subscriber fell behind and is cut off, once.
        self.cut_off()
        return False

    def cut_off(self) -> None:
        """Cut this subscriber off (once): its queue is dropped and ``on_overflow`` called."""
        if self.overflowed:
            return
        self.overflowed = True
        self.bus.unsubscribe(self)
        # What is queued would leave the client with a gap: drop it.
        self.queue.clear()
        if self.on_overflow is not None:
            try:
                self.on_overflow()
            except Exception as exc:  # noqa: BLE001 - one bad callback must not stop the fan-out
                log.error("overflow callback for show %s failed: %s", self.show_id, describe(exc))

    async def get(self) -> Delivery:
        """The next event or notice; raises CutOff once this subscriber was dropped."""
        if self.overflowed:
            raise CutOff(self.show_id)
        return await self.queue.get()

    def close(self) -> None:
        self.bus.unsubscribe(self)


class MemoryBus:
    """One process: publish hands events straight to the subscribers' queues."""

    def __init__(self) -> None:
        self._subs: dict[str, set[Subscription]] = {}
        # the same subscriptions by (show, audience), for notices to one audience
        self._audiences: dict[tuple[str, str], set[Subscription]] = {}

    def subscribe(
        self, show_id: str, maxsize: int | None = None, on_overflow: Callable[[], Any] | None = None,
        audience: str = PUBLIC, sink: Callable[[Delivery], bool] | None = None,
    ) -> Subscription:
        """A new subscription with a queue of ``maxsize`` (default ``QUEUE_SIZE``) events;
        ``on_overflow`` is called once if it falls behind and is dropped. ``audience``
        (``staff``/``public``) decides which notices it gets; ``sink``, when given,
        is tried first for each item while the queue is empty (``Subscription``)."""
        sub = Subscription(self, show_id, QUEUE_SIZE if maxsize is None else maxsize, on_overflow, audience, sink)
        self._subs.setdefault(show_id, set()).add(sub)
        self._audiences.setdefault((show_id, audience), set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        _discard(self._subs, sub.show_id, sub)
        _discard(self._audiences, (sub.show_id, sub.audience), sub)

    def publish(self, show_id: str, events: list[dict[str, Any]]) -> None:
        """Hand ``events`` to every subscriber of the show; never waits, never raises
        for a slow subscriber (that one is cut off instead)."""
        subs = self._subs.get(show_id)
        if not subs:
            return
        # One Outgoing per event, shared: each is encoded once per audience.
        items = [Outgoing(e) for e in events]
        for sub in list(subs):
            for item in items:
                if not sub.deliver(item):
                    break

    def notify(self, show_id: str, message: dict[str, Any], audience: str,
               roles: frozenset[str] | None = None) -> None:
        """Hand a message that is not a journal event (no seq: ``stats.tick``) to the
        show's subscribers of ``audience`` only (of ``roles`` only, when given:
        their sessions drop it); never waits, never raises for a slow subscriber.
        The others' queues never see it."""
        subs = self._audiences.get((show_id, audience))
        if not subs:
            return
        item = Notice(message, audience, roles)
        for sub in list(subs):
            sub.deliver(item)

    def close_all(self, code: int, reason: str) -> int:
        """Drop every subscription, as if each fell behind, with ``code`` and
        ``reason`` in its ``closing`` for the connection to close with (a server
        shutting down); returns how many there were."""
        subs = {sub for held in self._subs.values() for sub in held}
        for sub in subs:
            sub.closing = (code, reason)
            sub.cut_off()
        return len(subs)

    def followed(self, audience: str) -> list[str]:
        """The ids of the shows that have subscribers of ``audience``."""
        return [show_id for show_id, seen_by in self._audiences if seen_by == audience]

    def count(self, show_id: str, audience: str | None = None) -> int:
        """Subscribers of the show (of ``audience`` only, when given)."""
        if audience is not None:
            return len(self._audiences.get((show_id, audience), ()))
        return len(self._subs.get(show_id, ()))

    async def close(self) -> None:
        self._subs.clear()
        self._audiences.clear()


def _discard(table: dict[K, set[Subscription]], key: K, sub: Subscription) -> None:
    subs = table.get(key)
    if subs is not None:
        subs.discard(sub)
        if not subs:
            del table[key]


def open_bus(url: str | None) -> MemoryBus:
    """``None``, ``memory://`` or ``redis://…`` → this process's MemoryBus. Raises
    ValueError for other schemes."""
    if url is None or url == "" or url.startswith(("memory://", "redis://", "rediss://", "unix://")):
        return MemoryBus()
    raise ValueError(f"unsupported bus URL scheme in {url.split('://')[0]!r}: use memory:// or redis://")
