"""Crowd: the viewer sockets of the scaled mode's shows, across processes.

A viewer's socket lands on any process; its presence (a join, the grace
period before a leave) is the owner's to decide. Each process counts its own
sockets per show and viewer (``here``). A follower tells the owner the counts
that changed, as absolute numbers (so a repeat or a resend is harmless), with
the likes it counted, at most every tick; the owner keeps them per process
(``remote``) and turns every change into ``connected``/``disconnected`` on
its engine. A new owner hears every follower's counts again (they see its new
epoch); the sockets of a process whose heartbeat has been gone a whole lease
count as dropped (the grace period follows).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import Any

from live.adapters.broker import BrokerDown
from live.core.errors import LiveError
from live.core.failures import describe
from live.runtime.engine import ShowEngine
from live.runtime.follower import Follower
from live.runtime.node import Node

log = logging.getLogger("live.runtime.crowd")


class Crowd:
    def __init__(self, node: Node, lease_ms: int) -> None:
        self.node = node
        self.lease_ms = lease_ms
        self.here: dict[str, dict[str, int]] = {}  # show → viewer → sockets open in this process
        self._remote: dict[str, dict[str, dict[str, int]]] = {}  # owned show → node → viewer → sockets there
        self._owed: dict[str, set[str]] = {}  # followed show → viewers whose count its owner has yet to hear
        self._missing: dict[str, float] = {}  # node → since when its heartbeat is missing (monotonic)

    # -- this process's sockets ------------------------------------------------------------

    def opened(self, show_id: str, viewer_id: str) -> int:
        """A socket opened here; returns how many the viewer has open here now."""
        counts = self.here.setdefault(show_id, {})
        counts[viewer_id] = counts.get(viewer_id, 0) + 1
        return counts[viewer_id]

    def closed(self, show_id: str, viewer_id: str) -> None:
        counts = self.here.get(show_id, {})
        left = counts.pop(viewer_id, 0) - 1
        if left > 0:
            counts[viewer_id] = left

    def owe(self, show_id: str, viewers: Iterable[str] | None = None) -> None:
        """The owner is to hear these viewers' counts (all of this process's when None)."""
        self._owed.setdefault(show_id, set()).update(self.here.get(show_id, {}) if viewers is None else viewers)

    async def tell(self, show_id: str, viewer_id: str) -> None:
        """Tell the owner now, and wait until it has journaled the viewer's join
        (so the socket's snapshot shows it); if it does not answer, the next tick
        tells it again."""
        try:
            await self.node.forward(show_id, "audience", {"sockets": {viewer_id: self.here[show_id][viewer_id]}})
        except LiveError:
            self.owe(show_id, [viewer_id])

    async def send(self, followers: Iterable[Follower]) -> None:
        """Tell each followed show's owner the likes counted here and the counts it is owed."""
        for engine in followers:
            show_id = engine.show_id
            likes, owed = engine.presence.pending_likes, self._owed.pop(show_id, set())
            if not likes and not owed:
                continue
            engine.presence.pending_likes = {}
            here = self.here.get(show_id, {})
            sockets = {viewer: here.get(viewer, 0) for viewer in owed}
            try:
                await self.node.forward(show_id, "audience", {"likes": likes, "sockets": sockets}, reply=False)
            except LiveError:  # kept for the next tick
                engine.presence.add_counted(likes)
                self.owe(show_id, owed)

    # -- the owner's side ----------------------------------------------------------------------

    async def owned(self, engine: ShowEngine, before: ShowEngine | None) -> None:
        """This process took the show: its own sockets are present at once, and
        likes it counted as a follower are the new engine's."""
        show_id = engine.show_id
        self._remote[show_id] = {}
        self._owed.pop(show_id, None)
        if isinstance(before, Follower):
            engine.presence.add_counted(before.presence.pending_likes)
        joins = [engine.connected(viewer) for viewer, n in self.here.get(show_id, {}).items() for _ in range(n)]
        for result in await asyncio.gather(*joins, return_exceptions=True):
            if isinstance(result, Exception) and not isinstance(result, LiveError):
                log.warning("show %s: a join after taking over failed: %s", show_id, describe(result))

    def followed(self, show_id: str) -> None:
        """This process follows the show (again): its owner is owed every count."""
        self._remote.pop(show_id, None)
        self.owe(show_id)

    async def heard(self, engine: ShowEngine, node_id: str, body: Any) -> None:
        """What a follower sent: likes counted there, and its socket counts."""
        engine.presence.add_counted({str(v): int(n) for v, n in (body.get("likes") or {}).items()})
        await self._counts(engine, node_id, {str(v): int(n) for v, n in (body.get("sockets") or {}).items()})

    async def _counts(self, engine: ShowEngine, node_id: str, counts: dict[str, int]) -> None:
        """Process ``node_id`` now holds ``counts[viewer]`` sockets of each viewer named."""
        remote = self._remote.setdefault(engine.show_id, {}).setdefault(node_id, {})
        joins = []
        for viewer, n in counts.items():
            before = remote.pop(viewer, 0)
            if n > 0:
                remote[viewer] = n
            for _ in range(before - n):
                engine.disconnected(viewer)
            joins += [engine.connected(viewer) for _ in range(n - before)]
        if not remote:
            self._remote[engine.show_id].pop(node_id, None)
        for result in await asyncio.gather(*joins, return_exceptions=True):
            if isinstance(result, Exception) and not isinstance(result, LiveError):
                raise result

    async def reap(self, engine: ShowEngine) -> None:
        """The sockets of processes whose heartbeat has been gone a whole lease are
        gone too (not at once: a Redis restart forgets every heartbeat). Raises BrokerDown."""
        remote = self._remote.get(engine.show_id, {})
        nodes = list(remote)
        now = time.monotonic()
        try:
            alive = await self.node.broker.exist([self.node.process(n) for n in nodes])
        except BrokerDown:
            return
        for node_id, up in zip(nodes, alive, strict=True):
            if up:
                self._missing.pop(node_id, None)
                continue
            since = self._missing.setdefault(node_id, now)
            if now - since >= self.lease_ms / 1000:
                log.info("show %s: process %s is gone; its viewers' sockets with it", engine.show_id, node_id)
                await self._counts(engine, node_id, {viewer: 0 for viewer in remote.get(node_id, {})})
                self._missing.pop(node_id, None)
