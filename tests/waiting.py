"""Waiting in tests: on a condition, never for a fixed time.

CI runs on a shared, busy machine that may be many times slower than a
laptop. So a test never sleeps to let something happen and never gives a
short timeout: it waits for what it expects, up to one generous ceiling. A
wait that succeeds returns as soon as its condition holds, so the ceiling
costs nothing when things work; it only bounds how long a broken test hangs.
Rate limits and grace periods are not waited for at all: those tests move a
FakeClock (tests/conftest.py) instead.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

CEILING = 30.0  # seconds: the longest any single wait in the suite may take
CEILING_MS = int(CEILING * 1000)  # the same, for Playwright's timeouts
POLL = 0.02  # seconds between two looks at a polled condition

T = TypeVar("T")
Message = dict[str, Any]


class Deadline:
    """``seconds`` from now on the monotonic clock."""

    def __init__(self, seconds: float = CEILING) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        """Seconds still to go (a little more than 0 once passed, for a last look)."""
        return max(0.001, self.at - time.monotonic())

    def passed(self) -> bool:
        return time.monotonic() > self.at


def wait_until(condition: Callable[[], T], what: str, ceiling: float = CEILING) -> T:
    """Poll ``condition`` until it returns something truthy, and return that.
    Raises AssertionError naming ``what`` after ``ceiling`` seconds."""
    deadline = Deadline(ceiling)
    while True:
        got = condition()
        if got:
            return got
        if deadline.passed():
            raise AssertionError(f"timed out after {ceiling:g} s waiting for {what}")
        time.sleep(POLL)


async def eventually(check: Callable[[], Awaitable[T]], what: str, ceiling: float = CEILING) -> T:
    """Like ``wait_until`` for an async ``check``; the event loop runs between looks."""
    deadline = Deadline(ceiling)
    while True:
        got = await check()
        if got:
            return got
        if deadline.passed():
            raise AssertionError(f"timed out after {ceiling:g} s waiting for {what}")
        await asyncio.sleep(POLL)


def receive_until(ws: Any, pred: Callable[[Message], bool], ceiling: float = CEILING) -> Message:
    """The first JSON message matching ``pred`` on a sync websockets client.
    Raises TimeoutError after ``ceiling`` seconds."""
    deadline = Deadline(ceiling)
    while True:
        msg: Message = json.loads(ws.recv(timeout=deadline.left()))
        if pred(msg):
            return msg


async def areceive_until(ws: Any, pred: Callable[[Message], bool], ceiling: float = CEILING) -> Message:
    """The first JSON message matching ``pred`` on an asyncio websockets client.
    Raises TimeoutError after ``ceiling`` seconds."""
    deadline = Deadline(ceiling)
    while True:
        msg: Message = json.loads(await asyncio.wait_for(ws.recv(), deadline.left()))
        if pred(msg):
            return msg
