"""What reaches the log when something fails: the kind of error and where,
never what a client sent or a secret (docs/api.md, "Errors").

A real uvicorn serves the app (log_config=None, so its records reach caplog
too): a journal append refused by the database carries a draw's secret seed
and a prize text in its parameters (PostgreSQL even repeats the row in its
message); a client that hangs up mid-upload is no error at all."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import sqlite3
import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpx2 as httpx
import pytest

from live.adapters.journal import Journal
from server import create_app
from tests.conftest import ADMIN, LiveServer, admin_headers, make_settings

TIMEOUT = 10.0
PRIZE = "prize-6b1f-not-for-logs"


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every record at DEBUG, as ``python server.py`` logs (aiosqlite kept at INFO)."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="aiosqlite")
    return caplog


def serve(db_url: str) -> LiveServer:
    return LiveServer(create_app(make_settings(db_url)), log_config=None, log_level="debug").start()


@pytest.fixture
def server(db_url: str) -> Iterator[LiveServer]:
    live = serve(db_url)
    yield live
    live.stop()


def idle(server: LiveServer) -> None:
    """Wait until uvicorn has finished every request (its tasks are done)."""
    deadline = time.monotonic() + TIMEOUT
    state = server.server.server_state
    while state.tasks:
        assert time.monotonic() < deadline, "the server did not finish its requests"
        time.sleep(0.02)


async def refuse_draws(db_url: str, on: bool) -> None:
    """Make the database refuse (or accept again) every journal insert of a draw.opened."""
    if db_url.startswith("sqlite"):
        conn = sqlite3.connect(db_url.removeprefix("sqlite:///"))
        # An unknown function: every INSERT INTO events fails to prepare (OperationalError).
        conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON events BEGIN SELECT no_such_function(NEW.data); END"
                     if on else "DROP TRIGGER refuse")
        conn.commit()
        conn.close()
        return
    import asyncpg

    conn = await asyncpg.connect(db_url.replace("postgresql://", "postgres://"), timeout=5)
    try:
        if on:
            # PostgreSQL's own message then repeats the row: the seed is in the error text.
            await conn.execute("""
                CREATE FUNCTION refuse() RETURNS trigger AS $$
                BEGIN RAISE EXCEPTION 'refused: %', NEW.data; END $$ LANGUAGE plpgsql;
                CREATE TRIGGER refuse BEFORE INSERT ON events FOR EACH ROW
                WHEN (NEW.type = 'draw.opened') EXECUTE FUNCTION refuse();""")
        else:
            await conn.execute("DROP TRIGGER refuse ON events; DROP FUNCTION refuse()")
    finally:
        await conn.close()


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    return caplog.text + "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)


async def test_a_failed_append_logs_its_kind_never_its_parameters(
    server: LiveServer, db_url: str, logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    tried: list[dict[str, Any]] = []
    original = Journal.append

    async def spy(self: Journal, show_id: str, batch: Sequence[dict[str, Any]], status: str | None = None) -> None:
        tried.extend(batch)
        await original(self, show_id, batch, status)

    monkeypatch.setattr(Journal, "append", spy)
    async with httpx.AsyncClient(base_url=server.url, headers=admin_headers(), trust_env=False, timeout=TIMEOUT) as http:
        show = (await http.post("/api/shows", json={"title": "T"})).json()
        sid = show["id"]
        assert (await http.post(f"/api/shows/{sid}/commands", json={"type": "show.start"})).status_code == 200
        seq = (await http.get(f"/api/shows/{sid}/state")).json()["seq"]
        await refuse_draws(db_url, True)
        try:
            r = await http.post(f"/api/shows/{sid}/commands",
                                json={"type": "draw.open", "prize": PRIZE, "winners": 1, "entry_seconds": 60})
        finally:
            await refuse_draws(db_url, False)
        assert r.status_code == 500 and r.json() == {
            "error": {"code": "INTERNAL", "message": "internal error; see the server log"}}
        # nothing was written, and the show goes on
        state = (await http.get(f"/api/shows/{sid}/state")).json()
        assert state["seq"] == seq and state["draws"] == []
    idle(server)
    [seed] = [e["_seed"] for e in tried if e["type"] == "draw.opened"]
    logged = everything_logged(logs)
    for secret in (seed, PRIZE, ADMIN):
        assert secret not in logged
        assert secret not in r.text
    [entry] = [rec for rec in logs.records if rec.getMessage().startswith("unhandled error on POST")]
    assert entry.exc_info is None and "Error" in entry.getMessage().splitlines()[0]
    assert "live.runtime.engine" in entry.getMessage()  # where it failed
    assert not [rec for rec in logs.records if rec.exc_info]  # no traceback (uvicorn's included)


def test_no_handler_of_the_server_writes_an_exception_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """The net under every log.exception (the engine's, the bus's, uvicorn's):
    ``python server.py`` puts NoExceptionText on the root handlers."""
    import io

    import server

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [handler])
    server.keep_secrets_out_of_logs()
    assert any(isinstance(f, server.NoExceptionText) for f in handler.filters)
    try:
        {}[PRIZE]
    except KeyError:
        logging.getLogger("live.runtime.engine").exception("tick of show %s failed", "s1")
    text = out.getvalue()
    assert PRIZE not in text
    assert text.startswith("tick of show s1 failed: KeyError\n  at tests.test_logging:")


async def test_a_socket_failure_logs_its_kind_not_what_the_client_sent(
    server: LiveServer, logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    from live.http import socket as socket_http

    async def broken(ws: Any, hello: dict[str, Any], show_id: str) -> Any:
        raise RuntimeError(f"could not parse {hello['token']!r} {PRIZE}")

    monkeypatch.setattr(socket_http, "identify", broken)
    async with httpx.AsyncClient(base_url=server.url, headers=admin_headers(), trust_env=False) as http:
        sid = (await http.post("/api/shows", json={"title": "T"})).json()["id"]
    token = "vw_" + "q" * 40
    async with connect(f"{server.ws_url}/ws/shows/{sid}", proxy=None, open_timeout=TIMEOUT) as ws:
        await ws.send(json.dumps({"type": "hello", "token": token}))
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), TIMEOUT)
    idle(server)
    logged = everything_logged(logs)
    [entry] = [r for r in logs.records if r.getMessage().startswith(f"socket of show {sid} failed")]
    assert "RuntimeError" in entry.getMessage() and "live.http.socket" in entry.getMessage()
    assert PRIZE not in logged and token not in logged and "q" * 40 not in logged


@pytest.fixture
def sqlite_server(sqlite_url: str) -> Iterator[LiveServer]:
    live = serve(sqlite_url)
    yield live
    live.stop()


def hang_up_mid_upload(server: LiveServer, method: str, path: str, content_type: str) -> None:
    """Headers and part of the body on a raw socket, then close it while the app reads."""
    head = (f"{method} {path} HTTP/1.1\r\nHost: {server.host}:{server.port}\r\nAuthorization: Bearer {ADMIN}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: 100000\r\n\r\n")
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as raw:
        raw.sendall(head.encode() + b"x" * 3000)
        deadline = time.monotonic() + TIMEOUT
        while not server.server.server_state.tasks:  # the request reached the app
            assert time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(0.05)
    idle(server)


def test_a_client_hanging_up_mid_upload_is_no_error(sqlite_server: LiveServer, logs: pytest.LogCaptureFixture) -> None:
    """starlette raises ClientDisconnect from request.stream(): that was a 500
    and two tracebacks (server_error's and uvicorn's) for a client who left."""
    with httpx.Client(base_url=sqlite_server.url, headers=admin_headers(), trust_env=False) as http:
        sid = http.post("/api/shows", json={"title": "T"}).json()["id"]
        before = http.get(f"/api/shows/{sid}/state").json()["seq"]
        logs.clear()
        hang_up_mid_upload(sqlite_server, "POST", "/api/shows", "application/json")
        hang_up_mid_upload(sqlite_server, "PUT", f"/api/shows/{sid}/rundown", "text/csv")
        hang_up_mid_upload(sqlite_server, "POST", f"/api/shows/{sid}/viewers", "application/json")
        assert [r.getMessage()[:80] for r in logs.records if r.levelno >= logging.WARNING or r.exc_info] == []
        assert "Traceback" not in logs.text and " 500" not in logs.text
        # nothing was written, and the server goes on serving
        assert http.get(f"/api/shows/{sid}/state").json()["seq"] == before
        assert [s["id"] for s in http.get("/api/shows").json()["shows"]] == [sid]


async def test_webhook_secrets_never_reach_the_log(server: LiveServer, logs: pytest.LogCaptureFixture) -> None:
    import hashlib
    import hmac

    async with httpx.AsyncClient(base_url=server.url, headers=admin_headers(), trust_env=False, timeout=TIMEOUT) as http:
        show = (await http.post("/api/shows", json={"title": "T", "products": [
            {"sku": "A1", "title": "Tea", "list_price": "1.00"}]})).json()
        first = show["webhook_secret"]
        second = (await http.post(f"/api/shows/{show['id']}/webhook-secret")).json()["webhook_secret"]
        raw = json.dumps({"order_id": "o1", "sku": "A1", "qty": 1, "amount": "1.00"}).encode()
        for secret, status in ((first, 401), (second, 201)):
            sig = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
            r = await http.post(f"/api/shows/{show['id']}/orders", content=raw, headers={"X-Live-Signature": sig})
            assert r.status_code == status
    idle(server)
    logged = everything_logged(logs)
    assert first not in logged and second not in logged
