"""Viewers over REAL sockets and HTTP: registration, presence, likes, comments,
claims' bad inputs, floods, and the server's clock deciding when a sale opens.

The server runs on the test's FakeClock: grace periods, rate windows and a
sale's opening move when the test advances the clock, never with the machine's
speed. Every refused input is checked to write nothing (the show's seq is
unchanged). Waits are receives or polls with the one ceiling of tests/waiting.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx2 as httpx
import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from live.core.auth import pseudonym
from live.core.ledger import COMMENT_INTERVAL_MS
from live.http import web
from live.runtime import presence as presence_mod
from live.runtime import ticker as ticker_mod
from server import create_app, uvicorn_options
from tests.conftest import FakeClock, LiveServer, admin_headers, make_settings
from tests.live.http.sockets import (
    closed_code,
    command,
    hello,
    hub_of,
    new_show,
    recv_until,
    seq_of,
    staff_token,
    ws_connect,
)
from tests.live.http.test_claims import journal_events
from tests.waiting import eventually


@pytest.fixture
def live_server(clocked_server: LiveServer) -> LiveServer:
    """Here the server's time is the test's ``clock``."""
    return clocked_server


@pytest.fixture
async def http(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server.url, headers=admin_headers(), trust_env=False) as c:
        yield c


async def register(http: httpx.AsyncClient, sid: str, nickname: str = "小明") -> dict[str, Any]:
    r = await http.post(f"/api/shows/{sid}/viewers", json={"nickname": nickname}, headers={"Authorization": ""})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def live_show(http: httpx.AsyncClient) -> dict[str, Any]:
    show = await new_show(http)
    await command(http, show["id"], {"type": "show.start"})
    return show


async def open_sale(http: httpx.AsyncClient, sid: str, **extra: Any) -> dict[str, Any]:
    body = {"type": "flash_sale.open", "sku": "A1", "price": "99", "stock": 10, "duration_seconds": 600, **extra}
    result = await command(http, sid, body)
    return next(e for e in result["events"] if e["type"] == "flash_sale.opened")["sale"]  # type: ignore[no-any-return]


def engine_of(server: LiveServer, sid: str) -> Any:
    return hub_of(server).shows._engines[sid]


async def ticks_pass(server: LiveServer, sid: str, n: int = 2) -> None:
    """Until the show's ticker has run ``n`` more times: it has looked at the clock since."""
    engine = engine_of(server, sid)
    start = engine.ticker.count

    async def ticked() -> bool:
        return bool(engine.ticker.count >= start + n)

    await eventually(ticked, f"{n} ticks of show {sid}")


async def settled(server: LiveServer, sid: str) -> None:
    """Until the ticker has announced what changed (``viewers.tick`` every other
    tick, ``flash_sale.stock``): two whole ticks have run since, which the third
    one's start shows (ticks run one after another)."""
    await ticks_pass(server, sid, 3)


async def dropped(server: LiveServer, sid: str, viewer_id: str) -> None:
    """Until the server has seen the viewer's last socket close (its grace period runs)."""
    engine = engine_of(server, sid)

    async def seen() -> bool:
        return viewer_id in engine.presence.leaving

    await eventually(seen, f"the server to see {viewer_id}'s socket close")


async def expect_error(ws: ClientConnection, code: str, field: str | None = None) -> dict[str, Any]:
    msg = await recv_until(ws, lambda m: m["type"] == "error")
    assert msg["code"] == code, msg
    if field is not None:
        assert msg.get("field") == field, msg
    return msg


# -- registration --------------------------------------------------------------------------------


