"""Stored tallies: one blob a show beside the journal (a cache, never the truth).

What the blob holds is the stats' business (``stats/stored.py``); this adapter
keeps it by show with its ``format`` and the journal ``seq`` it is up to.
``put`` never replaces a blob with one that is further behind, so two
processes storing the same show at once leave the newer one.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from live.adapters.db import tallies


@dataclass(frozen=True)
class Stored:
    format: int
    seq: int
    data: bytes


class Tallies:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def get(self, show_id: str) -> Stored | None:
        """The show's stored blob, or None."""
        q = select(tallies.c.format, tallies.c.seq, tallies.c.data).where(tallies.c.show_id == show_id)
        async with self.engine.connect() as conn:
            row = (await conn.execute(q)).first()
        return None if row is None else Stored(row.format, row.seq, bytes(row.data))

    async def seq(self, show_id: str) -> int | None:
        """The seq the show's stored blob is at, or None (without reading the blob)."""
        async with self.engine.connect() as conn:
            found: int | None = (await conn.execute(select(tallies.c.seq).where(tallies.c.show_id == show_id))).scalar()
        return found

    async def put(self, show_id: str, fmt: int, seq: int, data: bytes, now: int) -> bool:
        """Store the show's blob unless one at a later seq is there; returns whether it was written."""
        values = {"show_id": show_id, "format": fmt, "seq": seq, "stored_at": now, "data": data}
        async with self.engine.begin() as conn:
            insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            q = insert(tallies).values(**values)
            q = q.on_conflict_do_update(
                index_elements=[tallies.c.show_id],
                set_={k: q.excluded[k] for k in ("format", "seq", "stored_at", "data")},
                # an equal seq is rewritten too: a blob of a new format replaces one of an old
                where=tallies.c.seq <= q.excluded.seq,
            )
            done = await conn.execute(q)
        return bool(done.rowcount)

    async def drop(self, show_id: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(tallies).where(tallies.c.show_id == show_id))
