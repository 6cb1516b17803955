"""The journal: append a show's events, load them back, list shows.

The ``events`` table is append-only; ``shows`` is a small projection for
listing (title, status, overlay key, last seq) kept in the same transaction,
which also keeps the show's webhook secret (never an event: the journal is exported).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, Collection, Sequence
from typing import Any

import orjson
from sqlalchemy import case, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from live.adapters.db import events, shows, tallies
from live.core.errors import Conflict

# One encoder for every row: json.dumps(..., **options) builds a new one per
# call, which is a third of the append path's Python time.
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

Row = tuple[str, int, str, int, str]  # show_id, seq, type, at, data
_COLUMNS = ("show_id", "seq", "type", "at", "data")

# A batch as one statement with five array parameters: PostgreSQL parses and
# plans it once, instead of once per row as executemany does (about 1.5x faster).
_PG_APPEND = text(
    "INSERT INTO events (show_id, seq, type, at, data) "
    "SELECT CAST(:show_id AS VARCHAR), u.seq, u.type, u.at, u.data FROM unnest("
    "CAST(:seq AS INTEGER[]), CAST(:type AS VARCHAR[]), CAST(:at AS BIGINT[]), CAST(:data AS TEXT[])"
    ") AS u(seq, type, at, data)"
)
# SQLite: executemany of plain tuples through the driver skips SQLAlchemy's
# per-row parameter processing (about 1.4x faster than a Core insert).
_SQLITE_APPEND = "INSERT INTO events (show_id, seq, type, at, data) VALUES (?, ?, ?, ?, ?)"


def _dump(data: dict[str, Any]) -> str:
    """``data`` as the journal's JSON: what ``_encode`` writes, read back alike.
    orjson is about ten times faster (the encoding was a third of a batch's
    time on PostgreSQL), but writes NaN and ±Infinity as ``null`` and refuses
    what json writes (a key that is not a string, an integer over 64 bits, a
    lone surrogate): a ``null`` anywhere in its output, or a refusal, and the
    standard library writes the row instead, exactly as before."""
    try:
        raw = orjson.dumps(data)
    except TypeError:  # orjson.JSONEncodeError is one
        return _encode(data)
    if b"null" in raw:  # maybe a NaN or an infinity orjson wrote as null
        return _encode(data)
    return raw.decode()


def _rows(show_id: str, batch: Sequence[dict[str, Any]]) -> list[Row]:
    """The table rows of events: the envelope in columns, the rest as JSON."""
    out: list[Row] = []
    dump = _dump
    for event in batch:
        data = dict(event)
        del data["type"], data["seq"], data["at"]
        out.append((show_id, event["seq"], event["type"], event["at"], dump(data)))
    return out


def _events(rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Rows ``(type, seq, at, data)`` as events (``data`` None: the envelope alone).
    A long journal is mostly decoding: orjson takes about half the time of the
    standard library's json (one call for a whole chunk), which is what
    rebuilding or reviewing a show of millions of events pays per event."""
    loads = orjson.loads
    out: list[dict[str, Any]] = []
    for kind, seq, at, data in rows:
        event: dict[str, Any] = {"type": kind, "seq": seq, "at": at}
        if data is not None:
            try:
                event.update(loads(data))
            except orjson.JSONDecodeError:  # NaN or a huge integer: json writes them, orjson refuses
                event.update(json.loads(data))
        out.append(event)
    return out


async def _pg_unnest(conn: AsyncConnection, rows: list[Row]) -> None:
    seqs, types, ats, datas = (list(col) for col in zip(*(r[1:] for r in rows)))
    await conn.execute(_PG_APPEND, {"show_id": rows[0][0], "seq": seqs, "type": types, "at": ats, "data": datas})


async def _pg_values(conn: AsyncConnection, rows: list[Row]) -> None:
    # One multi-row INSERT; PostgreSQL allows 65,535 parameters per statement.
    for i in range(0, len(rows), _VALUES_ROWS):
        await conn.execute(insert(events).values([dict(zip(_COLUMNS, r)) for r in rows[i:i + _VALUES_ROWS]]))