async def test_registering_a_viewer_returns_a_token_for_the_socket(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    show = await new_show(http)
    before = await seq_of(http, show["id"])
    v = await register(http, show["id"], "  小明  ")
    assert v["token"].startswith("vw_") and v["viewer_id"] and v["nickname"] == "小明"
    assert await seq_of(http, show["id"]) == before + 1  # viewer.registered is journaled
    async with ws_connect(live_server, show["id"]) as ws:
        snap = await hello(ws, token=v["token"])
    assert snap["type"] == "snapshot"
    # the pseudonym lets a viewer find themselves among a draw's entrants and winners
    assert snap["me"] == {"role": "viewer", "viewer_id": v["viewer_id"], "nickname": "小明", "claims": [],
                          "pseudonym": pseudonym(b"test-secret", v["viewer_id"])}
    assert "compliance" not in snap["state"]


@pytest.mark.parametrize("body", [{"nickname": ""}, {"nickname": "x" * 21}, {"nickname": 7}, {}, {"nickname": "a\x00"}],
                         ids=["empty", "too-long", "number", "missing", "control-char"])
async def test_a_bad_nickname_is_422_and_registers_no_one(http: httpx.AsyncClient, body: dict[str, Any]) -> None:
    show = await new_show(http)
    r = await http.post(f"/api/shows/{show['id']}/viewers", json=body)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "INVALID" and r.json()["error"]["field"] == "nickname"
    assert await seq_of(http, show["id"]) == show["seq"]


async def test_registering_on_an_unknown_show_is_404(http: httpx.AsyncClient) -> None:
    r = await http.post("/api/shows/nope/viewers", json={"nickname": "a"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"


async def test_registrations_over_the_rate_are_429_and_write_nothing(sqlite_url: str, clock: FakeClock) -> None:
    """On the app's clock, moved by hand: however slow the machine, no token
    comes back between two registrations, and exactly one after half a second."""
    server = LiveServer(create_app(make_settings(sqlite_url, registrations_per_minute=120), clock=clock)).start()
    try:
        async with httpx.AsyncClient(base_url=server.url, headers=admin_headers(), trust_env=False) as http:
            show = await new_show(http)
            for i in range(web.REGISTRATIONS_BURST):
                await register(http, show["id"], f"n{i}")
            seq = await seq_of(http, show["id"])
            r = await http.post(f"/api/shows/{show['id']}/viewers", json={"nickname": "one more"})
            assert r.status_code == 429 and r.json()["error"]["code"] == "RATE_LIMITED"
            assert await seq_of(http, show["id"]) == seq
            clock.advance(0.5)  # 120 a minute: one registration back
            await register(http, show["id"], "one more")
            r = await http.post(f"/api/shows/{show['id']}/viewers", json={"nickname": "and another"})
            assert r.status_code == 429
            assert await seq_of(http, show["id"]) == seq + 1
    finally:
        server.stop()


def served_like_main(settings: Any, clock: FakeClock) -> LiveServer:
    """The app on uvicorn with ``python server.py``'s options (proxy headers included)."""
    options = {k: val for k, val in uvicorn_options(settings).items() if k not in ("host", "port")}
    return LiveServer(create_app(settings, clock=clock), **{**options, "log_level": "warning"}).start()


@pytest.mark.parametrize(("trusted", "statuses"), [((), [201, 429, 429]), (("127.0.0.1",), [201, 201, 429])],
                         ids=["no-proxy-trusted", "trusted-proxy"])
async def test_x_forwarded_for_picks_the_bucket_only_behind_a_trusted_proxy(
    sqlite_url: str, clock: FakeClock, trusted: tuple[str, ...], statuses: list[int]
) -> None:
    """uvicorn's own default believes X-Forwarded-For from 127.0.0.1: a client
    there named any address and got a fresh bucket each time. Now only peers in
    LIVE_TRUSTED_PROXIES are believed; behind one, each viewer has their own bucket."""
    server = served_like_main(make_settings(sqlite_url, registrations_per_minute=1, trusted_proxies=trusted), clock)
    try:
        async with httpx.AsyncClient(base_url=server.url, headers=admin_headers(), trust_env=False) as http:
            show = await new_show(http)
            got = []
            for address in ("203.0.113.1", "203.0.113.2", "203.0.113.1"):
                r = await http.post(f"/api/shows/{show['id']}/viewers", json={"nickname": "Ann"},
                                    headers={"Authorization": "", "X-Forwarded-For": address})
                got.append(r.status_code)
            assert got == statuses
    finally:
        server.stop()


@pytest.mark.parametrize(("trusted", "accepted"), [((), False), (("127.0.0.1",), True)])
async def test_the_scheme_of_a_trusted_proxy_decides_the_socket_origin(
    sqlite_url: str, clock: FakeClock, trusted: tuple[str, ...], accepted: bool
) -> None:
    """Behind a TLS proxy the page is https: its Origin matches only when the
    proxy's X-Forwarded-Proto is believed."""
    server = served_like_main(make_settings(sqlite_url, trusted_proxies=trusted), clock)
    try:
        async with httpx.AsyncClient(base_url=server.url, headers=admin_headers(), trust_env=False) as http:
            show = await new_show(http)
        headers = {"Origin": f"https://{server.host}:{server.port}", "X-Forwarded-Proto": "https"}
        if accepted:
            async with ws_connect(server, show["id"], additional_headers=headers) as ws:
                assert (await hello(ws, overlay_key=show["overlay_key"]))["type"] == "snapshot"
        else:
            with pytest.raises(InvalidStatus) as info:
                async with ws_connect(server, show["id"], additional_headers=headers):
                    pass
            assert info.value.response.status_code == 403
    finally:
        server.stop()


# -- presence ------------------------------------------------------------------------------------------


def of_type(events: list[dict[str, Any]], kind: str, viewer_id: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind and e.get("viewer_id") == viewer_id]


async def test_join_is_journaled_and_a_leave_only_after_the_grace_period(
    live_server: LiveServer, http: httpx.AsyncClient, sqlite_url: str, clock: FakeClock
) -> None:
    show = await live_show(http)
    sid, grace = show["id"], presence_mod.GRACE_MS
    v = await register(http, sid)
    async with ws_connect(live_server, sid) as ws:
        await hello(ws, token=v["token"])
        joined = of_type(await journal_events(sqlite_url, sid), "viewer.joined", v["viewer_id"])
        assert len(joined) == 1  # journaled before the snapshot was sent
        clock.advance(5)
    closed_at = clock()
    await dropped(live_server, sid, v["viewer_id"])

    async def left() -> list[dict[str, Any]]:
        return of_type(await journal_events(sqlite_url, sid), "viewer.left", v["viewer_id"])

    clock.advance_ms(grace - 1)
    await ticks_pass(live_server, sid)
    assert await left() == []  # 1 ms short of the grace period: still watching
    clock.advance_ms(1)
    [leave] = await eventually(left, "the leave")
    # The leave is dated when the socket dropped, and written once the grace had passed.
    assert leave["left_at"] == closed_at and leave["at"] == closed_at + grace
    assert leave["watched_ms"] == leave["left_at"] - joined[0]["at"] == 5000


async def test_a_reconnect_within_the_grace_period_is_the_same_visit(
    live_server: LiveServer, http: httpx.AsyncClient, sqlite_url: str, clock: FakeClock
) -> None:
    show = await live_show(http)
    sid, grace = show["id"], presence_mod.GRACE_MS
    v = await register(http, sid)
    async with ws_connect(live_server, sid) as ws:
        await hello(ws, token=v["token"])
    await dropped(live_server, sid, v["viewer_id"])
    clock.advance_ms(grace - 1)
    async with ws_connect(live_server, sid) as ws:  # back just in time
        await hello(ws, token=v["token"])
        clock.advance_ms(3 * grace)  # stay well past the grace period of the first drop
        await ticks_pass(live_server, sid)
    closed_at = clock()
    await dropped(live_server, sid, v["viewer_id"])
    clock.advance_ms(grace)

    async def left() -> list[dict[str, Any]]:
        return of_type(await journal_events(sqlite_url, sid), "viewer.left", v["viewer_id"])

    leaves = await eventually(left, "the leave")
    joins = of_type(await journal_events(sqlite_url, sid), "viewer.joined", v["viewer_id"])
    assert len(joins) == 1 and len(leaves) == 1
    # One visit, covering both sockets: it ended only when the second one closed.
    assert leaves[0]["left_at"] == closed_at
    assert leaves[0]["watched_ms"] == closed_at - joins[0]["at"] == 4 * grace - 1


# -- likes -------------------------------------------------------------------------------------------------


async def test_likes_arrive_as_coalesced_ticks_with_exact_totals(
    live_server: LiveServer, http: httpx.AsyncClient, sqlite_url: str, clock: FakeClock
) -> None:
    started = time.monotonic()  # before the show: its ticker cannot have started earlier
    show = await live_show(http)
    sid = show["id"]
    viewers = [await register(http, sid, f"liker{i}") for i in range(8)]
    # 2 likes every 100 ms of server time for 1.2 s: 20 in the first second, the
    # most a viewer may add, and 4 in the next
    per_viewer, rounds = 2, 12
    expected = len(viewers) * per_viewer * rounds
    async with ws_connect(live_server, sid) as overlay:
        await hello(overlay, overlay_key=show["overlay_key"])
        conns = [await ws_connect(live_server, sid).__aenter__() for _ in viewers]
        try:
            for ws, v in zip(conns, viewers, strict=True):
                await hello(ws, token=v["token"])
            for _ in range(rounds):
                for ws in conns:
                    await ws.send(json.dumps({"type": "like", "count": per_viewer}))
                for ws in conns:  # a socket's messages are handled in order: its likes were counted, none refused
                    await ws.send(json.dumps({"type": "ping", "t": 1}))
                    assert (await recv_until(ws, lambda m: m["type"] in ("pong", "error")))["type"] == "pong"
                clock.advance(0.1)
            ticks: list[dict[str, Any]] = []
            while not ticks or ticks[-1]["total"] < expected:
                ticks.append(await recv_until(overlay, lambda m: m["type"] == "likes.tick"))
        finally:
            for ws in conns:
                await ws.close()
    elapsed = time.monotonic() - started
    assert ticks[-1]["total"] == expected
    assert sum(t["added"] for t in ticks) == expected
    assert [t["total"] for t in ticks] == sorted({t["total"] for t in ticks})
    assert all("_by" not in t and "by" not in t for t in ticks)  # who liked stays on the server
    # Coalesced: far fewer ticks than like messages, and at most one per TICK_SECONDS
    # of real time since the ticker started (however slow or fast this machine is).
    assert len(ticks) < len(viewers) * rounds
    assert len(ticks) <= elapsed / ticker_mod.TICK_SECONDS + 1, (len(ticks), elapsed)
    journaled = [e for e in await journal_events(sqlite_url, sid) if e["type"] == "likes.tick"]
    assert journaled[-1]["total"] == expected and sum(e["added"] for e in journaled) == expected


async def test_likes_over_the_per_viewer_rate_are_refused_and_not_counted(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    show = await live_show(http)
    sid = show["id"]
    v = await register(http, sid)
    async with ws_connect(live_server, sid) as overlay, ws_connect(live_server, sid) as ws:
        await hello(overlay, overlay_key=show["overlay_key"])
        await hello(ws, token=v["token"])
        await ws.send(json.dumps({"type": "like", "count": 100, "request_id": "l1"}))
        err = await expect_error(ws, "RATE_LIMITED")
        assert err["request_id"] == "l1"
        tick = await recv_until(overlay, lambda m: m["type"] == "likes.tick")
    assert tick["total"] == presence_mod.LIKES_PER_SECOND == tick["added"]
    r = await http.get(f"/api/shows/{sid}/state")
    assert r.json()["likes"]["total"] == presence_mod.LIKES_PER_SECOND


@pytest.mark.parametrize("count", [0, -3, 101, "5", 1.5, True], ids=["zero", "negative", "huge", "string", "float", "bool"])
async def test_a_malformed_like_count_is_invalid(live_server: LiveServer, http: httpx.AsyncClient, count: Any) -> None:
    show = await live_show(http)
    v = await register(http, show["id"])
    async with ws_connect(live_server, show["id"]) as ws:
        await hello(ws, token=v["token"])
        await ws.send(json.dumps({"type": "like", "count": count}))
        await expect_error(ws, "INVALID", "count")
    assert engine_mod_pending(live_server, show["id"]) == 0


def engine_mod_pending(server: LiveServer, sid: str) -> int:
    engine = hub_of(server).shows._engines[sid]
    return int(sum(engine.presence.pending_likes.values()) + engine.state.ledger.likes_total)


# -- comments ----------------------------------------------------------------------------------------------


async def test_comments_reach_other_viewers_without_who_sent_them(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    show = await live_show(http)
    sid = show["id"]
    a, b = await register(http, sid, "阿明"), await register(http, sid, "小红")
    async with ws_connect(live_server, sid) as wa, ws_connect(live_server, sid) as wb:
        await hello(wa, token=a["token"])
        await hello(wb, token=b["token"])
        await wa.send(json.dumps({"type": "comment", "text": "<b>好看</b>", "request_id": "c1"}))
        ack = await recv_until(wa, lambda m: m["type"] == "command.result")
        assert ack["request_id"] == "c1" and ack["ok"] is True
        got = await recv_until(wb, lambda m: m["type"] == "comment.new")
    assert got["text"] == "<b>好看</b>" and got["nickname"] == "阿明"
    assert not {"viewer_id", "pseudonym", "hidden", "flagged"} & set(got)


async def test_a_second_comment_within_a_second_is_rate_limited(
    live_server: LiveServer, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    show = await live_show(http)
    v = await register(http, show["id"])
    async with ws_connect(live_server, show["id"]) as ws:
        await hello(ws, token=v["token"])
        await ws.send(json.dumps({"type": "comment", "text": "one", "request_id": 1}))
        await recv_until(ws, lambda m: m["type"] == "command.result")
        await settled(live_server, show["id"])  # the join's viewers.tick is journaled by a tick: not this test's write
        seq = await seq_of(http, show["id"])
        clock.advance_ms(COMMENT_INTERVAL_MS - 1)
        await ws.send(json.dumps({"type": "comment", "text": "two", "request_id": 2}))
        err = await expect_error(ws, "RATE_LIMITED")
        assert err["request_id"] == 2
        assert await seq_of(http, show["id"]) == seq
        clock.advance_ms(1)  # a second after the first: welcome again
        await ws.send(json.dumps({"type": "comment", "text": "three", "request_id": 3}))
        ok = await recv_until(ws, lambda m: m["type"] in ("command.result", "error"))
        assert (ok["type"], ok["request_id"]) == ("command.result", 3)
    assert await seq_of(http, show["id"]) == seq + 1


@pytest.mark.parametrize(("text", "field"), [("长" * 201, "text"), ("", "text"), (None, "text"), (["hi"], "text")],
                         ids=["201-chars", "empty", "missing", "list"])
async def test_a_bad_comment_is_invalid_and_writes_nothing(
    live_server: LiveServer, http: httpx.AsyncClient, text: Any, field: str
) -> None:
    show = await live_show(http)
    v = await register(http, show["id"])
    async with ws_connect(live_server, show["id"]) as ws:
        await hello(ws, token=v["token"])
        await settled(live_server, show["id"])  # the join's viewers.tick is journaled by a tick: not this test's write
        seq = await seq_of(http, show["id"])  # after the join
        await ws.send(json.dumps({"type": "comment", "text": text}))
        await expect_error(ws, "INVALID", field)
        await ws.send(json.dumps({"type": "comment", "text": "长" * 200}))  # exactly 200 is fine
        assert (await recv_until(ws, lambda m: m["type"] in ("command.result", "error")))["type"] == "command.result"
    assert await seq_of(http, show["id"]) == seq + 1


async def test_a_banned_word_hides_the_comment_from_other_viewers_and_flags_it_for_staff(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    show = await live_show(http)
    sid = show["id"]
    a, b = await register(http, sid, "spam"), await register(http, sid, "ok")
    token = await staff_token(http, sid, "moderator")
    async with (ws_connect(live_server, sid) as wa, ws_connect(live_server, sid) as wb,
                ws_connect(live_server, sid) as staff):
        await hello(wa, token=a["token"])
        await hello(wb, token=b["token"])
        await hello(staff, token=token)
        await wa.send(json.dumps({"type": "comment", "text": "便宜 加微信 详聊"}))
        flagged = await recv_until(staff, lambda m: m["type"] == "comment.new")
        assert flagged["hidden"] is True and flagged["flagged"] == "加微信"
        assert flagged["viewer_id"] == a["viewer_id"]
        # its author sees it as a plain comment (as on Douyin: not told it is hidden)
        own = await recv_until(wa, lambda m: m["type"] == "comment.new")
        assert own["text"] == "便宜 加微信 详聊" and "hidden" not in own and "flagged" not in own
        # b sees the next comment, not the hidden one before it.
        await wb.send(json.dumps({"type": "comment", "text": "hello"}))
        seen = await recv_until(wa, lambda m: m["type"] == "comment.new")
        assert seen["text"] == "hello"
        seen_b = await recv_until(wb, lambda m: m["type"] == "comment.new")
        assert seen_b["text"] == "hello"
    async with ws_connect(live_server, sid) as late:  # nor in a later snapshot
        snap = await hello(late, token=b["token"])
    assert [c["text"] for c in snap["state"]["comments"]] == ["hello"]
    async with ws_connect(live_server, sid) as mine:  # the author's own snapshot keeps it
        snap = await hello(mine, token=a["token"])
    assert [c["text"] for c in snap["state"]["comments"]] == ["便宜 加微信 详聊", "hello"]


# -- what a viewer may not do ---------------------------------------------------------------------------------


async def test_a_viewer_sending_a_staff_command_is_forbidden_and_nothing_is_written(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    show = await live_show(http)
    v = await register(http, show["id"])
    async with ws_connect(live_server, show["id"]) as ws:
        await hello(ws, token=v["token"])
        await settled(live_server, show["id"])  # the join's viewers.tick is journaled by a tick: not this test's write
        seq = await seq_of(http, show["id"])
        for i, cmd in enumerate(({"type": "segment.next"}, {"type": "flash_sale.claim", "sale_id": "x"},
                                 {"type": "tick", "_likes": {v["viewer_id"]: 10**6}})):
            await ws.send(json.dumps({"type": "command", "request_id": i, "command": cmd}))
            err = await expect_error(ws, "FORBIDDEN")
            assert err["request_id"] == i
    assert await seq_of(http, show["id"]) == seq


async def test_a_viewer_token_of_another_show_is_refused(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    show, other = await live_show(http), await live_show(http)
    sale = await open_sale(http, show["id"])
    stranger = await register(http, other["id"])
    r = await http.post(f"/api/shows/{show['id']}/flash-sales/{sale['id']}/claims", json={"qty": 1},
                        headers={"Authorization": f"Bearer {stranger['token']}", "Idempotency-Key": "k1"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "UNAUTHORIZED"
    async with ws_connect(live_server, show["id"]) as ws:
        err = await hello(ws, token=stranger["token"])
        assert (err["type"], err["code"]) == ("error", "UNAUTHORIZED")
        assert await closed_code(ws) == 4401
    r = await http.get(f"/api/shows/{show['id']}/state")
    assert r.json()["flash_sales"][0]["remaining"] == 10


async def test_bad_socket_claims_get_errors_and_sell_nothing(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    show = await live_show(http)
    sale = await open_sale(http, show["id"])
    v = await register(http, show["id"])
    async with ws_connect(live_server, show["id"]) as ws:
        await hello(ws, token=v["token"])
        await settled(live_server, show["id"])  # the join's viewers.tick is journaled by a tick: not this test's write
        seq = await seq_of(http, show["id"])
        await ws.send(json.dumps({"type": "claim", "sale_id": sale["id"], "qty": 1}))
        await expect_error(ws, "INVALID", "request_id")
        await ws.send(json.dumps({"type": "claim", "sale_id": "fs999", "qty": 1, "request_id": "u"}))
        err = await expect_error(ws, "NOT_FOUND", "sale_id")
        assert err["request_id"] == "u"
        await ws.send(json.dumps({"type": "claim", "sale_id": sale["id"], "qty": 0, "request_id": "q"}))
        await expect_error(ws, "INVALID", "qty")
        await ws.send(json.dumps({"type": "claim", "sale_id": sale["id"], "qty": 1, "request_id": "z",
                                  "price": "0.01"}))
        await expect_error(ws, "INVALID")
    assert await seq_of(http, show["id"]) == seq


async def test_bad_http_claims_get_the_contract_errors(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    show = await live_show(http)
    sid = show["id"]
    sale = await open_sale(http, sid)
    v = await register(http, sid)
    seq = await seq_of(http, sid)
    auth = {"Authorization": f"Bearer {v['token']}"}
    url = f"/api/shows/{sid}/flash-sales/{sale['id']}/claims"
    r = await http.post(url, json={"qty": 1}, headers=auth)
    assert r.status_code == 422 and r.json()["error"]["field"] == "Idempotency-Key"
    r = await http.post(url, json={"qty": 1}, headers={"Authorization": "", "Idempotency-Key": "k"})
    assert r.status_code == 401
    r = await http.post(f"/api/shows/{sid}/flash-sales/fs999/claims", json={"qty": 1},
                        headers={**auth, "Idempotency-Key": "k"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"
    r = await http.post(url, json={"qty": 1, "price": "1"}, headers={**auth, "Idempotency-Key": "k"})
    assert r.status_code == 422
    r = await http.post(url, content=b"[1]", headers={**auth, "Idempotency-Key": "k"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "body"
    assert await seq_of(http, sid) == seq


async def test_an_idempotency_key_reused_for_another_qty_or_sale_is_422_and_writes_nothing(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    show = await live_show(http)
    sid = show["id"]
    sale = await open_sale(http, sid, per_viewer_limit=3)
    other = await open_sale(http, sid, sku="B2")
    v = await register(http, sid)
    headers = {"Authorization": f"Bearer {v['token']}", "Idempotency-Key": "k1"}
    url = f"/api/shows/{sid}/flash-sales/{sale['id']}/claims"
    first = await http.post(url, json={"qty": 1}, headers=headers)
    assert first.status_code == 200, first.text
    await settled(live_server, sid)  # the tick after a claim journals flash_sale.stock: not this test's write
    seq = await seq_of(http, sid)
    for path, qty in ((url, 2), (f"/api/shows/{sid}/flash-sales/{other['id']}/claims", 1)):
        r = await http.post(path, json={"qty": qty}, headers=headers)
        assert r.status_code == 422, r.text
        assert r.json()["error"]["code"] == "IDEMPOTENCY_MISMATCH"
        assert r.json()["error"]["field"] == "Idempotency-Key"
    assert await seq_of(http, sid) == seq
    again = await http.post(url, json={"qty": 1}, headers=headers)
    assert (again.status_code, again.json()) == (200, first.json())
    assert await seq_of(http, sid) == seq


async def test_a_flooding_viewer_is_closed_and_others_are_served(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    show = await live_show(http)
    v = await register(http, show["id"])
    async with ws_connect(live_server, show["id"]) as ws:
        await hello(ws, token=v["token"])
        try:
            for _ in range(400):
                await ws.send(json.dumps({"type": "like", "count": 1}))
        except ConnectionClosed:
            pass
        assert await closed_code(ws) == 1008
    async with ws_connect(live_server, show["id"]) as ws:
        await hello(ws, token=v["token"])
        await ws.send(json.dumps({"type": "ping", "t": 1}))
        assert (await recv_until(ws, lambda m: m["type"] == "pong"))["t"] == 1


# -- the server's clock decides -----------------------------------------------------------------------------------


async def test_a_claim_before_the_sale_opens_is_not_open_whatever_the_client_clock(
    live_server: LiveServer, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    show = await live_show(http)
    sid = show["id"]
    sale = await open_sale(http, sid, opens_in_seconds=60)
    v = await register(http, sid)
    clock.advance(59)
    async with ws_connect(live_server, sid) as ws:
        snap = await hello(ws, token=v["token"])
        [listed] = snap["state"]["flash_sales"]
        assert listed["status"] == "scheduled" and listed["opens_at"] - snap["server_time"] == 1000
        # A client whose clock runs 10 minutes ahead believes the sale is open.
        ahead = clock() + 600_000
        await ws.send(json.dumps({"type": "ping", "t": ahead}))
        pong = await recv_until(ws, lambda m: m["type"] == "pong")
        assert pong["server_time"] < sale["opens_at"] < ahead
        await settled(live_server, sid)  # the join's viewers.tick is journaled by a tick: not this test's write
        seq = await seq_of(http, sid)
        await ws.send(json.dumps({"type": "claim", "sale_id": sale["id"], "qty": 1, "request_id": "early"}))
        result = await recv_until(ws, lambda m: m["type"] == "claim.result")
        assert (result["ok"], result["code"], result["request_id"]) == (False, "NOT_OPEN", "early")
    r = await http.post(f"/api/shows/{sid}/flash-sales/{sale['id']}/claims", json={"qty": 1},
                        headers={"Authorization": f"Bearer {v['token']}", "Idempotency-Key": "early2",
                                 "Date": "Sat, 01 Jan 2050 00:00:00 GMT"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "NOT_OPEN"
    assert await seq_of(http, sid) == seq
    clock.advance(1)  # the server's clock reaches opens_at: now it sells
    r = await http.post(f"/api/shows/{sid}/flash-sales/{sale['id']}/claims", json={"qty": 1},
                        headers={"Authorization": f"Bearer {v['token']}", "Idempotency-Key": "on-time"})
    assert r.status_code == 200 and r.json()["ok"] is True, r.text
