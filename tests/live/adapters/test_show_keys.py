"""A show's webhook secret in the ``shows`` table (never in the journal), and a
database from before webhooks gaining its column at start; SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from live.adapters.db import async_url, open_database
from live.adapters.journal import Journal
from tests.live.conftest import show_row

T0 = 1_700_000_000_000
FIRST: dict[str, Any] = {"type": "show.created", "seq": 1, "at": T0, "show": {"id": "s1", "title": "t"},
                         "products": [], "segments": []}

# The shows table as the first release made it (no webhook_secret).
OLD_SHOWS = """CREATE TABLE shows (
    id VARCHAR(32) PRIMARY KEY, title VARCHAR(200) NOT NULL, status VARCHAR(16) NOT NULL,
    overlay_key VARCHAR(64) NOT NULL, created_at BIGINT NOT NULL, last_seq INTEGER NOT NULL)"""


async def test_the_secret_is_kept_with_the_show_and_rotates(db_url: str) -> None:
    engine = await open_database(db_url)
    try:
        journal = Journal(engine)
        await journal.create_show("s1", "t", "ov_k", dict(FIRST), webhook_secret="wh_one")
        assert (await show_row(journal, "s1")).webhook_secret == "wh_one"
        assert await journal.set_webhook_secret("s1", "wh_two") is True
        assert (await show_row(journal, "s1")).webhook_secret == "wh_two"
        assert await journal.set_webhook_secret("nope", "wh_x") is False
        assert all("wh_" not in str(e) for e in await journal.load("s1"))
    finally:
        await engine.dispose()


async def test_a_database_from_before_gets_the_column_and_keeps_its_shows(db_url: str) -> None:
    raw = create_async_engine(async_url(db_url))
    try:
        async with raw.begin() as conn:
            await conn.execute(text("DROP TABLE IF EXISTS shows"))
            await conn.execute(text(OLD_SHOWS))
            await conn.execute(text("INSERT INTO shows VALUES ('old', 'Old show', 'live', 'ov_old', 1, 7)"))
    finally:
        await raw.dispose()
    for secret in (None, "wh_new"):  # and a second start finds the column there
        engine = await open_database(db_url)
        try:
            journal = Journal(engine)
            row = await show_row(journal, "old")
            assert (row.title, row.overlay_key, row.last_seq, row.webhook_secret) == ("Old show", "ov_old", 7, secret)
            assert await journal.set_webhook_secret("old", "wh_new") is True
            await journal.create_show("s1", "t", "ov_k", dict(FIRST), webhook_secret="wh_s1")
            assert (await show_row(journal, "s1")).webhook_secret == "wh_s1"
            async with engine.begin() as conn:
                await conn.execute(text("DELETE FROM events WHERE show_id = 's1'"))
                await conn.execute(text("DELETE FROM shows WHERE id = 's1'"))
        finally:
            await engine.dispose()
