"""Journal first, against a real lock: while a command's append waits for the
journal (another connection holds its write lock), no reader — ``GET /state``,
a socket snapshot, a reconnect, a live socket — sees that command or its seq.
After ``kill -9`` in the middle of such a wait no seq is reused, and a client
that reconnects with the last seq it saw recovers exactly the journaled events.
On SQLite (``BEGIN IMMEDIATE``) and PostgreSQL (``LOCK TABLE events``).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import asyncpg
import httpx2 as httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from live.core.protocol import dumps
from server import create_app
from tests.conftest import ADMIN, PRODUCTS, SEGMENTS, LiveServer, admin_headers, make_settings
from tests.test_restart import ServerProcess, servers  # noqa: F401 - servers is a fixture
from tests.waiting import CEILING, wait_until

TIMEOUT = CEILING


class WriteLock:
    """The journal's write lock, held from another connection as a second writer would."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self._sqlite: sqlite3.Connection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pg: Any = None

    def _run(self, coro: Any) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(TIMEOUT)

    def acquire(self) -> None:
        if self.url.startswith("sqlite"):
            self._sqlite = sqlite3.connect(self.url.split("///", 1)[1], isolation_level=None,
                                           check_same_thread=False, timeout=TIMEOUT)
            self._sqlite.execute("BEGIN IMMEDIATE")
            return
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        self._pg = self._run(asyncpg.connect(self.url))
        self._run(self._pg.execute("BEGIN; LOCK TABLE events IN EXCLUSIVE MODE"))

    def writers_waiting(self) -> int | None:
        """Connections waiting on the lock to insert events (PostgreSQL), else None."""
        if self._pg is None:
            return None
        return int(self._run(self._pg.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            " AND pid <> pg_backend_pid()"
        )))

    def release(self) -> None:
        if self._sqlite is not None:
            self._sqlite.execute("ROLLBACK")
            self._sqlite.close()
            self._sqlite = None
        if self._pg is not None:
            self._run(self._pg.execute("ROLLBACK"))
            self._run(self._pg.close())
            self._pg = None
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._loop = None


@pytest.fixture
def write_lock(db_url: str) -> Iterator[WriteLock]:
    lock = WriteLock(db_url)
    yield lock
    lock.release()


@pytest.fixture
def stack() -> Iterator[ExitStack]:
    """Closes the test's sockets at its end."""
    with ExitStack() as sockets:
        yield sockets


def recv(ws: ClientConnection) -> dict[str, Any]:
    msg: dict[str, Any] = json.loads(ws.recv(timeout=TIMEOUT))
    return msg


def recv_event(ws: ClientConnection) -> dict[str, Any]:
    """The next journaled message (with a seq): notices such as ``stats.tick``,
    which come whenever a second of the show has passed, are skipped."""
    while "seq" not in (msg := recv(ws)):
        pass
    return msg


def hello(stack: ExitStack, url: str, sid: str, **fields: Any) -> tuple[ClientConnection, dict[str, Any]]:
    ws = stack.enter_context(connect(f"{url}/ws/shows/{sid}", open_timeout=TIMEOUT, proxy=None))
    ws.send(dumps({"type": "hello", **fields}))
    return ws, recv(ws)


def until_pong(ws: ClientConnection) -> list[dict[str, Any]]:
    """Ping; returns every message the server sent before the pong."""
    ws.send(dumps({"type": "ping", "t": 1}))
    before = []
    while (msg := recv(ws))["type"] != "pong":
        before.append(msg)
    return before


class Pending(threading.Thread):
    """A command sent in the background: its answer, once the server gives one."""

    def __init__(self, send: Callable[[], tuple[int, Any]]) -> None:
        super().__init__(daemon=True)
        self.send = send
        self.answer: tuple[int, Any] | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.answer = self.send()
        except BaseException as exc:  # noqa: BLE001 - the server was killed mid-request
            self.error = exc


