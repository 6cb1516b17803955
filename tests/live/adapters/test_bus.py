"""The in-memory bus: fan-out in order, bounded queues, slow subscribers cut off."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from live.adapters import bus as bus_mod
from live.adapters.bus import CutOff, MemoryBus, open_bus


def events(first: int, n: int) -> list[dict[str, Any]]:
    return [{"type": "segment.changed", "seq": s, "at": 0, "to": s} for s in range(first, first + n)]


async def drain(sub: Any) -> list[int]:
    out: list[int] = []
    while not sub.queue.empty():
        out.append((await sub.get()).seq)
    return out


async def test_every_subscriber_gets_every_event_in_order() -> None:
    bus = MemoryBus()
    a, b = bus.subscribe("s1"), bus.subscribe("s1")
    other = bus.subscribe("s2")
    bus.publish("s1", events(1, 3))
    bus.publish("s1", events(4, 2))
    assert await drain(a) == [1, 2, 3, 4, 5]
    assert await drain(b) == [1, 2, 3, 4, 5]
    assert other.queue.empty()


async def test_one_outgoing_is_shared_by_all_subscribers() -> None:
    bus = MemoryBus()
    a, b = bus.subscribe("s1"), bus.subscribe("s1")
    bus.publish("s1", events(1, 1))
    assert (await a.get()) is (await b.get())


async def test_slow_subscriber_is_cut_off_without_delaying_others() -> None:
    bus = MemoryBus()
    cut: list[str] = []
    slow = bus.subscribe("s1", maxsize=3, on_overflow=lambda: cut.append("slow"))
    fast = bus.subscribe("s1", maxsize=100, on_overflow=lambda: cut.append("fast"))
    received: list[int] = []

    async def reader() -> None:
        while len(received) < 10:
            received.append((await fast.get()).seq)

    task = asyncio.ensure_future(reader())
    for seq in range(1, 11):
        bus.publish("s1", events(seq, 1))  # never awaits: nobody can hold it up
        await asyncio.sleep(0)  # let the fast reader run, as the event loop would
    await asyncio.wait_for(task, 5)
    assert received == list(range(1, 11))
    assert cut == ["slow"]  # called once, for the slow one only
    assert slow.overflowed and slow.queue.empty()
    assert bus.count("s1") == 1
    with pytest.raises(CutOff):
        await slow.get()
    bus.publish("s1", events(11, 1))
    assert slow.queue.empty() and (await fast.get()).seq == 11


async def test_a_burst_larger_than_the_queue_cuts_off_at_once() -> None:
    bus = MemoryBus()
    calls: list[int] = []
    sub = bus.subscribe("s1", maxsize=2, on_overflow=lambda: calls.append(1))
    bus.publish("s1", events(1, 5))
    assert calls == [1] and sub.overflowed and bus.count("s1") == 0


async def test_queue_size_default_is_read_at_subscribe_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bus_mod, "QUEUE_SIZE", 2)
    bus = MemoryBus()
    assert bus.subscribe("s1").queue.maxsize == 2
    monkeypatch.setattr(bus_mod, "QUEUE_SIZE", 7)
    assert bus.subscribe("s1").queue.maxsize == 7


async def test_failing_overflow_callback_does_not_stop_fan_out() -> None:
    bus = MemoryBus()

    def boom() -> None:
        raise RuntimeError("boom")

    bus.subscribe("s1", maxsize=1, on_overflow=boom)
    ok = bus.subscribe("s1", maxsize=10)
    bus.publish("s1", events(1, 3))
    assert await drain(ok) == [1, 2, 3]


async def test_close_unsubscribes() -> None:
    bus = MemoryBus()
    sub = bus.subscribe("s1")
    sub.close()
    bus.publish("s1", events(1, 1))
    assert sub.queue.empty() and bus.count("s1") == 0


def test_open_bus_by_url() -> None:
    assert isinstance(open_bus(None), MemoryBus)
    assert isinstance(open_bus("memory://"), MemoryBus)
    with pytest.raises(ValueError):
        open_bus("kafka://x")


async def test_a_failing_overflow_callback_is_logged_by_kind_and_the_fan_out_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken() -> None:
        raise ValueError("a viewer's comment: 秘密")

    bus = MemoryBus()
    sub = bus.subscribe("s1", maxsize=1, on_overflow=broken)
    other = bus.subscribe("s1")
    bus.publish("s1", events(1, 3))
    assert sub.overflowed and await drain(other) == [1, 2, 3]
    [record] = [r for r in caplog.records if r.name == "live.bus"]
    assert "ValueError" in record.getMessage() and "秘密" not in caplog.text and record.exc_info is None


async def test_a_notice_reaches_the_shows_subscribers_of_its_audience_only() -> None:
    bus = MemoryBus()
    staff = bus.subscribe("s1", audience="staff")
    public = bus.subscribe("s1")
    other = bus.subscribe("s2", audience="staff")
    bus.notify("s1", {"type": "stats.tick", "viewers": 3}, "staff")
    item = await staff.get()
    assert item.seq is None and item.encoded("staff") == '{"type":"stats.tick","viewers":3}'
    assert public.queue.empty() and other.queue.empty()
    assert sorted(bus.followed("staff")) == ["s1", "s2"] and bus.followed("public") == ["s1"]
    assert bus.count("s1") == 2 and bus.count("s1", "staff") == 1
    staff.close()
    assert bus.followed("staff") == ["s2"] and bus.count("s1") == 1


# -- the direct lane: a sink tried first while the queue is empty -----------------------------


async def test_a_sink_takes_events_while_it_keeps_up_and_the_queue_keeps_the_order_when_it_does_not() -> None:
    bus = MemoryBus()
    written: list[int] = []
    keeping_up = True

    def sink(item: Any) -> bool:
        if not keeping_up:
            return False
        written.append(item.seq)
        return True

    sub = bus.subscribe("s1", maxsize=3, sink=sink)
    bus.publish("s1", events(1, 2))
    assert written == [1, 2] and sub.queue.empty()
    keeping_up = False
    bus.publish("s1", events(3, 1))
    keeping_up = True
    # 3 waits in the queue: 4 must not overtake it through the sink
    bus.publish("s1", events(4, 1))
    assert written == [1, 2] and await drain(sub) == [3, 4]
    bus.publish("s1", events(5, 1))  # the queue is empty again: the sink takes it
    assert written == [1, 2, 5]


async def test_a_sink_that_stays_backpressured_overflows_the_queue_and_is_cut_off() -> None:
    bus = MemoryBus()
    cut: list[bool] = []
    sub = bus.subscribe("s1", maxsize=2, on_overflow=lambda: cut.append(True), sink=lambda item: False)
    fine = bus.subscribe("s1")
    bus.publish("s1", events(1, 3))
    assert cut == [True] and sub.overflowed and bus.count("s1") == 1
    with pytest.raises(CutOff):
        await sub.get()
    assert await drain(fine) == [1, 2, 3]
