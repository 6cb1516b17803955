"""The database: tables and an async engine for SQLite (default) or PostgreSQL.

SQLAlchemy Core only. ``open_database(url)`` accepts plain ``sqlite:///…`` and
``postgresql://…`` URLs and picks the async driver.
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

metadata = MetaData()

shows = Table(
    "shows",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("overlay_key", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_seq", Integer, nullable=False),
    # the key of the shop's signed webhooks (X-Live-Signature); never journaled (the
    # journal is exported). Null for a show created before webhooks: the admin rotates one.
    Column("webhook_secret", String(64)),
)

# Columns added after a table's first release: (table, column, SQL type). A
# database from before gets them at start (create_all makes only missing tables).
ADDED_COLUMNS = (("shows", "webhook_secret", "VARCHAR(64)"),)

# The journal: the truth. (show_id, seq) is the primary key and doubles as a
# fencing token: two writers can never both append the same seq.
events = Table(
    "events",
    metadata,
    Column("show_id", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("type", String(64), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("data", Text, nullable=False),
)

# A cache beside the journal, never the truth: a show's tally and review state
# as of ``seq`` (stats/stored.py), so an ended show's review reads one row.
# Rebuilt from the journal whenever missing, behind, of another format or corrupt.
tallies = Table(
    "tallies",
    metadata,
    Column("show_id", String(32), primary_key=True),
    Column("format", Integer, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("stored_at", BigInteger, nullable=False),
    Column("data", LargeBinary, nullable=False),
)

staff = Table(
    "staff",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("show_id", String(32), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("role", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
)

# One-time login codes and the browser sessions they open (hashes only).
logins = Table(
    "logins",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("show_id", String(32)),
    Column("staff_id", String(32)),
    Column("name", String(100), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used_at", BigInteger),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("show_id", String(32)),
    Column("staff_id", String(32)),
    Column("name", String(100), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)


def async_url(url: str) -> str:
    """Map plain URLs to the async drivers we ship with."""
    u = make_url(url)
    if u.drivername in ("sqlite", "sqlite+pysqlite"):
        u = u.set(drivername="sqlite+aiosqlite")
    elif u.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        u = u.set(drivername="postgresql+asyncpg")
    return u.render_as_string(hide_password=False)


async def open_database(url: str, **engine_args: Any) -> AsyncEngine:
    """Create the engine and the tables (idempotent). Makes the SQLite folder.

    The engine hides statement parameters from its errors: a failed append's
    parameters are events, holding a draw's seed before the reveal and what
    viewers wrote, and an error's text ends up in logs."""
    engine_args.setdefault("hide_parameters", True)
    full = async_url(url)
    u = make_url(full)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            folder = os.path.dirname(os.path.abspath(u.database))
            os.makedirs(folder, exist_ok=True)
        engine = create_async_engine(full, **engine_args)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            # WAL + NORMAL: a committed transaction survives a process crash
            # (kill -9); only an OS crash could lose the last few.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=5000")
            cur.close()

    else:
        engine = create_async_engine(full, pool_pre_ping=True, **engine_args)
    async with engine.begin() as conn:
        if u.get_backend_name() == "postgresql":
            # Several processes starting at once on an empty database (the scaled
            # mode) would race to create the same tables: one at a time.
            await conn.execute(text("SELECT pg_advisory_xact_lock(7305211)"))
        await conn.run_sync(metadata.create_all)
        await conn.run_sync(add_missing_columns)
    return engine


def add_missing_columns(conn: Connection) -> list[str]:
    """``ALTER TABLE … ADD COLUMN`` for each of ADDED_COLUMNS a database from an
    earlier version lacks (nullable, so existing rows stay valid); returns what
    it added as ``table.column``. PostgreSQL says IF NOT EXISTS, so two processes
    starting together cannot both fail; SQLite serialises its writers."""
    added: list[str] = []
    for table, column, sql_type in ADDED_COLUMNS:
        present = {c["name"] for c in inspect(conn).get_columns(table)}
        if column in present:
            continue
        guard = "IF NOT EXISTS " if conn.dialect.name == "postgresql" else ""
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {guard}{column} {sql_type}"))
        added.append(f"{table}.{column}")
    return added
