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
import re
import secrets
import time
from typing import Any

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from live.adapters.bus import CutOff, Subscription
from live.core import protocol as p
from live.core import values as v
from live.core.auth import Principal, viewer_of
from live.core.compliance import check_show
from live.core.errors import Forbidden, Invalid, LiveError, NotFound, RateLimited, Unauthorized
from live.core.failures import describe
from live.http.web import SESSION_COOKIE, hub, origin_allowed
from live.runtime.engine import ShowEngine

log = logging.getLogger("live.socket")

HELLO_TIMEOUT = 10.0
RATE = 20.0  # messages per second a client may send on average
BURST = 40.0
FLOOD_STRIKES = 50  # refused messages before the socket is closed

CLOSE_TIMEOUT = 2.0  # seconds a close may wait for a reader that does not read

CLOSE_POLICY = 1008
CLOSE_INTERNAL = 1011
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
    row = await h.journal.show_row(show_id)
    if row is None:
        raise NotFound(f"no show {show_id[:64]!r}")
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


def _close_code(exc: LiveError) -> int:
    if exc.status == 404:
        return CLOSE_NOT_FOUND
    if exc.status in (401, 403):
        return CLOSE_UNAUTHORIZED
    return CLOSE_POLICY


async def show_socket(ws: WebSocket) -> None:
    h = hub(ws)
    origin = ws.headers.get("origin")
    # Browsers always send Origin; a foreign one is cross-site WebSocket hijacking.
    # Closing before accept makes the server refuse the handshake with 403.
    if origin is not None and not origin_allowed(origin, ws, h.allowed_origins):
        await ws.close(code=CLOSE_POLICY)
        return
    await ws.accept()
    show_id = ws.path_params["show_id"]
    known: tuple[str, ...] = ()
    try:
        try:
            raw = await asyncio.wait_for(receive_text(ws), HELLO_TIMEOUT)
            hello = p.parse_hello(p.parse_message(raw))
            known = (hello["token"] or "", hello["overlay_key"] or "")
            audience, who = await identify(ws, hello, show_id)
            engine = await h.shows.get(show_id)
        except TimeoutError:
            await close_quietly(ws, CLOSE_POLICY, "no hello")
            return
        except LiveError as exc:
            await ws.send_text(error_message(exc))
            await close_quietly(ws, _close_code(exc))
            return
        viewer_id = who.staff_id if who is not None and who.role == "viewer" else None
        if viewer_id is not None:
            await engine.connected(viewer_id)
        try:
            await Connection(ws, engine, audience, who).run(hello["last_seq"])
        finally:
            if viewer_id is not None:
                engine.disconnected(viewer_id)
    except WebSocketDisconnect:
        pass
    except Exception as exc:  # noqa: BLE001 - a bug in one socket must not go unlogged or take down others
        log_failure(show_id, exc, known)
        await close_quietly(ws, CLOSE_INTERNAL)


