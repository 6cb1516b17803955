"""The scaled mode's logic with several nodes in one event loop, on both broker
twins (memory and Redis) and one journal: a follower relays the owner's events
in order and forwards what only the owner decides; claims spread over the
nodes never oversell; a dead owner's show moves when its lease expires, a
released one at once; a stale owner steps down on a taken seq; viewer sockets
held by a follower count at the owner. (Real processes: tests/test_scaled.py.)"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from live.adapters.bus import MemoryBus
from live.adapters.db import open_database
from live.adapters.journal import FencingError, Journal
from live.core.auth import Principal
from live.core.errors import Unavailable
from live.core.show import parse_show_config
from live.runtime.fleet import FleetShows
from live.runtime.follower import Follower
from live.runtime.node import Node
from tests.conftest import PRODUCTS, SEGMENTS, FakeClock
from tests.live.conftest import Brokers
from tests.waiting import CEILING, eventually

ADMIN = Principal("admin", None, "admin")
SHOW = "sfleet1"
LEASE_MS = 600  # rounds every 200 ms: a dead owner's show moves in about a second


class Fleet:
    """Nodes sharing one journal and one broker service (each node its own connection)."""

    def __init__(self, journal: Journal, brokers: Brokers, clock: FakeClock) -> None:
        self.journal = journal
        self.brokers = brokers
        self.clock = clock
        self.nodes: list[FleetShows] = []

    def node(self, lease_ms: int = LEASE_MS, timeout: float = 1.0) -> FleetShows:
        node = Node(self.brokers(), prefix=self.brokers.prefix, timeout=timeout, stream_length=100, block_ms=200)
        shows = FleetShows(self.journal, MemoryBus(), self.clock, node, lease_ms=lease_ms, secret=b"s", tick=False)
        shows.start()
        self.nodes.append(shows)
        return shows

    async def close(self) -> None:
        for shows in self.nodes:
            await shows.close()


async def crash(shows: FleetShows) -> None:
    """Like kill -9: everything stops, nothing is handed over or told."""
    shows.closed = shows.node.closing = True
    tasks = [*shows._tasks, *shows.node._tasks]
    for task in tasks:
        task.cancel()
    await asyncio.wait(tasks, timeout=CEILING)
    for engine in shows._engines.values():
        await engine.stop()
        engine.fenced = True
    shows._engines.clear()


@pytest.fixture
async def fleet(tmp_path: Path, brokers: Brokers, clock: FakeClock) -> AsyncIterator[Fleet]:
    engine = await open_database(f"sqlite:///{tmp_path / 'live.db'}")
    made = Fleet(Journal(engine), brokers, clock)
    yield made
    await made.close()
    await engine.dispose()


async def create(shows: FleetShows) -> None:
    await shows.create(SHOW, "ov_key", parse_show_config({"title": "t"}), PRODUCTS, SEGMENTS)


async def seq_when(shows: FleetShows, seq: int) -> bool:
    return (await shows.get(SHOW)).state.seq >= seq


async def drain(sub: Any) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    while not sub.queue.empty():
        item = await sub.get()
        out.append((item.seq, item.event["type"]))
    return out


async def test_a_follower_relays_the_owners_events_in_order(fleet: Fleet) -> None:
    a, b = fleet.node(), fleet.node()
    await create(a)
    follower = await b.get(SHOW)
    assert isinstance(follower, Follower) and a.owns(SHOW) and not b.owns(SHOW)
    here, there = a.bus.subscribe(SHOW), b.bus.subscribe(SHOW)
    owner = await a.get(SHOW)
    for command in ({"type": "show.start"}, {"type": "segment.next"}, {"type": "product.pin", "sku": "B2"}):
        await owner.execute(command, ADMIN)
    await eventually(lambda: seq_when(b, owner.state.seq), "the follower to hold every seq")
    seen_here, seen_there = await drain(here), await drain(there)
    assert seen_there == seen_here and [t for _, t in seen_here][:1] == ["show.started"]
    assert follower.state.pinned_sku == "B2" and follower.state.current == 1
    assert follower.epoch == owner.epoch
    assert [e["seq"] for e in follower.history] == [e["seq"] for e in owner.history]


async def test_a_command_sent_to_a_follower_is_decided_by_the_owner_and_read_back_there(fleet: Fleet) -> None:
    a, b = fleet.node(), fleet.node()
    await create(a)
    follower = await b.get(SHOW)
    events = await follower.execute({"type": "show.start"}, ADMIN)
    assert [e["type"] for e in events][:1] == ["show.started"]
    assert follower.state.status == "live" and follower.state.seq == events[-1]["seq"]  # its own write, read back
    assert (await a.get(SHOW)).state.seq == events[-1]["seq"]
    assert [e["seq"] for e in await fleet.journal.load(SHOW)] == list(range(1, events[-1]["seq"] + 1))
    with pytest.raises(Exception) as refused:  # the owner's refusal, rebuilt as itself
        await follower.execute({"type": "segment.goto", "index": 99}, ADMIN)
    assert refused.value.__class__.__name__ in ("Invalid", "Conflict", "NotFound")
    assert (await a.get(SHOW)).state.seq == events[-1]["seq"]


async def test_claims_spread_over_the_nodes_never_oversell(fleet: Fleet) -> None:
    nodes = [fleet.node(), fleet.node(), fleet.node()]
    await create(nodes[0])
    engines = [await n.get(SHOW) for n in nodes]
    await engines[1].execute({"type": "show.start"}, ADMIN)
    opened = await engines[2].execute({"type": "flash_sale.open", "sku": "A1", "price": "99", "stock": 7,
                                        "per_viewer_limit": 1, "duration_seconds": 600}, ADMIN)
    sale_id = next(e["sale"]["id"] for e in opened if e["type"] == "flash_sale.opened")
    viewers = [(engines[i % 3], (await engines[i % 3].register(f"v{i}", False))[0]) for i in range(30)]
    answers = await asyncio.gather(*(engine.claim(viewer, {"sale_id": sale_id, "qty": 1, "request_id": f"r{n}"})
                                     for n, (engine, viewer) in enumerate(viewers)))
    won = [a for a in answers if a["ok"]]
    assert len(won) == 7 and {a["code"] for a in answers if not a["ok"]} == {"SOLD_OUT"}
    claims = [e for e in await fleet.journal.load(SHOW) if e["type"] == "flash_sale.claimed"]
    assert len(claims) == 7 and sorted(c["order_id"] for c in claims) == sorted(a["order_id"] for a in won)


async def test_without_an_owner_a_request_fails_in_time_and_the_show_moves_when_the_lease_expires(
    fleet: Fleet,
) -> None:
    a, b = fleet.node(), fleet.node(timeout=0.5)
    await create(a)
    follower = await b.get(SHOW)
    started = await follower.execute({"type": "show.start"}, ADMIN)
    await crash(a)
    began = time.monotonic()
    with pytest.raises(Unavailable) as refused:
        await follower.execute({"type": "segment.next"}, ADMIN)
    assert time.monotonic() - began < 2.0 and refused.value.status == 503
    await eventually(lambda: _owns(b), "the follower to take the expired lease")
    moved = await (await b.get(SHOW)).execute({"type": "segment.next"}, ADMIN)
    assert moved[0]["seq"] == started[-1]["seq"] + 1  # rebuilt from the journal: nothing lost, no seq twice


async def _owns(shows: FleetShows) -> bool:
    return shows.owns(SHOW)


async def test_a_released_show_is_taken_at_once_not_after_the_lease(fleet: Fleet) -> None:
    long = 120_000  # far beyond the test's ceiling: only the release can explain a takeover
    a, b = fleet.node(lease_ms=long), fleet.node(lease_ms=long)
    await create(a)
    follower = await b.get(SHOW)
    await follower.execute({"type": "show.start"}, ADMIN)
    await a.handover()
    await eventually(lambda: _owns(b), "the follower to take the released show", ceiling=CEILING)
    assert a.leaving and not a.owns(SHOW)
    engine = await a.get(SHOW)  # the leaving process follows, and forwards
    await engine.execute({"type": "segment.next"}, ADMIN)
    assert (await b.get(SHOW)).state.current == 1


async def test_a_stale_owner_steps_down_when_its_seq_is_taken(fleet: Fleet) -> None:
    long = 120_000  # no lease round interferes: the journal's key alone must fence the stale owner
    a, b = fleet.node(lease_ms=long), fleet.node(lease_ms=long)
    await create(a)
    stale = await a.get(SHOW)
    await stale.execute({"type": "show.start"}, ADMIN)
    # The lease moves to b behind a's back (a paused past its lease, say).
    assert await b.node.broker.drop(a.node.lease(SHOW), a._tokens[SHOW])
    await b.get(SHOW)
    await b._try_take(SHOW)
    assert b.owns(SHOW)
    moved = await (await b.get(SHOW)).execute({"type": "segment.next"}, ADMIN)
    with pytest.raises(FencingError):
        await stale.execute({"type": "product.pin", "sku": "B2"}, ADMIN)
    assert stale.fenced
    now = await a.get(SHOW)
    assert isinstance(now, Follower) and not a.owns(SHOW)
    await now.execute({"type": "product.pin", "sku": "B2"}, ADMIN)
    journal = await fleet.journal.load(SHOW)
    assert [e["seq"] for e in journal] == list(range(1, len(journal) + 1))
    assert moved[0]["seq"] < journal[-1]["seq"] and now.state.pinned_sku == "B2" == (await b.get(SHOW)).state.pinned_sku


async def test_viewer_sockets_held_by_a_follower_count_at_the_owner(fleet: Fleet) -> None:
    a, b = fleet.node(), fleet.node()
    await create(a)
    follower = await b.get(SHOW)
    await follower.execute({"type": "show.start"}, ADMIN)
    viewer, _ = await follower.register("v", False)
    owner = await a.get(SHOW)
    await b.connected(SHOW, viewer)
    assert owner.presence.sockets == {viewer: 1}
    assert owner.state.ledger.viewers[viewer].connected_since is not None  # joined, journaled
    b.disconnected(SHOW, viewer)
    await eventually(lambda: _leaving(owner, viewer), "the owner to hear the socket closed")
    follower.add_likes(viewer, 3)
    await eventually(lambda: _likes(owner, viewer), "the likes counted by the follower to reach the owner")


async def _leaving(engine: Any, viewer: str) -> bool:
    return viewer in engine.presence.leaving and not engine.presence.sockets


async def _likes(engine: Any, viewer: str) -> bool:
    return bool(engine.presence.pending_likes.get(viewer) == 3)


async def test_a_dead_processes_sockets_are_dropped_by_the_owner(fleet: Fleet) -> None:
    a, b = fleet.node(), fleet.node()
    await create(a)
    follower = await b.get(SHOW)
    viewer, _ = await follower.register("v", False)
    await b.connected(SHOW, viewer)
    owner = await a.get(SHOW)
    assert owner.presence.sockets == {viewer: 1}
    await crash(b)  # its heartbeat stops: after a lease the owner counts its sockets as dropped
    await eventually(lambda: _leaving(owner, viewer), "the owner to drop a dead process's sockets")


async def test_a_new_owner_hears_the_sockets_the_followers_hold(fleet: Fleet) -> None:
    a, b, c = fleet.node(), fleet.node(), fleet.node()
    await create(a)
    viewer, _ = await (await b.get(SHOW)).register("v", False)
    await c.get(SHOW)
    await b.connected(SHOW, viewer)
    await crash(a)
    await eventually(lambda: _any_owns(b, c), "another node to take the show")
    new = b if b.owns(SHOW) else c

    async def present() -> bool:
        return (await new.get(SHOW)).presence.sockets == {viewer: 1}

    await eventually(present, "the new owner to hear the socket held by b")
    assert not (await new.get(SHOW)).presence.leaving


async def _any_owns(*nodes: FleetShows) -> bool:
    return sum(n.owns(SHOW) for n in nodes) == 1


async def test_a_quiet_new_owner_catches_up_with_the_old_owners_last_append(fleet: Fleet) -> None:
    long = 120_000  # the lease rounds run when the test says
    a, b = fleet.node(lease_ms=long), fleet.node(lease_ms=long)
    await create(a)
    old = await a.get(SHOW)
    await old.execute({"type": "show.start"}, ADMIN)
    assert await b.node.broker.drop(a.node.lease(SHOW), a._tokens[SHOW])
    await b.get(SHOW)
    await b._try_take(SHOW)  # b rebuilds from the journal as it is now
    new = await b.get(SHOW)
    seen = b.bus.subscribe(SHOW)
    late = await old.execute({"type": "segment.next"}, ADMIN)  # a has not noticed yet: its seq is free
    assert new.state.seq < late[-1]["seq"]
    await b.lease_round()  # b never appends (a quiet show): the round finds the journal ahead
    assert new.state.seq == late[-1]["seq"] and new.state.current == 1
    assert [item.seq for item in [await seen.get() for _ in range(len(late))]] == [e["seq"] for e in late]
    await a.lease_round()  # a's renewal fails: it steps down and follows
    assert not a.owns(SHOW) and isinstance(await a.get(SHOW), Follower) and b.owns(SHOW)


async def test_a_process_started_while_redis_is_down_takes_its_live_shows_once_it_is_back(
    fleet: Fleet, brokers: Brokers,
) -> None:
    if brokers.kind != "memory":
        pytest.skip("Redis itself is stopped and restarted in tests/test_scaled.py")
    a = fleet.node()
    await create(a)
    await (await a.get(SHOW)).execute({"type": "show.start"}, ADMIN)
    await crash(a)
    brokers.memory.set_down(True)
    b = fleet.node()
    assert await b.load_live() == [SHOW]  # no Redis: nothing resolved, and no crash
    assert not b.owns(SHOW)
    brokers.memory.set_down(False)
    brokers.memory.restart()  # back, and empty
    await eventually(lambda: _owns(b), "the live show to be taken once Redis answers")
    assert (await b.get(SHOW)).state.status == "live"
