"""The socket's fan-out lanes over REAL sockets (uvicorn on a real port, the
``websockets`` client): the direct lane (prebuilt frames straight to the
transport of a socket that keeps up) and the fallback (a bounded queue for a
backpressured socket, cut off past it); and the same contract on uvicorn's
other websockets implementation, where every frame goes through ASGI."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2 as httpx
import pytest
from websockets.exceptions import ConnectionClosed

from live.adapters import bus as bus_mod
from live.core import protocol as p
from live.http import connection as connection_mod
from server import create_app
from tests.conftest import LiveServer, admin_headers, make_settings
from tests.live.http.sockets import (
    big_rundown,
    command,
    hello,
    hub_of,
    new_show,
    recv,
    recv_until,
    staff_token,
    ws_connect,
)
from tests.waiting import CEILING, Deadline


@pytest.fixture(params=["websockets-sansio", "websockets"])
def lane_server(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[LiveServer]:
    """The app served with uvicorn's sans-I/O websockets protocol (its default:
    the direct lane) or its other one (every frame through ASGI)."""
    server = LiveServer(create_app(make_settings(sqlite_url)), ws=request.param).start()
    yield server
    server.stop()


@pytest.fixture
async def http(lane_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=lane_server.url, headers=admin_headers(), trust_env=False) as c:
        yield c


def direct(server: LiveServer) -> bool:
    return server.server.config.ws == "websockets-sansio"


async def viewer_token(http: httpx.AsyncClient, sid: str, nickname: str) -> str:
    r = await http.post(f"/api/shows/{sid}/viewers", json={"nickname": nickname})
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


async def journal(http: httpx.AsyncClient, sid: str) -> list[dict[str, Any]]:
    r = await http.get(f"/api/shows/{sid}/events")
    assert r.status_code == 200, r.text
    return [json.loads(line) for line in r.text.splitlines() if line]


async def test_the_frames_a_viewer_parses_are_the_contract_json_of_each_journaled_event(
    lane_server: LiveServer, http: httpx.AsyncClient
) -> None:
    show = await new_show(http)
    sid = show["id"]
    token = await viewer_token(http, sid, "Ann")
    async with ws_connect(lane_server, sid) as viewer, ws_connect(lane_server, sid) as overlay:
        snap = await hello(viewer, token=token)
        assert (await hello(overlay, overlay_key=show["overlay_key"]))["type"] == "snapshot"
        await command(http, sid, {"type": "show.start"})
        await command(http, sid, {"type": "product.pin", "sku": "A1"})
        await command(http, sid, {"type": "product.pin", "sku": "B2"})
        last = (await command(http, sid, {"type": "product.unpin"}))["seq"]
        texts: list[str] = []
        deadline = Deadline()
        while not texts or json.loads(texts[-1]).get("seq") != last:
            texts.append(str(await asyncio.wait_for(viewer.recv(), deadline.left())))
        # the overlay (the same audience) gets the very same frames
        for text in texts:
            assert str(await asyncio.wait_for(overlay.recv(), deadline.left())) == text
        events = [e for e in await journal(http, sid) if e["seq"] > snap["seq"]]
        expected = [view for e in events if (view := p.for_audience(e, p.PUBLIC)) is not None]
        assert [json.loads(text) for text in texts] == expected and len(texts) >= 4
        # compact UTF-8 JSON, as every server message
        assert all(text == json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":"))
                   for text in texts)
        if direct(lane_server):
            # Every one of them went out by the direct lane: the sockets' queues were never needed.
            subs = hub_of(lane_server).bus._subs[sid]
            assert len(subs) == 2 and all(sub.queue.qsize() == 0 and sub.queue._items is None for sub in subs)


async def test_messages_sent_with_the_hello_are_answered_after_the_snapshot_in_order(
    lane_server: LiveServer, http: httpx.AsyncClient
) -> None:
    show = await new_show(http)
    sid = show["id"]
    token = await viewer_token(http, sid, "Bo")
    async with ws_connect(lane_server, sid) as viewer:
        # No waiting for the snapshot: these arrive while the server is still
        # identifying the viewer and sending the catch-up.
        await viewer.send(json.dumps({"type": "hello", "token": token}))
        await viewer.send(json.dumps({"type": "ping", "t": 1}))
        await viewer.send(json.dumps({"type": "nonsense"}))
        await viewer.send(json.dumps({"type": "ping", "t": 2}))
        assert (await recv(viewer))["type"] == "snapshot"
        assert (await recv(viewer))["t"] == 1
        assert (await recv(viewer))["code"] == "INVALID"
        assert (await recv(viewer))["t"] == 2


async def test_claims_over_the_socket_are_answered_each_once_exactly_to_stock(
    lane_server: LiveServer, http: httpx.AsyncClient
) -> None:
    show = await new_show(http)
    sid = show["id"]
    await command(http, sid, {"type": "show.start"})
    opened = await command(http, sid, {"type": "flash_sale.open", "sku": "A1", "price": "99", "stock": 3,
                                       "per_viewer_limit": 1, "duration_seconds": 600})
    sale_id = next(e for e in opened["events"] if e["type"] == "flash_sale.opened")["sale"]["id"]
    tokens = [await viewer_token(http, sid, f"v{i}") for i in range(8)]
    sockets = [ws_connect(lane_server, sid) for _ in tokens]
    viewers = [await s.__aenter__() for s in sockets]
    try:
        for ws, token in zip(viewers, tokens, strict=True):
            assert (await hello(ws, token=token))["type"] == "snapshot"
        for i, ws in enumerate(viewers):
            await ws.send(json.dumps({"type": "claim", "sale_id": sale_id, "qty": 1, "request_id": f"r{i}"}))
        results = [await recv_until(ws, lambda m: m["type"] == "claim.result") for ws in viewers]
        assert sorted(r["request_id"] for r in results) == [f"r{i}" for i in range(8)]
        assert sum(r["ok"] for r in results) == 3
        assert {r["code"] for r in results if not r["ok"]} == {"SOLD_OUT"}
        orders = [e for e in await journal(http, sid) if e["type"] == "flash_sale.claimed"]
        assert sorted(e["order_id"] for e in orders) == sorted(r["order_id"] for r in results if r["ok"])
    finally:
        for s in sockets:
            await s.__aexit__(None, None, None)


async def test_a_backpressured_socket_falls_back_to_its_queue_and_is_cut_off_while_others_keep_up(
    lane_server: LiveServer, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    show = await new_show(http)
    sid = show["id"]
    token = await staff_token(http, sid)
    bus = hub_of(lane_server).bus
    monkeypatch.setattr(connection_mod, "CLOSE_TIMEOUT", 30.0)  # let the 4008 frame out once it reads
    monkeypatch.setattr(bus_mod, "QUEUE_SIZE", 4)
    # The slow client stops reading after one frame (max_queue=1): its buffers fill.
    async with ws_connect(lane_server, sid, max_queue=1, max_size=None) as slow:
        assert (await hello(slow, token=token))["type"] == "snapshot"
        (slow_sub,) = bus._subs[sid]
        monkeypatch.setattr(bus_mod, "QUEUE_SIZE", 2048)
        async with ws_connect(lane_server, sid, max_size=None) as fast, ws_connect(lane_server, sid) as viewer:
            assert (await hello(fast, token=token))["type"] == "snapshot"
            assert (await hello(viewer, overlay_key=show["overlay_key"]))["type"] == "snapshot"
            body = {"segments": big_rundown()}
            queued: set[int] = set()
            sent = 0
            while bus.count(sid) == 3:
                assert sent < 60, "the slow client was never cut off"
                r = await http.put(f"/api/shows/{sid}/rundown", json=body)
                assert r.status_code == 200, r.text
                sent += 1
                queued.add(slow_sub.queue.qsize())
                # The others get every event at once, slow neighbour or not.
                seq = r.json()["seq"]
                assert ((await recv(fast))["type"], seq) == ("rundown.replaced", seq)
                assert (await recv(viewer))["seq"] == seq
            # Events waited in the slow socket's queue before it overflowed (the
            # fallback lane), not in the transport without bound.
            assert max(queued) >= 1
            assert slow_sub.overflowed and bus.count(sid) == 2
            # Still served after the cut, and by the direct lane again.
            seq = (await command(http, sid, {"type": "show.start"}))["seq"]
            await recv_until(fast, lambda m: m.get("seq") == seq)
            await recv_until(viewer, lambda m: m.get("seq") == seq)
            if direct(lane_server):
                viewer_sub = next(sub for sub in bus._subs[sid] if sub.audience == p.PUBLIC)
                assert viewer_sub.queue._items is None
        # The slow client, reading at last, finds an ordered prefix and then 4008.
        seqs: list[int] = []
        try:
            while True:
                msg = json.loads(await asyncio.wait_for(slow.recv(), CEILING))
                seqs.append(msg["seq"])
        except ConnectionClosed as exc:
            assert exc.rcvd is not None and exc.rcvd.code == 4008
        assert seqs == sorted(seqs) and len(seqs) < sent
