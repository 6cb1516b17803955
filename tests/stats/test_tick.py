"""``stats.tick``: at most once a second of the show's clock while it is live, to
staff only, with the review's numbers at the same moment. First the publisher
driven by hand (no loop, the test's clock), then over real sockets."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx2 as httpx
import pytest
from websockets.asyncio.client import ClientConnection

from live.adapters.bus import MemoryBus
from live.adapters.db import open_database
from live.adapters.journal import Journal
from live.core.auth import Principal
from live.core.show import parse_show_config
from live.runtime.engine import ShowEngine
from live.runtime.shows import Shows
from stats.keeper import Stats
from stats.review import numbers, tick
from tests.conftest import PRODUCTS, SEGMENTS, FakeClock, LiveServer, admin_headers
from tests.live.http.sockets import hello, recv_until, ws_connect

ADMIN = Principal("admin", None, "admin")
TICK_FIELDS = {"type", "at", "minute", "viewers", "likes_per_min", "comments_per_min", "orders", "units", "gmv",
               "conversion_rate", "rows"}


class Parts(SimpleNamespace):
    stats: Stats
    shows: Shows
    bus: MemoryBus
    clock: FakeClock


@pytest.fixture
async def parts(tmp_path: Path) -> AsyncIterator[Parts]:
    db = await open_database(f"sqlite:///{tmp_path / 'live.db'}")
    journal, bus, clock = Journal(db), MemoryBus(), FakeClock()
    shows = Shows(journal, bus, clock, tick=False)
    hub: Any = SimpleNamespace(shows=shows, journal=journal, bus=bus)
    yield Parts(stats=Stats(hub), shows=shows, bus=bus, clock=clock)
    await shows.close()
    await db.dispose()


async def new_show(parts: Parts) -> ShowEngine:
    config = parse_show_config({"title": "Tick show"})
    return await parts.shows.create("s1", "ov_test", config, PRODUCTS, SEGMENTS)


def ticks(sub: Any) -> list[dict[str, Any]]:
    out = []
    while not sub.queue.empty():
        item = sub.queue.get_nowait()
        if item.seq is None:  # a notice, not a journal event
            out.append(json.loads(item.encoded("staff")))
    return out


async def test_a_tick_goes_at_most_once_a_second_while_live_and_to_staff_only(parts: Parts) -> None:
    engine = await new_show(parts)
    staff, public = parts.bus.subscribe("s1", audience="staff"), parts.bus.subscribe("s1")
    assert await parts.stats.tick_all() == 0  # a draft has no live numbers
    await engine.execute({"type": "show.start"}, ADMIN)
    public.queue.clear()
    assert await parts.stats.tick_all() == 1
    assert await parts.stats.tick_all() == 0  # the same instant
    parts.clock.advance_ms(999)
    assert await parts.stats.tick_all() == 0
    parts.clock.advance_ms(1)
    assert await parts.stats.tick_all() == 1
    sent = ticks(staff)
    assert [t["at"] for t in sent] == [parts.clock.t - 1000, parts.clock.t]
    assert set(sent[0]) == TICK_FIELDS
    assert public.queue.empty()
    await engine.execute({"type": "show.end"}, ADMIN)
    parts.clock.advance(5)
    assert await parts.stats.tick_all() == 0  # ended: no more ticks


async def test_no_tick_for_a_show_no_staff_follows(parts: Parts) -> None:
    engine = await new_show(parts)
    await engine.execute({"type": "show.start"}, ADMIN)
    viewer = parts.bus.subscribe("s1")
    assert await parts.stats.tick_all() == 0
    assert viewer.queue.empty()


async def test_the_tick_says_the_reviews_numbers_at_the_same_moment(parts: Parts) -> None:
    engine = await new_show(parts)
    staff = parts.bus.subscribe("s1", audience="staff")
    await engine.execute({"type": "show.start"}, ADMIN)
    a, _ = await engine.register("小明", staff=False)
    b, _ = await engine.register("小红", staff=False)
    boss, _ = await engine.register("助理", staff=True)
    for vid in (a, b, boss):
        await engine.connected(vid)
    sale = (await engine.execute({"type": "flash_sale.open", "sku": "A1", "stock": 5, "duration_seconds": 600,
                                  "per_viewer_limit": 2},
                                 ADMIN))[0]["sale"]
    parts.clock.advance(61)
    await engine.submit({"type": "viewer.comment", "text": "好", "_viewer": a})
    assert (await engine.claim(b, {"sale_id": sale["id"], "qty": 2, "request_id": "r1"}))["ok"]
    engine.add_likes(a, 5)
    await engine.ticker.tick()
    parts.clock.advance(60)
    assert await parts.stats.tick_all() == 1
    [sent] = ticks(staff)
    minutes, figures = numbers(await parts.stats.tally(engine), engine.now())
    assert sent == tick(minutes, figures)
    assert sent["viewers"] == minutes.rows()[-1]["concurrent"] == 2  # the staff viewer is not audience
    assert (sent["minute"], sent["likes_per_min"], sent["comments_per_min"]) == (1, 5, 1)
    assert (sent["orders"], sent["units"], sent["gmv"]) == (figures["orders"], 2, "398.00")
    assert sent["conversion_rate"] == figures["conversion_rate"] == 0.5
    # the rows of the last complete minute and of the one running, as the review has them
    assert [r["minute"] for r in sent["rows"]] == [1, 2]
    assert sent["rows"] == minutes.rows()[1:]
    assert (sent["rows"][0]["likes"], sent["rows"][0]["comments"], sent["rows"][0]["gmv"]) == (5, 1, "398.00")


async def test_in_the_first_minute_a_tick_has_that_minutes_row_alone(parts: Parts) -> None:
    engine = await new_show(parts)
    staff = parts.bus.subscribe("s1", audience="staff")
    await engine.execute({"type": "show.start"}, ADMIN)
    a, _ = await engine.register("小明", staff=False)
    await engine.connected(a)
    parts.clock.advance(30)
    assert await parts.stats.tick_all() == 1
    [sent] = ticks(staff)
    assert sent["minute"] == 0
    assert [(r["minute"], r["concurrent"], r["joins"]) for r in sent["rows"]] == [(0, 1, 1)]


def keep_rows(kept: list[dict[str, Any]], sent: list[dict[str, Any]]) -> None:
    """Each tick's rows put in by their minute, as the dashboard does."""
    for message in sent:
        for row in message["rows"]:
            assert row["minute"] <= len(kept)  # never a gap: at most the next minute
            if row["minute"] == len(kept):
                kept.append(row)
            else:
                kept[row["minute"]] = row


