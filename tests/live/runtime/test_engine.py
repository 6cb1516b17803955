"""The show engine over a real journal, on SQLite and PostgreSQL (``db_url``)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from live.adapters.journal import FencingError, Journal
from live.core.auth import Principal
from live.core.commands import Event, create
from live.core.errors import Conflict, Forbidden, Invalid, LiveError, NotFound
from live.core.show import parse_show_config
from live.runtime import engine as engine_module
from live.runtime import presence as presence_module
from live.runtime import ticker as ticker_module
from live.runtime.engine import ShowEngine
from live.runtime.shows import Shows
from tests.conftest import PRODUCTS, SEGMENTS, FakeClock
from tests.live.conftest import show_row

ADMIN = Principal("admin", None, "admin")
CONFIG = parse_show_config({"title": "秋冬护肤专场"})


class Recorder:
    """A publisher that keeps what it was given, and writes it into a shared log."""

    def __init__(self, log: list[tuple[str, list[int]]] | None = None) -> None:
        self.published: list[Event] = []
        self.log = log if log is not None else []

    def publish(self, show_id: str, events: list[Event]) -> None:
        self.published.extend(events)
        self.log.append(("publish", [e["seq"] for e in events]))


class LoggingJournal(Journal):
    """A journal that notes each append in a shared log (and can be made to fail)."""

    def __init__(self, engine: AsyncEngine, log: list[tuple[str, list[int]]]) -> None:
        super().__init__(engine)
        self.log = log
        self.fail: Exception | None = None
        self.fail_after_commit: Exception | None = None  # the commit happened, the answer was lost
        self.hold: asyncio.Event | None = None  # set: appends wait for it (a journal busy elsewhere)
        self.waiting = asyncio.Event()  # set while an append is held

    async def append(self, show_id: str, batch: Sequence[dict[str, Any]], status: str | None = None) -> None:
        if self.hold is not None:
            self.waiting.set()
            await self.hold.wait()
            self.waiting.clear()
        if self.fail is not None:
            raise self.fail
        await super().append(show_id, batch, status)
        self.log.append(("journal", [e["seq"] for e in batch]))
        if self.fail_after_commit is not None:
            raise self.fail_after_commit


@pytest.fixture
def log() -> list[tuple[str, list[int]]]:
    return []


@pytest.fixture
def journal(db: AsyncEngine, log: list[tuple[str, list[int]]]) -> LoggingJournal:
    return LoggingJournal(db, log)


@pytest.fixture
def bus(log: list[tuple[str, list[int]]]) -> Recorder:
    return Recorder(log)


@pytest.fixture
def shows(journal: LoggingJournal, bus: Recorder, clock: FakeClock) -> Shows:
    return Shows(journal, bus, clock)


async def new_show(shows: Shows, show_id: str = "s1") -> ShowEngine:
    return await shows.create(show_id, "ov_key", CONFIG, PRODUCTS, SEGMENTS)


async def run(engine: ShowEngine, *commands: dict[str, Any], who: Principal = ADMIN) -> None:
    for command in commands:
        await engine.execute(command, who)


async def test_execute_journals_the_events_before_publishing_them(
    shows: Shows, journal: LoggingJournal, bus: Recorder, log: list[tuple[str, list[int]]]
) -> None:
    engine = await new_show(shows)

    events = await engine.execute({"type": "show.start"}, ADMIN)

    assert [e["type"] for e in events] == ["show.started", "segment.changed"]
    assert [e["seq"] for e in events] == [2, 3]
    assert log == [("journal", [2, 3]), ("publish", [2, 3])]
    assert bus.published == events
    assert (await journal.load("s1", after=1)) == events
    assert engine.state.status == "live" and engine.state.seq == 3
    row = await show_row(journal, "s1")
    assert (row.status, row.last_seq) == ("live", 3)


@pytest.mark.parametrize(
    ("command", "who", "error"),
    [
        ({"type": "segment.next"}, ADMIN, Conflict),  # before show.start
        ({"type": "show.end"}, ADMIN, Conflict),
        ({"type": "segment.extend", "seconds": 60}, ADMIN, Conflict),
        ({"type": "product.pin", "sku": "NOPE"}, ADMIN, Invalid),
        ({"type": "segment.jump"}, ADMIN, Invalid),
        ({"type": "show.start", "extra": 1}, ADMIN, Invalid),
        ("show.start", ADMIN, Invalid),
        ({"type": "show.start"}, Principal("analyst", "s1", "ana"), Forbidden),
        ({"type": "show.start"}, Principal("moderator", "s1", "mo"), Forbidden),
        ({"type": "show.start"}, Principal("host", "other", "ho"), Forbidden),
    ],
)
async def test_a_refused_command_writes_nothing_and_publishes_nothing(
    shows: Shows, journal: LoggingJournal, bus: Recorder, command: Any, who: Principal, error: type[LiveError]
) -> None:
    engine = await new_show(shows)
    before_state = engine.state
    before_journal = await journal.load("s1")

    with pytest.raises(error):
        await engine.execute(command, who)

    assert engine.state is before_state
    assert await journal.load("s1") == before_journal
    assert bus.published == []
    assert [e["seq"] for e in engine.history] == [1]


async def test_wrong_state_while_live_writes_nothing(shows: Shows, journal: LoggingJournal, bus: Recorder) -> None:
    engine = await new_show(shows)
    await run(engine, {"type": "show.start"})
    before = (engine.state, await journal.load("s1"), list(bus.published))

    with pytest.raises(Conflict):
        await engine.execute({"type": "show.start"}, Principal("host", "s1", "ho"))
    with pytest.raises(Conflict):
        await engine.execute({"type": "segment.previous"}, ADMIN)

    assert (engine.state, await journal.load("s1"), bus.published) == before


async def test_a_rebuilt_show_equals_the_live_one_mid_show(
    shows: Shows, journal: LoggingJournal, clock: FakeClock
) -> None:
    engine = await new_show(shows)
    await run(engine, {"type": "show.start"})
    clock.advance(400)
    await run(engine, {"type": "segment.next"}, {"type": "segment.extend", "seconds": 120})
    clock.advance(30)
    await run(engine, {"type": "product.pin", "sku": "B2"}, {"type": "segment.extend", "seconds": -45, "index": 2})
    clock.advance(1000)
    await run(engine, {"type": "segment.next"}, {"type": "segment.previous"})
    clock.advance(5)

    fresh = Shows(journal, Recorder(), clock)
    rebuilt = await fresh.get("s1")

    assert rebuilt is not engine
    assert rebuilt.state == engine.state
    assert rebuilt.state.current == 1 and rebuilt.state.status == "live"
    assert rebuilt.state.segments[1].extended_seconds == 120
    assert list(rebuilt.history) == list(engine.history)
    assert rebuilt.now() == engine.now()
    # The rebuilt engine carries on with the next seq.
    events = await rebuilt.execute({"type": "segment.next"}, ADMIN)
    assert events[0]["seq"] == engine.state.seq + 1


async def test_load_live_resumes_only_live_shows(shows: Shows, journal: LoggingJournal, clock: FakeClock) -> None:
    await new_show(shows, "draft")
    live = await new_show(shows, "live")
    await run(live, {"type": "show.start"})
    ended = await new_show(shows, "ended")
    await run(ended, {"type": "show.start"}, {"type": "show.end"})

    fresh = Shows(journal, Recorder(), clock)
    resumed = await fresh.load_live()

    assert resumed == ["live"]
    assert sorted(fresh._engines) == ["live"]
    assert fresh._engines["live"].state == live.state


async def test_unknown_show_is_not_found_and_nothing_is_kept(shows: Shows) -> None:
    with pytest.raises(NotFound):
        await shows.get("nope")
    with pytest.raises(NotFound):
        await shows.get("x" * 33)
    assert shows._engines == {} and shows._loading == {}


async def test_concurrent_first_gets_share_one_engine(shows: Shows, journal: LoggingJournal, clock: FakeClock) -> None:
    await new_show(shows)
    fresh = Shows(journal, Recorder(), clock)

    got = await asyncio.gather(*(fresh.get("s1") for _ in range(20)))

    assert all(e is got[0] for e in got)
    assert fresh._loading == {}


async def test_concurrent_commands_get_consecutive_seqs_all_journaled(
    shows: Shows, journal: LoggingJournal, bus: Recorder
) -> None:
    engine = await new_show(shows)
    await run(engine, {"type": "show.start"})

    results = await asyncio.gather(
        *(engine.execute({"type": "segment.extend", "seconds": 1}, ADMIN) for _ in range(60))
    )

    seqs = sorted(e["seq"] for events in results for e in events)
    assert seqs == list(range(4, 64))
    journaled = await journal.load("s1")
    assert [e["seq"] for e in journaled] == list(range(1, 64))
    assert [e["extended_seconds"] for e in journaled[3:]] == list(range(1, 61))
    assert [e["seq"] for e in bus.published] == list(range(2, 64))
    assert engine.state.segments[0].extended_seconds == 60


async def test_missed_returns_exactly_the_later_events_from_memory(shows: Shows) -> None:
    engine = await new_show(shows)
    await run(engine, {"type": "show.start"}, {"type": "segment.next"}, {"type": "segment.extend", "seconds": 5})
    seq = engine.state.seq

    assert [e["seq"] for e in await engine.missed(2)] == list(range(3, seq + 1))  # type: ignore[union-attr]
    assert [e["seq"] for e in await engine.missed(0)] == list(range(1, seq + 1))  # type: ignore[union-attr]
    assert await engine.missed(seq) == []
    assert await engine.missed(-1) is None
    # A seq this show never had (say, from before a database reset): a fresh snapshot.
    assert await engine.missed(seq + 1) is None


async def test_missed_reads_the_journal_when_memory_starts_later(
    shows: Shows, journal: LoggingJournal, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = await new_show(shows)
    await run(engine, {"type": "show.start"})
    for _ in range(10):
        await run(engine, {"type": "segment.extend", "seconds": 1})
    monkeypatch.setattr(engine_module, "HISTORY", 4)

    rebuilt = await Shows(journal, Recorder(), clock).get("s1")

    assert [e["seq"] for e in rebuilt.history] == [10, 11, 12, 13]
    missed = await rebuilt.missed(3)
    assert missed == (await journal.load("s1"))[3:]
    assert missed is not None and [e["seq"] for e in missed] == list(range(4, 14))
    # Within memory: no journal read needed, same answer.
    assert [e["seq"] for e in await rebuilt.missed(10)] == [11, 12, 13]  # type: ignore[union-attr]


async def test_missed_is_none_when_too_far_behind(shows: Shows, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = await new_show(shows)
    await run(engine, {"type": "show.start"}, {"type": "segment.next"})  # seq 5
    monkeypatch.setattr(engine_module, "REPLAY", 3)

    assert await engine.missed(1) is None
    assert [e["seq"] for e in await engine.missed(2)] == [3, 4, 5]  # type: ignore[union-attr]


async def test_a_journal_failure_leaves_the_engine_unchanged(
    shows: Shows, journal: LoggingJournal, bus: Recorder
) -> None:
    engine = await new_show(shows)
    await run(engine, {"type": "show.start"})
    before = (engine.state, list(engine.history), await journal.load("s1"), list(bus.published))
    journal.fail = OSError("disk full")

    with pytest.raises(OSError):
        await engine.execute({"type": "segment.next"}, ADMIN)

    assert (engine.state, list(engine.history), await journal.load("s1"), bus.published) == before
    # Once the journal works again the same command takes the next seq: no gap.
    journal.fail = None
    events = await engine.execute({"type": "segment.next"}, ADMIN)
    assert events[0]["seq"] == before[0].seq + 1


async def test_nothing_of_a_command_is_visible_while_its_append_waits(
    shows: Shows, journal: LoggingJournal, bus: Recorder
) -> None:
    engine = await new_show(shows)
    await run(engine, {"type": "show.start"})
    before = engine.state
    seen_history, seen_bus = list(engine.history), list(bus.published)
    journal.hold = asyncio.Event()

    pending = asyncio.ensure_future(engine.execute({"type": "segment.next"}, ADMIN))
    await asyncio.wait_for(journal.waiting.wait(), 30)

    # Every reader sees the last journaled state: the state, the reconnect history, the bus.
    assert engine.state is before and engine.state.seq == before.seq and engine.state.current == 0
    assert await engine.missed(before.seq) == []
    assert await engine.missed(before.seq + 1) is None  # a seq nobody may know yet
    assert list(engine.history) == seen_history and bus.published == seen_bus
    assert not pending.done()

    journal.hold.set()
    events = await asyncio.wait_for(pending, 30)
    assert events[0]["seq"] == before.seq + 1 and engine.state.seq == events[-1]["seq"]
    assert engine.state.current == 1
    assert [e["seq"] for e in bus.published[len(seen_bus):]] == [e["seq"] for e in events]
    assert before.current == 0  # the old state value did not move either


async def test_an_append_lost_after_its_commit_is_found_in_the_journal_by_the_next_batch(
    shows: Shows, journal: LoggingJournal, bus: Recorder
) -> None:
    engine = await new_show(shows)
    await run(engine, {"type": "show.start"})
    start_seq = engine.state.seq
    journal.fail_after_commit = ConnectionResetError("the answer was lost")

    with pytest.raises(ConnectionResetError):
        await engine.execute({"type": "segment.next"}, ADMIN)
    assert engine.state.seq == start_seq  # nobody was told; nothing is visible yet

    journal.fail_after_commit = None
    committed = await journal.load("s1", after=start_seq)
    assert committed[0]["type"] == "segment.changed"
    events = await engine.execute({"type": "product.unpin"}, ADMIN)
    # The next batch folded the committed segment.next in first, then went on after it.
    assert [e["seq"] for e in events] == [committed[-1]["seq"] + 1]
    assert engine.state.current == 1 and engine.state.pinned_sku is None
    assert [e["seq"] for e in await journal.load("s1")] == list(range(1, events[-1]["seq"] + 1))
    # Its subscribers heard of it too, in order, before the unpin.
    assert [e["seq"] for e in bus.published if e["seq"] > start_seq] == [
        e["seq"] for e in [*committed, *events]]


async def test_time_never_runs_backwards_for_a_show(shows: Shows, journal: LoggingJournal, clock: FakeClock) -> None:
    engine = await new_show(shows)
    await run(engine, {"type": "show.start"})
    started = engine.state.started_at
    clock.advance(-60)  # the host's clock stepped back

    events = await engine.execute({"type": "segment.next"}, ADMIN)

    assert events[0]["at"] == started
    rebuilt = await Shows(journal, Recorder(), clock).get("s1")
    assert rebuilt.now() == started


async def test_a_second_writer_is_fenced_off_and_not_advanced(
    db: AsyncEngine, shows: Shows, journal: LoggingJournal, bus: Recorder, clock: FakeClock
) -> None:
    first = await new_show(shows)
    other_bus = Recorder()
    other = Shows(Journal(db), other_bus, clock)  # a second process on the same database
    second = await other.get("s1")
    await run(first, {"type": "show.start"})

    with pytest.raises(FencingError) as raised:
        await second.execute({"type": "show.start"}, ADMIN)

    assert raised.value.status == 409
    assert second.state.status == "draft" and second.state.seq == 1
    assert second.fenced
    assert other_bus.published == []
    assert [e["seq"] for e in await journal.load("s1")] == [1, 2, 3]
    assert [e["type"] for e in await journal.load("s1")][1:] == ["show.started", "segment.changed"]
    # A fenced engine refuses every further command without touching the journal.
    with pytest.raises(FencingError):
        await second.execute({"type": "segment.next"}, ADMIN)
    assert len(await journal.load("s1")) == 3
    # The first writer is unaffected.
    await run(first, {"type": "segment.next"})
    assert first.state.current == 1


async def test_a_fenced_engine_is_replaced_by_one_rebuilt_from_the_journal(
    db: AsyncEngine, shows: Shows, clock: FakeClock
) -> None:
    first = await new_show(shows)
    other = Shows(Journal(db), Recorder(), clock)
    stale = await other.get("s1")
    await run(first, {"type": "show.start"}, {"type": "segment.next"})
    with pytest.raises(FencingError):
        await stale.execute({"type": "show.start"}, ADMIN)

    current = await other.get("s1")

    assert current is not stale
    assert current.state == first.state


# -- claims after a sale has closed (answered without the writer queue) ------------------------


async def sale_with_viewers(engine: ShowEngine, stock: int, names: Sequence[str]) -> tuple[str, list[str]]:
    await run(engine, {"type": "show.start"})
    sale = (await engine.execute({"type": "flash_sale.open", "sku": "A1", "stock": stock, "per_viewer_limit": 5,
                                  "duration_seconds": 600}, ADMIN))[0]["sale"]
    viewers = [(await engine.register(name, False))[0] for name in names]
    return sale["id"], viewers


async def test_a_winning_request_retried_after_the_sell_out_gets_the_same_order(shows: Shows) -> None:
    engine = await new_show(shows)
    sale_id, (ann, bo) = await sale_with_viewers(engine, 1, ["Ann", "Bo"])
    won = await engine.claim(ann, {"sale_id": sale_id, "qty": 1, "request_id": "k1"})
    assert won["ok"] and engine.state.ledger.sales[sale_id].status == "closed"
    assert await engine.claim(ann, {"sale_id": sale_id, "qty": 1, "request_id": "k1"}) == won
    lost = await engine.claim(bo, {"sale_id": sale_id, "qty": 1, "request_id": "k2"})
    assert (lost["ok"], lost["code"]) == (False, "SOLD_OUT")


async def test_a_sell_out_whose_append_failed_does_not_answer_later_claims(
    shows: Shows, journal: LoggingJournal
) -> None:
    engine = await new_show(shows)
    sale_id, (ann, bo) = await sale_with_viewers(engine, 1, ["Ann", "Bo"])
    journal.fail = OSError("disk full")
    with pytest.raises(OSError):
        await engine.claim(ann, {"sale_id": sale_id, "qty": 1, "request_id": "k1"})
    journal.fail = None
    # the failed sell-out is not in the journal: the unit is still there for Bo
    assert engine.state.ledger.sales[sale_id].remaining == 1
    won = await engine.claim(bo, {"sale_id": sale_id, "qty": 1, "request_id": "k2"})
    assert won["ok"] is True
    claimed = [e for e in await journal.load("s1") if e["type"] == "flash_sale.claimed"]
    assert [e["viewer_id"] for e in claimed] == [bo]


async def test_a_claim_after_staff_closed_the_sale_is_ended_and_writes_nothing(shows: Shows) -> None:
    engine = await new_show(shows)
    sale_id, (ann,) = await sale_with_viewers(engine, 5, ["Ann"])
    await engine.execute({"type": "flash_sale.close", "sale_id": sale_id}, ADMIN)
    seq = engine.state.seq
    lost = await engine.claim(ann, {"sale_id": sale_id, "qty": 1, "request_id": "k1"})
    assert (lost["ok"], lost["code"]) == (False, "ENDED")
    assert engine.state.seq == seq


async def test_a_request_id_reused_after_the_sell_out_for_another_qty_is_a_mismatch(shows: Shows) -> None:
    # the settled sale's fast path gives the writer's answer: 422, nothing written
    engine = await new_show(shows)
    sale_id, (ann,) = await sale_with_viewers(engine, 2, ["Ann"])
    won = await engine.claim(ann, {"sale_id": sale_id, "qty": 2, "request_id": "k1"})
    assert won["ok"] and sale_id in engine._settled
    seq = engine.state.seq
    with pytest.raises(Invalid) as caught:
        await engine.claim(ann, {"sale_id": sale_id, "qty": 1, "request_id": "k1"})
    assert (caught.value.code, caught.value.field) == ("IDEMPOTENCY_MISMATCH", "request_id")
    assert engine.state.seq == seq
    assert await engine.claim(ann, {"sale_id": sale_id, "qty": 2, "request_id": "k1"}) == won


class LoopTime:
    """The tick loop's monotonic clock and sleep, moved by hand: ``late`` makes the
    ``n``-th sleep or tick take a second longer than asked (a loaded machine)."""

    def __init__(self, late: str, n: int = 2) -> None:
        self.t = 100.0
        self.late, self.n = late, n
        self.sleeps = 0

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.t += seconds + (1.0 if self.late == "sleep" and self.sleeps == self.n else 0.0)


@pytest.mark.parametrize("late", ["sleep", "tick"])
async def test_a_late_tick_is_not_followed_by_a_burst_of_catch_up_ticks(
    late: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop_time = LoopTime(late)
    monkeypatch.setattr(ticker_module, "time", loop_time)
    monkeypatch.setattr(ticker_module.asyncio, "sleep", loop_time.sleep)  # asyncio's own: nothing else runs here
    state, _ = create("s1", CONFIG, PRODUCTS, SEGMENTS, clock())
    engine = ShowEngine(state, None, Recorder(), clock)  # type: ignore[arg-type]  # the ticks never write
    ticked: list[float] = []

    async def tick() -> list[Event]:
        ticked.append(loop_time.t)
        if late == "tick" and len(ticked) == loop_time.n:
            loop_time.t += 1.0
        engine.fenced = len(ticked) == 8  # stops the loop
        return []

    monkeypatch.setattr(engine.ticker, "tick", tick)
    await engine.ticker.loop()
    gaps = [b - a for a, b in pairwise(ticked)]
    assert len(ticked) == 8 and min(gaps) >= ticker_module.TICK_SECONDS - 1e-9, gaps


# -- presence: the grace period, whatever the ticker's timing -------------------------------------


async def visits_of(journal: Journal, show_id: str) -> list[tuple[str, int]]:
    return [(e["type"], e.get("left_at", e["at"])) for e in await journal.load(show_id)
            if e["type"] in ("viewer.joined", "viewer.left")]


async def test_a_viewer_back_after_the_grace_period_before_any_tick_left_and_joins_again(
    shows: Shows, journal: LoggingJournal, clock: FakeClock
) -> None:
    # The ticker may be late (a busy server): the grace period ran out, but no
    # tick has journaled the leave yet when the viewer's socket opens again.
    engine = await new_show(shows)
    await run(engine, {"type": "show.start"})
    viewer_id, _ = await engine.register("小明", False)
    await engine.connected(viewer_id)
    joined = clock.t
    clock.advance(10)
    dropped = clock.t
    engine.disconnected(viewer_id)
    clock.advance_ms(presence_module.GRACE_MS + 1)
    await engine.connected(viewer_id)
    assert await visits_of(journal, "s1") == [("viewer.joined", joined), ("viewer.left", dropped),
                                             ("viewer.joined", clock.t)]
    await engine.ticker.tick()  # nothing left for a tick to take
    assert engine.state.ledger.present == 1 and len(await visits_of(journal, "s1")) == 3


async def test_a_reconnect_while_a_tick_journals_the_leave_is_a_new_visit(
    shows: Shows, journal: LoggingJournal, clock: FakeClock
) -> None:
    # The tick took the expired leave and waits for the journal; the viewer's
    # socket opens meanwhile: they must end up present, not absent.
    engine = await new_show(shows)
    await run(engine, {"type": "show.start"})
    viewer_id, _ = await engine.register("小明", False)
    await engine.connected(viewer_id)
    engine.disconnected(viewer_id)
    clock.advance_ms(presence_module.GRACE_MS)
    journal.hold = asyncio.Event()
    tick = asyncio.ensure_future(engine.ticker.tick())
    await journal.waiting.wait()
    back = asyncio.ensure_future(engine.connected(viewer_id))
    await asyncio.sleep(0)
    journal.hold.set()
    await asyncio.gather(tick, back)
    assert [kind for kind, _ in await visits_of(journal, "s1")] == ["viewer.joined", "viewer.left", "viewer.joined"]
    assert engine.state.ledger.viewers[viewer_id].connected_since == clock.t


async def test_likes_waiting_for_the_next_tick_are_journaled_before_the_show_ends(
    journal: LoggingJournal, bus: Recorder, clock: FakeClock
) -> None:
    shows = Shows(journal, bus, clock, tick=False)  # no ticker: the likes wait for a tick that never comes
    engine = await new_show(shows)
    await run(engine, {"type": "show.start"})
    viewer_id, _ = await engine.register("小明", False)
    await engine.connected(viewer_id)
    assert engine.add_likes(viewer_id, 7) == 7  # acknowledged to the viewer

    await run(engine, {"type": "show.end"})

    kinds = [(e["type"], e.get("total")) for e in await journal.load("s1") if e["type"] in ("likes.tick", "show.ended")]
    assert kinds == [("likes.tick", 7), ("show.ended", None)]
    assert engine.state.ledger.likes_total == 7
    await shows.close()


async def test_a_viewer_in_their_grace_period_at_the_end_left_when_their_socket_dropped(
    journal: LoggingJournal, bus: Recorder, clock: FakeClock
) -> None:
    shows = Shows(journal, bus, clock, tick=False)
    engine = await new_show(shows)
    await run(engine, {"type": "show.start"})
    gone, _ = await engine.register("小明", False)
    stays, _ = await engine.register("Bo", False)
    for vid in (gone, stays):
        await engine.connected(vid)
    clock.advance(30)
    engine.disconnected(gone)
    dropped = clock.t
    clock.advance(5)  # within the grace period when the show ends

    await run(engine, {"type": "show.end"})

    events = await journal.load("s1")
    left = [(e["viewer_id"], e["left_at"]) for e in events if e["type"] == "viewer.left"]
    assert left == [(gone, dropped)]  # the one still watching is no leave: their visit closes at the end
    assert [e["type"] for e in events].index("viewer.left") < [e["type"] for e in events].index("show.ended")
    assert engine.presence.idle
    await shows.close()


# -- claim_soon: claims answered by callback from the writer's batch (no task or future per claim) ------

Answers = list[tuple[dict[str, Any] | None, BaseException | None]]


def collector(answers: Answers) -> Any:
    return lambda result, exc: answers.append((result, exc))


async def test_claims_queued_while_the_writer_is_busy_are_answered_in_one_batch_exactly_to_stock(
    shows: Shows, journal: LoggingJournal
) -> None:
    engine = await new_show(shows)
    names = [f"v{i}" for i in range(30)]
    sale_id, viewers = await sale_with_viewers(engine, 7, names)
    answers: Answers = []
    appends = len([entry for entry in journal.log if entry[0] == "journal"])
    async with engine.lock:  # the writer is busy with another batch
        for i, viewer in enumerate(viewers):
            engine.claim_soon(viewer, {"sale_id": sale_id, "qty": 1, "request_id": f"r{i}"}, collector(answers))
        await asyncio.sleep(0)
        assert answers == []  # nothing is answered before the writer decides
    deadline = asyncio.get_running_loop().time() + 30
    while len(answers) < len(viewers):
        assert asyncio.get_running_loop().time() < deadline, "claims were never answered"
        await asyncio.sleep(0.01)
    assert all(exc is None for _, exc in answers)
    won = [r for r, _ in answers if r is not None and r["ok"]]
    lost = [r for r, _ in answers if r is not None and not r["ok"]]
    assert len(won) == 7 and len(lost) == 23 and {r["code"] for r in lost} == {"SOLD_OUT"}
    # one batch for all 30 (the group commit), whose 7 orders are in the journal
    assert len([entry for entry in journal.log if entry[0] == "journal"]) == appends + 1
    claimed = [e for e in await journal.load("s1") if e["type"] == "flash_sale.claimed"]
    assert sorted(e["order_id"] for e in claimed) == sorted(r["order_id"] for r in won)


async def test_a_claim_on_a_settled_sale_is_answered_at_once_and_a_bad_one_gets_the_error(shows: Shows) -> None:
    engine = await new_show(shows)
    sale_id, (ann, bo) = await sale_with_viewers(engine, 1, ["Ann", "Bo"])
    assert (await engine.claim(ann, {"sale_id": sale_id, "qty": 1, "request_id": "k1"}))["ok"]
    answers: Answers = []
    engine.claim_soon(bo, {"sale_id": sale_id, "qty": 1, "request_id": "k2"}, collector(answers))
    assert len(answers) == 1 and answers[0][0] is not None and answers[0][0]["code"] == "SOLD_OUT"
    engine.claim_soon(bo, {"sale_id": "nope", "qty": 1, "request_id": "k3"}, collector(answers))
    deadline = asyncio.get_running_loop().time() + 30
    while len(answers) < 2:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.01)
    result, exc = answers[1]
    assert result is None and isinstance(exc, LiveError) and exc.status == 404
    engine.claim_soon(bo, {"sale_id": sale_id, "qty": 0, "request_id": "k4"}, collector(answers))
    while len(answers) < 3:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.01)
    assert answers[2][0] is None and isinstance(answers[2][1], Invalid) and answers[2][1].field == "qty"


async def test_a_failing_answer_does_not_stop_the_batch(shows: Shows) -> None:
    engine = await new_show(shows)
    sale_id, (ann, bo) = await sale_with_viewers(engine, 5, ["Ann", "Bo"])
    answers: Answers = []

    def broken(result: dict[str, Any] | None, exc: BaseException | None) -> None:
        raise RuntimeError("a socket's bug")

    async with engine.lock:
        engine.claim_soon(ann, {"sale_id": sale_id, "qty": 1, "request_id": "a"}, broken)
        engine.claim_soon(bo, {"sale_id": sale_id, "qty": 1, "request_id": "b"}, collector(answers))
    deadline = asyncio.get_running_loop().time() + 30
    while not answers:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.01)
    assert answers[0][0] is not None and answers[0][0]["ok"]
    assert engine.state.ledger.sales[sale_id].remaining == 3  # both were decided and journaled
