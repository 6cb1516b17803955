"""ShowEngine: the one writer of a show. Shows: the registry of engines.

``execute`` checks the role, runs the pure ``apply`` with the server's time,
appends the events to the journal and only then makes them the show's state
and publishes them. If any step fails nothing is kept, so an acknowledged
command is always in the journal and an unacknowledged one never is.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from live import auth
from live.commands import Event, apply, create, evolve
from live.errors import NotFound
from live.journal import Journal
from live.show import ShowState

HISTORY = 10_000  # recent events held in memory for reconnects


class Publisher(Protocol):
    def publish(self, show_id: str, events: list[Event]) -> None: ...


class ShowEngine:
    def __init__(self, state: ShowState, journal: Journal, bus: Publisher, clock: Callable[[], int]) -> None:
        self.state = state
        self.journal = journal
        self.bus = bus
        self.clock = clock
        self.lock = asyncio.Lock()
        # A new epoch each time a process takes the show: clients learn that the
        # writer changed; seqs stay valid because they come from the journal.
        self.epoch = secrets.token_hex(4)
        self.history: deque[Event] = deque(maxlen=HISTORY)

    @property
    def show_id(self) -> str:
        return self.state.id

    def now(self) -> int:
        """Server time, never earlier than the last event (clocks can step back)."""
        last = self.history[-1]["at"] if self.history else 0
        return max(self.clock(), last)

    async def execute(self, command: Any, principal: auth.Principal) -> list[Event]:
        """Run one command; returns its events (already journaled and published).
        Raises LiveError (Forbidden, Invalid, Conflict…) having written nothing."""
        principal.require_show(self.show_id)
        if isinstance(command, dict) and isinstance(command.get("type"), str):
            auth.check(principal.role, command["type"])
        async with self.lock:
            state, events = apply(self.state, command, self.now())
            if not events:
                return []
            status = state.status if state.status != self.state.status else None
            await self.journal.append(self.show_id, events, status=status)
            self.state = state
            self.history.extend(events)
        self.bus.publish(self.show_id, events)
        return events

    async def missed(self, after: int) -> list[Event] | None:
        """Events after seq ``after`` for a reconnecting client, or None when too
        many were missed (the client then gets a fresh snapshot)."""
        if after >= self.state.seq:
            return []
        if after < 0 or self.state.seq - after > HISTORY:
            return None
        if self.history and self.history[0]["seq"] <= after + 1:
            return [e for e in self.history if e["seq"] > after]
        return await self.journal.load(self.show_id, after=after, limit=HISTORY)


class Shows:
    """Engines by show id, rebuilt from the journal on first use."""

    def __init__(self, journal: Journal, bus: Publisher, clock: Callable[[], int]) -> None:
        self.journal = journal
        self.bus = bus
        self.clock = clock
        self._engines: dict[str, ShowEngine] = {}
        self._loading: dict[str, asyncio.Lock] = {}

    async def create(
        self, show_id: str, overlay_key: str, config: dict[str, Any], products: Any, segments: Any
    ) -> ShowEngine:
        state, first = create(show_id, config, products, segments, self.clock())
        await self.journal.create_show(show_id, state.title, overlay_key, first)
        engine = ShowEngine(state, self.journal, self.bus, self.clock)
        engine.history.append(first)
        self._engines[show_id] = engine
        return engine

    async def get(self, show_id: str) -> ShowEngine:
        """The show's engine; raises NotFound for an unknown id."""
        engine = self._engines.get(show_id)
        if engine is not None:
            return engine
        lock = self._loading.setdefault(show_id, asyncio.Lock())
        async with lock:
            engine = self._engines.get(show_id)
            if engine is None:
                engine = await self.rebuild(show_id)
                self._engines[show_id] = engine
        return engine

    async def rebuild(self, show_id: str) -> ShowEngine:
        if len(show_id) > 32:
            raise NotFound(f"no show {show_id!r}")
        events = await self.journal.load(show_id)
        if not events:
            raise NotFound(f"no show {show_id!r}")
        state: ShowState | None = None
        for event in events:
            state = evolve(state, event)
        assert state is not None
        engine = ShowEngine(state, self.journal, self.bus, self.clock)
        engine.history.extend(events[-HISTORY:])
        return engine

    async def load_live(self) -> list[str]:
        """Rebuild every live show now, so its clocks and overlays resume at once."""
        ids = await self.journal.show_ids(status="live")
        for show_id in ids:
            await self.get(show_id)
        return ids