class Connection:
    """One accepted socket after its hello: catch-up, then events out and
    messages in, concurrently. Every send goes through ``send`` (one lock), so
    the event sender and the replies of the receive loop never interleave."""

    def __init__(self, ws: WebSocket, engine: ShowEngine, audience: str, who: Principal | None) -> None:
        self.ws = ws
        self.engine = engine
        self.audience = audience
        self.who = who
        self.sent = 0  # highest seq sent (or covered by the snapshot)
        self.send_lock = asyncio.Lock()
        self.cut = asyncio.Event()  # set by the bus when this connection fell behind

    async def send(self, text: str) -> None:
        async with self.send_lock:
            await self.ws.send_text(text)

    def _snapshot(self, recovered: bool | None = None) -> str:
        state = self.engine.state
        warnings = check_show(state, hub(self.ws).claims) if self.audience == p.STAFF else None
        msg = p.snapshot(state, self.engine.now(), self.audience, self.engine.epoch, warnings)
        if recovered is not None:
            msg["recovered"] = recovered
        if self.who is not None and self.who.role == "viewer":
            msg["me"] = viewer_me(state, self.who.staff_id or "")
        elif self.who is not None:
            msg["me"] = {"role": self.who.role, "name": self.who.name}
        self.sent = state.seq
        return p.dumps(msg)

    async def _catch_up(self, last_seq: int | None) -> None:
        """A snapshot; or, for a reconnect, exactly the missed events then ``recovered``
        (a snapshot with ``recovered: false`` when they are no longer held)."""
        missed = None if last_seq is None else await self.engine.missed(last_seq)
        if last_seq is None or missed is None:
            await self.send(self._snapshot(None if last_seq is None else False))
            return
        for event in missed:
            text = p.Outgoing(event).encoded(self.audience)
            if text is not None:
                await self.send(text)
        self.sent = max(last_seq, missed[-1]["seq"] if missed else 0)
        await self.send(
            p.dumps({"type": "recovered", "seq": self.sent, "epoch": self.engine.epoch,
                     "server_time": self.engine.now(), "recovered": True, "missed": len(missed)})
        )

    async def run(self, last_seq: int | None) -> None:
        """Serve the socket until the client leaves, floods, or falls behind.
        Raises WebSocketDisconnect when the client left; other errors are bugs."""
        sub = hub(self.ws).bus.subscribe(self.engine.show_id, on_overflow=self.cut.set)
        try:
            # Subscribed first, so nothing published from here on is lost;
            # the sender skips what the snapshot or the catch-up already holds.
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
                log.info("cut off a slow %s connection of show %s", self.audience, self.engine.show_id)
                await close_quietly(self.ws, CLOSE_TOO_SLOW, "too slow")
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
            if item.seq <= self.sent:
                continue
            self.sent = item.seq
            text = item.encoded(self.audience)
            if text is not None:
                await self.send(text)

    async def _receive_loop(self) -> None:
        bucket = Bucket(RATE, BURST)
        strikes = 0
        while True:
            request_id = None
            try:
                raw = await receive_text(self.ws)
                if not bucket.take():
                    strikes += 1
                    if strikes >= FLOOD_STRIKES:
                        await close_quietly(self.ws, CLOSE_POLICY, "too many messages")
                        return
                    raise RateLimited("too many messages; slow down")
                msg = p.parse_message(raw)
                request_id = msg.get("request_id")
                if request_id is not None and (
                    isinstance(request_id, bool) or not isinstance(request_id, (str, int)) or len(str(request_id)) > 64
                ):
                    request_id = None
                    raise Invalid("request_id must be a short string", "request_id")
                await self._handle(msg, request_id)
            except LiveError as exc:
                await self.send(error_message(exc, request_id))

    async def _handle(self, msg: dict[str, Any], request_id: Any) -> None:
        kind = msg["type"]
        if kind == "ping":
            t = msg.get("t")
            if t is not None and (isinstance(t, bool) or not isinstance(t, (int, float))):
                raise Invalid("t must be a number (the client's clock in ms)", "t")
            await self.send(p.dumps({"type": "pong", "t": t, "server_time": self.engine.now()}))
        elif kind in VIEWER_MESSAGES:
            await self._viewer_message(kind, msg, request_id)
        elif kind == "command":
            if self.who is None or self.who.role == "viewer":
                raise Forbidden("only staff may send commands")
            command = v.obj(msg.get("command"), "command")
            if command.get("type") in ("products.replace", "rundown.replace"):
                raise Invalid("use PUT …/products or PUT …/rundown for this", "command.type")
            events = await self.engine.execute(command, self.who)
            await self.send(
                p.dumps({"type": "command.result", "request_id": request_id, "ok": True,
                         "seq": events[-1]["seq"] if events else self.engine.state.seq,
                         "events": [p.without_private(e) for e in events]})
            )
        elif kind == "snapshot":
            await self.send(self._snapshot())
        else:
            raise Invalid(f"unknown message type {kind!r}", "type")


    async def _viewer_message(self, kind: str, msg: dict[str, Any], request_id: Any) -> None:
        """like / comment / share / claim from a viewer (anonymous watchers may not)."""
        if self.who is None or self.who.role != "viewer":
            raise Forbidden("register a nickname first: viewers only")
        viewer_id = self.who.staff_id or ""
        if kind == "like":
            v.no_unknown_keys(msg, {"type", "count", "request_id"}, "")
            count = v.integer(msg.get("count"), "count", lo=1, hi=100, default=1)
            accepted = self.engine.add_likes(viewer_id, count)
            if accepted < count:
                raise RateLimited(f"likes over the rate: {count - accepted} of {count} were not counted")
        elif kind == "comment":
            v.no_unknown_keys(msg, {"type", "text", "request_id"}, "")
            await self.engine.execute({"type": "viewer.comment", "text": msg.get("text")}, self.who)
            await self.send(p.dumps({"type": "command.result", "request_id": request_id, "ok": True}))
        elif kind == "share":
            v.no_unknown_keys(msg, {"type", "request_id"}, "")
            await self.engine.execute({"type": "viewer.share"}, self.who)
        elif kind == "claim":
            v.no_unknown_keys(msg, {"type", "sale_id", "qty", "request_id"}, "")
            if request_id is None:
                raise Invalid("a claim needs a request_id (it makes retries safe)", "request_id")
            body = {"sale_id": msg.get("sale_id"), "qty": msg.get("qty", 1), "request_id": str(request_id)}
            result = await self.engine.claim(viewer_id, body)
            await self.send(p.dumps({"type": "claim.result", "request_id": request_id, **result}))


VIEWER_MESSAGES = ("like", "comment", "share", "claim")


def viewer_me(state: Any, viewer_id: str) -> dict[str, Any]:
    """A viewer's own part of the snapshot: nickname and won claims."""
    ledger = state.ledger
    viewer = ledger.viewers.get(viewer_id)
    claims = list(viewer.orders) if viewer else []
    return {"role": "viewer", "viewer_id": viewer_id, "nickname": viewer.nickname if viewer else None,
            "claims": claims}


routes = [WebSocketRoute("/ws/shows/{show_id}", show_socket)]
