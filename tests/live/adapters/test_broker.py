"""The broker on both twins (memory and Redis): streams read in order from a
position, blocking reads woken by an append, leases held only by their token."""

from __future__ import annotations

import asyncio
import time

import pytest

from live.adapters.broker import BrokerDown, MemoryBroker, open_broker
from live.adapters.redisbroker import RedisBroker
from tests.conftest import free_port
from tests.live.conftest import Brokers
from tests.waiting import CEILING, eventually


async def test_entries_are_read_in_order_from_a_position(brokers: Brokers) -> None:
    broker = brokers()
    stream, other = brokers.prefix + "a", brokers.prefix + "b"
    assert await broker.last_id(stream) == "0-0"
    ids = await broker.add([(stream, {"n": str(n)}, 100) for n in range(5)] + [(other, {"n": "x"}, 100)])
    assert len(ids) == 6 and await broker.last_id(stream) == ids[4]
    got = dict(await broker.read({stream: "0-0", other: ids[5]}, 0, 100))
    assert [f["n"] for _, f in got[stream]] == ["0", "1", "2", "3", "4"]
    assert other not in got  # nothing after its position
    after = dict(await broker.read({stream: ids[2]}, 0, 100))
    assert [f["n"] for _, f in after[stream]] == ["3", "4"]
    assert [f["n"] for _, f in dict(await broker.read({stream: "0-0"}, 0, 2))[stream]] == ["0", "1"]


async def test_a_blocked_read_returns_when_an_entry_is_added(brokers: Brokers) -> None:
    reader, writer = brokers(), brokers()
    stream = brokers.prefix + "s"
    waiting = asyncio.ensure_future(reader.read({stream: "0-0"}, 20_000, 10))
    await asyncio.sleep(0)  # the read is blocked (nothing there yet)
    assert not waiting.done()
    await writer.add([(stream, {"hello": "1"}, 10)])
    got = await asyncio.wait_for(waiting, CEILING)
    assert [fields for _, fields in got[0][1]] == [{"hello": "1"}]


async def test_a_blocked_read_with_nothing_added_returns_nothing(brokers: Brokers) -> None:
    assert await brokers().read({brokers.prefix + "quiet": "0-0"}, 50, 10) == []


async def test_a_stream_keeps_about_maxlen_entries(brokers: Brokers) -> None:
    broker = brokers()
    stream = brokers.prefix + "bounded"
    for _ in range(10):
        await broker.add([(stream, {"n": "1"}, 20)] * 100)
    held = dict(await broker.read({stream: "0-0"}, 0, 10_000))[stream]
    # Redis trims approximately (whole nodes of ~100 entries); never below maxlen
    assert 20 <= len(held) <= 20 + 200


async def test_a_lease_is_held_renewed_and_released_only_by_its_token(brokers: Brokers) -> None:
    broker = brokers()
    key = brokers.prefix + "lease"
    assert await broker.take(key, "a", 60_000)
    assert not await broker.take(key, "b", 60_000)
    assert await broker.get(key) == "a"
    assert not await broker.keep(key, "b", 60_000)
    assert await broker.keep(key, "a", 60_000)
    assert not await broker.drop(key, "b")
    assert await broker.get(key) == "a"
    assert await broker.drop(key, "a")
    assert await broker.get(key) is None
    # A lease that is gone (expired, Redis restarted) is taken again by keep.
    assert await broker.keep(key, "a", 60_000)
    assert await broker.get(key) == "a"


async def test_an_unrenewed_lease_expires(brokers: Brokers) -> None:
    broker = brokers()
    key = brokers.prefix + "short"
    assert await broker.take(key, "a", 100)
    assert (await broker.exist([key, brokers.prefix + "never"])) == [True, False]

    async def gone() -> bool:
        return await broker.get(key) is None

    await eventually(gone, "the lease to expire")
    assert await broker.take(key, "b", 60_000)


async def test_a_broker_that_is_down_fails_every_call_at_once() -> None:
    broker = MemoryBroker()
    blocked = asyncio.ensure_future(broker.read({"s": "0-0"}, 20_000, 10))
    await asyncio.sleep(0)
    broker.set_down(True)
    with pytest.raises(BrokerDown):
        await asyncio.wait_for(blocked, CEILING)
    for call in (broker.ping(), broker.add([("s", {}, 1)]), broker.take("k", "t", 1000), broker.last_id("s")):
        with pytest.raises(BrokerDown):
            await call
    broker.set_down(False)
    await broker.add([("s", {"n": "1"}, 10)])
    broker.restart()  # like a Redis without persistence: everything is gone, ids go on growing
    assert await broker.read({"s": "0-0"}, 0, 10) == [] and await broker.get("k") is None
    before = (await broker.add([("s", {"n": "2"}, 10)]))[0]
    broker.restart()
    after = (await broker.add([("s", {"n": "3"}, 10)]))[0]
    assert int(after.split("-")[0]) > int(before.split("-")[0])


async def test_redis_that_is_not_there_fails_fast_with_broker_down() -> None:
    broker = RedisBroker(f"redis://127.0.0.1:{free_port()}/0", timeout=1.0, block_ms=100)
    for call in (broker.ping(), broker.add([("s", {}, 1)]), broker.read({"s": "0-0"}, 100, 1), broker.keep("k", "t", 10)):
        began = time.monotonic()
        with pytest.raises(BrokerDown):
            await call
        # refused at once, not retried with backoff: a request never hangs on it for 2 s
        assert time.monotonic() - began < 2.0
    await broker.close()


def test_open_broker_by_url() -> None:
    assert isinstance(open_broker("memory://"), MemoryBroker)
    assert isinstance(open_broker("redis://127.0.0.1:6379/0"), RedisBroker)
    with pytest.raises(ValueError):
        open_broker("kafka://x")
