"""The journal adapter, the same tests on SQLite and PostgreSQL (``db_url``)."""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from live.adapters.db import events, open_database, shows
from live.adapters.journal import PG_PATHS, FencingError, Journal
from tests.live.conftest import show_row

T0 = 1_700_000_000_000


@pytest.fixture
def engine(db: AsyncEngine) -> AsyncEngine:
    return db


@pytest.fixture
def journal(engine: AsyncEngine) -> Journal:
    return Journal(engine)


def created(show_id: str, at: int = T0) -> dict[str, Any]:
    return {
        "type": "show.created",
        "seq": 1,
        "at": at,
        "show": {"id": show_id, "title": "秋冬护肤专场"},
        "products": [{"sku": "A1", "title": "修护精华 30ml", "live_price": "199.00"}],
        "segments": [],
    }


def ev(seq: int, kind: str = "segment.extended", **data: Any) -> dict[str, Any]:
    return {"type": kind, "seq": seq, "at": T0 + seq * 1000, **data}


async def event_count(engine: AsyncEngine, show_id: str) -> int:
    async with engine.connect() as conn:
        q = select(func.count()).select_from(events).where(events.c.show_id == show_id)
        return int((await conn.execute(q)).scalar_one())


async def test_appended_events_load_back_in_order_with_chinese_text_intact(journal: Journal) -> None:
    await journal.create_show("s1", "秋冬护肤专场", "ov_key", created("s1"))
    batch = [
        ev(2, "show.started"),
        ev(3, "segment.changed", to=0, reason="start", note="欢迎来到直播间 👋"),
        ev(4, "segment.extended", index=0, seconds=60, extended_seconds=60, nested={"a": [1, 2, None]}),
    ]
    await journal.append("s1", batch, status="live")

    loaded = await journal.load("s1")

    assert loaded == [created("s1"), *batch]
    assert [e["seq"] for e in loaded] == [1, 2, 3, 4]
    assert loaded[2]["note"] == "欢迎来到直播间 👋"


async def test_load_after_returns_only_later_events(journal: Journal) -> None:
    await journal.create_show("s1", "t", "k", created("s1"))
    await journal.append("s1", [ev(s) for s in range(2, 8)])

    assert [e["seq"] for e in await journal.load("s1", after=4)] == [5, 6, 7]
    assert [e["seq"] for e in await journal.load("s1", after=4, limit=2)] == [5, 6]
    assert await journal.load("s1", after=7) == []
    assert await journal.load("unknown") == []


async def test_load_keeps_shows_apart(journal: Journal) -> None:
    await journal.create_show("s1", "one", "k1", created("s1"))
    await journal.create_show("s2", "two", "k2", created("s2"))
    await journal.append("s2", [ev(2, "show.started")])

    assert [e["seq"] for e in await journal.load("s1")] == [1]
    assert [e["type"] for e in await journal.load("s2")] == ["show.created", "show.started"]


async def test_appending_a_taken_seq_raises_fencing_error_and_writes_nothing(
    journal: Journal, engine: AsyncEngine
) -> None:
    await journal.create_show("s1", "t", "k", created("s1"))
    await journal.append("s1", [ev(2, "show.started")], status="live")

    with pytest.raises(FencingError) as raised:
        await journal.append("s1", [ev(2, "show.ended")], status="ended")

    assert raised.value.status == 409
    assert raised.value.code == "NOT_OWNER"
    assert [e["type"] for e in await journal.load("s1")] == ["show.created", "show.started"]
    row = await show_row(journal, "s1")
    assert (row.status, row.last_seq) == ("live", 2)


