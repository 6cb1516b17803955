"""Shows: the registry of show engines, each rebuilt from the journal on first use."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from live.adapters.journal import Journal
from live.core.commands import create, fold
from live.core.errors import NotFound
from live.core.show import ShowState
from live.runtime.engine import Publisher, ShowEngine


class Shows:
    """Engines by show id, rebuilt from the journal on first use."""

    def __init__(
        self, journal: Journal, bus: Publisher, clock: Callable[[], int], secret: bytes = b"",
        banned: tuple[str, ...] = (), tick: bool = True, comment_interval_ms: int = 1000,
    ) -> None:
        self.journal = journal
        self.bus = bus
        self.clock = clock
        self.secret = secret
        self.banned = banned
        self.comment_interval_ms = comment_interval_ms
        self.tick = tick
        self._engines: dict[str, ShowEngine] = {}
        self._loading: dict[str, asyncio.Future[ShowEngine]] = {}
        self.leaving = False  # shutting down (``handover``)

    def start(self) -> None:
        """Start what runs in the background (nothing, in one process)."""

    def _engine(self, state: ShowState, last_at: int) -> ShowEngine:
        engine = ShowEngine(state, self.journal, self.bus, self.clock, last_at=last_at, secret=self.secret,
                            banned=self.banned, comment_interval_ms=self.comment_interval_ms)
        if self.tick:
            engine.ticker.start()
        return engine

    async def create(
        self, show_id: str, overlay_key: str, config: dict[str, Any], products: Any, segments: Any,
        webhook_secret: str | None = None,
    ) -> ShowEngine:
        state, first = create(show_id, config, products, segments, self.clock())
        await self.journal.create_show(show_id, state.title, overlay_key, first, webhook_secret=webhook_secret)
        engine = self._engine(state, first["at"])
        engine.history.append(first)
        self._engines[show_id] = engine
        return engine

    def loaded(self, show_id: str) -> ShowEngine | None:
        """The show's engine if this process holds one (and it is not fenced): never rebuilds."""
        engine = self._engines.get(show_id)
        return engine if engine is not None and not engine.fenced else None

    def engines(self) -> list[ShowEngine]:
        """The engines this process holds."""
        return [e for e in self._engines.values() if not e.fenced]

    async def get(self, show_id: str) -> ShowEngine:
        """The show's engine; raises NotFound for an unknown id."""
        engine = self._engines.get(show_id)
        if engine is not None and not engine.fenced:
            return engine
        # Concurrent first requests share one rebuild, and a cancelled request
        # (shield) does not cancel it for the others.
        loading = self._loading.get(show_id)
        if loading is None:
            loading = asyncio.ensure_future(self._load(show_id))
            self._loading[show_id] = loading
        return await asyncio.shield(loading)

    async def _load(self, show_id: str) -> ShowEngine:
        try:
            engine = await self.rebuild(show_id)
            old = self._engines.get(show_id)
            if old is not None:
                await old.stop()
            self._engines[show_id] = engine
            return engine
        finally:
            # Nothing is kept for an unknown id: probing random ids costs no memory.
            self._loading.pop(show_id, None)

    async def rebuild(self, show_id: str) -> ShowEngine:
        """A new engine with the state folded from the whole journal; raises NotFound."""
        if len(show_id) > 32:
            raise NotFound(f"no show {show_id!r}")
        events = await self.journal.load(show_id)
        if not events:
            raise NotFound(f"no show {show_id!r}")
        engine = self._engine(fold(events), events[-1]["at"])
        engine.history.extend(events[-(engine.history.maxlen or len(events)):])
        # Viewers present when the process died left then (their sockets are gone);
        # the grace period lets those who reconnect keep their visit. A platform's
        # viewers have no socket here: their visit ends with the platform's leave.
        for viewer in engine.state.ledger.viewers.values():
            if viewer.connected_since is not None and not viewer.platform:
                engine.presence.dropped(viewer.id, engine.clock())
        return engine

    async def load_live(self) -> list[str]:
        """Rebuild every live show now, so its clocks and overlays resume at once."""
        ids = await self.journal.show_ids(status="live")
        for show_id in ids:
            await self.get(show_id)
        return ids

    async def connected(self, show_id: str, viewer_id: str) -> None:
        """A viewer socket of the show opened in this process (``ShowEngine.connected``)."""
        await (await self.get(show_id)).connected(viewer_id)

    def disconnected(self, show_id: str, viewer_id: str) -> None:
        """A viewer socket of the show closed in this process (``ShowEngine.disconnected``)."""
        engine = self._engines.get(show_id)
        if engine is not None:
            engine.disconnected(viewer_id)

    async def handover(self) -> None:
        """Shutting down: in one process there is no one to hand the shows to."""
        self.leaving = True

    @property
    def node_id(self) -> str | None:
        """This process's id among the others (the scaled mode), or None."""
        return None

    async def readiness(self) -> dict[str, str]:
        """What ``/readyz`` reports besides the database: ``ok`` or why not."""
        return {"process": "shutting down"} if self.leaving else {}

    async def close(self) -> None:
        for engine in list(self._engines.values()):
            await engine.stop()
