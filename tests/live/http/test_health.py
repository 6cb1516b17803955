"""``/healthz``, ``/readyz`` and a graceful shutdown's drain, in one process
(the scaled mode's, with real processes: tests/test_scaled.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.conftest import new_show


def test_healthz_says_the_process_is_up(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"ok": True}


def test_readyz_checks_the_database(client: TestClient) -> None:
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json() == {"ok": True, "checks": {"database": "ok"}}


def test_readyz_is_503_in_the_error_shape_when_the_database_does_not_answer(client: TestClient, app: Any) -> None:
    async def down() -> None:
        raise OSError("connection refused")

    app.state.hub.journal.ping = down
    r = client.get("/readyz")
    assert r.status_code == 503
    body = r.json()
    assert body["error"]["code"] == "NOT_READY" and "database" in body["error"]["message"]
    assert body["checks"] == {"database": "unreachable (OSError)"}


def test_a_process_shutting_down_is_not_ready(client: TestClient, app: Any) -> None:
    client.portal.call(app.state.hub.shows.handover)  # what a graceful shutdown does first
    r = client.get("/readyz")
    assert r.status_code == 503 and r.json()["checks"]["process"] == "shutting down"
    assert client.get("/healthz").status_code == 200  # still up, though


def test_draining_closes_every_socket_with_1012_and_a_reason_to_reconnect(client: TestClient, app: Any) -> None:
    show = new_show(client)
    with client.websocket_connect(f"/ws/shows/{show['id']}") as ws:
        ws.send_text(json.dumps({"type": "hello", "overlay_key": show["overlay_key"]}))
        assert json.loads(ws.receive_text())["type"] == "snapshot"
        client.portal.call(app.state.drain)
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                ws.receive_text()
    assert (closed.value.code, closed.value.reason) == (1012, "server restarting: reconnect")
    assert app.state.hub.open_sockets == 0
