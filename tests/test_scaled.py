"""The scaled mode for real: two and three ``python server.py`` processes on one
Redis and one PostgreSQL (each test under a Redis key prefix of its own).

Viewers here keep their socket as the pages' JS does: when it closes they
reconnect, to the next process as a load balancer might send them, with the
last seq they saw. So "every viewer recovers by itself" is checked as it
happens: each ends with exactly the journal's public events, in order.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from websockets.asyncio.client import connect

from live.core.commands import VISIBILITY
from tests.conftest import ADMIN, PRODUCTS, REDIS_URL, SEGMENTS, emptied, free_port, service_missing
from tests.scaled import RedisServer, Viewer, lease_holder, redis_answers
from tests.test_restart import ServerProcess
from tests.waiting import CEILING, areceive_until, eventually

HEADERS = {"Authorization": f"Bearer {ADMIN}"}
HANG = 2.0  # no request may take longer, whatever is down (DESIGN.md section 8)


@pytest.fixture
def scaled(pg_database: str, tmp_path: Path) -> Iterator[Callable[..., list[ServerProcess]]]:
    """Starts server processes in the scaled mode (side by side), sharing one
    emptied PostgreSQL database and a Redis key prefix of this test's own."""
    if not redis_answers(REDIS_URL):
        service_missing("Redis", f"nothing answers at {REDIS_URL}")
    database = emptied(pg_database)
    prefix = f"t{secrets.token_hex(5)}:"
    started: list[ServerProcess] = []

    def start(n: int, redis_url: str = REDIS_URL, lease_ms: int = 1500, **env: str) -> list[ServerProcess]:
        made = [ServerProcess(database, tmp_path / f"server-{len(started) + i}.log", REDIS_URL=redis_url,
                              LIVE_REDIS_PREFIX=prefix, LIVE_LEASE_MS=str(lease_ms),
                              LIVE_FORWARD_TIMEOUT_MS="1200", **env).launch() for i in range(n)]
        started.extend(made)
        return [p.ready() for p in made]

    yield start
    for server in started:
        server.stop()
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    client.close()


async def call(client: httpx.AsyncClient, method: str, path: str, hang: bool = False, **kwargs: Any) -> httpx.Response:
    """One request; with ``hang``, one that must be answered (whatever the answer)
    within HANG seconds, as every request must while Redis or a process is down."""
    began = time.monotonic()
    response = await client.request(method, path, **kwargs)
    took = time.monotonic() - began
    assert not hang or took < HANG, f"{method} {path} took {took:.2f} s: {response.status_code} {response.text}"
    return response


def clients(servers: list[ServerProcess]) -> list[httpx.AsyncClient]:
    return [httpx.AsyncClient(base_url=f"http://127.0.0.1:{s.port}", timeout=CEILING) for s in servers]


async def command(client: httpx.AsyncClient, sid: str, body: dict[str, Any], hang: bool = False) -> dict[str, Any]:
    r = await call(client, "POST", f"/api/shows/{sid}/commands", hang, json=body, headers=HEADERS)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def moving(r: httpx.Response) -> bool:
    """The show is moving to another process (or Redis is down): try again."""
    return r.status_code in (409, 503) and r.json()["error"]["code"] in ("NOT_OWNER", "UNAVAILABLE")


async def command_somewhere(http: list[httpx.AsyncClient], sid: str, body: dict[str, Any]) -> dict[str, Any]:
    """The command through whichever process answers it first (the show may be moving)."""
    async def done() -> dict[str, Any] | None:
        for client in http:
            try:
                r = await call(client, "POST", f"/api/shows/{sid}/commands", True, json=body, headers=HEADERS)
            except httpx.TransportError:
                continue
            if r.status_code == 200:
                return r.json()  # type: ignore[no-any-return]
            assert moving(r), r.text
        return None

    return await eventually(done, f"{body['type']} to be accepted")


async def new_show(http: list[httpx.AsyncClient], stock: int) -> tuple[str, str]:
    r = await call(http[0], "POST", "/api/shows", json={"title": "t", "products": PRODUCTS, "segments": SEGMENTS},
                   headers=HEADERS)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    await command(http[-1], sid, {"type": "show.start"})  # through another process: forwarded
    opened = await command(http[1], sid, {"type": "flash_sale.open", "sku": "A1", "price": "99", "stock": stock,
                                          "per_viewer_limit": 1, "duration_seconds": 3600})
    return sid, next(e["sale"]["id"] for e in opened["events"] if e["type"] == "flash_sale.opened")


