"""The real thing: ``python server.py`` in a subprocess, ``kill -9`` mid-show, a
new process on the same database finds the show exactly where it was.
Also ``scripts/login.py`` against such a server.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import ADMIN, PRODUCTS, SEGMENTS, free_port
from tests.waiting import CEILING, wait_until

ROOT = Path(__file__).resolve().parent.parent


class ServerProcess:
    """``python server.py`` on a free port, its output in a log file."""

    def __init__(self, database_url: str, log_path: Path, **env: str) -> None:
        """``env``: more settings (the scaled mode's REDIS_URL, LIVE_LEASE_MS…)."""
        self.port = free_port()
        self.log_path = log_path
        self.env = {k: val for k, val in os.environ.items() if not k.startswith("LIVE_") and k != "DATABASE_URL"}
        self.env.update(
            LIVE_HOST="127.0.0.1",
            LIVE_PORT=str(self.port),
            DATABASE_URL=database_url,
            LIVE_ADMIN_TOKEN=ADMIN,
            LIVE_DEMO="0",
            LIVE_LOG_LEVEL="WARNING",
        )
        self.env.update(env)
        self.port = int(self.env["LIVE_PORT"])
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ServerProcess:
        return self.launch().ready()

    def launch(self) -> ServerProcess:
        """Start the process (``ready`` waits for it: several start side by side)."""
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "server.py"], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    def ready(self) -> ServerProcess:
        try:
            wait_until(self._answers, "the server to answer")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; its output:\n{self.output()}") from None
        return self

    def _answers(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"the server exited with {self.proc.returncode}:\n{self.output()}")
        try:
            return self.request("GET", "/api/shows")[0] == 200
        except OSError:
            return False

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(CEILING)
        assert self.proc.returncode == -signal.SIGKILL

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(CEILING)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(CEILING)

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, admin: bool = True
    ) -> tuple[int, Any, http.client.HTTPResponse]:
        """``(status, parsed JSON body or None, response)``; follows no redirect."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=CEILING)
        try:
            all_headers = {"Authorization": f"Bearer {ADMIN}"} if admin else {}
            all_headers.update(headers or {})
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                all_headers["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=all_headers)
            response = conn.getresponse()
            raw = response.read()
            parsed = json.loads(raw) if response.getheader("content-type", "").startswith("application/json") else None
            return response.status, parsed, response
        finally:
            conn.close()

    def command(self, show_id: str, command: dict[str, Any]) -> dict[str, Any]:
        status, body, _ = self.request("POST", f"/api/shows/{show_id}/commands", command)
        assert status == 200, body
        return body  # type: ignore[no-any-return]

    def state(self, show_id: str) -> dict[str, Any]:
        status, body, _ = self.request("GET", f"/api/shows/{show_id}/state")
        assert status == 200, body
        return body  # type: ignore[no-any-return]


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Callable[[str], ServerProcess]]:
    """Starts server processes; stops any still running at the end."""
    started: list[ServerProcess] = []

    def start(database_url: str) -> ServerProcess:
        server = ServerProcess(database_url, tmp_path / f"server-{len(started)}.log").start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


# What must survive a crash: everything that does not move with the clock.
SEGMENT_KEYS = (
    "index",
    "kind",
    "title",
    "sku",
    "planned_seconds",
    "extended_seconds",
    "started_at",
    "ended_at",
    "on_air_since",
    "deadline",
)


def lasting(state: dict[str, Any]) -> dict[str, Any]:
    return {
        "seq": state["seq"],
        "show": state["show"],
        "current": state["rundown"]["current"],
        "pinned_sku": state["pinned_sku"],
        "products": state["products"],
        "segments": [{k: seg[k] for k in SEGMENT_KEYS} for seg in state["rundown"]["segments"]],
    }


def test_kill_9_mid_show_loses_no_acknowledged_command(db_url: str, servers: Callable[[str], ServerProcess]) -> None:
    first = servers(db_url)
    status, show, _ = first.request(
        "POST", "/api/shows", {"title": "秋冬护肤专场", "products": PRODUCTS, "segments": SEGMENTS}
    )
    assert status == 201, show
    sid = show["id"]
    first.command(sid, {"type": "show.start"})
    first.command(sid, {"type": "segment.next"})
    first.command(sid, {"type": "product.pin", "sku": "B2"})
    first.command(sid, {"type": "segment.extend", "seconds": -30, "index": 2})
    before = lasting(first.state(sid))
    acked = first.command(sid, {"type": "segment.extend", "seconds": 90})
    first.kill9()  # right after the acknowledgement: no chance to flush anything

    second = servers(db_url)
    after = second.state(sid)

    expected = before | {"seq": acked["seq"]}
    expected["segments"] = [dict(seg) for seg in before["segments"]]
    expected["segments"][1]["extended_seconds"] = 90
    got = lasting(after)
    expected["segments"][1]["deadline"] = got["segments"][1]["deadline"]
    assert got == expected
    assert got["show"]["status"] == "live"
    assert got["current"] == 1
    assert got["pinned_sku"] == "B2"
    assert got["show"]["started_at"] is not None
    assert got["segments"][1]["deadline"] == before["segments"][1]["deadline"] + 90_000
    assert got["segments"][2]["extended_seconds"] == -30
    _, listing, _ = second.request("GET", "/api/shows")
    assert [(s["id"], s["status"], s["seq"]) for s in listing["shows"]] == [(sid, "live", acked["seq"])]

    # The new process carries on from the next seq; a second crash loses nothing either.
    moved = second.command(sid, {"type": "segment.next"})
    assert moved["events"][0]["seq"] == acked["seq"] + 1
    before = lasting(second.state(sid))
    second.kill9()

    third = servers(db_url)
    assert lasting(third.state(sid)) == before
    assert lasting(third.state(sid))["current"] == 2


def test_an_ended_show_stays_ended_after_kill_9(db_url: str, servers: Callable[[str], ServerProcess]) -> None:
    first = servers(db_url)
    status, show, _ = first.request("POST", "/api/shows", {"title": "t", "products": PRODUCTS, "segments": SEGMENTS})
    assert status == 201
    sid = show["id"]
    first.command(sid, {"type": "show.start"})
    ended = first.command(sid, {"type": "show.end"})
    first.kill9()

    second = servers(db_url)
    state = second.state(sid)

    assert state["show"]["status"] == "ended"
    assert state["seq"] == ended["seq"]
    assert state["show"]["ended_at"] == ended["events"][0]["at"]
    status, body, _ = second.request("POST", f"/api/shows/{sid}/commands", {"type": "segment.next"})
    assert status == 409, body


# -- scripts/login.py ------------------------------------------------------------------


def login_script(
    server: ServerProcess, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "login.py"), *args],
        cwd=ROOT,
        env=env or server.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def open_link(server: ServerProcess, link: str) -> tuple[int, str | None, str | None]:
    """Open a login link as a browser would: ``(status, Location, session cookie)``."""
    url = urlsplit(link)
    assert (url.hostname, url.port) == ("127.0.0.1", server.port)
    path = url.path + (f"?{url.query}" if url.query else "")
    status, _, response = server.request("GET", path, admin=False)
    cookie = response.getheader("set-cookie")
    return status, response.getheader("location"), cookie.split(";")[0] if cookie else None


def test_login_script_prints_a_one_time_admin_link(sqlite_url: str, servers: Callable[[str], ServerProcess]) -> None:
    server = servers(sqlite_url)
    status, show, _ = server.request("POST", "/api/shows", {"title": "t", "products": PRODUCTS})
    assert status == 201
    sid = show["id"]

    plain = login_script(server)
    to_show = login_script(server, "--show", sid)

    assert plain.returncode == 0, plain.stderr
    assert to_show.returncode == 0, to_show.stderr
    status, location, cookie = open_link(server, plain.stdout.strip())
    assert (status, location) == (303, "/")
    assert cookie is not None
    status, body, _ = server.request("GET", "/api/shows", headers={"Cookie": cookie}, admin=False)
    assert status == 200 and [s["id"] for s in body["shows"]] == [sid]
    assert open_link(server, plain.stdout.strip())[0] == 403  # used once already
    assert open_link(server, to_show.stdout.strip())[:2] == (303, f"/shows/{sid}/control")


def test_login_script_makes_a_staff_login_for_a_show(sqlite_url: str, servers: Callable[[str], ServerProcess]) -> None:
    server = servers(sqlite_url)
    sid = server.request("POST", "/api/shows", {"title": "t", "products": PRODUCTS, "segments": SEGMENTS})[1]["id"]

    done = login_script(server, "--show", sid, "--role", "analyst", "--name", "小王")

    assert done.returncode == 0, done.stderr
    status, location, cookie = open_link(server, done.stdout.strip())
    assert (status, location) == (303, f"/shows/{sid}/control")
    assert cookie is not None
    status, _, _ = server.request("GET", f"/api/shows/{sid}/state", headers={"Cookie": cookie}, admin=False)
    assert status == 200
    origin = {"Cookie": cookie, "Origin": f"http://127.0.0.1:{server.port}"}
    status, body, _ = server.request(
        "POST", f"/api/shows/{sid}/commands", {"type": "show.start"}, headers=origin, admin=False
    )
    assert status == 403, body  # an analyst reads; it does not run the show
    assert server.state(sid)["show"]["status"] == "draft"


def test_login_script_refuses_unknown_show_and_missing_database(
    sqlite_url: str, servers: Callable[[str], ServerProcess], tmp_path: Path
) -> None:
    server = servers(sqlite_url)

    unknown = login_script(server, "--show", "nope")
    role_alone = login_script(server, "--role", "host")
    missing_db = tmp_path / "never" / "live.db"
    no_db = login_script(server, env=server.env | {"DATABASE_URL": f"sqlite:///{missing_db}"})

    assert (unknown.returncode, unknown.stdout) == (2, "")
    assert "nope" in unknown.stderr
    assert role_alone.returncode == 2 and role_alone.stdout == ""
    assert (no_db.returncode, no_db.stdout) == (1, "")
    assert not missing_db.exists()


def test_kill_9_during_a_flash_sale_loses_no_acknowledged_claim(
    db_url: str, servers: Callable[[str], ServerProcess]
) -> None:
    first = servers(db_url)
    status, show, _ = first.request("POST", "/api/shows", {"title": "Sale", "products": PRODUCTS,
                                                           "segments": SEGMENTS})
    assert status == 201, show
    sid = show["id"]
    first.command(sid, {"type": "show.start"})
    sale = first.command(sid, {"type": "flash_sale.open", "sku": "A1", "stock": 3, "per_viewer_limit": 2,
                               "duration_seconds": 600})["events"][0]["sale"]
    path = f"/api/shows/{sid}/flash-sales/{sale['id']}/claims"
    viewers = []
    for name in ("Ann", "Bo"):
        status, viewer, _ = first.request("POST", f"/api/shows/{sid}/viewers", {"nickname": name}, admin=False)
        assert status == 201, viewer
        viewers.append(viewer)

    def claim(server: ServerProcess, viewer: dict[str, Any], key: str) -> tuple[int, Any]:
        status, body, _ = server.request("POST", path, {"qty": 1}, admin=False, headers={
            "Authorization": f"Bearer {viewer['token']}", "Idempotency-Key": key})
        return status, body

    won = [claim(first, viewers[0], "a-1"), claim(first, viewers[0], "a-2")]
    assert [s for s, _ in won] == [200, 200]
    first.kill9()  # right after the second order was acknowledged

    second = servers(db_url)
    # retries of acknowledged claims get the very same orders back
    assert claim(second, viewers[0], "a-1") == won[0]
    assert claim(second, viewers[0], "a-2") == won[1]
    # the per-viewer limit still counts them, and the stock still remembers them
    status, lost = claim(second, viewers[0], "a-3")
    assert (status, lost["error"]["code"]) == (409, "LIMIT_REACHED")
    assert claim(second, viewers[1], "b-1")[0] == 200
    status, lost = claim(second, viewers[1], "b-2")
    assert (status, lost["error"]["code"]) == (409, "SOLD_OUT")
    state = second.state(sid)
    assert [(s["remaining"], s["status"]) for s in state["flash_sales"]] == [(0, "closed")]
