"""A recording replayed equals the live engine driven by hand through the same
inputs at the same times (on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from live.adapters.journal import Journal
from live.core.auth import Principal
from live.core.recording import RecordingInvalid, parse_recording
from live.runtime.engine import ShowEngine
from live.runtime.presence import GRACE_MS
from live.runtime.replay import NoBus, replay
from live.runtime.shows import Shows
from tests.conftest import PRODUCTS, SEGMENTS, FakeClock

T0 = 1_700_000_000_100  # not on a tick boundary
SECRET = b"test-secret"
SHOW = {"title": "Replay", "products": PRODUCTS, "segments": SEGMENTS}
DRAW = {"type": "draw.open", "prize": "bag", "winners": 1, "eligibility": {"keyword": "bag"}, "entry_seconds": 10}

# (ms after T0, input) — every kind of input a recording has
INPUTS: list[tuple[int, dict[str, Any]]] = [
    (0, {"viewer": "ext-1", "action": "join", "nickname": "Ann"}),
    (0, {"viewer": "ext-2", "action": "join", "nickname": "Bob"}),
    (1_000, {"command": {"type": "show.start"}}),
    (2_000, {"viewer": "ext-1", "action": "like", "count": 30}),  # 20 a second at most
    (2_100, {"viewer": "ext-1", "action": "like", "count": 5}),  # the same second: dropped
    (3_000, {"viewer": "ext-2", "action": "like", "count": 4}),
    (4_000, {"viewer": "ext-1", "action": "comment", "text": "hello"}),
    (5_000, {"viewer": "ext-2", "action": "share"}),
    (6_000, {"viewer": "ext-1", "action": "click", "sku": "A1"}),
    (7_000, {"command": {"type": "flash_sale.open", "sku": "A1", "stock": 1, "duration_seconds": 30}}),
    (8_000, {"viewer": "ext-2", "action": "claim", "sku": "A1", "qty": 1}),
    (8_500, {"viewer": "ext-1", "action": "claim", "sku": "A1"}),  # sold out: lost, nothing written
    (9_000, {"command": DRAW}),
    (12_000, {"viewer": "ext-1", "action": "comment", "text": "bag please"}),
    (20_000, {"viewer": "ext-2", "action": "leave"}),
    (22_000, {"order": {"order_id": "TB-1", "sku": "B2", "qty": 2, "amount": "199.00", "viewer": "ext-1"}}),
    (25_000, {"command": {"type": "segment.next"}}),
    (40_000, {"viewer": "ext-2", "action": "join"}),  # a new visit (the grace period ran out)
    (41_000, {"viewer": "ext-2", "action": "leave"}),
    (50_000, {"viewer": "ext-2", "action": "join"}),  # back within 15 s: the same visit
    (60_000, {"command": {"type": "show.end"}}),
    (90_000, {"return": {"order_id": "TB-1", "qty": 1}}),
    (3 * 86_400_000, {"order": {"order_id": "TB-2", "sku": "A1", "qty": 1, "amount": "199.00"}}),
]


def recording() -> bytes:
    lines = [{"show": SHOW}] + [{"at": T0 + dt, **item} for dt, item in INPUTS]
    return "\n".join(json.dumps(x) for x in lines).encode()


async def by_hand(journal: Journal) -> list[dict[str, Any]]:
    """The live engine, its ticker run by hand every 250 ms, the shell's calls made by hand."""
    clock = FakeClock(T0)
    shows = Shows(journal, NoBus(), clock, secret=SECRET, tick=False)
    engine: ShowEngine = await shows.create("live1", "ov_x", {"title": "Replay", "currency": "CNY",
                                                              "language": "zh-CN", "timezone": "Asia/Shanghai",
                                                              "scheduled_start": None, "like_goal": None,
                                                              "stream_url": None, "benchmark": "default"},
                                            PRODUCTS, SEGMENTS)
    admin = Principal("admin", None, "admin")
    ids: dict[str, str] = {}
    boundary = (T0 // 250 + 1) * 250

    async def at(dt: int) -> None:
        nonlocal boundary
        while boundary <= T0 + dt:
            clock.t = boundary
            await engine.ticker.tick()
            boundary += 250
        clock.t = T0 + dt

    def viewer(vid: str) -> Principal:
        return Principal("viewer", "live1", "viewer", ids[vid])

    for dt, item in INPUTS:
        await at(dt)
        if "command" in item:
            await engine.execute(item["command"], admin)
        elif "order" in item:
            order = {k: v for k, v in item["order"].items() if k != "viewer"}
            if "viewer" in item["order"]:
                order["viewer_id"] = ids[item["order"]["viewer"]]
            await engine.submit({"type": "order.place", "order": order})
        elif "return" in item:
            await engine.submit({"type": "order.return", "return": item["return"]})
        else:
            vid, action = item["viewer"], item["action"]
            if vid not in ids:
                ids[vid], _ = await engine.register(item["nickname"], False)
            if action == "join":
                await engine.connected(ids[vid])
            elif action == "leave":
                engine.disconnected(ids[vid])
            elif action == "like":
                engine.add_likes(ids[vid], item["count"])
            elif action == "comment":
                await engine.execute({"type": "viewer.comment", "text": item["text"]}, viewer(vid))
            elif action == "share":
                await engine.execute({"type": "viewer.share"}, viewer(vid))
            elif action == "click":
                await engine.submit({"type": "link.click", "sku": item["sku"], "_viewer": ids[vid]})
            else:
                sale = next(s.id for s in engine.state.ledger.sales.values() if s.sku == item["sku"])
                await engine.claim(ids[vid], {"sale_id": sale, "qty": item.get("qty", 1), "request_id": "r"})
    await at(INPUTS[-1][0] + GRACE_MS + 500)
    await shows.close()
    return await journal.load("live1")


SEEDED = {"_seed", "seed", "commitment", "entrants_hash"}  # fresh randomness, and what hashes ids


def normal(events: list[dict[str, Any]], show_id: str) -> list[Any]:
    """The journal with what neither side controls renamed in order of appearance
    (viewer ids, pseudonyms, the show id, claims' request ids) and the draw seeds dropped."""
    text = json.dumps(events)
    names: dict[str, str] = {}
    for e in events:
        if e["type"] == "viewer.registered":
            names[e["viewer_id"]] = f"V{len(names)}"
            names[e["pseudonym"]] = f"P{len(names)}"
    text = re.sub("|".join(map(re.escape, names)), lambda m: names[m.group(0)], text).replace(show_id, "SHOW")
    text = re.sub(r'"request_id": "[^"]*"', '"request_id": "R"', text)

    def strip(x: Any) -> Any:
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k not in SEEDED}
        if isinstance(x, list):
            return [strip(v) for v in x]
        return x

    return [strip(e) for e in json.loads(text)]


