"""A staff HTTP client's and a socket client's steps against a real server
(``live_server``), for the tests of ``/ws/shows/{id}`` and the features that
ride on it. Every wait is a receive with the one ceiling of tests/waiting.py."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx2 as httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import PRODUCTS, SEGMENTS, LiveServer
from tests.waiting import CEILING, Deadline, areceive_until


async def new_show(http: httpx.AsyncClient) -> dict[str, Any]:
    r = await http.post("/api/shows", json={"title": "Socket show", "products": PRODUCTS, "segments": SEGMENTS})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def staff_token(http: httpx.AsyncClient, sid: str, role: str = "assistant") -> str:
    r = await http.post(f"/api/shows/{sid}/staff", json={"name": "Mei", "role": role})
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


async def command(http: httpx.AsyncClient, sid: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await http.post(f"/api/shows/{sid}/commands", json=body)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def seq_of(http: httpx.AsyncClient, sid: str) -> int:
    r = await http.get(f"/api/shows/{sid}/state")
    assert r.status_code == 200, r.text
    return int(r.json()["seq"])


def ws_connect(server: LiveServer, sid: str, **kwargs: Any) -> Any:
    kwargs.setdefault("proxy", None)
    kwargs.setdefault("open_timeout", CEILING)
    return connect(f"{server.ws_url}/ws/shows/{sid}", **kwargs)


async def recv(ws: ClientConnection, timeout: float = CEILING) -> dict[str, Any]:
    raw = await asyncio.wait_for(ws.recv(), timeout)
    return json.loads(raw)  # type: ignore[no-any-return]


async def recv_until(ws: ClientConnection, pred: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The first message matching ``pred``; fails after CEILING."""
    return await areceive_until(ws, pred)


async def closed_code(ws: ClientConnection) -> int | None:
    """Read until the server closes; returns the close code it sent."""
    deadline = Deadline()
    try:
        while True:
            await asyncio.wait_for(ws.recv(), deadline.left())
    except ConnectionClosed as exc:
        return None if exc.rcvd is None else exc.rcvd.code


async def hello(ws: ClientConnection, **fields: Any) -> dict[str, Any]:
    await ws.send(json.dumps({"type": "hello", **fields}))
    return await recv(ws)


def hub_of(server: LiveServer) -> Any:
    return server.server.config.app.state.hub


def big_rundown() -> list[dict[str, Any]]:
    """~0.9 MB of segments: a few of these fill any socket buffer."""
    point = "p" * 480
    return [
        {"kind": "break", "title": f"{i:03d} " + "t" * 190, "planned_seconds": 60, "talking_points": [point] * 3}
        for i in range(500)
    ]
