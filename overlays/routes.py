"""``/ws/shows/{id}``: one socket for staff, overlays and (later) viewers.

The first message (hello) decides the role. Then the server sends a snapshot
(or exactly the missed events for a reconnect with ``last_seq``) followed by
every event the role may see, while the client may ping and, as staff, send
commands. Errors are ``{"type": "error", …}`` and the socket stays open;
only a bad hello, a flood or a slow reader closes it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import Any

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from live.auth import Principal
from live.compliance import check_show
from live.engine import ShowEngine
from live import values as v
from live.errors import Forbidden, Invalid, LiveError, RateLimited, Unauthorized
from live.web import SESSION_COOKIE, hub, origin_allowed
from overlays import protocol as p
from overlays.bus import Subscription

log = logging.getLogger("live.socket")

HELLO_TIMEOUT = 10.0
RATE = 20.0  # messages per second a client may send on average
BURST = 40.0
FLOOD_STRIKES = 50  # refused messages before the socket is closed

CLOSE_POLICY = 1008
CLOSE_TOO_SLOW = 4008
CLOSE_UNAUTHORIZED = 4401
CLOSE_NOT_FOUND = 4404


class Bucket:
    """Token bucket on the monotonic clock (a socket's own rate limit)."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = burst
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def error_message(exc: LiveError, request_id: Any = None) -> str:
    body: dict[str, Any] = {"type": "error", "code": exc.code, "message": exc.message, "request_id": request_id}
    if exc.field is not None:
        body["field"] = exc.field
    return p.dumps(body)


async def identify(ws: WebSocket, hello: dict[str, Any], show_id: str) -> tuple[str, Principal | None]:
    """(audience, principal) for a hello; raises Unauthorized."""
    h = hub(ws)
    if hello["token"] is not None:
        who = await h.accounts.identify(hello["token"])
        if who is None:
            raise Unauthorized("the token is not valid")
        who.require_show(show_id)
        return p.STAFF, who
    if hello["overlay_key"] is not None:
        row = await h.journal.show_row(show_id)
        if row is None or not secrets.compare_digest(hello["overlay_key"], row.overlay_key):
            raise Unauthorized("wrong overlay key")
        return p.PUBLIC, None
    cookie = ws.cookies.get(SESSION_COOKIE)
    if cookie:
        who = await h.accounts.identify(cookie)
        if who is not None:
            who.require_show(show_id)
            return p.STAFF, who
    raise Unauthorized("say hello with a token or an overlay_key")


async def show_socket(ws: WebSocket) -> None:
    h = hub(ws)
    origin = ws.headers.get("origin")
    # Browsers always send Origin; a foreign one is cross-site WebSocket hijacking.
    if origin is not None and not origin_allowed(origin, ws.headers.get("host"), h.allowed_origins):
        await ws.close(code=CLOSE_POLICY)
        return
    await ws.accept()
    show_id = ws.path_params["show_id"]
    try:
        try:
            raw = await asyncio.wait_for(ws.receive_text(), HELLO_TIMEOUT)
            hello = p.parse_hello(p.parse_message(raw))
            engine = await h.shows.get(show_id)
            audience, who = await identify(ws, hello, show_id)
        except asyncio.TimeoutError:
            await ws.close(code=CLOSE_POLICY, reason="no hello")
            return
        except LiveError as exc:
            await ws.send_text(error_message(exc))
            code = CLOSE_NOT_FOUND if exc.status == 404 else CLOSE_UNAUTHORIZED if exc.status in (401, 403) else CLOSE_POLICY
            await ws.close(code=code)
            return
        await Connection(ws, engine, audience, who).run(hello["last_seq"])
    except WebSocketDisconnect:
        pass


class Connection:
    def __init__(self, ws: WebSocket, engine: ShowEngine, audience: str, who: Principal | None) -> None:
        self.ws = ws
        self.engine = engine
        self.audience = audience
        self.who = who
        self.sent = 0  # highest seq sent
        self.closing = False

    def _overflow(self) -> None:
        # Called by the bus when our queue is full: we are too slow; cut off.
        self.closing = True
        asyncio.ensure_future(self._close(CLOSE_TOO_SLOW))

    async def _close(self, code: int) -> None:
        try:
            await self.ws.close(code=code)
        except Exception:  # already closed
            pass

    def _snapshot(self) -> str:
        state = self.engine.state
        warnings = check_show(state, hub(self.ws).claims) if self.audience == p.STAFF else None
        msg = p.snapshot(state, self.engine.now(), self.audience, self.engine.epoch, warnings)
        if self.who is not None:
            msg["me"] = {"role": self.who.role, "name": self.who.name}
        self.sent = state.seq
        return p.dumps(msg)

    async def run(self, last_seq: int | None) -> None:
        sub = hub(self.ws).bus.subscribe(self.engine.show_id, on_overflow=self._overflow)
        try:
            # Subscribed first, so nothing published from here on is lost;
            # the sender skips what the snapshot or the catch-up already holds.
            missed = None if last_seq is None else await self.engine.missed(last_seq)
            if missed is None:
                first = self._snapshot()
                if last_seq is not None:
                    first = first[:-1] + ',"recovered":false}'
                await self.ws.send_text(first)
            else:
                for event in missed:
                    text = p.Outgoing(event).encoded(self.audience)
                    if text is not None:
                        await self.ws.send_text(text)
                self.sent = max(last_seq or 0, missed[-1]["seq"] if missed else 0)
                await self.ws.send_text(
                    p.dumps({"type": "recovered", "seq": self.sent, "epoch": self.engine.epoch,
                             "server_time": self.engine.now(), "recovered": True, "missed": len(missed)})
                )
            sender = asyncio.ensure_future(self._send_loop(sub))
            try:
                await self._receive_loop()
            finally:
                sender.cancel()
        finally:
            sub.close()

    async def _send_loop(self, sub: Subscription) -> None:
        while not self.closing:
            item = await sub.get()
            if item.seq <= self.sent:
                continue
            self.sent = item.seq
            text = item.encoded(self.audience)
            if text is not None:
                await self.ws.send_text(text)

    async def _receive_loop(self) -> None:
        bucket = Bucket(RATE, BURST)
        strikes = 0
        while True:
            raw = await self.ws.receive_text()
            request_id = None
            try:
                if not bucket.take():
                    strikes += 1
                    if strikes >= FLOOD_STRIKES:
                        await self._close(CLOSE_POLICY)
                        return
                    raise RateLimited("too many messages; slow down")
                msg = p.parse_message(raw)
                request_id = msg.get("request_id")
                if request_id is not None and (not isinstance(request_id, (str, int)) or len(str(request_id)) > 64):
                    request_id = None
                    raise Invalid("request_id must be a short string", "request_id")
                await self._handle(msg, request_id)
            except LiveError as exc:
                await self.ws.send_text(error_message(exc, request_id))

    async def _handle(self, msg: dict[str, Any], request_id: Any) -> None:
        kind = msg["type"]
        if kind == "ping":
            await self.ws.send_text(p.dumps({"type": "pong", "t": msg.get("t"), "server_time": self.engine.now()}))
        elif kind == "command":
            if self.who is None:
                raise Forbidden("only staff may send commands")
            command = v.obj(msg.get("command"), "command")
            if command.get("type") in ("products.replace", "rundown.replace"):
                raise Invalid("use PUT …/products or PUT …/rundown for this", "command.type")
            events = await self.engine.execute(command, self.who)
            await self.ws.send_text(
                p.dumps({"type": "command.result", "request_id": request_id, "ok": True,
                         "seq": self.engine.state.seq, "events": events})
            )
        elif kind == "snapshot":
            await self.ws.send_text(self._snapshot())
        else:
            raise Invalid(f"unknown message type {kind!r}", "type")


routes = [WebSocketRoute("/ws/shows/{show_id}", show_socket)]