async def register(http: list[httpx.AsyncClient], sid: str, n: int) -> list[str]:
    async def one(i: int) -> str:
        async def registered() -> str | None:
            r = await call(http[i % len(http)], "POST", f"/api/shows/{sid}/viewers", json={"nickname": f"v{i}"})
            if moving(r):  # a busy machine: the owner did not answer in time; the 503 says try again
                return None
            assert r.status_code == 201, r.text
            return str(r.json()["token"])

        return await eventually(registered, "a registration to be answered")

    return list(await asyncio.gather(*(one(i) for i in range(n))))


async def claim(client: httpx.AsyncClient, sid: str, sale: str, token: str, key: str, hang: bool = False,
                ) -> httpx.Response:
    return await call(client, "POST", f"/api/shows/{sid}/flash-sales/{sale}/claims", hang, json={"qty": 1},
                      headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key})


async def journal(client: httpx.AsyncClient, sid: str) -> list[dict[str, Any]]:
    r = await client.get(f"/api/shows/{sid}/events", headers=HEADERS)
    assert r.status_code == 200, r.text
    return [json.loads(line) for line in r.text.splitlines() if line]


async def all_caught_up(viewers: list[Viewer], seq: int) -> bool:
    return all(v.last_seq is not None and v.last_seq >= seq for v in viewers)


async def check_viewers(http: list[httpx.AsyncClient], sid: str, viewers: list[Viewer], upto: int) -> None:
    """Every viewer saw exactly the journal's public events up to ``upto``, in order."""
    try:
        await eventually(lambda: all_caught_up(viewers, upto), f"every viewer to reach seq {upto}")
    except AssertionError:
        raise AssertionError([(v.at, v.connects, v.closes, v.last_seq, v.events[-3:]) for v in viewers]) from None
    events = await journal(http[0], sid)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))  # one writer: no seq twice, none missing
    start = max(v.start_seq for v in viewers)
    public = [(e["seq"], e["type"]) for e in events if start < e["seq"] <= upto and VISIBILITY[e["type"]] == "public"]
    for viewer in viewers:
        assert [e for e in viewer.events if start < e[0] <= upto] == public, (
            viewer.at, viewer.connects, viewer.closes, [e for e in viewer.events if start < e[0] <= upto], public)
        assert viewer.fresh_snapshots == 0  # every reconnect replayed what it missed


async def test_viewers_on_three_processes_see_one_order_and_a_claim_burst_sells_exactly_the_stock(
    scaled: Callable[..., list[ServerProcess]],
) -> None:
    servers = scaled(3)
    ports = [s.port for s in servers]
    http = clients(servers)
    sid, sale = await new_show(http, stock=12)
    tokens = await register(http, sid, 45)
    viewers = [Viewer(ports, sid, tokens[i], first=i) for i in range(6)]  # two on each process
    await eventually(lambda: all_caught_up(viewers, 0), "every viewer's snapshot")
    answers = await asyncio.gather(*(claim(http[i % 3], sid, sale, t, f"k{i}") for i, t in enumerate(tokens)))
    won = [r.json() for r in answers if r.status_code == 200]
    assert len(won) == 12, [r.text for r in answers if r.status_code != 200][:3]
    assert {r.json()["error"]["code"] for r in answers if r.status_code != 200} == {"SOLD_OUT"}
    await command(http[2], sid, {"type": "segment.next"})
    last = await command(http[1], sid, {"type": "product.pin", "sku": "B2"})
    await check_viewers(http, sid, viewers, last["seq"])
    # Staff on a process that does not own the show get stats.tick with the same numbers
    # (each process counts them from its replica of the journal).
    async with connect(f"ws://127.0.0.1:{ports[2]}/ws/shows/{sid}") as staff:
        await staff.send(json.dumps({"type": "hello", "token": ADMIN}))
        tick = await areceive_until(staff, lambda m: m["type"] == "stats.tick")
    review = (await http[0].get(f"/api/shows/{sid}/review", headers=HEADERS)).json()["metrics"]
    assert (tick["orders"], tick["units"], tick["gmv"]) == (12, 12, "1188.00")
    assert (review["orders"], review["units"], review["gmv"]) == (12, 12, "1188.00")  # the owner's review says the same
    orders = [e for e in await journal(http[0], sid) if e["type"] == "flash_sale.claimed"]
    assert sorted(o["order_id"] for o in orders) == sorted(w["order_id"] for w in won)
    for v in viewers:
        await v.stop()
    for c in http:
        await c.aclose()


