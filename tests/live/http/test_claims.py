"""The flash-sale load test over REAL sockets and HTTP, on SQLite and PostgreSQL.

Five hundred viewers claim twenty units at once, half over websockets and
half over HTTP (a connection each), some greedily (more distinct claims than
the per-viewer limit), some retrying the same ``request_id`` /
``Idempotency-Key`` concurrently: over a thousand claims, more than fifty per
unit, so the stock runs out in the middle of the rush. The stock is never
oversold, every claimant is answered, and the journal agrees with the answers.
(``scripts/bench/claims.py`` runs ten thousand viewers.)

Registration rate limit: each app's limiter lets one client address register
a burst of ``live.http.web.REGISTRATIONS_BURST`` viewers at once. The test
keeps that production limit (each test has its own app, so earlier tests do not
count) and spreads its registrations over source addresses 127.0.0.2,
127.0.0.3, … (all of 127/8 is loopback on Linux), 30 per address: within the
burst, so no registration waits for the bucket to refill, however slow the
machine.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2 as httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from live.adapters.db import open_database
from live.adapters.journal import Journal
from live.http.web import REGISTRATIONS_BURST
from server import create_app
from tests.conftest import PRODUCTS, SEGMENTS, LiveServer, admin_headers, make_settings
from tests.waiting import CEILING, Deadline

TIMEOUT = CEILING
STOCK = 20
LIMIT = 2  # per viewer
SOCKET_VIEWERS = 250
HTTP_VIEWERS = 250
PER_ADDRESS = 30  # fewer than one address may register at once (REGISTRATIONS_BURST)


# -- helpers shared with the other viewer tests -----------------------------------------------


def source_address(i: int) -> str:
    """The i-th loopback source address, from 127.0.0.2 on (127.0.0.1 is the tests' own)."""
    n = i + 2
    return f"127.0.{n // 256}.{n % 256}"


async def register_viewers(base_url: str, sid: str, count: int, prefix: str = "v") -> list[dict[str, Any]]:
    """Register ``count`` viewers over HTTP, PER_ADDRESS per source address, and
    return their ``{viewer_id, token, nickname}`` in order."""
    assert PER_ADDRESS <= REGISTRATIONS_BURST  # else an address waits for its bucket to refill
    out: list[dict[str, Any]] = [{} for _ in range(count)]

    async def one_address(a: int) -> None:
        transport = httpx.AsyncHTTPTransport(local_address=source_address(a))
        async with httpx.AsyncClient(base_url=base_url, transport=transport, trust_env=False, timeout=TIMEOUT) as c:
            async def reg(i: int) -> None:
                r = await c.post(f"/api/shows/{sid}/viewers", json={"nickname": f"{prefix}{i}"})
                assert r.status_code == 201, r.text
                out[i] = r.json()

            await asyncio.gather(*(reg(i) for i in range(a * PER_ADDRESS, min(count, (a + 1) * PER_ADDRESS))))

    addresses = (count + PER_ADDRESS - 1) // PER_ADDRESS
    sem = asyncio.Semaphore(16)

    async def limited(a: int) -> None:
        async with sem:
            await one_address(a)

    await asyncio.gather(*(limited(a) for a in range(addresses)))
    return out


async def recv_json(ws: ClientConnection, timeout: float = TIMEOUT) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))  # type: ignore[no-any-return]


async def open_viewer_socket(server: LiveServer, sid: str, token: str) -> tuple[ClientConnection, dict[str, Any]]:
    """A viewer socket after its hello; returns it with the snapshot."""
    ws = await connect(f"{server.ws_url}/ws/shows/{sid}", proxy=None, open_timeout=TIMEOUT, max_size=None)
    await ws.send(json.dumps({"type": "hello", "token": token}))
    snap = await recv_json(ws)
    assert snap["type"] == "snapshot", snap
    return ws, snap


async def journal_events(db_url: str, sid: str) -> list[dict[str, Any]]:
    """The show's journal read straight from the database (not through the server)."""
    engine = await open_database(db_url)
    try:
        return await Journal(engine).load(sid)
    finally:
        await engine.dispose()


@pytest.fixture
def db_server(db_url: str) -> Iterator[LiveServer]:
    """The app on a real port over SQLite or PostgreSQL, wall clock."""
    # 250 viewer sockets from the tests' own address: the per-address hello limit is not what this tests
    server = LiveServer(create_app(make_settings(db_url, hellos_per_minute=1_000_000))).start()
    yield server
    server.stop()


@pytest.fixture
async def admin(db_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=db_server.url, headers=admin_headers(), trust_env=False,
                                 timeout=TIMEOUT) as c:
        yield c


