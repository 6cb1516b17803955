"""A show's tally and review state at one seq (``Entry``), and reading them
without an engine: the stored review (``stats.stored``, the ``tallies``
table) and the journal after it. Only reads; ``stats.keeper`` keeps entries
and stores them, ``stats.previous`` and ``scripts/review.py`` read them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from live.adapters.journal import Journal
from live.adapters.tallies import Tallies
from live.core.show import ShowState
from stats import stored
from stats.state import UNREAD, ReviewFolding
from stats.tally import Event, Tally

log = logging.getLogger("stats")

COMPACT_CHUNKS = 25  # a long catch-up seals the review state every 25 chunks of the journal (500,000 events)


@dataclass
class Entry:
    """A show's tally and review state at the same seq (``state`` is None before
    ``show.created`` is read)."""

    tally: Tally
    state: ShowState | None = None

    async def add(self, events: list[Event]) -> None:
        """Catch both up with ``events`` (those after ``tally.seq``, in order).
        Raises what ``Tally.add`` or the fold raise; the tally is then broken."""
        if events:
            await self._add(self._one(events))

    async def add_scanned(self, chunks: AsyncIterator[list[Event]]) -> None:
        """``add`` for a long read, chunk by chunk (the state folded on one draft)."""
        await self._add(chunks)

    @staticmethod
    async def _one(events: list[Event]) -> AsyncIterator[list[Event]]:
        yield events

    async def _add(self, chunks: AsyncIterator[list[Event]]) -> None:
        folding = ReviewFolding(self.state)
        added = 0
        try:
            async for chunk in chunks:
                self.tally.add(chunk)
                folding.add(chunk)
                added += 1
                if added % COMPACT_CHUNKS == 0:  # what the review state drops (claim results…) must not pile up
                    self.state = folding.state()
                    folding = ReviewFolding(self.state)
            if added:
                self.state = folding.state()
        except Exception:
            self.tally.broken = True
            raise


async def stored_entry(store: Tallies, show_id: str, last_seq: int | None) -> tuple[Entry, int | None]:
    """The show's stored entry and its seq; an empty entry and None when nothing
    usable is stored (missing, of another format, unreadable); an empty entry and
    the stored seq when it is past ``last_seq`` (the journal's, when known), which
    is then not to be trusted. Only reads."""
    got = await store.get(show_id)
    if got is None:
        return Entry(Tally()), None
    if last_seq is not None and got.seq > last_seq:
        log.warning("the stored review of show %s is past its journal (seq %d > %d): rebuilt from the journal",
                    show_id, got.seq, last_seq)
        return Entry(Tally()), got.seq
    if got.format != stored.FORMAT:
        log.info("the stored review of show %s is of format %d: rebuilt from the journal", show_id, got.format)
        return Entry(Tally()), None
    try:
        tally, state = await asyncio.to_thread(stored.decode, got.data, show_id)
    except stored.Unusable as exc:
        log.warning("the stored review of show %s is unusable (%s): rebuilt from the journal", show_id, exc)
        return Entry(Tally()), None
    return Entry(tally, state), got.seq


async def read_entry(store: Tallies, journal: Journal, show_id: str, last_seq: int | None = None) -> Entry:
    """The show's tally and review state up to its journal's end, read without an
    engine: the stored entry, then the journal after it (the whole journal when
    nothing usable is stored). Only reads."""
    entry, _ = await stored_entry(store, show_id, last_seq)
    await entry.add_scanned(journal.scan(show_id, after=entry.tally.seq, bare=UNREAD))
    return entry