@pytest.mark.parametrize("pg_path", sorted(PG_PATHS))
async def test_every_postgresql_write_path_appends_in_order_and_fences_a_taken_seq(
    engine: AsyncEngine, pg_path: str
) -> None:
    # COPY reports a taken key as asyncpg's own error, not SQLAlchemy's: each
    # path must still say FencingError, and write nothing of the batch.
    journal = Journal(engine, pg_path)
    await journal.create_show("s1", "t", "k", created("s1"))
    await journal.append("s1", [ev(seq, "comment.new", text=f"第{seq}条 👋") for seq in range(2, 1202)], status="live")

    with pytest.raises(FencingError):
        await journal.append("s1", [ev(1202), ev(1203), ev(1000)], status="ended")

    loaded = await journal.load("s1")
    assert [e["seq"] for e in loaded] == list(range(1, 1202))
    assert loaded[-1]["text"] == "第1201条 👋"
    row = await show_row(journal, "s1")
    assert (row.status, row.last_seq) == ("live", 1201)


def test_an_unknown_postgresql_write_path_is_refused(engine: AsyncEngine) -> None:
    with pytest.raises(ValueError):
        Journal(engine, "bulk")


@pytest.fixture
async def no_negative_times(engine: AsyncEngine) -> AsyncIterator[None]:
    """A constraint of the kind a DBA adds (``at`` ≥ 0), other than the key;
    dropped afterwards (the PostgreSQL database outlives the test)."""
    sqlite = engine.dialect.name == "sqlite"
    async with engine.begin() as conn:
        if sqlite:  # SQLite adds no CHECK to an existing table: a trigger is its twin
            await conn.exec_driver_sql(
                "CREATE TRIGGER no_negative_at BEFORE INSERT ON events WHEN NEW.at < 0 "
                "BEGIN SELECT RAISE(ABORT, 'at must not be negative'); END")
        else:
            await conn.exec_driver_sql("ALTER TABLE events ADD CONSTRAINT no_negative_at CHECK (at >= 0)")
    yield
    async with engine.begin() as conn:
        await conn.exec_driver_sql("DROP TRIGGER no_negative_at" if sqlite
                                   else "ALTER TABLE events DROP CONSTRAINT no_negative_at")


@pytest.mark.parametrize("bad", [{"type": None}, {"at": None}, {"at": -1}])
async def test_a_constraint_other_than_the_key_is_its_own_error_not_fencing(
    journal: Journal, no_negative_times: None, bad: dict[str, Any]
) -> None:
    # Only a taken (show_id, seq) means another writer: a NOT NULL or a CHECK is
    # a bug or a schema change, and must not be reported as a lost show.
    await journal.create_show("s1", "t", "k", created("s1"))
    before = await journal.load("s1")

    with pytest.raises(IntegrityError) as raised:
        await journal.append("s1", [ev(2), {**ev(3), **bad}], status="live")

    assert not isinstance(raised.value, FencingError)
    assert await journal.load("s1") == before
    row = await show_row(journal, "s1")
    assert (row.status, row.last_seq) == ("draft", 1)
    await journal.append("s1", [ev(2)])  # the seq was not taken: the next append goes through


async def test_a_batch_whose_third_event_collides_writes_none_of_it(journal: Journal, engine: AsyncEngine) -> None:
    await journal.create_show("s1", "t", "k", created("s1"))
    await journal.append("s1", [ev(2), ev(3), ev(4)])
    # Another writer already holds seq 7: our batch 5, 6, 7 collides on its third event.
    await journal.append("s1", [ev(7)])
    before = await journal.load("s1")

    with pytest.raises(FencingError):
        await journal.append("s1", [ev(5, note="mine"), ev(6, note="mine"), ev(7, note="mine")], status="ended")

    assert await journal.load("s1") == before
    assert await event_count(engine, "s1") == 5
    row = await show_row(journal, "s1")
    assert (row.status, row.last_seq) == ("draft", 7)