async def owner_index(servers: list[ServerProcess], http: list[httpx.AsyncClient], sid: str) -> int:
    """Which of the processes owns the show now (its lease names the owner's node).
    Usually the one that created it, but a busy machine may starve a process past
    its lease, and then the show moves: the tests ask rather than assume."""
    holder = lease_holder(servers[0], sid)
    nodes = [await node_of(client) for client in http]
    assert holder in nodes, (holder, nodes)
    return nodes.index(holder)


async def node_of(client: httpx.AsyncClient) -> str:
    r = await client.get("/readyz")
    assert r.status_code == 200, r.text
    return str(r.json()["node"])


async def test_kill_9_of_the_owner_moves_the_show_and_every_viewer_recovers_by_itself(
    scaled: Callable[..., list[ServerProcess]],
) -> None:
    servers = scaled(3)
    ports = [s.port for s in servers]
    http = clients(servers)
    sid, sale = await new_show(http, stock=20)
    assert lease_holder(servers[0], sid) == await node_of(http[0])  # the process that created it owns it
    tokens = await register(http, sid, 40)
    viewers = [Viewer(ports, sid, tokens[i], first=i) for i in range(6)]
    await eventually(lambda: all_caught_up(viewers, 0), "every viewer's snapshot")
    first = await asyncio.gather(*(claim(http[i % 3], sid, sale, t, f"a{i}") for i, t in enumerate(tokens[:10])))
    acked = [r.json()["order_id"] for r in first if r.status_code == 200]
    assert len(acked) == 10
    moved = await command(http[1], sid, {"type": "segment.next"})

    owner = await owner_index(servers, http, sid)
    servers[owner].kill9()
    survivors = [c for i, c in enumerate(http) if i != owner]
    after = await command_somewhere(survivors, sid, {"type": "product.pin", "sku": "B2"})
    assert after["events"][0]["seq"] > moved["seq"]
    assert lease_holder(servers[owner - 1], sid) in {await node_of(c) for c in survivors}

    async def claimed(i: int, token: str) -> httpx.Response:
        async def answered() -> httpx.Response | None:
            r = await claim(survivors[i % 2], sid, sale, token, f"b{i}", hang=True)
            return None if moving(r) else r  # retried with the same key: claims are idempotent

        return await eventually(answered, "a claim to be answered")

    second = await asyncio.gather(*(claimed(i, t) for i, t in enumerate(tokens[10:])))
    assert sum(r.status_code == 200 for r in second) == 10 and len(acked) + 10 == 20
    last = await command(survivors[0], sid, {"type": "segment.next"})
    await check_viewers(survivors, sid, viewers, last["seq"])
    assert sum(v.connects > 1 for v in viewers) >= 2  # the two viewers of the dead process reconnected
    orders = {e["order_id"] for e in await journal(survivors[0], sid) if e["type"] == "flash_sale.claimed"}
    assert set(acked) <= orders and len(orders) == 20  # nothing acknowledged lost, nothing oversold
    for v in viewers:
        await v.stop()
    for c in http:
        await c.aclose()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    binary = shutil.which("redis-server") or ("/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None)
    if binary is None:
        service_missing("redis-server", "no redis-server binary to start and restart")
        raise AssertionError  # (service_missing does not return)
    server = RedisServer(binary, tmp_path).start()
    yield server
    server.kill()


async def test_a_redis_restart_during_a_sale_never_oversells_never_hangs_and_fan_out_recovers(
    own_redis: RedisServer, scaled: Callable[..., list[ServerProcess]],
) -> None:
    servers = scaled(2, redis_url=own_redis.url)
    ports = [s.port for s in servers]
    http = clients(servers)
    sid, sale = await new_show(http, stock=15)
    tokens = await register(http, sid, 40)
    viewers = [Viewer(ports, sid, tokens[i], first=i) for i in range(4)]
    await eventually(lambda: all_caught_up(viewers, 0), "every viewer's snapshot")
    first = await asyncio.gather(*(claim(http[i % 2], sid, sale, t, f"a{i}") for i, t in enumerate(tokens[:6])))
    assert [r.status_code for r in first] == [200] * 6

    owner = await owner_index(servers, http, sid)
    other = 1 - owner
    own_redis.kill()
    # Redis down: the owner still answers from the journal; the other process
    # answers 503 at once. No request waits over HANG seconds (``call``).
    down = await asyncio.gather(*(claim(http[owner if i % 2 == 0 else other], sid, sale, t, f"b{i}", hang=True)
                                  for i, t in enumerate(tokens[6:12])))
    assert {r.status_code for r in down[0::2]} == {200} and {r.status_code for r in down[1::2]} == {503}
    assert {r.json()["error"]["code"] for r in down[1::2]} == {"UNAVAILABLE"}
    during = await command(http[owner], sid, {"type": "segment.next"}, hang=True)
    r = await call(http[other], "GET", "/readyz", True)
    assert r.status_code == 503 and r.json()["checks"]["redis"] != "ok"

    own_redis.start()
    # Fan-out resumes and the gap is recovered: the other process's viewers get what they missed.
    await eventually(lambda: all_caught_up(viewers, during["seq"]), "the viewers to catch up after the restart")

    async def claimed(i: int, token: str, key: str) -> httpx.Response:
        async def answered() -> httpx.Response | None:
            r = await claim(http[owner if i % 2 == 0 else other], sid, sale, token, key, hang=True)
            return None if moving(r) else r

        return await eventually(answered, "a claim to be answered")

    retried = [claimed(i, t, f"b{i}") for i, t in enumerate(tokens[6:12]) if i % 2 == 1]
    later = [claimed(i, t, f"c{i}") for i, t in enumerate(tokens[12:])]
    answers = await asyncio.gather(*retried, *later)
    won = 6 + 3 + sum(r.status_code == 200 for r in answers)
    assert won == 15
    assert {r.json()["error"]["code"] for r in answers if r.status_code != 200} == {"SOLD_OUT"}
    last = await command_somewhere(http, sid, {"type": "product.pin", "sku": "B2"})
    await check_viewers(http, sid, viewers, last["seq"])
    assert len([e for e in await journal(http[0], sid) if e["type"] == "flash_sale.claimed"]) == 15
    for v in viewers:
        await v.stop()
    for c in http:
        await c.aclose()


async def test_sigterm_hands_the_show_over_at_once_and_tells_sockets_to_reconnect(
    scaled: Callable[..., list[ServerProcess]],
) -> None:
    servers = scaled(2, lease_ms=120_000)  # far past the wait's ceiling: only a handover moves the show in time
    ports = [s.port for s in servers]
    http = clients(servers)
    sid, _ = await new_show(http, stock=5)
    tokens = await register(http, sid, 4)
    viewers = [Viewer(ports, sid, tokens[i], first=i) for i in range(4)]
    await eventually(lambda: all_caught_up(viewers, 0), "every viewer's snapshot")
    assert lease_holder(servers[0], sid) == await node_of(http[0])
    servers[0].stop()  # SIGTERM, and wait for it to exit (uvicorn re-raises the signal once it has shut down)
    moved = await command_somewhere(http[1:], sid, {"type": "segment.next"})
    assert lease_holder(servers[1], sid) == await node_of(http[1])
    assert (1012, "server restarting: reconnect") in [c for v in viewers for c in v.closes]
    await check_viewers(http[1:], sid, viewers, moved["seq"])
    for v in viewers:
        await v.stop()
    for c in http:
        await c.aclose()


async def test_processes_share_one_port_with_so_reuseport(scaled: Callable[..., list[ServerProcess]]) -> None:
    port = free_port()
    servers = scaled(2, LIVE_PORT=str(port), LIVE_REUSE_PORT="1")
    assert [s.port for s in servers] == [port, port]
    seen: set[str] = set()

    async def both_answered() -> bool:
        # a new connection each time: the kernel spreads them over the two listeners
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=CEILING) as client:
            seen.add(await node_of(client))
        return len(seen) == 2

    await eventually(both_answered, "both processes to answer on the one port")