def test_no_reader_sees_a_command_while_its_append_waits(db_url: str, write_lock: WriteLock, stack: ExitStack) -> None:
    server = LiveServer(create_app(make_settings(db_url))).start()
    try:
        hub = server.server.config.app.state.hub
        appending = threading.Event()
        real_append = hub.journal.append

        async def append(*args: Any, **kwargs: Any) -> None:
            appending.set()
            await real_append(*args, **kwargs)

        hub.journal.append = append
        http = httpx.Client(base_url=server.url, headers=admin_headers(), timeout=TIMEOUT)
        sid = http.post("/api/shows", json={"title": "锁", "products": PRODUCTS, "segments": SEGMENTS}).json()["id"]
        assert http.post(f"/api/shows/{sid}/commands", json={"type": "show.start"}).status_code == 200
        watcher, snap = hello(stack, server.ws_url, sid, token=ADMIN)
        seq = snap["seq"]
        appending.clear()

        write_lock.acquire()

        def next_segment() -> tuple[int, Any]:
            r = http.post(f"/api/shows/{sid}/commands", json={"type": "segment.next"})
            return r.status_code, r.json()

        pending = Pending(next_segment)
        pending.start()
        assert appending.wait(TIMEOUT), "the command never reached the journal"
        waiting = write_lock.writers_waiting()
        if waiting is not None:
            wait_until(lambda: write_lock.writers_waiting() >= 1, "the append to wait on the lock")

        state = http.get(f"/api/shows/{sid}/state").json()
        assert (state["seq"], state["rundown"]["current"]) == (seq, 0)
        _, fresh_snap = hello(stack, server.ws_url, sid, token=ADMIN)
        assert (fresh_snap["seq"], fresh_snap["state"]["rundown"]["current"]) == (seq, 0)
        _, recovered = hello(stack, server.ws_url, sid, token=ADMIN, last_seq=seq)
        assert (recovered["type"], recovered["seq"], recovered["missed"]) == ("recovered", seq, 0)
        _, public_snap = hello(stack, server.ws_url, sid)
        assert public_snap["seq"] == seq
        assert [m for m in until_pong(watcher) if "seq" in m] == []
        assert pending.answer is None or pending.answer[0] != 200  # unanswered, or failed (SQLite's busy timeout)

        write_lock.release()
        pending.join(TIMEOUT)
        assert pending.answer is not None
        status, body = pending.answer
        if status == 200:
            events = body["events"]
            assert events[0]["seq"] == seq + 1
            heard = [recv_event(watcher) for _ in events]
            assert [m["seq"] for m in heard] == [e["seq"] for e in events]
            assert http.get(f"/api/shows/{sid}/state").json()["seq"] == events[-1]["seq"]
        else:  # nothing of it anywhere, and the next command takes the next seq
            again = http.post(f"/api/shows/{sid}/commands", json={"type": "segment.next"}).json()
            assert again["events"][0]["seq"] == seq + 1
    finally:
        server.stop()


def test_kill_9_while_an_append_waits_reuses_no_seq(
    db_url: str, write_lock: WriteLock, stack: ExitStack, servers: Callable[[str], ServerProcess]  # noqa: F811
) -> None:
    first = servers(db_url)
    status, show, _ = first.request("POST", "/api/shows", {"title": "崩溃", "products": PRODUCTS, "segments": SEGMENTS})
    assert status == 201, show
    sid = show["id"]
    seq = first.command(sid, {"type": "show.start"})["seq"]
    url = f"ws://127.0.0.1:{first.port}"
    watcher, snap = hello(stack, url, sid, token=ADMIN)
    assert snap["seq"] == seq

    write_lock.acquire()
    pending = Pending(lambda: first.request("POST", f"/api/shows/{sid}/commands", {"type": "segment.next"})[:2])
    pending.start()
    if write_lock.writers_waiting() is not None:
        wait_until(lambda: write_lock.writers_waiting() >= 1, "the append to wait on the lock")
    else:  # SQLite shows no waiters: read after the command went out, as the report did
        wait_until(lambda: pending.is_alive(), "the command to be sent")
    for _ in range(3):
        state = first.state(sid)
        assert (state["seq"], state["rundown"]["current"]) == (seq, 0)
    assert [m for m in until_pong(watcher) if "seq" in m] == []
    assert pending.answer is None or pending.answer[0] != 200
    first.kill9()
    watcher.close()
    write_lock.release()
    pending.join(TIMEOUT)

    second = servers(db_url)
    assert second.state(sid)["seq"] == seq  # the unanswered command was never journaled
    back, recovered = hello(stack, f"ws://127.0.0.1:{second.port}", sid, token=ADMIN, last_seq=seq)
    assert recovered["type"] == "recovered" and recovered["missed"] == 0
    one = second.command(sid, {"type": "segment.next"})
    two = second.command(sid, {"type": "product.pin", "sku": "B2"})
    assert [e["seq"] for e in one["events"] + two["events"]] == list(range(seq + 1, two["seq"] + 1))
    heard = [recv_event(back) for _ in one["events"] + two["events"]]
    assert [m["seq"] for m in heard] == list(range(seq + 1, two["seq"] + 1))
    # A client that saw only journaled seqs reconnects and recovers exactly what it missed.
    late, caught_up = hello(stack, f"ws://127.0.0.1:{second.port}", sid, token=ADMIN, last_seq=seq)
    missed = [caught_up] + [recv_event(late) for _ in range(len(heard))]
    assert [m["seq"] for m in missed] == [m["seq"] for m in heard] + [two["seq"]]
    assert missed[-1]["type"] == "recovered" and missed[-1]["recovered"] is True
