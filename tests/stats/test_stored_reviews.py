"""The stored review of an ended show (``stats.keeper.Stats``), on SQLite and
PostgreSQL (``db_url``): stored when the show has ended, read back by a new
process without rebuilding the show's engine and reading only the journal
after it, caught up with late orders and returns and stored again, and
rebuilt from the journal when missing, of another format or corrupt. Every
answer is compared with the review computed afresh from the whole journal
through the engine's own fold."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from live.adapters.bus import MemoryBus
from live.adapters.db import open_database
from live.adapters.journal import Journal
from live.adapters.tallies import Tallies
from live.core.commands import fold
from live.core.recording import parse_recording
from live.runtime.replay import replay
from live.runtime.shows import Shows
from scripts.simulate import ndjson, simulate
from stats import entry as entries
from stats import stored
from stats.keeper import Stats
from stats.metrics import metrics
from stats.previous import show_metrics
from stats.review import numbers, review
from stats.state import review_state
from stats.tally import Tally
from tests.conftest import FakeClock

SID = "sim1"


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = await open_database(db_url)
    yield engine
    await engine.dispose()


def counting(journal: Journal, chunk: int = 20_000) -> list[int]:
    """Where each read of ``journal`` starts (``after``), as it happens; reads ``chunk`` events at a time."""
    scans: list[int] = []
    scan = journal.scan

    def counted(show_id: str, after: int = 0, **kw: Any) -> Any:
        scans.append(after)
        return scan(show_id, after=after, chunk=chunk, **kw)

    journal.scan = counted  # type: ignore[method-assign]
    return scans


class Process:
    """What one server process holds: its engines and its stats (nothing else is shared but the database)."""

    def __init__(self, db: AsyncEngine, clock: FakeClock, chunk: int = 20_000) -> None:
        self.journal = Journal(db)
        self.shows = Shows(self.journal, MemoryBus(), clock, tick=False)
        hub: Any = SimpleNamespace(shows=self.shows, journal=self.journal, bus=MemoryBus())
        self.stats = Stats(hub)
        self.scans = counting(self.journal, chunk)

    async def review(self) -> Any:
        state, tally, now = await self.stats.reviewed(SID)
        await self.stats.close()  # the store it may have started
        return json.loads(json.dumps(review(state, *numbers(tally, now))))

    async def close(self) -> None:
        await self.stats.close()
        await self.shows.close()


@pytest.fixture
async def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def processes(db: AsyncEngine, clock: FakeClock) -> AsyncIterator[Any]:
    made: list[Process] = []

    def new() -> Process:
        made.append(Process(db, clock))
        return made[-1]

    yield new
    for p in made:
        await p.close()


async def imported(db: AsyncEngine, seed: int = 5) -> None:
    lines, _ = simulate(seed, 15, 120)
    await replay(Journal(db), parse_recording(ndjson(lines)), SID, "ov_sim", "wh_sim", secret=b"k")


async def fresh(db: AsyncEngine) -> Any:
    """The review computed from the whole journal, the state folded as the engine folds it."""
    events = await Journal(db).load(SID)
    state = review_state(fold(events))
    return json.loads(json.dumps(review(state, *numbers(Tally().add(events), None))))


async def last_seq(db: AsyncEngine) -> int:
    return int((await Journal(db).load(SID))[-1]["seq"])


async def late_order_and_return(p: Process) -> None:
    """What a shop's back office sends the day after: an order and a return (through the engine)."""
    engine = await p.shows.get(SID)
    order = {"order_id": "LATE-1", "sku": "SERUM-30", "qty": 2, "amount": "398.00", "at": engine.state.ended_at - 60_000}
    await engine.submit({"type": "order.place", "order": order})
    await engine.submit({"type": "order.return", "return": {"order_id": "LATE-1", "qty": 1}})


async def test_an_ended_show_is_reviewed_from_its_stored_tally_without_its_engine(
        db: AsyncEngine, processes: Any) -> None:
    await imported(db)
    first = processes()
    answer = await first.review()
    assert answer == await fresh(db)
    got = await first.stats.store.get(SID)
    assert got is not None and (got.format, got.seq) == (stored.FORMAT, await last_seq(db))

    again = processes()  # a restart: nothing in memory
    assert await again.review() == answer
    assert again.shows.loaded(SID) is None  # no engine rebuilt for it
    assert again.scans == [await last_seq(db)]  # only the journal after the stored tally


async def test_late_orders_and_returns_are_caught_up_and_stored_again(db: AsyncEngine, processes: Any) -> None:
    await imported(db)
    first = processes()
    before = await first.review()
    await late_order_and_return(first)
    assert await first.stats.store_ended() == 1  # the engine of an ended show took new events: stored again
    got = await first.stats.store.get(SID)
    assert got is not None and got.seq == await last_seq(db)

    answer = await fresh(db)
    assert answer["metrics"]["orders"] == before["metrics"]["orders"] + 1
    assert answer["metrics"]["returned_units"] == before["metrics"]["returned_units"] + 1
    assert await first.review() == answer
    assert await processes().review() == answer