async def _pg_copy(conn: AsyncConnection, rows: list[Row]) -> None:
    # COPY in binary through asyncpg itself, inside the caller's transaction:
    # SQLAlchemy begins it on the connection's first statement, so the caller
    # runs one before this (``_insert`` says so). COPY raises asyncpg's own
    # errors, not SQLAlchemy's: a constraint's refusal is turned into the
    # IntegrityError the other paths raise, so fencing reads the same.
    import asyncpg  # type: ignore[import-untyped]  # only with PostgreSQL

    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    try:
        await driver.copy_records_to_table("events", records=rows, columns=_COLUMNS)
    except asyncpg.IntegrityConstraintViolationError as exc:
        raise IntegrityError("COPY events", None, exc) from exc


# How PostgreSQL batches are written, by name (``scripts/bench/journal.py``
# measures each beside the asyncpg floor; COPY was fastest there).
PG_PATHS = {"copy": _pg_copy, "unnest": _pg_unnest, "values": _pg_values}
_VALUES_ROWS = 10_000  # 5 parameters a row


async def _insert(conn: AsyncConnection, rows: list[Row], pg_path: str = "copy") -> None:
    """Insert journal rows in the caller's transaction, by the fastest path the
    database has. On PostgreSQL the transaction must have begun already (a
    statement ran on ``conn``): COPY does not begin it. Raises IntegrityError
    when a (show_id, seq) is taken."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        await PG_PATHS[pg_path](conn, rows)
    elif dialect == "sqlite":
        await conn.exec_driver_sql(_SQLITE_APPEND, rows)
    else:
        await conn.execute(insert(events), [dict(zip(_COLUMNS, r)) for r in rows])


class FencingError(Conflict):
    """Another writer appended this seq first: this process no longer owns the show."""

    code = "NOT_OWNER"


def _key_taken(exc: IntegrityError) -> bool:
    """Whether ``exc`` is a duplicate primary key (a taken ``(show_id, seq)``, or
    show id), the one IntegrityError that means another writer got there first.
    A NOT NULL, a CHECK or a trigger's refusal is something else entirely."""
    orig = exc.orig
    # SQLite (Python ≥ 3.11 names the extended result code)
    if getattr(orig, "sqlite_errorname", None) == "SQLITE_CONSTRAINT_PRIMARYKEY":
        return True
    # PostgreSQL (asyncpg): unique_violation on a table's primary key
    if getattr(orig, "sqlstate", None) == "23505":
        # SQLAlchemy's adapted error carries asyncpg's as its cause; COPY's is asyncpg's own
        constraint = getattr(orig, "constraint_name", None) or getattr(
            getattr(orig, "__cause__", None), "constraint_name", None)
        return constraint is None or constraint in ("events_pkey", "shows_pkey")  # None: the driver does not say
    return False


