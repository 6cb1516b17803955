"""Stored tallies (a cache beside the journal), the same tests on SQLite and
PostgreSQL (``db_url``): a blob by show, never replaced by one further behind,
gone with its show when an import is discarded."""

from __future__ import annotations

import os

from sqlalchemy.ext.asyncio import AsyncEngine

from live.adapters.journal import Journal
from live.adapters.tallies import Stored, Tallies

T0 = 1_700_000_000_000


async def test_a_show_has_no_stored_tally_until_one_is_put(db: AsyncEngine) -> None:
    store = Tallies(db)
    assert await store.get("s1") is None and await store.seq("s1") is None
    blob = os.urandom(3_000_000)  # megabytes, and every byte value
    assert await store.put("s1", 1, 40, blob, T0)
    assert await store.get("s1") == Stored(1, 40, blob)
    assert await store.seq("s1") == 40 and await store.get("s2") is None


async def test_a_later_seq_replaces_an_earlier_one_never_the_reverse(db: AsyncEngine) -> None:
    store = Tallies(db)
    await store.put("s1", 1, 40, b"at 40", T0)
    assert await store.put("s1", 1, 42, b"at 42", T0 + 1)
    assert not await store.put("s1", 1, 41, b"at 41", T0 + 2)  # a slower writer, further behind
    assert await store.get("s1") == Stored(1, 42, b"at 42")
    assert await store.put("s1", 2, 42, b"new format at 42", T0 + 3)  # the same seq: rewritten
    assert await store.get("s1") == Stored(2, 42, b"new format at 42")


async def test_drop_forgets_the_shows_tally_only(db: AsyncEngine) -> None:
    store = Tallies(db)
    await store.put("s1", 1, 1, b"one", T0)
    await store.put("s2", 1, 1, b"two", T0)
    await store.drop("s1")
    assert await store.get("s1") is None and await store.get("s2") == Stored(1, 1, b"two")


async def test_a_discarded_show_takes_its_stored_tally_with_it(db: AsyncEngine) -> None:
    journal, store = Journal(db), Tallies(db)
    first = {"type": "show.created", "seq": 1, "at": T0, "show": {"id": "s1", "title": "t"}, "products": [],
             "segments": []}
    await journal.create_show("s1", "t", "ov_1", first)
    await store.put("s1", 1, 1, b"blob", T0)
    assert not await journal.discard_show("s1", "ov_wrong")
    assert await store.get("s1") is not None
    assert await journal.discard_show("s1", "ov_1")
    assert await store.get("s1") is None
