"""Helpers of the scaled mode's process tests (tests/test_scaled.py): a viewer
that keeps its socket as the pages' JS does, a redis-server of the test's own,
and reading who holds a show's lease."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from tests.conftest import free_port
from tests.test_restart import ServerProcess
from tests.waiting import CEILING, wait_until


def redis_answers(url: str) -> bool:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


class Viewer:
    """One viewer's socket, kept open as static/clock.js keeps it (see the module)."""

    def __init__(self, ports: list[int], show_id: str, token: str, first: int) -> None:
        self.ports, self.show_id, self.token, self.at = ports, show_id, token, first
        self.last_seq: int | None = None
        self.start_seq = 0  # what the first snapshot covered
        self.events: list[tuple[int, str]] = []
        self.fresh_snapshots = 0  # reconnects that could not be replayed
        self.closes: list[tuple[int | None, str | None]] = []
        self.connects = 0
        self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        refused = 0
        while True:
            port = self.ports[self.at % len(self.ports)]
            try:
                async with connect(f"ws://127.0.0.1:{port}/ws/shows/{self.show_id}", open_timeout=CEILING) as ws:
                    hello: dict[str, Any] = {"type": "hello", "token": self.token}
                    if self.last_seq is not None:
                        hello["last_seq"] = self.last_seq
                    await ws.send(json.dumps(hello))
                    self.connects += 1
                    try:
                        async for raw in ws:
                            refused = 0
                            self._take(json.loads(raw))
                    except ConnectionClosed:
                        pass
                    self.closes.append((ws.close_code, ws.close_reason))  # 1006: no close frame (a crash)
            except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError):
                pass
            self.at += 1  # the next process, as a load balancer might send it
            refused += 1
            if refused >= len(self.ports):
                await asyncio.sleep(0.1)  # the client's backoff, once every process refused

    def _take(self, msg: dict[str, Any]) -> None:
        kind = msg["type"]
        if kind == "snapshot":
            if self.last_seq is None:
                self.start_seq = msg["seq"]
            else:
                self.fresh_snapshots += 1
            self.last_seq = msg["seq"]
        elif kind == "recovered":
            self.last_seq = msg["seq"]
        elif msg.get("seq") is not None:
            assert self.last_seq is None or msg["seq"] > self.last_seq, (msg, self.last_seq)
            self.events.append((msg["seq"], kind))
            self.last_seq = msg["seq"]

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


def lease_holder(server: ServerProcess, sid: str) -> str | None:
    """The node id holding the show's lease, read from Redis."""
    import redis

    client = redis.Redis.from_url(server.env["REDIS_URL"], decode_responses=True, socket_timeout=1)
    try:
        holder = client.get(f"{server.env['LIVE_REDIS_PREFIX']}lease:{sid}")
    finally:
        client.close()
    return None if holder is None else str(holder).split(".")[0]


class RedisServer:
    """A redis-server of the test's own (no persistence: a restart forgets everything)."""

    def __init__(self, binary: str, folder: Path) -> None:
        self.binary, self.folder, self.port = binary, folder, free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: redis_answers(self.url), "redis-server to answer")
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(CEILING)
