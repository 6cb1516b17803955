"""``/ws/shows/{id}``: one socket for staff, overlays and viewers — the transport.

The protocol itself (hello → identify → catch-up → dispatch) is the sans-I/O
``live.core.session.Session``; this module does its I/O: the Origin check and
the per-address hello limit, reading and writing frames, identifying tokens,
asking the engine, and the fan-out loop. Errors are ``{"type": "error", …}``
and the socket stays open; only a bad hello, a flood or a slow reader closes it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from typing import Any

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from live.adapters.bus import CutOff, Subscription
from live.core import protocol as p
from live.core import session as s
from live.core.auth import Principal, viewer_of
from live.core.compliance import check_show
from live.core.errors import Invalid, LiveError, RateLimited, Unauthorized
from live.core.failures import describe
from live.http.web import SESSION_COOKIE, client_key, hub, limiter, origin_allowed, show_row
from live.runtime.engine import ShowEngine
from live.runtime.hub import Hub

log = logging.getLogger("live.socket")

HELLO_TIMEOUT = 10.0
CLOSE_TIMEOUT = 2.0  # seconds a close may wait for a reader that does not read


_TOKEN_RE = re.compile(r"\b(st|se|ad|ov)_[A-Za-z0-9_-]{8,}")


def redact(text: str, known: tuple[str, ...] = ()) -> str:
    """``text`` with the given secrets and anything shaped like a token masked."""
    for secret in known:
        if secret:
            text = text.replace(secret, "***")
    return _TOKEN_RE.sub(lambda m: m.group(1) + "_***", text)


def log_failure(show_id: str, exc: BaseException, known: tuple[str, ...]) -> None:
    """Log an unexpected error by its kind and place (``describe``): a message or a
    repr in a traceback may carry what the client sent."""
    log.error("socket of show %s failed: %s", redact(show_id[:64], known), describe(exc))


async def receive_text(ws: WebSocket) -> str:
    """The next client message as text. Raises WebSocketDisconnect when the client
    left, Invalid for a binary frame that is not UTF-8."""
    message = await ws.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    text = message.get("text")
    if text is not None:
        return str(text)
    try:
        return bytes(message.get("bytes") or b"").decode()
    except UnicodeDecodeError:
        raise Invalid("binary messages must be UTF-8 JSON", "message") from None


async def close_quietly(ws: WebSocket, code: int, reason: str = "") -> None:
    """Close with ``code`` unless already closed. A reader too slow to take even the
    close frame is not waited for beyond CLOSE_TIMEOUT."""
    try:
        await asyncio.wait_for(ws.close(code=code, reason=reason), CLOSE_TIMEOUT)
    except (TimeoutError, RuntimeError, WebSocketDisconnect, OSError):
        pass


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


class Connection:
    """One accepted socket after its hello: catch-up, then events out and
    messages in, concurrently. Every send goes through ``send`` (one lock), so
    the event sender and the replies of the receive loop never interleave."""

    def __init__(self, ws: WebSocket, engine: ShowEngine, session: s.Session) -> None:
        self.ws = ws
        self.engine = engine
        self.session = session
        self.send_lock = asyncio.Lock()
        self.cut = asyncio.Event()  # set by the bus when this connection fell behind

    async def send(self, text: str) -> None:
        async with self.send_lock:
            await self.ws.send_text(text)

    async def current(self) -> ShowEngine:
        """The show's engine in this process now: a replaced one (the scaled mode:
        the show moved to or from this process; or fenced) is swapped for its successor."""
        if self.engine.fenced:
            self.engine = await hub(self.ws).shows.get(self.engine.show_id)
        return self.engine

    def _snapshot(self, recovered: bool | None = None) -> str:
        state = self.engine.state
        warnings = check_show(state, hub(self.ws).claims) if self.session.audience == p.STAFF else None
        return self.session.snapshot(state, self.engine.now(), self.engine.epoch, warnings, recovered)

    async def _catch_up(self, last_seq: int | None) -> None:
        """A snapshot; or, for a reconnect, exactly the missed events then ``recovered``
        (a snapshot with ``recovered: false`` when they are too many or no longer held)."""
        limit = self.session.catch_up(last_seq)
        missed = None if last_seq is None or limit is None else await self.engine.missed(last_seq, limit)
        if last_seq is None or missed is None:
            await self.send(self._snapshot(None if last_seq is None else False))
            return
        for frame in self.session.replayed(last_seq, missed, self.engine.epoch, self.engine.now()):
            await self.send(frame)

    async def run(self, last_seq: int | None) -> None:
        """Serve the socket until the client leaves, floods, or falls behind.
        Raises WebSocketDisconnect when the client left; other errors are bugs."""
        sub = hub(self.ws).bus.subscribe(self.engine.show_id, on_overflow=self.cut.set, audience=self.session.audience)
        try:
            # Subscribed first, so nothing published from here on is lost;
            # the session skips what the snapshot or the catch-up already holds.
            # (The show's engine here may have been replaced meanwhile: the
            # catch-up reads the one now publishing.)
            await self.current()
            await self._catch_up(last_seq)
            tasks = [
                asyncio.ensure_future(self._send_loop(sub)),
                asyncio.ensure_future(self._receive_loop()),
                asyncio.ensure_future(self.cut.wait()),
            ]
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            if self.cut.is_set():
                if sub.closing is not None:  # the server is shutting down: the client reconnects elsewhere
                    await close_quietly(self.ws, *sub.closing)
                    return
                log.info("cut off a slow %s connection of show %s", self.session.audience, self.engine.show_id)
                await close_quietly(self.ws, s.CLOSE_TOO_SLOW, "too slow")
                return
            for task in done:
                task.result()  # re-raises WebSocketDisconnect or a bug
        finally:
            sub.close()

    async def _send_loop(self, sub: Subscription) -> None:
        while True:
            try:
                item = await sub.get()
            except CutOff:
                await self.cut.wait()  # ``run`` sees the cut and closes
                return
            text = self.session.outgoing(item)
            if text is not None:
                await self.send(text)

    async def _receive_loop(self) -> None:
        clock = hub(self.ws).clock
        while True:
            try:
                raw = await receive_text(self.ws)
            except Invalid as exc:  # a binary frame that is not UTF-8
                await self.send(s.error(exc))
                continue
            action = self.session.receive(raw, clock(), self.engine.now())
            if isinstance(action, s.Close):
                await close_quietly(self.ws, action.code, action.reason)
                return
            if isinstance(action, s.Reply):
                await self.send(action.text)
            elif isinstance(action, s.Call):
                try:
                    reply = await self._call(action)
                except LiveError as exc:
                    reply = s.error(exc, action.request_id)
                if reply is not None:
                    await self.send(reply)

    async def _call(self, call: s.Call) -> str | None:
        """Carry out a call on the engine; returns the frame that answers it.
        Raises LiveError when the engine refuses it."""
        who = self.session.who
        assert who is not None or call.kind == "snapshot"
        engine = await self.current()
        if call.kind == "snapshot":
            return self._snapshot()
        if call.kind == "like":
            accepted = engine.add_likes(self.session.viewer_id or "", call.body["count"])
            return self.session.likes_result(call, accepted)
        if call.kind == "claim":
            return self.session.claim_result(call, await engine.claim(self.session.viewer_id or "", call.body))
        assert who is not None
        events = await engine.execute(call.body, who)
        return self.session.command_result(call, events, engine.state.seq)


routes = [WebSocketRoute("/ws/shows/{show_id}", show_socket)]
