"""Node: this server process among the others of the scaled mode.

Processes talk only through the broker's streams (``live.adapters.broker``):

- ``{prefix}events:{show}``: the owner appends each journaled batch (and a
  heartbeat with its seq every lease round), bounded (``XADD MAXLEN ~``);
  every other process with a socket or a request on the show reads it.
- ``{prefix}requests:{show}``: other processes append what only the owner
  may do (a command to decide, the audience they hold); the owner reads it.
- ``{prefix}inbox:{node}``: answers to this process's requests.

One reader task (``_pump``) blocks on all the streams this process follows
at once (``XREAD BLOCK``), and one sender task (``_sender``) appends what is
queued, many entries a round trip. A stream read resumes where it left off
after Redis comes back, which is why there is no PubSub here. A request
waits ``timeout`` seconds at most: then it fails with ``Unavailable`` (503),
and the owner, seeing its deadline passed, never runs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from live.adapters.broker import Add, Broker, BrokerDown, Entry, Fields
from live.adapters.journal import FencingError
from live.core import errors
from live.core.errors import LiveError, Unavailable
from live.core.failures import describe
from live.core.sales import ClaimLost

log = logging.getLogger("live.node")

# An op's handler: (show id, the asking node, body) → a JSON-able answer; raises LiveError.
Handler = Callable[[str, str, Any], Awaitable[Any]]
REQUESTS_LENGTH = 10_000  # entries kept in a show's request stream and in a node's inbox
SEND_BATCH = 500  # entries appended in one round trip at most
READ_COUNT = 1_000  # entries read from one stream in one round trip at most

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
# Errors an owner's answer may carry, rebuilt as themselves on the asking side.
_ERRORS: dict[str, type[LiveError]] = {
    cls.__name__: cls
    for cls in (errors.Invalid, errors.IdempotencyMismatch, errors.Unauthorized, errors.Forbidden, errors.NotFound,
                errors.Conflict, errors.TooLarge, errors.RateLimited, Unavailable, FencingError)
}


class RemoteError(LiveError):
    """An error the owner answered with, of a kind this side does not rebuild."""

    def __init__(self, message: str, field: str | None, code: str, status: int) -> None:
        super().__init__(message, field, code=code)
        self.status = status


def error_body(exc: BaseException) -> dict[str, Any]:
    """An error as an answer carries it: a LiveError's kind, code and message; any
    other error only as ``internal`` (its text stays in the owner's process)."""
    if isinstance(exc, LiveError):
        return {"kind": type(exc).__name__, "code": exc.code, "message": exc.message, "field": exc.field,
                "status": exc.status}
    return {"kind": "internal"}


def rebuilt(body: dict[str, Any]) -> LiveError:
    """The LiveError an owner's answer carried (see ``error_body``)."""
    kind, code, message, field = body.get("kind"), body.get("code"), body.get("message", ""), body.get("field")
    if kind == "internal":
        return RemoteError("the show's writer failed; see the server log", None, "INTERNAL", 500)
    if kind == "ClaimLost":
        return ClaimLost(str(code))
    cls = _ERRORS.get(str(kind))
    if cls is not None:
        return cls(str(message), field, code=code)
    return RemoteError(str(message), field, str(code), int(body.get("status", 500)))


class Node:
    def __init__(self, broker: Broker, prefix: str = "live:", timeout: float = 1.5, stream_length: int = 1000,
                 block_ms: int = 2000, node_id: str | None = None) -> None:
        self.id = node_id or secrets.token_hex(6)
        self.broker = broker
        self.prefix = prefix
        self.timeout = timeout
        self.stream_length = stream_length
        self.block_ms = block_ms
        self.handlers: dict[str, Handler] = {}
        self.on_events: Callable[[str, Fields], None] = lambda show_id, fields: None
        self.up = False  # the last read reached the broker
        self._reading: dict[str, str] = {self.inbox(self.id): "0-0"}  # stream → id of the last entry read
        self._streams: dict[str, tuple[str, str]] = {}  # stream → (kind, show id)
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._outbox: deque[tuple[Add, asyncio.Future[None] | None]] = deque()
        self._queued = asyncio.Event()
        self._ids = itertools.count(1)
        self._tasks: list[asyncio.Task[None]] = []
        self._serving: set[asyncio.Task[None]] = set()
        self.closing = False

    # -- names -------------------------------------------------------------------------

    def key(self, kind: str, name: str) -> str:
        return f"{self.prefix}{kind}:{name}"

    def lease(self, show_id: str) -> str:
        return self.key("lease", show_id)

    def events(self, show_id: str) -> str:
        return self.key("events", show_id)

    def inbox(self, node_id: str) -> str:
        return self.key("inbox", node_id)

    def process(self, node_id: str) -> str:
        return self.key("process", node_id)

    # -- life --------------------------------------------------------------------------

    def start(self) -> None:
        self._tasks = [asyncio.ensure_future(self._pump()), asyncio.ensure_future(self._sender())]

    @property
    def running(self) -> bool:
        return bool(self._tasks) and not any(t.done() for t in self._tasks)

    async def close(self) -> None:
        # The loops also stop by the flag: redis-py can swallow a cancellation
        # that lands at the wrong moment, and closing must not wait on it forever.
        self.closing = True
        tasks = [*self._tasks, *self._serving]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=self.block_ms / 1000 + self.timeout + 1)
        self._tasks = []
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(Unavailable("this server is shutting down"))
        await self.broker.close()

    # -- what this process reads -----------------------------------------------------------

    async def watch(self, kind: str, show_id: str) -> None:
        """Read the show's ``events`` or ``requests`` stream from its newest entry on.
        Raises BrokerDown."""
        stream = self.key(kind, show_id)
        if stream in self._reading:
            return
        position = await self.broker.last_id(stream)
        self._reading[stream] = position
        self._streams[stream] = (kind, show_id)
        self.send(self.inbox(self.id), {"wake": "1"})  # the blocked read starts over with this stream

    def unwatch(self, kind: str, show_id: str) -> None:
        stream = self.key(kind, show_id)
        self._reading.pop(stream, None)
        self._streams.pop(stream, None)

    async def _pump(self) -> None:
        backoff = 0.05
        down_since: float | None = None
        while not self.closing:
            positions = dict(self._reading)
            try:
                got = await self.broker.read(positions, self.block_ms, READ_COUNT)
            except BrokerDown as exc:
                if down_since is None:
                    log.warning("the broker is unreachable (%s); reading again as soon as it answers", exc)
                    down_since = time.monotonic()
                self.up = False
                await asyncio.sleep(backoff)
                backoff = min(1.0, backoff * 2)
                continue
            if down_since is not None:
                log.info("the broker answers again")
            self.up, backoff, down_since = True, 0.05, None
            for stream, entries in got:
                # A stream dropped or watched anew meanwhile starts from its own position.
                if self._reading.get(stream) != positions[stream]:
                    continue
                self._reading[stream] = entries[-1][0]
                try:
                    self._dispatch(stream, entries)
                except Exception as exc:  # noqa: BLE001 - one bad entry must not stop the reader
                    log.error("handling entries of %s failed: %s", stream, describe(exc))

    def _dispatch(self, stream: str, entries: list[Entry]) -> None:
        if stream == self.inbox(self.id):
            for _, fields in entries:
                future = self._waiting.pop(fields.get("id", ""), None)
                if future is not None and not future.done() and "reply" in fields:
                    future.set_result(json.loads(fields["reply"]))
            return
        kind, show_id = self._streams[stream]
        for _, fields in entries:
            if kind == "events":
                self.on_events(show_id, fields)
            else:
                task = asyncio.ensure_future(self._serve(show_id, fields))
                self._serving.add(task)
                task.add_done_callback(self._serving.discard)

    async def _serve(self, show_id: str, fields: Fields) -> None:
        """Run one request for a show this process owns and answer it (if asked to)."""
        deadline = float(fields.get("deadline") or 0)
        if deadline and time.time() * 1000 > deadline:
            return  # its sender has given up and told its client so: running it now would surprise them
        handler = self.handlers.get(fields.get("op", ""))
        try:
            if handler is None:
                raise errors.Invalid(f"unknown request {fields.get('op')!r}")
            answer: dict[str, Any] = {"ok": await handler(show_id, fields.get("from", ""), json.loads(fields["body"]))}
        except Exception as exc:  # noqa: BLE001 - every failure is answered; unexpected ones are also logged
            if not isinstance(exc, LiveError):
                log.error("request %s on show %s failed: %s", fields.get("op"), show_id, describe(exc))
            answer = {"error": error_body(exc)}
        if fields.get("reply") == "1":
            self.send(self.inbox(fields.get("from", "")), {"id": fields.get("id", ""), "reply": _encode(answer)},
                      REQUESTS_LENGTH)

    # -- what this process sends ------------------------------------------------------------

    def send(self, stream: str, fields: Fields, maxlen: int = REQUESTS_LENGTH,
             sent: asyncio.Future[None] | None = None) -> None:
        """Queue one entry for the sender; ``sent`` (if given) learns whether it went out."""
        self._outbox.append(((stream, fields, maxlen), sent))
        self._queued.set()

    def publish(self, show_id: str, fields: Fields) -> None:
        """Append to the show's event stream (its owner only). Never waits."""
        self.send(self.events(show_id), fields, self.stream_length)

    async def flush(self) -> None:
        """Returns once everything queued before was sent (or failed to be)."""
        if not self.running:
            return
        sent: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.send(self.inbox(self.id), {"wake": "1"}, sent=sent)
        with contextlib.suppress(BrokerDown, TimeoutError):
            await asyncio.wait_for(sent, self.timeout)

    async def _sender(self) -> None:
        while not self.closing:
            await self._queued.wait()
            self._queued.clear()
            while self._outbox:
                batch = [self._outbox.popleft() for _ in range(min(SEND_BATCH, len(self._outbox)))]
                failure: BaseException | None = None
                try:
                    await self.broker.add([entry for entry, _ in batch])
                except BrokerDown as exc:
                    failure = exc  # lost: followers catch up from the journal at the next heartbeat
                except Exception as exc:  # noqa: BLE001 - the sender must outlive any bad entry
                    log.error("sending to the broker failed: %s", describe(exc))
                    failure = BrokerDown(type(exc).__name__)
                for _, sent in batch:
                    if sent is not None and not sent.done():
                        if failure is None:
                            sent.set_result(None)
                        else:
                            sent.set_exception(failure)

    async def forward(self, show_id: str, op: str, body: Any, reply: bool = True) -> Any:
        """Ask the show's owner to run ``op`` with ``body``; returns its answer (with
        ``reply=False``, once the request is in the stream). Raises the LiveError the
        owner answered with, or Unavailable when the broker or the owner did not
        answer within ``timeout`` seconds (the owner then never runs it)."""
        loop = asyncio.get_running_loop()
        request_id = f"{self.id}-{next(self._ids)}"
        sent: asyncio.Future[None] = loop.create_future()
        answered: asyncio.Future[dict[str, Any]] = loop.create_future()
        fields = {"id": request_id, "from": self.id, "op": op, "body": _encode(body),
                  "reply": "1" if reply else "0",
                  # A request that only tells (the audience) is worth running whenever it arrives.
                  "deadline": str(int(time.time() * 1000 + self.timeout * 1000)) if reply else "0"}
        if reply:
            self._waiting[request_id] = answered
        self.send(self.key("requests", show_id), fields, REQUESTS_LENGTH, sent)
        try:
            async with asyncio.timeout(self.timeout):
                await sent
                if not reply:
                    return None
                answer = await answered
        except TimeoutError:
            raise Unavailable(f"the show's owner did not answer within {self.timeout:g} s; try again "
                              "(a claim may be retried with the same request_id)") from None
        except BrokerDown:
            raise Unavailable("the message bus (Redis) is unreachable; try again") from None
        finally:
            self._waiting.pop(request_id, None)
        if "error" in answer:
            raise rebuilt(answer["error"])
        return answer["ok"]