async def test_append_updates_status_and_last_seq_of_the_show_row(journal: Journal) -> None:
    await journal.create_show("s1", "秋冬护肤专场", "ov_key", created("s1"))
    row = await show_row(journal, "s1")
    assert (row.title, row.status, row.overlay_key, row.last_seq, row.created_at) == (
        "秋冬护肤专场",
        "draft",
        "ov_key",
        1,
        T0,
    )

    await journal.append("s1", [ev(2, "show.started"), ev(3, "segment.changed")], status="live")
    row = await show_row(journal, "s1")
    assert (row.status, row.last_seq) == ("live", 3)

    # No status given: the status is kept, last_seq still moves.
    await journal.append("s1", [ev(4)])
    row = await show_row(journal, "s1")
    assert (row.status, row.last_seq) == ("live", 4)


async def test_empty_batch_writes_nothing(journal: Journal, engine: AsyncEngine) -> None:
    await journal.create_show("s1", "t", "k", created("s1"))
    await journal.append("s1", [], status="live")

    assert await event_count(engine, "s1") == 1
    row = await show_row(journal, "s1")
    assert (row.status, row.last_seq) == ("draft", 1)


async def test_creating_an_existing_show_id_raises_and_keeps_the_first(journal: Journal) -> None:
    await journal.create_show("s1", "first", "k1", created("s1"))

    with pytest.raises(FencingError):
        await journal.create_show("s1", "second", "k2", created("s1", at=T0 + 5))

    row = await show_row(journal, "s1")
    assert (row.title, row.overlay_key) == ("first", "k1")
    assert (await journal.load("s1"))[0]["at"] == T0


async def test_list_shows_newest_first_and_filtered_by_id(journal: Journal) -> None:
    await journal.create_show("old", "Old", "k1", created("old", at=T0))
    await journal.create_show("new", "New", "k2", created("new", at=T0 + 10))
    await journal.create_show("mid", "Mid", "k3", created("mid", at=T0 + 5))

    assert [r.id for r in await journal.list_shows()] == ["new", "mid", "old"]
    assert [r.id for r in await journal.list_shows(["old", "new", "nope"])] == ["new", "old"]
    assert await journal.list_shows([]) == []
    assert await journal.show_row("nope") is None


async def test_show_ids_by_status(journal: Journal) -> None:
    for sid in ("a", "b", "c"):
        await journal.create_show(sid, sid, "k", created(sid))
    await journal.append("b", [ev(2, "show.started")], status="live")
    await journal.append("c", [ev(2, "show.started")], status="live")
    await journal.append("c", [ev(3, "show.ended")], status="ended")

    assert sorted(await journal.show_ids()) == ["a", "b", "c"]
    assert await journal.show_ids(status="live") == ["b"]
    assert await journal.show_ids(status="ended") == ["c"]
    assert await journal.show_ids(status="draft") == ["a"]


async def test_open_database_twice_keeps_the_data(db_url: str, journal: Journal) -> None:
    await journal.create_show("s1", "t", "k", created("s1"))
    again = await open_database(db_url)
    try:
        assert [e["seq"] for e in await Journal(again).load("s1")] == [1]
        async with again.connect() as conn:
            assert (await conn.execute(select(func.count()).select_from(shows))).scalar_one() == 1
    finally:
        await again.dispose()


async def test_a_large_batch_round_trips(journal: Journal) -> None:
    await journal.create_show("s1", "t", "k", created("s1"))
    batch = [ev(s, "likes.tick", count=s % 7, total=s * 3, who=["小王", None, 1.5]) for s in range(2, 5002)]

    await journal.append("s1", batch)

    assert await journal.load("s1", after=1) == batch
    assert (await show_row(journal, "s1")).last_seq == 5001


async def test_a_batch_repeating_a_seq_writes_nothing(journal: Journal, engine: AsyncEngine) -> None:
    await journal.create_show("s1", "t", "k", created("s1"))

    with pytest.raises(FencingError):
        await journal.append("s1", [ev(2), ev(3), ev(3)], status="live")

    assert await event_count(engine, "s1") == 1
    assert (await show_row(journal, "s1")).status == "draft"


