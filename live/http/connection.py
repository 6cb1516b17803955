"""One accepted socket after its hello (``Connection``), and the helpers the
socket's transport shares with it: reading a message, closing, logging a failure.

``live.http.socket`` does the handshake side (Origin, the hello limit,
identifying tokens) and hands the socket over; ``live.http.wire`` moves the bytes.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import deque
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from live.adapters.bus import Subscription
from live.core import protocol as p
from live.core import session as s
from live.core.compliance import check_show
from live.core.errors import Invalid, LiveError, RateLimited
from live.core.failures import describe
from live.http.web import hub
from live.http.wire import Wire, wire_of
from live.runtime.engine import ShowEngine

log = logging.getLogger("live.socket")

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


class Connection:
    """One accepted socket after its hello: catch-up, then events out and
    messages in. Everything runs in the ASGI task and in callbacks, with no task
    per connection while the socket keeps up:

    - events: the bus hands each to ``_push`` (the direct lane), which writes its
      prebuilt frame straight to the transport, or, when the socket is
      backpressured (or not caught up yet), lets it wait in the subscription's
      bounded queue, which a drain task empties as the socket drains; past the
      queue's size the bus cuts the socket off (4008);
    - messages: ``_received`` (called as the wire parses them) answers pings,
      likes and refusals at once, hands claims to the writer with a callback
      (answered as its group commit decides the batch), and queues the rest
      (commands, comments, shares) for one call task, in order.
    """

    __slots__ = ("caller", "calls", "closer", "closing", "drainer", "engine", "h", "live", "replies",
                 "session", "sub", "wire", "ws")

    MAX_CALLS = 64  # commands one socket may have waiting for the engine

    def __init__(self, ws: WebSocket, engine: ShowEngine, session: s.Session, wire: Wire | None = None) -> None:
        self.ws = ws
        self.h = hub(ws)
        self.engine = engine
        self.session = session
        self.wire = wire if wire is not None else wire_of(ws)
        self.sub: Subscription | None = None
        self.live = False  # caught up: events may go out as they come
        self.closing = False
        # answers waiting for the drain task, in order; commands waiting for the
        # call task. Made when first needed: a deque is ~0.7 KiB, and most sockets
        # never have anything waiting.
        self.replies: deque[bytes] | None = None
        self.drainer: asyncio.Task[None] | None = None
        self.calls: deque[s.Call] | None = None
        self.caller: asyncio.Task[None] | None = None
        self.closer: asyncio.Task[None] | None = None

    async def current(self) -> ShowEngine:
        """The show's engine in this process now: a replaced one (the scaled mode:
        the show moved to or from this process; or fenced) is swapped for its successor."""
        if self.engine.fenced:
            self.engine = await self.h.shows.get(self.engine.show_id)
        return self.engine

    def _snapshot(self, recovered: bool | None = None) -> str:
        state = self.engine.state
        warnings = check_show(state, self.h.claims) if self.session.audience == p.STAFF else None
        return self.session.snapshot(state, self.engine.now(), self.engine.epoch, warnings, recovered)

    async def _catch_up(self, last_seq: int | None) -> None:
        """A snapshot; or, for a reconnect, exactly the missed events then ``recovered``
        (a snapshot with ``recovered: false`` when they are too many or no longer held)."""
        limit = self.session.catch_up(last_seq)
        missed = None if last_seq is None or limit is None else await self.engine.missed(last_seq, limit)
        if last_seq is None or missed is None:
            frames = [self._snapshot(None if last_seq is None else False)]
        else:
            frames = self.session.replayed(last_seq, missed, self.engine.epoch, self.engine.now())
        for frame in frames:
            await self.wire.send(self.wire.pack(frame.encode()))

    async def run(self, last_seq: int | None) -> None:
        """Serve the socket until the client leaves, floods, or falls behind.
        Raises WebSocketDisconnect when the client left; other errors are bugs."""
        self.sub = sub = self.h.bus.subscribe(self.engine.show_id, on_overflow=self._cut,
                                              audience=self.session.audience, sink=self._push)
        try:
            # Subscribed first, so nothing published from here on is lost; it
            # waits in the queue until the catch-up is out, and the session skips
            # what the snapshot or the catch-up already holds. (The show's engine
            # here may have been replaced meanwhile: the catch-up reads the one
            # now publishing.)
            await self.current()
            await self._catch_up(last_seq)
            self.live = True
            if not sub.queue.empty():
                self._start_drain()
            if self.wire.direct:
                queued = self.wire.queued()
                self.wire.receive_directly(self._received)
                for raw in queued:
                    self._received(raw)
                while True:  # only the disconnect still comes this way
                    self._received(await receive_text(self.ws))
            else:
                await self._receive_loop()
        finally:
            sub.close()
            self.closing = True
            for task in (self.drainer, self.caller):
                if task is not None:
                    task.cancel()
            if self.closer is not None:
                await asyncio.gather(self.closer, return_exceptions=True)

    async def _receive_loop(self) -> None:
        """Messages through the ASGI ``receive`` (a server other than uvicorn's
        sans-I/O one), until the client leaves or this side closes."""
        while not self.closing:
            receiving = asyncio.ensure_future(receive_text(self.ws))
            closed = self.closer
            waiting: set[asyncio.Future[Any]] = {receiving} if closed is None else {receiving, closed}
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if not receiving.done():
                receiving.cancel()
                return
            try:
                raw = receiving.result()
            except Invalid as exc:  # a binary frame that is not UTF-8
                self.reply(s.error(exc).encode())
                continue
            self._received(raw)

    # -- out ------------------------------------------------------------------------------

    def _push(self, item: p.Delivery) -> bool:
        """The bus's sink: write ``item`` now (True), or leave it to the queue (False)."""
        if self.live and self.drainer is None and self.wire.ready():
            data = self.session.outgoing_frame(item)
            if data is not None:
                self.wire.write(data)
            return True
        self._start_drain()  # the item is queued right after this returns
        return False

    def reply(self, payload: bytes) -> None:
        """Send an answer: at once when the socket keeps up, else after what waits."""
        if self.closing:
            return
        data = self.wire.pack(payload)
        if self.drainer is None and self.wire.ready():
            self.wire.write(data)
            return
        if self.replies is None:
            self.replies = deque()
        self.replies.append(data)
        self._start_drain()

    def _start_drain(self) -> None:
        if self.drainer is None and self.live and not self.closing:
            self.drainer = asyncio.ensure_future(self._drain())

    async def _drain(self) -> None:
        """Send the waiting answers and events as the socket drains; ends when none wait."""
        sub = self.sub
        assert sub is not None
        direct = self.wire.direct
        try:
            while not self.closing:
                if self.replies:
                    data: bytes | None = self.replies.popleft()
                elif not sub.queue.empty():
                    item = sub.queue.get_nowait()
                    if direct:
                        data = self.session.outgoing_frame(item)
                    else:
                        text = self.session.outgoing(item)
                        data = None if text is None else text.encode()
                else:
                    return
                if data is not None:
                    await self.wire.send(data)
        except (WebSocketDisconnect, RuntimeError, OSError):
            return  # the client left: the receive side ends the connection
        except Exception as exc:  # noqa: BLE001 - a bug: logged, and the socket closed
            self._fail(exc)
        finally:
            self.drainer = None

    # -- in -------------------------------------------------------------------------------

    def _received(self, raw: str | bytes) -> None:
        """One message from the client, at its arrival (see the class's docstring)."""
        if self.closing:
            return
        try:
            if isinstance(raw, bytes):
                try:
                    raw = raw.decode()
                except UnicodeDecodeError:
                    self.reply(s.error(Invalid("binary messages must be UTF-8 JSON", "message")).encode())
                    return
            action = self.session.receive(raw, self.h.clock(), self.engine.now())
            if isinstance(action, s.Close):
                self._close(action.code, action.reason)
            elif isinstance(action, s.Reply):
                self.reply(action.text.encode())
            elif isinstance(action, s.Call):
                self._dispatch(action)
        except Exception as exc:  # noqa: BLE001 - a bug in one socket must not go unlogged or take down others
            self._fail(exc)

    def _dispatch(self, call: s.Call) -> None:
        engine = self.engine
        if engine.fenced or self.calls:  # (behind others waiting, or the engine is being replaced)
            self._queue_call(call)
        elif call.kind == "like":
            try:
                accepted = engine.add_likes(self.session.viewer_id or "", call.body["count"])
            except LiveError as exc:
                self.reply(s.error(exc, call.request_id).encode())
                return
            answer = self.session.likes_result(call, accepted)
            if answer is not None:
                self.reply(answer.encode())
        elif call.kind == "claim":
            engine.claim_soon(self.session.viewer_id or "", call.body,
                              lambda result, exc: self._claimed(call, result, exc))
        else:
            self._queue_call(call)

    def _claimed(self, call: s.Call, result: dict[str, Any] | None, exc: BaseException | None) -> None:
        """The writer's answer to a claim (called from its batch: must not raise)."""
        if isinstance(exc, LiveError):
            self.reply(s.error(exc, call.request_id).encode())
        elif exc is not None:
            self._fail(exc)
        elif result is not None:
            self.reply(self.session.claim_result(call, result).encode())

    def _queue_call(self, call: s.Call) -> None:
        if self.calls is not None and len(self.calls) >= self.MAX_CALLS:
            self.reply(s.error(RateLimited("too many requests waiting; slow down"), call.request_id).encode())
            return
        if self.calls is None:
            self.calls = deque()
        self.calls.append(call)
        if self.caller is None:
            self.caller = asyncio.ensure_future(self._call_loop())

    async def _call_loop(self) -> None:
        """Carry out the queued calls one after the other; ends when none wait."""
        try:
            calls = self.calls
            while calls and not self.closing:
                call = calls[0]
                try:
                    answer = await self._call(call)
                except LiveError as exc:
                    answer = s.error(exc, call.request_id)
                calls.popleft()
                if answer is not None:
                    self.reply(answer.encode())
        except Exception as exc:  # noqa: BLE001 - a bug: logged, and the socket closed
            self._fail(exc)
        finally:
            self.caller = None

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

    # -- the end --------------------------------------------------------------------------

    def _cut(self) -> None:
        """The bus dropped this subscriber: it fell behind, or the server is shutting down."""
        sub = self.sub
        if sub is not None and sub.closing is not None:  # the client reconnects elsewhere
            self._close(*sub.closing)
            return
        log.info("cut off a slow %s connection of show %s", self.session.audience, self.engine.show_id)
        self._close(s.CLOSE_TOO_SLOW, "too slow")

    def _fail(self, exc: BaseException) -> None:
        log_failure(self.engine.show_id, exc, ())
        self._close(s.CLOSE_INTERNAL)

    def _close(self, code: int, reason: str = "") -> None:
        """Close with ``code`` (once); nothing more is sent or handled after it."""
        if self.closing:
            return
        self.closing = True
        if self.sub is not None:
            self.sub.close()
        self.replies = None
        self.closer = asyncio.ensure_future(self._closed(code, reason))

    async def _closed(self, code: int, reason: str) -> None:
        """Send the close frame; a reader too slow to take even that within
        CLOSE_TIMEOUT has its connection dropped."""
        try:
            await asyncio.wait_for(self.ws.close(code=code, reason=reason), CLOSE_TIMEOUT)
        except TimeoutError:
            self.wire.abort()
        except (RuntimeError, WebSocketDisconnect, OSError):
            pass