async def live_show_with_sale(admin: httpx.AsyncClient, stock: int, limit: int) -> tuple[str, str]:
    """A live show with one open flash sale; returns (show id, sale id)."""
    r = await admin.post("/api/shows", json={"title": "Claims", "products": PRODUCTS, "segments": SEGMENTS})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    r = await admin.post(f"/api/shows/{sid}/commands", json={"type": "show.start"})
    assert r.status_code == 200, r.text
    r = await admin.post(f"/api/shows/{sid}/commands", json={
        "type": "flash_sale.open", "sku": "A1", "price": "99", "stock": stock, "per_viewer_limit": limit,
        "duration_seconds": 600})
    assert r.status_code == 200, r.text
    sale = next(e for e in r.json()["events"] if e["type"] == "flash_sale.opened")["sale"]
    return sid, sale["id"]


Answer = tuple[bool, str]  # (ok, order_id or losing code)


async def socket_claims(ws: ClientConnection, sale_id: str, request_ids: list[str]) -> dict[str, list[Answer]]:
    """Send every claim at once, then read until each has its answer."""
    for rid in request_ids:
        await ws.send(json.dumps({"type": "claim", "sale_id": sale_id, "qty": 1, "request_id": rid}))
    answers: dict[str, list[Answer]] = defaultdict(list)
    deadline = Deadline(TIMEOUT)
    got = 0
    while got < len(request_ids):
        msg = await recv_json(ws, deadline.left())
        if msg["type"] == "claim.result":
            answers[msg["request_id"]].append((True, msg["order_id"]) if msg["ok"] else (False, msg["code"]))
            got += 1
        elif msg["type"] == "error":
            answers[msg["request_id"]].append((False, msg["code"]))
            got += 1
    return answers


async def http_claim(c: httpx.AsyncClient, sid: str, sale_id: str, token: str, key: str) -> Answer:
    r = await c.post(f"/api/shows/{sid}/flash-sales/{sale_id}/claims", json={"qty": 1},
                     headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key})
    if r.status_code == 200:
        body = r.json()
        assert body["ok"] is True
        return True, body["order_id"]
    assert r.status_code == 409, r.text
    return False, r.json()["error"]["code"]


def plan(i: int) -> list[str]:
    """Viewer i's claims: two distinct ones (the limit), a third distinct one for
    every 5th viewer (greedy), and a concurrent retry of the first for every 10th."""
    rids = [f"r{i}-a", f"r{i}-b"]
    if i % 5 == 0:
        rids.append(f"r{i}-c")
    if i % 10 == 1:
        rids.append(f"r{i}-a")
    return rids


# -- the load test -------------------------------------------------------------------------------------


async def test_a_rush_of_concurrent_claims_sells_exactly_the_stock(
    db_server: LiveServer, admin: httpx.AsyncClient, db_url: str
) -> None:
    sid, sale_id = await live_show_with_sale(admin, STOCK, LIMIT)
    viewers = await register_viewers(db_server.url, sid, SOCKET_VIEWERS + HTTP_VIEWERS)
    sockets = [v for v in viewers[:SOCKET_VIEWERS]]
    https = [v for v in viewers[SOCKET_VIEWERS:]]
    sem = asyncio.Semaphore(100)

    async def opened(v: dict[str, Any]) -> ClientConnection:
        async with sem:
            ws, snap = await open_viewer_socket(db_server, sid, v["token"])
            assert snap["me"]["viewer_id"] == v["viewer_id"]
            return ws

    conns = await asyncio.gather(*(opened(v) for v in sockets))
    limits = httpx.Limits(max_connections=HTTP_VIEWERS, max_keepalive_connections=HTTP_VIEWERS)
    answers: dict[tuple[str, str], list[Answer]] = defaultdict(list)  # (viewer_id, request_id) → answers
    try:
        async with httpx.AsyncClient(base_url=db_server.url, trust_env=False, timeout=TIMEOUT, limits=limits) as c:
            go = asyncio.Event()

            async def by_socket(i: int) -> None:
                await go.wait()
                got = await socket_claims(conns[i], sale_id, plan(i))
                for rid, a in got.items():
                    answers[(sockets[i]["viewer_id"], rid)].extend(a)

            async def by_http(i: int, rid: str) -> None:
                await go.wait()
                v = https[i]
                answers[(v["viewer_id"], rid)].append(await http_claim(c, sid, sale_id, v["token"], rid))

            tasks = [asyncio.ensure_future(by_socket(i)) for i in range(SOCKET_VIEWERS)]
            tasks += [asyncio.ensure_future(by_http(i, rid)) for i in range(HTTP_VIEWERS) for rid in plan(i)]
            sent = sum(len(plan(i)) for i in range(SOCKET_VIEWERS)) + sum(len(plan(i)) for i in range(HTTP_VIEWERS))
            assert sent > 50 * STOCK  # 1150 claims for 20 units
            started = time.monotonic()
            go.set()
            await asyncio.gather(*tasks)
            elapsed = time.monotonic() - started

            # Every claimant got exactly one answer per claim sent.
            assert sum(len(a) for a in answers.values()) == sent
            codes = Counter(a[1] for lst in answers.values() for a in lst if not a[0])
            # A claim after the last unit is SOLD_OUT (not ENDED, though the sale closed on it).
            assert set(codes) <= {"SOLD_OUT", "LIMIT_REACHED"}, codes
            # A retry of the same request_id got the same answer, won or lost.
            for key, lst in answers.items():
                assert len(set(lst)) == 1, (key, lst)
            wins = {key: lst[0][1] for key, lst in answers.items() if lst[0][0]}
            assert len(wins) == STOCK
            assert len(set(wins.values())) == STOCK  # one order per winning claim
            per_viewer = Counter(vid for vid, _ in wins)
            assert max(per_viewer.values()) <= LIMIT

            # After the rush, retries (socket and HTTP alike) still get the same order.
            by_id = {v["viewer_id"]: v for v in viewers}
            for (vid, rid), order_id in list(wins.items())[:20]:
                assert await http_claim(c, sid, sale_id, by_id[vid]["token"], rid) == (True, order_id)
            sock_index = {v["viewer_id"]: i for i, v in enumerate(sockets)}
            sock_wins = [(k, o) for k, o in wins.items() if k[0] in sock_index][:10]
            for (vid, rid), order_id in sock_wins:
                got = await socket_claims(conns[sock_index[vid]], sale_id, [rid])
                assert got[rid] == [(True, order_id)]

            r = await admin.get(f"/api/shows/{sid}/state")
            sale = next(s for s in r.json()["flash_sales"] if s["id"] == sale_id)
            assert sale["remaining"] == 0 and sale["status"] == "closed"
    finally:
        await asyncio.gather(*(ws.close() for ws in conns), return_exceptions=True)

    events = await journal_events(db_url, sid)
    claimed = [e for e in events if e["type"] == "flash_sale.claimed"]
    assert len(claimed) == STOCK
    assert {(e["viewer_id"], e["request_id"]): e["order_id"] for e in claimed} == wins
    assert sum(e["qty"] for e in claimed) == STOCK and min(e["remaining"] for e in claimed) == 0
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    closed = [e for e in events if e["type"] == "flash_sale.closed"]
    assert [(e["sale_id"], e["reason"]) for e in closed] == [(sale_id, "sold_out")]
    print(f"\n{db_url.split(':')[0]}: {sent} claims answered in {elapsed:.2f} s; losers {dict(codes)}")


