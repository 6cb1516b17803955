"""``/ws/shows/{id}``: one socket for staff, overlays and viewers — the transport.

The protocol itself (hello → identify → catch-up → dispatch) is the sans-I/O
``live.core.session.Session``; this module does its I/O: the Origin check and
the per-address hello limit, reading and writing frames, identifying tokens,
and handing the socket to its ``live.http.connection.Connection``. Errors are ``{"type": "error", …}``
and the socket stays open; only a bad hello, a flood or a slow reader closes it.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from live.core import protocol as p
from live.core import session as s
from live.core.auth import Principal, viewer_of
from live.core.errors import LiveError, RateLimited, Unauthorized
from live.http.connection import (  # noqa: F401 - redact, CLOSE_TIMEOUT: the socket's names as before
    CLOSE_TIMEOUT,
    Connection,
    close_quietly,
    log,
    log_failure,
    receive_text,
    redact,
)
from live.http.web import SESSION_COOKIE, client_key, hub, limiter, origin_allowed, show_row
from live.runtime.hub import Hub

HELLO_TIMEOUT = 10.0


async def identify(ws: WebSocket, hello: dict[str, Any], show_id: str) -> tuple[str, Principal | None]:
    """(audience, principal) for a hello. Raises Unauthorized, Forbidden (a token of
    another show) or NotFound."""
    h = hub(ws)
    row = await show_row(ws, show_id)
    if hello["token"] is not None and hello["token"].startswith("vw_"):
        viewer_id = viewer_of(h.secret, show_id, hello["token"])
        if viewer_id is None:
            raise Unauthorized("the viewer token is not valid for this show")
        return p.PUBLIC, Principal("viewer", show_id, "viewer", viewer_id)
    if hello["token"] is not None:
        who = await h.accounts.identify(hello["token"])
        if who is None:
            raise Unauthorized("the token is not valid")
        who.require_show(show_id)
        return p.STAFF, who
    if hello["overlay_key"] is not None:
        if not secrets.compare_digest(hello["overlay_key"].encode(), str(row.overlay_key).encode()):
            raise Unauthorized("wrong overlay key")
        return p.PUBLIC, None
    cookie = ws.cookies.get(SESSION_COOKIE)
    if cookie:
        who = await h.accounts.identify(cookie)
        if who is not None:
            who.require_show(show_id)
            return p.STAFF, who
    # Anyone may watch: an anonymous hello gets the public view and can do nothing.
    return p.PUBLIC, None


async def show_socket(ws: WebSocket) -> None:
    h = hub(ws)
    origin = ws.headers.get("origin")
    # Browsers always send Origin; a foreign one is cross-site WebSocket hijacking.
    # Closing before accept makes the server refuse the handshake with 403.
    if origin is not None and not origin_allowed(origin, ws, h.allowed_origins):
        await ws.close(code=s.CLOSE_POLICY)
        return
    await ws.accept()
    h.open_sockets += 1
    try:
        await serve(ws, h)
    finally:
        h.open_sockets -= 1


async def serve(ws: WebSocket, h: Hub) -> None:
    """An accepted socket, from its hello to its end."""
    show_id = ws.path_params["show_id"]
    session = s.Session(h.clock())
    known: tuple[str, ...] = ()
    try:
        try:
            hello = session.hello(await asyncio.wait_for(receive_text(ws), HELLO_TIMEOUT))
            if not limiter(ws, "hellos").allow(client_key(ws)):
                raise RateLimited("too many connections from this address; wait a minute")
            known = (hello["token"] or "", hello["overlay_key"] or "")
            session.identified(*await identify(ws, hello, show_id))
            engine = await h.shows.get(show_id)
        except TimeoutError:
            await close_quietly(ws, s.CLOSE_POLICY, "no hello")
            return
        except LiveError as exc:
            await ws.send_text(s.error(exc))
            await close_quietly(ws, s.close_code(exc))
            return
        viewer_id = session.viewer_id
        if viewer_id is not None:
            await h.shows.connected(show_id, viewer_id)
        try:
            await Connection(ws, engine, session).run(hello["last_seq"])
        finally:
            if viewer_id is not None:
                h.shows.disconnected(show_id, viewer_id)
    except WebSocketDisconnect:
        pass
    except Exception as exc:  # noqa: BLE001 - a bug in one socket must not go unlogged or take down others
        log_failure(show_id, exc, known)
        await close_quietly(ws, s.CLOSE_INTERNAL)


routes = [WebSocketRoute("/ws/shows/{show_id}", show_socket)]