async def test_the_reviews_minutes_kept_current_by_the_ticks_rows_are_the_later_review(parts: Parts) -> None:
    """What the dashboard does: the review's minutes once, then each tick's rows
    put in by minute; three minutes later that is the review then, minute by minute."""
    engine = await new_show(parts)
    staff = parts.bus.subscribe("s1", audience="staff")
    await engine.execute({"type": "show.start"}, ADMIN)
    vids = [(await engine.register(f"v{i}", staff=False))[0] for i in range(4)]
    await engine.connected(vids[0])
    parts.clock.advance(20)
    minutes, _ = numbers(await parts.stats.tally(engine), engine.now())
    kept = minutes.rows()
    for second in range(1, 200):
        parts.clock.advance(1)
        if second % 7 == 0:
            engine.add_likes(vids[0], second % 5 + 1)
            await engine.ticker.tick()
        if second % 31 == 0:
            await engine.connected(vids[second // 31 % 4])
        if second % 43 == 0:
            await engine.submit({"type": "viewer.comment", "text": f"c{second}", "_viewer": vids[0]})
        if second == 95:
            await engine.execute({"type": "segment.next"}, ADMIN)
        sent = await parts.stats.tick_all()  # (a busy machine may space the publisher's ticks out)
        keep_rows(kept, ticks(staff))
    while not sent:  # the tick of the last second was spaced out: the next one that comes
        parts.clock.advance(1)
        sent = await parts.stats.tick_all()
        keep_rows(kept, ticks(staff))
    minutes, _ = numbers(await parts.stats.tally(engine), engine.now())
    assert len(kept) == 4  # 3:39 or a little later
    assert kept == minutes.rows()
    assert sum(r["likes"] for r in kept) > 0 and {r["segment"] for r in kept} == {0, 1}


async def test_a_tick_reads_only_what_is_new(parts: Parts) -> None:
    engine = await new_show(parts)
    parts.bus.subscribe("s1", audience="staff")
    await engine.execute({"type": "show.start"}, ADMIN)
    await parts.stats.tick_all()
    tally = await parts.stats.tally(engine)
    seen = tally.seq
    await engine.execute({"type": "segment.next"}, ADMIN)
    parts.clock.advance(1)
    await parts.stats.tick_all()
    assert (await parts.stats.tally(engine)) is tally and tally.seq == engine.state.seq > seen


# -- over real sockets ------------------------------------------------------------------------------


async def test_staff_sockets_get_stats_ticks_equal_to_the_review_and_others_never(
        clocked_server: LiveServer, clock: FakeClock) -> None:
    async with httpx.AsyncClient(base_url=clocked_server.url, headers=admin_headers(), trust_env=False,
                                 timeout=30) as http:
        r = await http.post("/api/shows", json={"title": "Tick", "products": PRODUCTS, "segments": SEGMENTS})
        show = r.json()
        sid = show["id"]
        assert (await http.post(f"/api/shows/{sid}/commands", json={"type": "show.start"})).status_code == 200
        token = (await http.post(f"/api/shows/{sid}/staff", json={"name": "Mei", "role": "assistant"})).json()["token"]
        moderator = (await http.post(f"/api/shows/{sid}/staff", json={"name": "Wu", "role": "moderator"})
                     ).json()["token"]
        viewer = (await http.post(f"/api/shows/{sid}/viewers", json={"nickname": "小明"},
                                  headers={"Authorization": ""})).json()
        async with ws_connect(clocked_server, sid) as panel, ws_connect(clocked_server, sid) as overlay, \
                ws_connect(clocked_server, sid) as watcher, ws_connect(clocked_server, sid) as mod:
            assert (await hello(overlay, overlay_key=show["overlay_key"]))["type"] == "snapshot"
            # a moderator is staff but may not read the review: the numbers are not theirs either
            assert (await hello(mod, token=moderator))["type"] == "snapshot"
            assert (await hello(watcher, token=viewer["token"]))["type"] == "snapshot"
            assert (await hello(panel, token=token))["type"] == "snapshot"
            clock.advance(61)
            first = await recv_until(panel, lambda m: m["type"] == "stats.tick" and m["at"] == clock.t)
            got = (await http.get(f"/api/shows/{sid}/review")).json()
            assert got["as_of"] == first["at"]
            assert first["viewers"] == got["minutes"][-1]["concurrent"] == 1
            assert first["minute"] == 0 and first["likes_per_min"] == got["minutes"][0]["likes"]
            assert first["rows"] == got["minutes"]  # minutes 0 and 1: the last complete one and the one running
            for field in ("orders", "units", "gmv", "conversion_rate"):
                assert first[field] == got["metrics"][field], field
            clock.advance(1)
            second = await recv_until(panel, lambda m: m["type"] == "stats.tick")
            assert second["at"] == clock.t  # one tick for the new second, none in between
            for ws in (overlay, watcher, mod):
                await ws.send(json.dumps({"type": "ping", "t": 1}))
                assert "stats.tick" not in await recv_types(ws, until="pong")


async def recv_types(ws: ClientConnection, until: str) -> list[str]:
    """The types of the messages up to the first of type ``until``."""
    seen: list[str] = []
    await recv_until(ws, lambda m: seen.append(m["type"]) is None and m["type"] == until)
    return seen