async def test_concurrent_claims_of_one_viewer_stop_at_the_limit_and_retries_share_one_order(
    db_server: LiveServer, admin: httpx.AsyncClient, db_url: str
) -> None:
    """With stock to spare, only the limit stops a viewer: each of 20 viewers fires 5
    distinct claims at once (socket and HTTP mixed) plus 3 copies of one of them."""
    sid, sale_id = await live_show_with_sale(admin, 1000, LIMIT)
    viewers = await register_viewers(db_server.url, sid, 20)
    conns = [(await open_viewer_socket(db_server, sid, v["token"]))[0] for v in viewers]
    answers: dict[tuple[str, str], list[Answer]] = defaultdict(list)
    try:
        async with httpx.AsyncClient(base_url=db_server.url, trust_env=False, timeout=TIMEOUT) as c:
            async def viewer(i: int) -> None:
                v = viewers[i]
                sock = asyncio.ensure_future(socket_claims(conns[i], sale_id, ["s1", "s2", "dup", "dup"]))
                https = [asyncio.ensure_future(http_claim(c, sid, sale_id, v["token"], k))
                         for k in ("h1", "h2", "h3", "dup")]
                for rid, lst in (await sock).items():
                    answers[(v["viewer_id"], rid)].extend(lst)
                for k, task in zip(("h1", "h2", "h3", "dup"), https, strict=True):
                    answers[(v["viewer_id"], k)].append(await task)

            await asyncio.gather(*(viewer(i) for i in range(len(viewers))))
    finally:
        await asyncio.gather(*(ws.close() for ws in conns), return_exceptions=True)
    for v in viewers:
        mine = {rid: lst for (vid, rid), lst in answers.items() if vid == v["viewer_id"]}
        assert sorted(mine) == ["dup", "h1", "h2", "h3", "s1", "s2"]
        assert len(mine["dup"]) == 3 and len(set(mine["dup"])) == 1  # three copies, one answer
        won = [rid for rid, lst in mine.items() if lst[0][0]]
        assert len(won) == LIMIT, mine
        assert all(lst[0] == (False, "LIMIT_REACHED") for rid, lst in mine.items() if rid not in won)
    events = await journal_events(db_url, sid)
    claimed = [e for e in events if e["type"] == "flash_sale.claimed"]
    assert len(claimed) == LIMIT * len(viewers)
    assert Counter(e["viewer_id"] for e in claimed) == {v["viewer_id"]: LIMIT for v in viewers}
