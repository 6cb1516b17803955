"""The journal: append a show's events, load them back, list shows.

The ``events`` table is append-only; ``shows`` is a small projection for
listing (title, status, overlay key, last seq) kept in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from live.db import events, shows
from live.errors import Conflict

_KEYS = ("type", "seq", "at")


def _row(show_id: str, event: dict[str, Any]) -> dict[str, Any]:
    data = {k: val for k, val in event.items() if k not in _KEYS}
    return {
        "show_id": show_id,
        "seq": event["seq"],
        "type": event["type"],
        "at": event["at"],
        "data": json.dumps(data, ensure_ascii=False, separators=(",", ":")),
    }


def _event(row: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"type": row.type, "seq": row.seq, "at": row.at}
    event.update(json.loads(row.data))
    return event


class FencingError(Conflict):
    """Another writer appended this seq first: this process no longer owns the show."""

    code = "NOT_OWNER"


class Journal:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def create_show(self, show_id: str, title: str, overlay_key: str, first: dict[str, Any]) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(shows).values(
                    id=show_id,
                    title=title,
                    status="draft",
                    overlay_key=overlay_key,
                    created_at=first["at"],
                    last_seq=first["seq"],
                )
            )
            await conn.execute(insert(events), [_row(show_id, first)])

    async def append(self, show_id: str, batch: Sequence[dict[str, Any]], status: str | None = None) -> None:
        """Append events (consecutive seqs) atomically. Raises FencingError on a
        seq that is already taken; then nothing is written."""
        if not batch:
            return
        values: dict[str, Any] = {"last_seq": batch[-1]["seq"]}
        if status is not None:
            values["status"] = status
        try:
            async with self.engine.begin() as conn:
                await conn.execute(insert(events), [_row(show_id, e) for e in batch])
                await conn.execute(update(shows).where(shows.c.id == show_id).values(**values))
        except IntegrityError:
            raise FencingError(f"seq {batch[0]['seq']} of show {show_id} is already written") from None

    async def load(self, show_id: str, after: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """Events with seq > ``after``, in order."""
        q = select(events.c.type, events.c.seq, events.c.at, events.c.data).where(
            events.c.show_id == show_id, events.c.seq > after
        )
        q = q.order_by(events.c.seq)
        if limit is not None:
            q = q.limit(limit)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(q)).all()
        return [_event(r) for r in rows]

    async def show_row(self, show_id: str) -> Any | None:
        async with self.engine.connect() as conn:
            return (await conn.execute(select(shows).where(shows.c.id == show_id))).first()

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