async def test_a_replayed_recording_writes_what_the_live_engine_writes(db: AsyncEngine) -> None:
    journal = Journal(db)
    expected = await by_hand(journal)
    engine = await replay(journal, parse_recording(recording()), "imp1", "ov_y", "wh_y", secret=SECRET)
    got = await journal.load("imp1")
    assert engine.state.seq == len(got)
    assert normal(got, "imp1") == normal(expected, "live1")
    kinds = {e["type"] for e in got}
    assert {"viewer.joined", "viewer.left", "likes.tick", "comment.new", "viewer.shared", "link.clicked",
            "flash_sale.claimed", "draw.closed", "order.placed", "order.returned", "show.ended"} <= kinds
    likes = [e for e in got if e["type"] == "likes.tick"]
    assert sum(e["added"] for e in likes) == 24  # 20 (capped) + 4
    left = [e for e in got if e["type"] == "viewer.left"]
    assert [e["left_at"] for e in left] == [T0 + 20_000]  # dated when the socket dropped
    assert left[0]["at"] >= T0 + 35_000  # written when the grace period ran out
    row = await journal.show_row("imp1")
    assert row is not None and row.status == "ended" and row.last_seq == len(got)


async def test_a_failed_import_deletes_only_its_own_show(db: AsyncEngine) -> None:
    journal = Journal(db)
    await by_hand(journal)
    before = len(await journal.load("live1"))
    assert not await journal.discard_show("live1", "ov_wrong")  # another show's key is needed
    assert len(await journal.load("live1")) == before
    bad = recording() + b'\n{"at": %d, "return": {"order_id": "TB-404", "qty": 1}}' % (T0 + 4 * 86_400_000)
    with pytest.raises(RecordingInvalid) as refused:
        await replay(journal, parse_recording(bad), "imp2", "ov_z", "wh_z", secret=SECRET)
    assert refused.value.field == f"line {len(INPUTS) + 2}"
    assert await journal.load("imp2") == [] and await journal.show_row("imp2") is None
    assert len(await journal.load("live1")) == before
