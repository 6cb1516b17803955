"""The stats' keeper: a ``Tally`` and the review's state (``stats.state``) per
show, the stored review, and the ``stats.tick`` publisher (I/O: the journal,
the ``tallies`` table, the bus).

``Stats`` keeps them for the few most recently used shows, brought up to date
before each use from the engine's reconnect history when it holds the missing
events (they are journaled events, so it is the journal) and from the journal
otherwise. The review and ``stats.tick`` read the same tally with the same
``now``, so they say the same numbers.

An ended show's tally and state are stored (``stats.stored``, the
``tallies`` table) once read, and by the publisher for the ended shows this
process holds; a review of an ended show this process does not hold reads
them and the journal after them, and never rebuilds the show's engine. What
is stored is a cache: missing, behind, unreadable → caught up or rebuilt
from the journal, never trusted past its seq.

``Stats.run`` (started by the app's lifespan) looks every POLL_SECONDS for
live shows followed by staff sockets and sends each one ``stats.tick``
through the bus (``notify``: the staff who may read the review, no seq, not
journaled) when a second of the show's clock has passed since its last one.
Each tick reads only the events since the last (the tally grows) and
recomputes the series vectorised over the tally's columns; if that ever
costs more than BUDGET of a second, the show's ticks space out so they never
take more.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import OrderedDict
from typing import Any

from starlette.requests import HTTPConnection

from live.adapters.tallies import Tallies
from live.core.auth import REVIEW
from live.core.errors import Conflict, NotFound
from live.core.failures import describe
from live.core.protocol import STAFF
from live.core.show import ShowState
from live.runtime.engine import ShowEngine
from live.runtime.hub import Hub
from stats import stored
from stats.benchmarks import Benchmarks
from stats.benchmarks import load as load_benchmarks
from stats.entry import Entry, stored_entry
from stats.previous import PAST_KEEP, compared
from stats.review import numbers, tick
from stats.state import UNREAD
from stats.tally import Tally

log = logging.getLogger("stats")

POLL_SECONDS = 0.25  # how often the publisher looks (real time)
TICK_MS = 1_000  # at most one stats.tick a second of the show's clock
BUDGET = 0.1  # the share of the time a show's ticks may spend computing
KEEP = 8  # tallies kept (shows reviewed or followed recently)
STORE_ROUNDS = 20  # every 20 polls (5 s) the reviews of shows that ended since are stored


class Stats:
    """Tallies and review states by show, stored when a show has ended, and the
    ``stats.tick`` publisher (see the module's docstring)."""

    def __init__(self, hub: Hub, keep: int = KEEP, benchmarks: Benchmarks | None = None) -> None:
        self.hub = hub
        self.keep = keep
        self.benchmarks = benchmarks if benchmarks is not None else load_benchmarks()
        self._past: OrderedDict[str, tuple[int, dict[str, Any] | None]] = OrderedDict()  # show → (last_seq, figures)
        self.store = Tallies(hub.journal.engine)
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}
        self._stored: dict[str, int] = {}  # show → the seq its stored blob is at (when known)
        self._storing: dict[str, asyncio.Task[bool]] = {}  # show → its store running in the background
        self._last_tick: dict[str, int] = {}  # show → the show-clock time of its last tick
        self._interval: dict[str, int] = {}  # show → ms between its ticks (TICK_MS, or more when costly)
        self.cost_seconds: dict[str, float] = {}  # show → what its last tick took (for the benchmark and logs)

    async def tally(self, engine: ShowEngine) -> Tally:
        """The show's tally, up to date with its journal."""
        return (await self.entry(engine.show_id, engine)).tally

    async def entry(self, show_id: str, engine: ShowEngine | None = None, last_seq: int | None = None) -> Entry:
        """The show's tally and review state, up to date with its journal: from
        memory, else from the stored blob, else from the whole journal; caught
        up from the engine's history when it holds the missing events (they are
        journaled events), else from the journal. An ended show's is then
        stored (in the background) if what is stored is behind. ``last_seq``:
        the journal's, when known without an engine (a stored blob further on
        than the journal is not trusted)."""
        lock = self._locks.setdefault(show_id, asyncio.Lock())
        async with lock:
            entry = self._entries.get(show_id)
            if entry is None or entry.tally.broken:
                entry = await self._load(show_id, engine.state.seq if engine is not None else last_seq)
            try:
                await self._catch_up(show_id, entry, engine)
            finally:
                self._entries[show_id] = entry
                self._entries.move_to_end(show_id)
                while len(self._entries) > self.keep:
                    gone, _ = self._entries.popitem(last=False)
                    self._locks.pop(gone, None)
        if entry.tally.ended is not None and self._stored.get(show_id) != entry.tally.seq:
            self._store_soon(show_id)
        return entry

    async def _load(self, show_id: str, last_seq: int | None) -> Entry:
        """The stored entry, or an empty one (the catch-up then reads the whole journal)."""
        self._stored.pop(show_id, None)
        entry, seq = await stored_entry(self.store, show_id, last_seq)
        if seq is not None and entry.state is None:  # past its journal: else it would stay (never replaced by one behind)
            await self.store.drop(show_id)
        elif seq is not None:
            self._stored[show_id] = seq
        return entry

    async def _catch_up(self, show_id: str, entry: Entry, engine: ShowEngine | None) -> None:
        tally = entry.tally
        if engine is not None:
            history = engine.history  # the latest journaled events, contiguous, in seq order
            missing = engine.state.seq - tally.seq
            if missing <= 0:
                return
            if missing <= len(history) and history[-1]["seq"] == engine.state.seq:
                await entry.add(list(itertools.islice(history, len(history) - missing, None)))
                return
        await entry.add_scanned(self.hub.journal.scan(show_id, after=tally.seq, bare=UNREAD))

    # -- the stored review ---------------------------------------------------------

    def _store_soon(self, show_id: str) -> None:
        if show_id not in self._storing:
            task = asyncio.ensure_future(self.store_now(show_id))
            self._storing[show_id] = task
            task.add_done_callback(lambda _: self._storing.pop(show_id, None))

    async def store_now(self, show_id: str) -> bool:
        """Store the show's entry (an ended show's) if what is stored is behind;
        returns whether it wrote. A failure is logged: the stored review is a
        cache, the next read rebuilds it."""
        lock = self._locks.setdefault(show_id, asyncio.Lock())
        try:
            async with lock:
                entry = self._entries.get(show_id)
                if (entry is None or entry.state is None or entry.tally.broken or entry.tally.ended is None
                        or self._stored.get(show_id) == entry.tally.seq):
                    return False
                seq = entry.tally.seq
                stored.settle(entry.tally)  # here, so that the thread only reads it (reviews may read it meanwhile)
                blob = await asyncio.to_thread(stored.encode, entry.tally, entry.state)
                await self.store.put(show_id, stored.FORMAT, seq, blob, self.hub.shows.clock())
                self._stored[show_id] = seq
                return True
        except Exception as exc:  # noqa: BLE001 - a cache that failed to write is rebuilt on the next read
            log.error("storing the review of show %s failed: %s", show_id, describe(exc))
            return False

    async def store_ended(self) -> int:
        """Store the review of each ended show this process holds whose stored one is
        behind (a show that just ended, a late order or return); returns how many."""
        done = 0
        for engine in self.hub.shows.engines():
            if engine.state.status != "ended":
                continue
            show_id = engine.show_id
            if show_id not in self._stored:
                known = await self.store.seq(show_id)
                if known is not None:
                    self._stored[show_id] = known
            if self._stored.get(show_id) == engine.state.seq:
                continue
            await self.entry(show_id, engine)
            task = self._storing.get(show_id)  # the read above may have started it
            done += await (task if task is not None else self.store_now(show_id))
        return done

    async def close(self) -> None:
        """Let the stores under way finish."""
        await asyncio.gather(*self._storing.values(), return_exceptions=True)

    async def reviewed(self, show_id: str) -> tuple[ShowState, Tally, int]:
        """The review state, tally and the time it runs to of a show that has
        started. An ended show this process does not hold is read from its stored
        review and the journal after it, never by rebuilding its engine. Raises
        NotFound, or Conflict for a show that has not started."""
        engine = self.hub.shows.loaded(show_id)
        row = None
        if engine is None:
            row = await self.hub.journal.show_row(show_id) if len(show_id) <= 32 else None
            if row is None:
                raise NotFound(f"no show {show_id!r}")
            if row.status != "ended":
                engine = await self.hub.shows.get(show_id)
        entry = await self.entry(show_id, engine, None if row is None else row.last_seq)
        if entry.state is None or entry.state.status == "draft":
            raise Conflict("the show has not started: there is nothing to review yet")
        now = engine.now() if engine is not None else self.hub.shows.clock()
        return entry.state, entry.tally, now

    async def compared(self, state: ShowState, body: dict[str, Any]) -> dict[str, Any]:
        """The review ``body`` with its ``benchmark`` and ``previous`` (``compared``)."""
        found = await compared(self.hub.journal, self.hub.accounts, self.benchmarks, state, body, self._past)
        while len(self._past) > PAST_KEEP:
            self._past.popitem(last=False)
        return found

    # -- stats.tick ----------------------------------------------------------------

    async def run(self) -> None:
        """Publish ticks, and store the reviews of shows that ended, until cancelled."""
        try:
            for rounds in itertools.count(1):
                await asyncio.sleep(POLL_SECONDS)
                await self.tick_all()
                if rounds % STORE_ROUNDS == 0:
                    try:
                        await self.store_ended()
                    except Exception as exc:  # noqa: BLE001 - the stored review is a cache: the ticks go on
                        log.error("storing ended shows' reviews failed: %s", describe(exc))
        finally:
            await self.close()

    async def tick_all(self) -> int:
        """One round: a tick to the staff of each live show that is due; returns how many."""
        sent = 0
        for show_id in self.hub.bus.followed(STAFF):
            try:
                sent += await self.tick(show_id)
            except Exception as exc:  # noqa: BLE001 - one show's failure must not stop the others' ticks
                log.error("stats.tick of show %s failed: %s", show_id, describe(exc))
        return sent

    async def tick(self, show_id: str) -> bool:
        """Send the show's staff a ``stats.tick`` if it is live and due; returns whether it was sent."""
        engine = await self.hub.shows.get(show_id)
        if engine.state.status != "live":
            self._last_tick.pop(show_id, None)
            return False
        last = self._last_tick.get(show_id)
        if last is not None and engine.now() - last < self._interval.get(show_id, TICK_MS):
            return False
        began = time.perf_counter()
        tally = await self.tally(engine)
        now = engine.now()  # after the catch-up: no event the tally holds is later
        message = tick(*numbers(tally, now))
        cost = time.perf_counter() - began
        self.cost_seconds[show_id] = cost
        self._interval[show_id] = max(TICK_MS, round(cost / BUDGET * 1000))
        self._last_tick[show_id] = now
        self.hub.bus.notify(show_id, message, STAFF, REVIEW)
        return True


def stats_of(conn: HTTPConnection) -> Stats:
    found: Stats = conn.state.stats
    return found


def start(hub: Hub, benchmarks: Benchmarks | None = None) -> tuple[Stats, asyncio.Task[Any]]:
    """The app's Stats and its running publisher (the lifespan cancels it)."""
    stats = Stats(hub, benchmarks=benchmarks)
    return stats, asyncio.ensure_future(stats.run())