async def test_scan_reads_the_journal_chunk_by_chunk_in_order(journal: Journal) -> None:
    await journal.create_show("s1", "秋冬护肤专场", "ov_key", created("s1"))
    await journal.append("s1", [ev(seq, note=f"第{seq}条") for seq in range(2, 24)])
    chunks = [chunk async for chunk in journal.scan("s1", chunk=5)]
    assert [len(c) for c in chunks] == [5, 5, 5, 5, 3]
    assert [e for c in chunks for e in c] == await journal.load("s1")
    assert [e["seq"] for c in [c async for c in journal.scan("s1", after=20, chunk=3)] for e in c] == [21, 22, 23]
    assert [c async for c in journal.scan("s1", after=23)] == []
    async with contextlib.aclosing(journal.scan("s1", chunk=4)) as scan:  # leaving early cancels the read ahead
        async for first in scan:
            assert [e["seq"] for e in first] == [1, 2, 3, 4]
            break


async def test_events_of_bare_types_come_without_their_fields(journal: Journal) -> None:
    first = {"type": "show.created", "seq": 1, "at": T0, "show": {"id": "s1", "title": "t"}, "products": [],
             "segments": []}
    await journal.create_show("s1", "t", "ov_1", first)
    await journal.append("s1", [{"type": "viewers.tick", "seq": 2, "at": T0 + 1, "now": 3, "peak": 4},
                                {"type": "likes.tick", "seq": 3, "at": T0 + 2, "added": 1, "total": 1, "_by": {}}])
    assert await journal.load("s1", bare={"viewers.tick"}) == [
        first, {"type": "viewers.tick", "seq": 2, "at": T0 + 1},
        {"type": "likes.tick", "seq": 3, "at": T0 + 2, "added": 1, "total": 1, "_by": {}}]
    chunks = [c async for c in journal.scan("s1", chunk=2, bare={"viewers.tick"})]
    assert [e for c in chunks for e in c] == await journal.load("s1", bare={"viewers.tick"})
    assert (await journal.load("s1"))[1]["now"] == 3


async def test_a_row_the_fast_decoder_refuses_is_read_all_the_same(journal: Journal) -> None:
    first = {"type": "show.created", "seq": 1, "at": T0, "show": {"id": "s1", "title": "t"}, "products": [],
             "segments": []}
    await journal.create_show("s1", "t", "ov_1", first)
    await journal.append("s1", [{"type": "x.future", "seq": 2, "at": T0, "big": 2**70, "odd": float("inf")}])
    [_, event] = await journal.load("s1")
    assert (event["big"], event["odd"]) == (2**70, float("inf"))


@pytest.mark.parametrize("odd", [
    {"nan": float("nan"), "minus": float("-inf")},  # the fast encoder would write null
    {"plus": float("inf"), "none": None},
    {"big": 2**65, "key": {1: "one"}},  # the fast encoder refuses them
    {"tiny": 1.5e-7, "huge": 1e16, "text": "null 这个 👋"},
])
async def test_a_value_the_fast_encoder_gets_wrong_is_written_as_json_writes_it(
    journal: Journal, engine: AsyncEngine, odd: dict[str, Any]
) -> None:
    await journal.create_show("s1", "t", "ov_1", created("s1"))
    await journal.append("s1", [ev(2, "x.future", **odd)])
    async with engine.connect() as conn:
        stored = (await conn.execute(select(events.c.data).where(events.c.seq == 2))).scalar_one()
    back = json.loads(stored)  # the standard library: exact for what orjson reads loosely (huge ints)
    for key, value in odd.items():
        if isinstance(value, float) and math.isnan(value):
            assert math.isnan(back[key])  # NaN, not null
        elif key == "key":
            assert back[key] == {"1": "one"}  # as json writes a key that is not a string
        else:
            assert back[key] == value and type(back[key]) is type(value)
