"""Follower: a show another process owns, as this process holds it.

The scaled mode's other half of ``ShowEngine``: the same state, history and
reconnect catch-up, so snapshots, ``GET /state``, the pages, the review and
``stats.tick`` read it exactly as they read an owner's. But it never decides:
``submit`` forwards the command to the owner (``Node.forward``) and returns
once this replica holds the answer's seq, so whoever asked here reads their
own write. The replica moves only by folding journaled events in seq order:
the batches the owner relays (``relayed``), or, when a seq is missing (a lost
relay entry, Redis restarted, this process paused), the journal itself. What
it folds it publishes to this process's sockets, as the owner does to its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from live.adapters.journal import Journal
from live.core.commands import Event, fold
from live.core.failures import describe
from live.core.show import ShowState
from live.runtime.engine import Publisher, ShowEngine

log = logging.getLogger("live.runtime.follower")

SETTLE_SECONDS = 0.2  # how long an answer waits for its seq to be relayed before reading the journal

Forward = Callable[[str, str, Any], Awaitable[Any]]


class Follower(ShowEngine):
    def __init__(self, state: ShowState, journal: Journal, bus: Publisher, clock: Callable[[], int],
                 forward: Forward, last_at: int = 0, secret: bytes = b"", banned: tuple[str, ...] = (),
                 comment_interval_ms: int = 1000) -> None:
        super().__init__(state, journal, bus, clock, last_at=last_at, secret=secret, banned=banned,
                         comment_interval_ms=comment_interval_ms)
        self.forward = forward
        self.owner: str | None = None  # the owning node's id, once known
        self._relayed: deque[tuple[list[Event], int]] = deque()
        self._drainer: asyncio.Task[None] | None = None
        self._reached: list[tuple[int, asyncio.Future[None]]] = []

    async def submit(self, command: dict[str, Any]) -> list[Event]:
        """Have the owner decide ``command``; returns its events, once this replica
        holds them. Raises what the owner raised, or Unavailable (no answer in time)."""
        answer = await self.forward(self.show_id, "submit", {"command": command})
        events: list[Event] = answer["events"]
        await self.reach(max([answer["seq"], *(e["seq"] for e in events[-1:])]))
        return events

    async def missed(self, after: int, limit: int | None = None) -> list[Event] | None:
        """As ``ShowEngine.missed``; a client that saw more than this replica holds
        (from the owner's own sockets, or a process that held the show before)
        first waits for it to get there."""
        if after > self.state.seq:
            await self.reach(after)
        return await super().missed(after, limit)

    # -- following the owner -------------------------------------------------------------

    def relayed(self, events: list[Event], seq: int) -> None:
        """A relay entry: a journaled batch (maybe empty: a heartbeat) after which the
        owner was at ``seq``. Folded in arrival order; never waits."""
        self._relayed.append((events, seq))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.ensure_future(self._drain())

    async def _drain(self) -> None:
        while self._relayed:
            events, seq = self._relayed.popleft()
            try:
                async with self.lock:
                    await self._advance(events, seq)
            except Exception as exc:  # noqa: BLE001 - the journal failed: the next heartbeat tries again
                log.warning("show %s: catching up with the owner failed: %s", self.show_id, describe(exc))

    async def _advance(self, events: list[Event], seq: int) -> None:
        fresh = [e for e in events if e["seq"] > self.state.seq]
        if (fresh and fresh[0]["seq"] > self.state.seq + 1) or (not fresh and seq > self.state.seq):
            await self._catch_up_with_journal()  # a gap: the journal has every seq
            fresh = [e for e in fresh if e["seq"] > self.state.seq]
        if fresh:
            self._commit(fold(fresh, self.state), fresh, max(self.last_at, fresh[-1]["at"]))

    def _commit(self, state: ShowState, staged: list[Event], now: int) -> None:
        super()._commit(state, staged, now)
        waiting = self._reached
        self._reached = [(seq, f) for seq, f in waiting if seq > state.seq]
        for seq, future in waiting:
            if seq <= state.seq and not future.done():
                future.set_result(None)

    async def reach(self, seq: int) -> None:
        """Returns once this replica is at ``seq`` or later: relayed, or else read
        from the journal after SETTLE_SECONDS."""
        if self.state.seq >= seq:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._reached.append((seq, future))
        try:
            await asyncio.wait_for(future, SETTLE_SECONDS)
        except TimeoutError:
            async with self.lock:
                if self.state.seq < seq:
                    await self._catch_up_with_journal()

    async def stop(self) -> None:
        await super().stop()
        if self._drainer is not None and not self._drainer.done():
            self._drainer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._drainer
