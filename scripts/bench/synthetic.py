"""The synthetic 3-hour show the series and review benchmarks measure: N
journal events written straight into the journal's tables (viewers joining
and leaving, comments, likes ticks, clicks, claims, shop orders and returns,
segment changes, and some events the stats ignore), and the floor both
compare with: a plain SQL ``GROUP BY`` minute, type of its events with the
plain driver."""

from __future__ import annotations

import json
import random
import sqlite3
import time
from typing import Any

from scripts.bench.journal import SHOW_ROW_PG, SHOW_ROW_SQLITE, asyncpg_dsn, reset_tables

SHOW_ID = "bench"
T0 = 1_700_000_000_000
DURATION_MS = 3 * 3600 * 1000
CHUNK = 50_000

FLOOR_SQL = ("SELECT (at - {start}) / 60000 AS minute, type, COUNT(*) FROM events "
             "WHERE show_id = {id} AND at >= {start} GROUP BY 1, 2")


# -- the synthetic show ----------------------------------------------------------------------


SEGMENTS = 12
PRODUCTS = [{"sku": sku, "title": title, "list_price": price, "live_price": price, "stock": 1_000_000}
            for sku, title, price in (("A1", "精华液", "59.90"), ("B2", "面霜", "129.00"))]
SHOW = {"show": {"id": SHOW_ID, "title": "压测专场", "currency": "CNY", "timezone": "Asia/Shanghai",
                 "language": "zh-CN"},
        "products": PRODUCTS,
        "segments": [{"kind": "product", "title": f"第{k + 1}段", "sku": ("A1", "B2")[k % 2], "planned_seconds": 900,
                      "talking_points": [], "actions": []} for k in range(SEGMENTS)]}
SALE = {"id": "fs1", "sku": "A1", "price": "59.90", "stock": 1_000_000, "remaining": 1_000_000,
        "per_viewer_limit": 1000,
        "opens_at": T0, "deadline": T0 + DURATION_MS, "status": "open"}


