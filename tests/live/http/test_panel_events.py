"""What the control panel's new controls put on real sockets: a drawn draw names
its winners in full on a staff socket and masked on an overlay's and a
viewer's; a restock and an extension reach the overlay (its stock bar and
countdown follow); the verify path is unchanged."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

import httpx2 as httpx

from tests.conftest import LiveServer
from tests.live.http.sockets import command, hello, recv_until, staff_token, ws_connect
from tests.live.http.test_draw_record import draw_record, verify
from tests.live.http.test_viewers import (
    http,  # the fixture, re-exported
    live_show,
    open_sale,
    register,
)

__all__ = ["http"]  # fixtures used by name

NAMES = ["王小明", "李四", "Alice"]


async def test_a_staff_socket_hears_the_winners_full_names_and_the_stream_masked_ones(
    live_server: LiveServer, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    show = await live_show(http)
    sid = show["id"]
    viewers = [await register(http, sid, name) for name in NAMES]
    host = await staff_token(http, sid, "host")
    async with AsyncExitStack() as stack:
        overlay = await stack.enter_async_context(ws_connect(live_server, sid))
        await hello(overlay, overlay_key=show["overlay_key"])
        panel = await stack.enter_async_context(ws_connect(live_server, sid))
        await hello(panel, token=host)
        sockets = []
        for vw in viewers:
            ws = await stack.enter_async_context(ws_connect(live_server, sid))
            await hello(ws, token=vw["token"])
            sockets.append(ws)
        opened = await command(http, sid, {"type": "draw.open", "prize": "口红", "winners": 3,
                                           "eligibility": {"present": True}})
        draw_id = opened["events"][0]["draw"]["id"]
        await recv_until(overlay, lambda m: m["type"] == "draw.opened")
        await command(http, sid, {"type": "draw.close", "draw_id": draw_id})
        staff_seen = await recv_until(panel, lambda m: m["type"] == "draw.closed")
        stream_seen = await recv_until(overlay, lambda m: m["type"] == "draw.closed")
        viewer_seen = await recv_until(sockets[0], lambda m: m["type"] == "draw.closed")
        # a reconnecting host catches up with the names too
        again = await stack.enter_async_context(ws_connect(live_server, sid))
        caught_up = await hello(again, token=host, last_seq=staff_seen["seq"] - 1)
    assert sorted(w["full_nickname"] for w in staff_seen["winners"]) == sorted(NAMES)
    assert sorted(w["nickname"] for w in staff_seen["winners"]) == sorted(n[0] + "**" for n in NAMES)
    for seen in (stream_seen, viewer_seen):
        assert [set(w) for w in seen["winners"]] == [{"pseudonym", "nickname"}] * 3
        assert [w["nickname"] for w in seen["winners"]] == [w["nickname"] for w in staff_seen["winners"]]
    # the missed event itself (or, were it no longer held, a snapshot naming them)
    assert caught_up["type"] in ("draw.closed", "snapshot")
    if caught_up["type"] == "draw.closed":
        assert caught_up["winners"] == staff_seen["winners"]
    else:
        [draw] = caught_up["state"]["draws"]
        assert sorted(w["full_nickname"] for w in draw["drawn"]) == sorted(NAMES)
    record = await draw_record(http, sid, draw_id)
    assert record["winners"] == [w["pseudonym"] for w in stream_seen["winners"]]
    assert "full_nickname" not in str(record)
    ok = verify(record, tmp_path / "record.json")
    assert ok.returncode == 0 and ok.stdout.startswith("OK"), ok.stdout + ok.stderr


async def test_the_overlay_hears_a_restock_and_an_extension(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    show = await live_show(http)
    sid = show["id"]
    sale = await open_sale(http, sid, stock=10)
    host = await staff_token(http, sid, "host")
    host_http = {"Authorization": f"Bearer {host}"}
    async with ws_connect(live_server, sid) as overlay:
        await hello(overlay, overlay_key=show["overlay_key"])
        r = await http.post(f"/api/shows/{sid}/commands", headers=host_http,
                            json={"type": "flash_sale.restock", "sale_id": sale["id"], "add": 15})
        assert r.status_code == 200, r.text
        restocked = await recv_until(overlay, lambda m: m["type"] == "flash_sale.restocked")
        r = await http.post(f"/api/shows/{sid}/commands", headers=host_http,
                            json={"type": "flash_sale.extend", "sale_id": sale["id"], "seconds": 120})
        assert r.status_code == 200, r.text
        extended = await recv_until(overlay, lambda m: m["type"] == "flash_sale.extended")
    assert (restocked["sale_id"], restocked["stock"], restocked["remaining"], restocked["reopened"]) == (
        sale["id"], 25, 25, False)
    assert (extended["sale_id"], extended["deadline"]) == (sale["id"], sale["deadline"] + 120_000)
    state = (await http.get(f"/api/shows/{sid}/state?key={show['overlay_key']}", headers={"Authorization": ""})).json()
    [view] = state["flash_sales"]
    assert (view["stock"], view["remaining"], view["sold"], view["deadline"]) == (25, 25, 0, sale["deadline"] + 120_000)


async def test_an_overlay_and_a_viewer_hear_the_test_event(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    show = await live_show(http)
    sid = show["id"]
    viewer = await register(http, sid, "Ann")
    async with ws_connect(live_server, sid) as overlay, ws_connect(live_server, sid) as watch:
        await hello(overlay, overlay_key=show["overlay_key"])
        await hello(watch, token=viewer["token"])
        sent = await command(http, sid, {"type": "overlay.test", "layer": "draw"})
        on_overlay = await recv_until(overlay, lambda m: m["type"] == "overlay.test")
        on_watch = await recv_until(watch, lambda m: m["type"] == "overlay.test")
    assert on_overlay == on_watch == sent["events"][0]
    assert on_overlay["layer"] == "draw"
