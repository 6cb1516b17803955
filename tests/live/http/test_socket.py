"""``/ws/shows/{id}`` over REAL sockets: uvicorn on a real port (``live_server``)
and the ``websockets`` asyncio client. Every wait is a receive with the one ceiling
of tests/waiting.py."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx2 as httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from live.adapters import bus as bus_mod
from live.core import session as session_mod
from live.http import connection as connection_mod
from live.http import socket as socket_routes
from live.runtime import engine as engine_mod
from tests.conftest import LiveServer, admin_headers
from tests.live.http.sockets import (
    big_rundown,
    closed_code,
    command,
    hello,
    hub_of,
    new_show,
    recv,
    recv_until,
    seq_of,
    staff_token,
    ws_connect,
)
from tests.waiting import CEILING

# -- helpers -------------------------------------------------------------------------


@pytest.fixture
async def http(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server.url, headers=admin_headers(), trust_env=False) as c:
        yield c


# -- hello and snapshot ------------------------------------------------------------------


async def test_staff_hello_gets_a_staff_snapshot(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    show = await new_show(http)
    token = await staff_token(http, show["id"], "host")
    before = int(time.time() * 1000)
    async with ws_connect(live_server, show["id"]) as ws:
        snap = await hello(ws, token=token)
    assert snap["type"] == "snapshot"
    assert snap["seq"] == 1 and isinstance(snap["epoch"], str) and snap["epoch"]
    assert before - 1000 <= snap["server_time"] <= int(time.time() * 1000) + 1000
    assert "recovered" not in snap
    state = snap["state"]
    assert state["show"]["id"] == show["id"] and state["show"]["status"] == "draft"
    assert state["rundown"]["segments"][0]["talking_points"] == ["hello"]
    assert "compliance" in state
    assert snap["me"]["role"] == "host"


async def test_overlay_key_hello_gets_a_public_snapshot(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    show = await new_show(http)
    async with ws_connect(live_server, show["id"]) as ws:
        snap = await hello(ws, overlay_key=show["overlay_key"])
    assert snap["type"] == "snapshot" and snap["seq"] == 1
    assert "compliance" not in snap["state"] and "me" not in snap
    assert all("talking_points" not in s for s in snap["state"]["rundown"]["segments"])


async def test_session_cookie_hello_is_staff(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    show = await new_show(http)
    r = await http.post(f"/api/shows/{show['id']}/staff", json={"name": "Wu", "role": "moderator"})
    login = r.json()["login_url"].split("/login/", 1)[1]
    r = await http.get(f"/login/{login}", follow_redirects=False)
    assert r.status_code == 303
    cookie = r.cookies["live_session"]
    headers = {"Cookie": f"live_session={cookie}"}
    async with ws_connect(live_server, show["id"], additional_headers=headers, origin=live_server.url) as ws:
        snap = await hello(ws)
    assert snap["type"] == "snapshot" and snap["me"]["role"] == "moderator"
    assert "compliance" in snap["state"]


@pytest.mark.parametrize(
    "creds",
    [{"token": "st_not-a-real-token-at-all"}, {"overlay_key": "ov_wrong"}, {"overlay_key": "ключ"},
     {"token": "ad_guess"}, {"token": "vw_v1234.forged"}],
    ids=["bad-token", "wrong-overlay-key", "non-ascii-key", "guessed-admin", "forged-viewer"],
)
async def test_bad_credentials_get_an_error_then_close_4401(
    live_server: LiveServer, http: httpx.AsyncClient, creds: dict[str, Any]
) -> None:
    show = await new_show(http)
    async with ws_connect(live_server, show["id"]) as ws:
        err = await hello(ws, **creds)
        assert err["type"] == "error" and err["code"] == "UNAUTHORIZED"
        assert await closed_code(ws) == 4401


async def test_an_anonymous_hello_watches_the_public_view_and_can_do_nothing(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    show = await new_show(http)
    async with ws_connect(live_server, show["id"]) as ws:
        snap = await hello(ws)
        assert snap["type"] == "snapshot" and "compliance" not in snap["state"]
        assert all("talking_points" not in s for s in snap["state"]["rundown"]["segments"])
        for msg in ({"type": "command", "request_id": "r1", "command": {"type": "show.start"}},
                    {"type": "like", "count": 1, "request_id": "r2"},
                    {"type": "comment", "text": "hi", "request_id": "r3"}):
            await ws.send(json.dumps(msg))
            err = await recv(ws)
            assert err["type"] == "error" and err["code"] == "FORBIDDEN"
    assert await seq_of(http, show["id"]) == show["seq"]


async def test_token_of_another_show_closes_4401(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    show, other = await new_show(http), await new_show(http)
    token = await staff_token(http, other["id"])
    async with ws_connect(live_server, show["id"]) as ws:
        err = await hello(ws, token=token)
        assert err["type"] == "error" and err["code"] == "FORBIDDEN"
        assert await closed_code(ws) == 4401


async def test_unknown_show_closes_4404(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    async with ws_connect(live_server, "nope") as ws:
        err = await hello(ws, token="test-admin-token")
        assert err["code"] == "NOT_FOUND"
        assert await closed_code(ws) == 4404


@pytest.mark.parametrize(
    "first", ['{"type": "ping", "t": 1}', "{not json", '["hello"]', '{"type": "hello", "last_seq": -4}'],
    ids=["ping", "malformed", "array", "bad-last-seq"],
)
async def test_first_message_must_be_a_valid_hello(live_server: LiveServer, http: httpx.AsyncClient, first: str) -> None:
    show = await new_show(http)
    async with ws_connect(live_server, show["id"]) as ws:
        await ws.send(first)
        err = await recv(ws)
        assert err["type"] == "error" and err["code"] == "INVALID"
        assert await closed_code(ws) == 1008


async def test_no_hello_in_time_closes(
    live_server: LiveServer, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(socket_routes, "HELLO_TIMEOUT", 0.2)
    show = await new_show(http)
    async with ws_connect(live_server, show["id"]) as ws:
        assert await closed_code(ws) == 1008


# -- commands and events -------------------------------------------------------------------


async def test_command_is_answered_and_others_receive_its_events(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    show = await new_show(http)
    sid = show["id"]
    token = await staff_token(http, sid)
    async with ws_connect(live_server, sid) as staff, ws_connect(live_server, sid) as overlay:
        await hello(staff, token=token)
        await hello(overlay, overlay_key=show["overlay_key"])
        await staff.send(json.dumps({"type": "command", "request_id": "r1", "command": {"type": "show.start"}}))
        result = await recv_until(staff, lambda m: m["type"] == "command.result")
        assert result["request_id"] == "r1" and result["ok"] is True and result["seq"] == 3
        assert [e["type"] for e in result["events"]] == ["show.started", "segment.changed"]
        await staff.send(json.dumps({"type": "command", "request_id": 2, "command": {"type": "segment.next"}}))
        result = await recv_until(staff, lambda m: m["type"] == "command.result")
        assert result["request_id"] == 2 and result["seq"] == 5

        seen = [await recv(overlay) for _ in range(4)]
        assert [m["type"] for m in seen] == ["show.started", "segment.changed", "segment.changed", "product.pinned"]
        assert [m["seq"] for m in seen] == [2, 3, 4, 5]
        assert seen[2]["to"] == 1 and seen[3]["sku"] == "A1"
    assert await seq_of(http, sid) == 5


async def test_http_commands_reach_socket_clients(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    show = await new_show(http)
    async with ws_connect(live_server, show["id"]) as overlay:
        await hello(overlay, overlay_key=show["overlay_key"])
        await command(http, show["id"], {"type": "show.start"})
        await command(http, show["id"], {"type": "segment.extend", "seconds": 90})
        seen = [await recv(overlay) for _ in range(3)]
    assert [(m["type"], m["seq"]) for m in seen] == [("show.started", 2), ("segment.changed", 3), ("segment.extended", 4)]


async def test_command_errors_keep_the_socket_open(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    show = await new_show(http)
    token = await staff_token(http, show["id"])
    async with ws_connect(live_server, show["id"]) as ws:
        await hello(ws, token=token)
        await ws.send(json.dumps({"type": "command", "request_id": "a", "command": {"type": "segment.next"}}))
        err = await recv(ws)
        assert (err["type"], err["code"], err["request_id"]) == ("error", "WRONG_STATE", "a")
        await ws.send(json.dumps({"type": "command", "request_id": "b", "command": {"type": "product.pin", "sku": "ZZ"}}))
        err = await recv(ws)
        assert (err["code"], err["field"], err["request_id"]) == ("INVALID", "sku", "b")
        await ws.send(json.dumps({"type": "command", "request_id": "c", "command": "show.start"}))
        assert (await recv(ws))["field"] == "command"
        await ws.send(json.dumps({"type": "command", "command": {"type": "rundown.replace", "segments": []}}))
        assert (await recv(ws))["code"] == "INVALID"
        await ws.send(json.dumps({"type": "ping", "t": 1}))
        assert (await recv(ws))["type"] == "pong"
    assert await seq_of(http, show["id"]) == 1


async def test_wrong_role_over_the_socket_is_forbidden(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    show = await new_show(http)
    token = await staff_token(http, show["id"], "analyst")
    async with ws_connect(live_server, show["id"]) as ws:
        await hello(ws, token=token)
        await ws.send(json.dumps({"type": "command", "request_id": "x", "command": {"type": "show.start"}}))
        err = await recv(ws)
        assert (err["code"], err["request_id"]) == ("FORBIDDEN", "x")
    assert await seq_of(http, show["id"]) == 1


async def test_overlay_cannot_send_commands(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    show = await new_show(http)
    async with ws_connect(live_server, show["id"]) as ws:
        await hello(ws, overlay_key=show["overlay_key"])
        await ws.send(json.dumps({"type": "command", "request_id": "o", "command": {"type": "show.start"}}))
        err = await recv(ws)
        assert (err["type"], err["code"], err["request_id"]) == ("error", "FORBIDDEN", "o")
        await ws.send(json.dumps({"type": "ping", "t": 3}))
        assert (await recv(ws))["type"] == "pong"
    assert await seq_of(http, show["id"]) == 1


# -- reconnect --------------------------------------------------------------------------------


async def test_reconnect_with_last_seq_gets_exactly_the_missed_events(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    show = await new_show(http)
    sid = show["id"]
    token = await staff_token(http, sid)
    async with ws_connect(live_server, sid) as ws:
        await command(http, sid, {"type": "show.start"})
        snap = await hello(ws, token=token)
    last = snap["seq"]
    assert last == 3
    await command(http, sid, {"type": "segment.next"})  # 4, 5
    await command(http, sid, {"type": "segment.extend", "seconds": 60})  # 6
    await command(http, sid, {"type": "segment.next"})  # 7, 8
    async with ws_connect(live_server, sid) as ws:
        first = await hello(ws, token=token, last_seq=last)
        missed = [first] + [await recv(ws) for _ in range(4)]
        done = await recv(ws)
        # Live from here on: a new event follows the recovery (a staff socket of
        # a live show may get a stats.tick, no seq, at any moment: not an event).
        await command(http, sid, {"type": "segment.previous"})
        after = await recv_until(ws, lambda m: m["type"] != "stats.tick")
    assert [(m["type"], m["seq"]) for m in missed] == [
        ("segment.changed", 4), ("product.pinned", 5), ("segment.extended", 6),
        ("segment.changed", 7), ("product.pinned", 8),
    ]
    assert done["type"] == "recovered" and done["recovered"] is True and done["seq"] == 8 and done["missed"] == 5
    assert done["epoch"] == snap["epoch"]
    assert (after["type"], after["seq"]) == ("segment.changed", 9)


async def test_reconnect_when_nothing_was_missed(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    show = await new_show(http)
    async with ws_connect(live_server, show["id"]) as ws:
        done = await hello(ws, overlay_key=show["overlay_key"], last_seq=1)
        assert (done["type"], done["seq"], done["missed"]) == ("recovered", 1, 0)


async def test_public_reconnect_skips_staff_only_events(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    show = await new_show(http)
    await command(http, show["id"], {"type": "show.start"})
    async with ws_connect(live_server, show["id"]) as ws:
        first = await hello(ws, overlay_key=show["overlay_key"], last_seq=0)
        second = await recv(ws)
        done = await recv(ws)
    # seq 1 (show.created) is staff-only: the overlay gets 2 and 3 only.
    assert [(first["type"], first["seq"]), (second["type"], second["seq"])] == [
        ("show.started", 2), ("segment.changed", 3)
    ]
    assert done["type"] == "recovered" and done["seq"] == 3


async def test_reconnect_too_far_behind_gets_a_fresh_snapshot(
    live_server: LiveServer, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_mod, "HISTORY", 2)
    monkeypatch.setattr(session_mod, "REPLAY", 2)
    monkeypatch.setattr(session_mod, "PUBLIC_REPLAY", 2)
    show = await new_show(http)
    sid = show["id"]
    await command(http, sid, {"type": "show.start"})
    await command(http, sid, {"type": "segment.next"})  # seq 5
    async with ws_connect(live_server, sid) as ws:
        await ws.send(json.dumps({"type": "hello", "overlay_key": show["overlay_key"], "last_seq": 1}))
        raw = await asyncio.wait_for(ws.recv(), CEILING)
        snap = json.loads(raw)  # must be valid JSON as sent
        assert snap["type"] == "snapshot" and snap["recovered"] is False and snap["seq"] == 5
        assert snap["state"]["rundown"]["current"] == 1 and snap["state"]["pinned_sku"] == "A1"
        await command(http, sid, {"type": "segment.next"})
        nxt = await recv(ws)
        assert (nxt["type"], nxt["seq"]) == ("segment.changed", 6)


async def test_reconnect_from_a_seq_the_show_never_had_gets_a_snapshot(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    show = await new_show(http)
    async with ws_connect(live_server, show["id"]) as ws:
        snap = await hello(ws, overlay_key=show["overlay_key"], last_seq=999)
    assert snap["type"] == "snapshot" and snap["recovered"] is False and snap["seq"] == 1


# -- ping, errors, limits ------------------------------------------------------------------------


async def test_ping_gets_pong_with_server_time(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    show = await new_show(http)
    async with ws_connect(live_server, show["id"]) as ws:
        await hello(ws, overlay_key=show["overlay_key"])
        before = int(time.time() * 1000)
        await ws.send(json.dumps({"type": "ping", "t": 12345}))
        pong = await recv(ws)
        # Binary frames holding UTF-8 JSON are understood too.
        await ws.send(json.dumps({"type": "ping", "t": 6}).encode())
        pong2 = await recv(ws)
    assert pong["type"] == "pong" and pong["t"] == 12345
    assert before - 1000 <= pong["server_time"] <= int(time.time() * 1000) + 1000
    assert pong2["t"] == 6


@pytest.mark.parametrize(
    ("message", "field"),
    [('{"type": "dance"}', "type"), ("{oops", "message"), ('{"type": "ping", "t": "x"}', "t"),
     ('{"type": "ping", "request_id": {"a": 1}}', "request_id"), (b"\xff\xfe", "message")],
    ids=["unknown-type", "malformed", "bad-t", "bad-request-id", "binary-not-utf8"],
)
async def test_bad_messages_get_errors_and_the_socket_stays_open(
    live_server: LiveServer, http: httpx.AsyncClient, message: str | bytes, field: str
) -> None:
    show = await new_show(http)
    async with ws_connect(live_server, show["id"]) as ws:
        await hello(ws, overlay_key=show["overlay_key"])
        await ws.send(message)
        err = await recv(ws)
        assert (err["type"], err["code"], err["field"]) == ("error", "INVALID", field)
        await ws.send(json.dumps({"type": "ping", "t": 1}))
        assert (await recv(ws))["type"] == "pong"


async def test_flood_is_rate_limited_then_closed(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    show = await new_show(http)
    async with ws_connect(live_server, show["id"]) as ws:
        await hello(ws, overlay_key=show["overlay_key"])
        try:
            for i in range(400):
                await ws.send(json.dumps({"type": "ping", "t": i}))
        except ConnectionClosed:
            pass  # the server may hang up while we are still sending
        got: list[dict[str, Any]] = []
        try:
            while True:
                got.append(await recv(ws))
        except ConnectionClosed as exc:
            code = None if exc.rcvd is None else exc.rcvd.code
    assert code == 1008
    kinds = [m["type"] for m in got]
    assert "pong" in kinds and "error" in kinds
    assert kinds.index("error") > kinds.index("pong")  # the burst is served first
    assert {m["code"] for m in got if m["type"] == "error"} == {"RATE_LIMITED"}
    # The server is still fine for everyone else.
    async with ws_connect(live_server, show["id"]) as ws:
        await hello(ws, overlay_key=show["overlay_key"])
        await ws.send(json.dumps({"type": "ping", "t": 1}))
        assert (await recv(ws))["type"] == "pong"


async def test_oversize_frame_closes_1009_and_the_server_stays_up(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    show = await new_show(http)
    async with ws_connect(live_server, show["id"]) as ws:
        await hello(ws, overlay_key=show["overlay_key"])
        await ws.send(json.dumps({"type": "ping", "pad": "x" * (65 * 1024)}))
        assert await closed_code(ws) == 1009
    async with ws_connect(live_server, show["id"]) as ws:
        await hello(ws, overlay_key=show["overlay_key"])
        await ws.send(json.dumps({"type": "ping", "t": 2}))
        assert (await recv(ws))["t"] == 2


# -- Origin ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://127.0.0.1.evil.example"])
async def test_foreign_origin_is_refused_at_the_handshake(
    live_server: LiveServer, http: httpx.AsyncClient, origin: str
) -> None:
    show = await new_show(http)
    with pytest.raises(InvalidStatus) as info:
        async with ws_connect(live_server, show["id"], additional_headers={"Origin": origin}):
            pass
    assert info.value.response.status_code == 403


async def test_an_origin_of_another_scheme_or_port_is_refused_at_the_handshake(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    show = await new_show(http)
    for origin in (live_server.url.replace("http://", "https://"), f"http://{live_server.host}:{live_server.port + 1}"):
        with pytest.raises(InvalidStatus) as info:
            async with ws_connect(live_server, show["id"], additional_headers={"Origin": origin}):
                pass
        assert info.value.response.status_code == 403, origin


async def test_same_origin_and_no_origin_are_accepted(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    show = await new_show(http)
    async with ws_connect(live_server, show["id"], origin=live_server.url) as ws:
        assert (await hello(ws, overlay_key=show["overlay_key"]))["type"] == "snapshot"
    async with ws_connect(live_server, show["id"]) as ws:
        assert (await hello(ws, overlay_key=show["overlay_key"]))["type"] == "snapshot"


# -- slow consumers, failures -------------------------------------------------------------------------


async def test_slow_consumer_is_cut_off_without_delaying_others(
    live_server: LiveServer, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    show = await new_show(http)
    sid = show["id"]
    token = await staff_token(http, sid)
    bus = hub_of(live_server).bus
    monkeypatch.setattr(connection_mod, "CLOSE_TIMEOUT", 30.0)  # let the 4008 frame out once it reads
    monkeypatch.setattr(bus_mod, "QUEUE_SIZE", 4)
    # The slow client stops reading after one frame (max_queue=1): its buffers fill.
    async with ws_connect(live_server, sid, max_queue=1, max_size=None) as slow:
        assert (await hello(slow, token=token))["type"] == "snapshot"
        monkeypatch.setattr(bus_mod, "QUEUE_SIZE", 2048)
        async with ws_connect(live_server, sid, max_size=None) as fast:
            assert (await hello(fast, token=token))["type"] == "snapshot"
            assert bus.count(sid) == 2
            body = {"segments": big_rundown()}
            sent = 0
            while bus.count(sid) == 2:
                assert sent < 60, "the slow client was never cut off"
                r = await http.put(f"/api/shows/{sid}/rundown", json=body)
                assert r.status_code == 200, r.text
                sent += 1
                # The fast client gets every event at once, slow neighbour or not.
                msg = await recv(fast)
                assert (msg["type"], msg["seq"]) == ("rundown.replaced", r.json()["seq"])
            assert bus.count(sid) == 1
            # Still served after the cut.
            await command(http, sid, {"type": "show.start"})
            assert (await recv(fast))["type"] == "show.started"
        # The slow client, reading at last, finds an ordered prefix and then 4008.
        seqs: list[int] = []
        try:
            while True:
                msg = json.loads(await asyncio.wait_for(slow.recv(), CEILING))
                seqs.append(msg["seq"])
        except ConnectionClosed as exc:
            assert exc.rcvd is not None and exc.rcvd.code == 4008
        assert seqs == sorted(seqs) and len(seqs) < sent


async def test_unexpected_error_is_logged_without_tokens(
    live_server: LiveServer, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    show = await new_show(http)
    token = await staff_token(http, show["id"])

    async def broken(self: Any, call: Any) -> None:
        raise RuntimeError(f"boom while handling {call!r} for {token}")

    monkeypatch.setattr(socket_routes.Connection, "_call", broken)
    caplog.set_level(logging.ERROR, logger="live.socket")
    async with ws_connect(live_server, show["id"]) as ws:
        await hello(ws, token=token)
        await ws.send(json.dumps({"type": "command", "command": {"type": "show.start"}, "secret": token}))
        assert await closed_code(ws) == 1011
    text = "\n".join(r.getMessage() for r in caplog.records if r.name == "live.socket")
    assert "RuntimeError" in text and "in broken" in text  # its kind and place
    assert "boom while handling" not in text  # not its text, which holds what the client sent
    assert token not in text and token[3:] not in text
    # Other sockets are unaffected.
    monkeypatch.undo()
    async with ws_connect(live_server, show["id"]) as ws:
        assert (await hello(ws, overlay_key=show["overlay_key"]))["type"] == "snapshot"


# -- what an adversarial probe found ------------------------------------------------------------


async def test_an_anonymous_or_overlay_hello_far_behind_gets_a_snapshot_not_a_replay(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    show = await new_show(http)
    sid = show["id"]
    await command(http, sid, {"type": "show.start"})
    for i in range(session_mod.PUBLIC_REPLAY + 5):  # more public events than a watcher may replay
        await command(http, sid, {"type": "segment.extend", "seconds": 1 if i % 2 else -1})
    head = await seq_of(http, sid)
    for fields in ({}, {"overlay_key": show["overlay_key"]}):
        async with ws_connect(live_server, sid) as ws:
            first = await hello(ws, last_seq=1, **fields)
            assert (first["type"], first["seq"], first["recovered"]) == ("snapshot", head, False)
    # A staff reconnect from as far back still replays every missed event, in order.
    async with ws_connect(live_server, sid) as ws:
        first = await hello(ws, token="test-admin-token", last_seq=1)
        seqs = [first["seq"]]
        while (msg := await recv(ws))["type"] != "recovered":
            seqs.append(msg["seq"])
        assert seqs == list(range(2, head + 1)) and msg["recovered"] is True


async def test_socket_hellos_are_rate_limited_per_address(clocked_server: LiveServer, clock: Any) -> None:
    async with httpx.AsyncClient(base_url=clocked_server.url, headers=admin_headers(), timeout=CEILING) as http:
        show = await new_show(http)
    sid, key = show["id"], show["overlay_key"]

    async def connect_once() -> dict[str, Any]:
        async with ws_connect(clocked_server, sid) as ws:
            return await hello(ws, overlay_key=key)

    burst = [await connect_once() for _ in range(60)]  # HELLOS_BURST: NAT-shared addresses stay served
    assert {m["type"] for m in burst} == {"snapshot"}
    async with ws_connect(clocked_server, sid) as ws:
        refused = await hello(ws, overlay_key=key)
        assert (refused["type"], refused["code"]) == ("error", "RATE_LIMITED")
        assert await closed_code(ws) == 1008
    clock.advance(1)  # 240 a minute: four more a second
    assert [(await connect_once())["type"] for _ in range(4)] == ["snapshot"] * 4
    async with ws_connect(clocked_server, sid) as ws:
        assert (await hello(ws, overlay_key=key))["code"] == "RATE_LIMITED"