async def test_a_stored_tally_behind_the_journal_is_caught_up_never_trusted_past_its_seq(
        db: AsyncEngine, processes: Any) -> None:
    await imported(db)
    await processes().review()  # stored
    stored_at = await last_seq(db)
    writer = processes()
    await late_order_and_return(writer)  # its stats never read the show: the stored one stays behind
    got = await writer.stats.store.get(SID)
    assert got is not None and got.seq == stored_at < await last_seq(db)

    reader = processes()
    assert await reader.review() == await fresh(db)
    assert reader.scans == [stored_at]
    got = await reader.stats.store.get(SID)
    assert got is not None and got.seq == await last_seq(db)  # stored again, caught up


async def test_read_without_an_engine_takes_the_stored_tally_and_the_journal_after_it(
        db: AsyncEngine, processes: Any) -> None:
    """``read_entry`` (what ``scripts/review.py`` reads): only reads, and says what the server says."""
    await imported(db)
    await processes().review()  # stored
    stored_at = await last_seq(db)
    await late_order_and_return(processes())  # behind the stored one now
    journal = Journal(db)
    scans = counting(journal)
    entry = await entries.read_entry(Tallies(db), journal, SID, await last_seq(db))
    assert scans == [stored_at]
    assert entry.state is not None and entry.tally.seq == await last_seq(db)
    assert json.loads(json.dumps(review(entry.state, *numbers(entry.tally, None)))) == await fresh(db)
    got = await Tallies(db).get(SID)
    assert got is not None and got.seq == stored_at  # it wrote nothing

    # a stored blob past the journal is not trusted (and left alone: only the server drops it)
    await Tallies(db).put(SID, stored.FORMAT, await last_seq(db) + 5, got.data, 0)
    scans.clear()
    entry = await entries.read_entry(Tallies(db), journal, SID, await last_seq(db))
    assert scans == [0] and entry.tally.seq == await last_seq(db)


async def test_a_previous_shows_metrics_come_from_its_stored_review(db: AsyncEngine, processes: Any) -> None:
    await imported(db)
    await processes().review()  # stored
    journal = Journal(db)
    scans = counting(journal)
    row = await journal.show_row(SID)
    got = await show_metrics(journal, row)
    assert scans == [await last_seq(db)]  # nothing after the stored review to read
    expected = metrics(Tally().add(await Journal(db).load(SID)))
    assert got is not None and json.dumps(got["metrics"]) == json.dumps(expected)
    assert got["metrics"]["orders"] > 0


@pytest.mark.parametrize("damage", ["missing", "older format", "corrupt", "another show's", "not a review",
                                    "past the journal"])
async def test_a_stored_review_that_cannot_be_used_is_rebuilt_from_the_journal(
        db: AsyncEngine, processes: Any, damage: str) -> None:
    await imported(db)
    first = processes()
    answer = await first.review()
    store = first.stats.store
    got = await store.get(SID)
    assert got is not None
    seq = got.seq
    if damage == "missing":
        await store.drop(SID)
    elif damage == "older format":
        await store.put(SID, stored.FORMAT - 1, seq, got.data, 0)
    elif damage == "corrupt":
        middle = len(got.data) // 2
        await store.put(SID, stored.FORMAT, seq, got.data[:middle] + b"\x00\x01" + got.data[middle + 2:], 0)
    elif damage == "another show's":
        tally, state = stored.decode(got.data, SID)
        await store.put(SID, stored.FORMAT, seq, stored.encode(tally, replace(state, id="other")), 0)
    elif damage == "not a review":
        await store.put(SID, stored.FORMAT, seq, b"LIVETALLY-nonsense", 0)
    else:  # a blob from a journal that went further (a database restored from an older backup beside it)
        await store.put(SID, stored.FORMAT, seq + 5, got.data, 0)

    again = processes()
    assert await again.review() == answer
    assert again.scans == [0]  # the whole journal, read once
    rebuilt = await store.get(SID)
    assert rebuilt is not None and (rebuilt.format, rebuilt.seq) == (stored.FORMAT, await last_seq(db))
    tally, state = stored.decode(rebuilt.data, SID)
    assert tally.seq == state.seq == await last_seq(db)


async def test_a_catch_up_read_in_many_chunks_says_the_same(db: AsyncEngine, clock: FakeClock,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    await imported(db)
    monkeypatch.setattr(entries, "COMPACT_CHUNKS", 3)  # the review state sealed every 3 chunks of 41 events
    small = Process(db, clock, chunk=41)
    try:
        assert await small.review() == await fresh(db)
        assert len(await Journal(db).load(SID)) > 41 * 3 * 5
    finally:
        await small.close()