def synthetic(n: int, seed: int = 7) -> Any:
    """Journal rows ``(show_id, seq, type, at, data)`` of a 3-hour show of ``n``
    events, in seq order: a generator (the rows are never all held). The show
    folds as a real one does (its products, segments and flash sale exist), so
    the review's state can be built from it too."""
    rng = random.Random(seed)
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    yield (SHOW_ID, 1, "show.created", T0 - 900_000, encode(SHOW))
    yield (SHOW_ID, 2, "show.started", T0, "{}")
    yield (SHOW_ID, 3, "segment.changed", T0, encode({"from": None, "to": 0, "reason": "start"}))
    yield (SHOW_ID, 4, "flash_sale.opened", T0, encode({"sale": SALE}))
    absent: list[str] = []
    present: list[str] = []
    joined: dict[str, int] = {}
    orders: list[str] = []
    body = n - 5
    p_like = min(0.2, 43_200 / max(body, 1))  # ≤ 4 likes ticks a second
    p_tick = min(0.1, 21_600 / max(body, 1))  # ≤ 2 viewers ticks a second
    segment_every = max(1, body // 12)
    total_likes = 0
    for i in range(body):
        seq, at = i + 5, T0 + 1 + i * (DURATION_MS - 2) // body
        r = rng.random()
        if i and i % segment_every == 0 and i // segment_every < SEGMENTS:
            kind, data = "segment.changed", {"from": i // segment_every - 1, "to": i // segment_every, "reason": "next"}
        elif r < p_like and present:
            by = {rng.choice(present): rng.randint(1, 20) for _ in range(rng.randint(1, 5))}
            added = sum(by.values())
            total_likes += added
            kind, data = "likes.tick", {"added": added, "total": total_likes, "goal": None, "_by": by}
        elif r < p_like + p_tick:
            kind, data = "viewers.tick", {"now": len(present), "peak": len(present)}
        else:
            r = rng.random()
            if r < 0.07 or not absent:
                vid = f"v{seq:09d}"
                absent.append(vid)
                kind, data = "viewer.registered", {"viewer_id": vid, "nickname": "小明", "pseudonym": vid[-12:],
                                                   "staff": False}
            elif r < 0.20:
                k = rng.randrange(len(absent))
                absent[k], absent[-1] = absent[-1], absent[k]
                vid = absent.pop()
                present.append(vid)
                joined[vid] = at
                kind, data = "viewer.joined", {"viewer_id": vid}
            elif r < 0.32 and present:
                k = rng.randrange(len(present))
                present[k], present[-1] = present[-1], present[k]
                vid = present.pop()
                absent.append(vid)
                left_at = max(joined.pop(vid), at - 15_000)
                kind, data = "viewer.left", {"viewer_id": vid, "left_at": left_at, "watched_ms": 0}
            elif r < 0.70 and present:
                vid = rng.choice(present)
                kind, data = "comment.new", {"comment_id": f"c{seq}", "viewer_id": vid, "nickname": "小明",
                                             "pseudonym": vid[-12:], "text": "这个精华适合油皮吗？", "hidden": False,
                                             "flagged": None}
            elif r < 0.84:
                vid = rng.choice(present) if present and rng.random() < 0.7 else None
                kind, data = "link.clicked", {"sku": "A1", "viewer_id": vid, "pseudonym": None if vid is None
                                              else vid[-12:]}
            elif r < 0.89 and present:
                kind, data = "viewer.shared", {"viewer_id": rng.choice(present)}
            elif r < 0.905 and present:
                oid = f"o-{SHOW_ID}-{seq}"
                orders.append(oid)
                kind, data = "flash_sale.claimed", {"sale_id": "fs1", "viewer_id": rng.choice(present),
                                                    "qty": rng.randint(1, 3), "request_id": f"r{seq}", "order_id": oid,
                                                    "remaining": 10, "price": "59.90", "sku": "A1"}
            elif r < 0.92:
                oid = f"shop-{seq}"
                orders.append(oid)
                kind, data = "order.placed", {"order_id": oid, "sku": "B2", "qty": 1, "amount": "129.00",
                                              "viewer_id": rng.choice(present) if present else None,
                                              "placed_at": at - rng.randint(0, 30_000), "source": "webhook"}
            elif r < 0.923 and orders:
                kind, data = "order.returned", {"order_id": rng.choice(orders), "qty": 1, "returned_at": at,
                                                "source": "csv"}
            else:
                kind, data = "flash_sale.stock", {"sale_id": "fs1", "remaining": 10, "stock": 100}
        yield (SHOW_ID, seq, kind, at, encode(data))
    yield (SHOW_ID, n, "show.ended", T0 + DURATION_MS, encode({"from": SEGMENTS - 1}))


def batches(rows: Any, size: int = CHUNK) -> Any:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def write_show(url: str, n: int) -> float:
    """The synthetic show in fresh tables; returns the seconds it took."""
    began = time.perf_counter()
    await reset_tables(url)
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
        try:
            conn.execute(SHOW_ROW_SQLITE, (SHOW_ID, "ended", T0, n))
            for batch in batches(synthetic(n)):
                conn.execute("BEGIN")
                conn.executemany("INSERT INTO events (show_id, seq, type, at, data) VALUES (?, ?, ?, ?, ?)", batch)
                conn.execute("COMMIT")
        finally:
            conn.close()
    else:
        import asyncpg  # type: ignore[import-untyped]

        conn = await asyncpg.connect(asyncpg_dsn(url))
        try:
            await conn.execute(SHOW_ROW_PG, SHOW_ID, "ended", T0, n)
            for batch in batches(synthetic(n)):
                await conn.copy_records_to_table("events", records=batch,
                                                 columns=["show_id", "seq", "type", "at", "data"])
            await conn.execute("ANALYZE events")
        finally:
            await conn.close()
    return time.perf_counter() - began


async def floor_rows(url: str) -> list[tuple[Any, ...]]:
    """``(minute, type, count)`` of the show's events, counted by the database
    alone (``sqlite3`` / ``asyncpg``, no SQLAlchemy)."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.split("///", 1)[1])
        try:
            return list(conn.execute(FLOOR_SQL.format(start=T0, id="?"), (SHOW_ID,)).fetchall())
        finally:
            conn.close()
    import asyncpg  # type: ignore[import-untyped]

    pg = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return [tuple(r) for r in await pg.fetch(FLOOR_SQL.format(start=T0, id="$1"), SHOW_ID)]
    finally:
        await pg.close()
