"""ShowEngine: the one writer of a show. Shows: the registry of engines.

``execute`` checks the role, runs the pure ``apply`` with the server's time,
appends the events to the journal and only then makes them the show's state
and publishes them. If any step fails nothing is kept, so an acknowledged
command is always in the journal and an unacknowledged one never is.

Fencing: the journal's key ``(show_id, seq)`` lets only one writer have each
seq. An engine that loses that race is marked ``fenced``; it writes nothing
more, and ``Shows.get`` replaces it with one rebuilt from the journal.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from live import auth
from live.commands import Event, apply, create, evolve
from live.errors import NotFound
from live.journal import FencingError, Journal
from live.show import ShowState

log = logging.getLogger("live.engine")

HISTORY = 2_000  # recent events held in memory for reconnects
REPLAY = 10_000  # at most this many missed events are replayed (from the journal past HISTORY)


class Publisher(Protocol):
    def publish(self, show_id: str, events: list[Event]) -> None: ...


class ShowEngine:
    def __init__(
        self, state: ShowState, journal: Journal, bus: Publisher, clock: Callable[[], int], last_at: int = 0
    ) -> None:
        self.state = state
        self.journal = journal
        self.bus = bus
        self.clock = clock
        self.lock = asyncio.Lock()
        # A new epoch each time a process takes the show: clients learn that the
        # writer changed; seqs stay valid because they come from the journal.
        self.epoch = secrets.token_hex(4)
        self.history: deque[Event] = deque(maxlen=HISTORY)
        self.last_at = last_at  # time of the newest event
        # Set when another writer took a seq first: this engine's state is stale
        # and ``Shows.get`` replaces it with one rebuilt from the journal.
        self.fenced = False

    @property
    def show_id(self) -> str:
        return self.state.id

    def now(self) -> int:
        """Server time, never earlier than the last event (clocks can step back)."""
        return max(self.clock(), self.last_at)

    async def execute(self, command: Any, principal: auth.Principal) -> list[Event]:
        """Run one command; returns its events (already journaled and published).
        Raises LiveError (Forbidden, Invalid, Conflict…) having written nothing;
        FencingError when another writer holds the show; any journal error as is,
        also having kept nothing."""
        principal.require_show(self.show_id)
        if isinstance(command, dict) and isinstance(command.get("type"), str):
            auth.check(principal.role, command["type"])
        async with self.lock:
            if self.fenced:
                raise FencingError(f"show {self.show_id} is written by another process now")
            now = self.now()
            state, events = apply(self.state, command, now)
            if not events:
                return []
            status = state.status if state.status != self.state.status else None
            try:
                await self.journal.append(self.show_id, events, status=status)
            except FencingError:
                self.fenced = True
                raise
            # Journaled: from here on the command is done whatever happens.
            self.state = state
            self.last_at = now
            self.history.extend(events)
            # Published under the lock so subscribers see the journal's order.
            try:
                self.bus.publish(self.show_id, events)
            except Exception:  # clients catch up from the journal on reconnect
                log.exception("publishing events %d..%d of show %s failed", events[0]["seq"], state.seq, self.show_id)
        return events

    async def missed(self, after: int) -> list[Event] | None:
        """Events after seq ``after`` for a reconnecting client, in order; or None
        when they are too many or ``after`` is not a seq of this show (the client
        then gets a fresh snapshot)."""
        seq = self.state.seq
        if after == seq:
            return []
        if after < 0 or after > seq or seq - after > REPLAY:
            return None
        if self.history and self.history[0]["seq"] <= after + 1:
            return [e for e in self.history if e["seq"] > after]
        events = await self.journal.load(self.show_id, after=after, limit=seq - after)
        # Nothing past this engine's own state: a later seq in the journal was
        # written by another writer, and this one's clients must stay consistent.
        return [e for e in events if e["seq"] <= seq]


class Shows:
    """Engines by show id, rebuilt from the journal on first use."""

    def __init__(self, journal: Journal, bus: Publisher, clock: Callable[[], int]) -> None:
        self.journal = journal
        self.bus = bus
        self.clock = clock
        self._engines: dict[str, ShowEngine] = {}
        self._loading: dict[str, asyncio.Future[ShowEngine]] = {}

    async def create(
        self, show_id: str, overlay_key: str, config: dict[str, Any], products: Any, segments: Any
    ) -> ShowEngine:
        state, first = create(show_id, config, products, segments, self.clock())
        await self.journal.create_show(show_id, state.title, overlay_key, first)
        engine = ShowEngine(state, self.journal, self.bus, self.clock, last_at=first["at"])
        engine.history.append(first)
        self._engines[show_id] = engine
        return engine

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
        state: ShowState | None = None
        for event in events:
            state = evolve(state, event)
        assert state is not None
        engine = ShowEngine(state, self.journal, self.bus, self.clock, last_at=events[-1]["at"])
        engine.history.extend(events[-HISTORY:])
        return engine

    async def load_live(self) -> list[str]:
        """Rebuild every live show now, so its clocks and overlays resume at once."""
        ids = await self.journal.show_ids(status="live")
        for show_id in ids:
            await self.get(show_id)
        return ids