class Journal:
    def __init__(self, engine: AsyncEngine, pg_path: str = "copy") -> None:
        """``pg_path``: how PostgreSQL batches are written, a name in PG_PATHS."""
        if pg_path not in PG_PATHS:
            raise ValueError(f"pg_path must be one of {sorted(PG_PATHS)}")
        self.engine = engine
        self.pg_path = pg_path

    async def create_show(self, show_id: str, title: str, overlay_key: str, first: dict[str, Any],
                          webhook_secret: str | None = None) -> None:
        """Write the show's row (with its keys) and its first event together. Raises FencingError
        when the id is taken (another writer created it first), any other
        IntegrityError as itself; either way nothing is written."""
        try:
            async with self.engine.begin() as conn:
                await conn.execute(
                    insert(shows).values(
                        id=show_id,
                        title=title,
                        status="draft",
                        overlay_key=overlay_key,
                        webhook_secret=webhook_secret,
                        created_at=first["at"],
                        last_seq=first["seq"],
                    )
                )
                await _insert(conn, _rows(show_id, [first]), self.pg_path)
        except IntegrityError as exc:
            if not _key_taken(exc):
                raise
            raise FencingError(f"show {show_id} already exists") from None

    async def append(self, show_id: str, batch: Sequence[dict[str, Any]], status: str | None = None) -> None:
        """Append events (consecutive seqs) atomically. Raises FencingError on a
        seq that is already taken, any other IntegrityError (a NOT NULL, a CHECK)
        as itself; either way nothing is written."""
        if not batch:
            return
        values: dict[str, Any] = {"last_seq": batch[-1]["seq"]}
        if status is not None:
            values["status"] = status
        try:
            async with self.engine.begin() as conn:
                # The show's row first: it begins the transaction COPY joins (and a
                # concurrent writer of this show waits on its row lock here).
                await conn.execute(update(shows).where(shows.c.id == show_id).values(**values))
                await _insert(conn, _rows(show_id, batch), self.pg_path)
        except IntegrityError as exc:
            if not _key_taken(exc):
                raise
            raise FencingError(f"seq {batch[0]['seq']} of show {show_id} is already written") from None

    async def load(self, show_id: str, after: int = 0, limit: int | None = None,
                   bare: Collection[str] = ()) -> list[dict[str, Any]]:
        """Events with seq > ``after``, in order; those of a type in ``bare`` with
        ``type``, ``seq`` and ``at`` only (a reader that ignores their fields
        need not read or decode them)."""
        data = events.c.data if not bare else case((events.c.type.in_(list(bare)), None), else_=events.c.data)
        q = select(events.c.type, events.c.seq, events.c.at, data).where(
            events.c.show_id == show_id, events.c.seq > after
        )
        q = q.order_by(events.c.seq)
        if limit is not None:
            q = q.limit(limit)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(q)).all()
        return _events(rows)

    async def scan(self, show_id: str, after: int = 0, chunk: int = 20_000,
                   bare: Collection[str] = ()) -> AsyncGenerator[list[dict[str, Any]], None]:
        """Events with seq > ``after``, in order, ``chunk`` at a time: a long show's
        journal read without holding it all (one short query per chunk). The next
        chunk is read while the caller works on this one (the database, or
        SQLite's thread, runs meanwhile). ``bare``: as for ``load``."""
        pending: asyncio.Future[list[dict[str, Any]]] | None = asyncio.ensure_future(
            self.load(show_id, after=after, limit=chunk, bare=bare))
        try:
            while pending is not None:
                batch = await pending
                pending = None
                if len(batch) == chunk:
                    pending = asyncio.ensure_future(self.load(show_id, after=batch[-1]["seq"], limit=chunk, bare=bare))
                if batch:
                    yield batch
        finally:
            if pending is not None:
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await pending

    async def discard_show(self, show_id: str, overlay_key: str) -> bool:
        """Delete a show and its journal, for an import that failed half-way: only
        when ``overlay_key`` is the show's (a secret only its creator knows), so
        no other show can ever be deleted by it. Returns whether it was deleted."""
        async with self.engine.begin() as conn:
            gone = await conn.execute(delete(shows).where(shows.c.id == show_id, shows.c.overlay_key == overlay_key))
            if not gone.rowcount:
                return False
            await conn.execute(delete(events).where(events.c.show_id == show_id))
            await conn.execute(delete(tallies).where(tallies.c.show_id == show_id))
        return True

    async def ping(self) -> None:
        """Returns when the database answers a query; raises what the driver raises."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def last_seq(self, show_id: str) -> int | None:
        """The seq of the show's newest journaled event (None: no such show)."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(shows.c.last_seq).where(shows.c.id == show_id))).first()
        return None if row is None else int(row.last_seq)

    async def show_row(self, show_id: str) -> Any | None:
        async with self.engine.connect() as conn:
            return (await conn.execute(select(shows).where(shows.c.id == show_id))).first()

    async def set_webhook_secret(self, show_id: str, secret: str) -> bool:
        """Replace the show's webhook secret (the old one stops working at once);
        returns False when there is no such show."""
        async with self.engine.begin() as conn:
            done = await conn.execute(update(shows).where(shows.c.id == show_id).values(webhook_secret=secret))
        return bool(done.rowcount)

    async def list_shows(self, ids: Sequence[str] | None = None) -> list[Any]:
        q = select(shows).order_by(shows.c.created_at.desc())
        if ids is not None:
            q = q.where(shows.c.id.in_(list(ids)))
        async with self.engine.connect() as conn:
            return list((await conn.execute(q)).all())

    async def show_ids(self, status: str | None = None) -> list[str]:
        q = select(shows.c.id)
        if status is not None:
            q = q.where(shows.c.status == status)
        async with self.engine.connect() as conn:
            return [r.id for r in (await conn.execute(q)).all()]
