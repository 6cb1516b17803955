"""One socket's protocol, sans-I/O: hello → identify → catch-up → dispatch.

Like python-websockets' ``Protocol``, a ``Session`` never touches a socket, a
clock or the engine. The transport (``live.http.socket``) feeds it what
arrived, with the time, and carries out what it returns:

1. ``hello(text)`` parses the first message (raises LiveError: the transport
   sends ``error(exc)`` and closes with ``close_code(exc)``);
2. the transport identifies the credentials, then calls ``identified``;
3. ``catch_up(last_seq)`` says how far back the transport may replay: the
   transport fetches at most that many missed events and hands them to
   ``replayed`` (or, when there are too many, asks for ``snapshot``);
4. each later message goes to ``receive(text, now)``, which answers with an
   action (``Reply``, ``Close``, or a call for the engine: ``Call``); the
   engine's answer is turned into a frame by ``command_result``,
   ``claim_result`` or ``error``;
5. every published event goes through ``outgoing``, which skips what the
   snapshot or the catch-up already covered and encodes the rest for this
   socket's audience; a notice (``stats.tick``: not journaled, no seq) goes
   out as it comes, to its audience only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from live.core import protocol as p
from live.core import values as v
from live.core.auth import Principal
from live.core.commands import SETUP_COMMANDS, Event
from live.core.errors import Forbidden, Invalid, LiveError, RateLimited
from live.core.limits import TokenBucket

if TYPE_CHECKING:
    from live.core.show import ShowState

RATE = 20.0  # messages per second a client may send on average
BURST = 40.0
FLOOD_STRIKES = 50  # refused messages before the socket is closed
# How many missed events a reconnect may replay: staff and viewers (who hold a
# token), and anonymous watchers and overlays, for whom a fresh snapshot is as
# good as a replay and far cheaper (a hello with a far-back last_seq must not
# make the server send thousands of events to anyone who asks).
REPLAY = 10_000
PUBLIC_REPLAY = 200

CLOSE_POLICY = 1008
CLOSE_INTERNAL = 1011
CLOSE_RESTART = 1012  # the server is going away (a restart): reconnect, with last_seq
CLOSE_TOO_SLOW = 4008
CLOSE_UNAUTHORIZED = 4401
CLOSE_NOT_FOUND = 4404

VIEWER_MESSAGES = ("like", "comment", "share", "claim")


@dataclass(frozen=True)
class Reply:
    """Send ``text`` to the client."""

    text: str


@dataclass(frozen=True)
class Close:
    """Close the socket with ``code``."""

    code: int
    reason: str = ""


@dataclass(frozen=True)
class Call:
    """Ask the engine: ``kind`` is ``command`` (staff; ``body`` the command),
    ``comment``/``share`` (a viewer's command), ``like`` (``body["count"]``),
    ``claim`` (``body``: sale_id, qty, request_id) or ``snapshot``."""

    kind: str
    body: dict[str, Any] = field(default_factory=dict)
    request_id: Any = None


Action = Reply | Close | Call


def error(exc: LiveError, request_id: Any = None) -> str:
    """The ``error`` frame for ``exc`` (the socket stays open)."""
    body: dict[str, Any] = {"type": "error", "code": exc.code, "message": exc.message, "request_id": request_id}
    if exc.field is not None:
        body["field"] = exc.field
    return p.dumps(body)


def close_code(exc: LiveError) -> int:
    """The close code after a hello refused with ``exc``."""
    if exc.status == 404:
        return CLOSE_NOT_FOUND
    if exc.status in (401, 403):
        return CLOSE_UNAUTHORIZED
    return CLOSE_POLICY


def _request_id(msg: dict[str, Any]) -> Any:
    request_id = msg.get("request_id")
    if request_id is not None and (
        isinstance(request_id, bool) or not isinstance(request_id, (str, int)) or len(str(request_id)) > 64
    ):
        raise Invalid("request_id must be a short string", "request_id")
    return request_id


class Session:
    """The protocol state of one socket (see the module's docstring)."""

    def __init__(self, now: int, rate: float = RATE, burst: float = BURST, strikes: int = FLOOD_STRIKES) -> None:
        self.audience = p.PUBLIC
        self.who: Principal | None = None
        self.viewer_id: str | None = None  # the viewer's id, for a viewer's socket
        self.sent = 0  # highest seq sent, or covered by the snapshot or the catch-up
        self.bucket = TokenBucket(rate, burst, now)
        self.strikes_left = strikes
        self.open = False

    # -- hello and identification -------------------------------------------------

    @staticmethod
    def hello(text: str | bytes) -> dict[str, Any]:
        """The first message as ``{token, overlay_key, last_seq}``; raises Invalid."""
        return p.parse_hello(p.parse_message(text))

    def identified(self, audience: str, who: Principal | None) -> None:
        self.audience = audience
        self.who = who
        self.viewer_id = who.staff_id if who is not None and who.role == "viewer" else None
        self.open = True

    # -- catch-up -------------------------------------------------------------------

    def catch_up(self, last_seq: int | None) -> int | None:
        """How many missed events the transport may replay after ``last_seq``;
        None: send a snapshot (a first connect). Credential holders may replay
        REPLAY; anonymous watchers and overlays PUBLIC_REPLAY."""
        if last_seq is None:
            return None
        return REPLAY if self.who is not None else PUBLIC_REPLAY

    def snapshot(self, state: ShowState, now: int, epoch: str, warnings: list[dict[str, Any]] | None = None,
                 recovered: bool | None = None) -> str:
        """The ``snapshot`` frame for this audience (``recovered: false`` when a
        reconnect could not be replayed); it covers every seq up to the state's."""
        msg = p.snapshot(state, now, self.audience, epoch, warnings if self.audience == p.STAFF else None,
                         self.viewer_id)
        if recovered is not None:
            msg["recovered"] = recovered
        if self.viewer_id is not None:
            msg["me"] = viewer_me(state, self.viewer_id)
        elif self.who is not None:
            msg["me"] = {"role": self.who.role, "name": self.who.name}
        self.sent = state.seq
        return p.dumps(msg)

    def replayed(self, last_seq: int, missed: list[Event], epoch: str, now: int) -> list[str]:
        """The frames of a replayed catch-up: each missed event this audience may
        see, then ``recovered``."""
        frames = [text for e in missed if (text := self._encoded(p.Outgoing(e))) is not None]
        self.sent = max(last_seq, missed[-1]["seq"] if missed else 0)
        frames.append(p.dumps({"type": "recovered", "seq": self.sent, "epoch": epoch, "server_time": now,
                               "recovered": True, "missed": len(missed)}))
        return frames

    # -- events out -------------------------------------------------------------------

    def _admits(self, item: p.Delivery) -> bool:
        """Whether ``item`` goes out on this socket (not yet covered; a notice of our
        roles); for an event, counts it as sent. A notice (no seq: not in the
        journal) is never "covered"."""
        if item.seq is None:
            return item.roles is None or (self.who is not None and self.who.role in item.roles)
        if item.seq <= self.sent:
            return False
        self.sent = item.seq
        return True

    def outgoing(self, item: p.Delivery) -> str | None:
        """The frame's text for a published event or a notice, or None (already
        covered, or not ours)."""
        if not self._admits(item):
            return None
        return item.encoded(self.audience) if item.seq is None else self._encoded(item)

    def outgoing_frame(self, item: p.Delivery) -> bytes | None:
        """What ``outgoing`` says, as the whole WebSocket frame: the one built once
        for every socket of this audience (a viewer's own hidden comment aside)."""
        # (Once per socket per event: the fan-out's own cost, kept to a few checks.)
        if isinstance(item, p.Notice):
            if item.roles is not None and (self.who is None or self.who.role not in item.roles):
                return None
            return item.frame(self.audience)
        seq = item.seq
        if seq <= self.sent:
            return None
        self.sent = seq
        if self.viewer_id is not None and item.event["type"] == "comment.new":
            own = p.own_hidden_comment(item.event, self.viewer_id)
            if own is not None:
                return p.text_frame(p.dumpb(own))
        return item.frame(self.audience)

    def _encoded(self, item: p.Delivery) -> str | None:
        """The event as this socket sees it: its audience's view, except a viewer's
        own hidden comment, which its author sees (and no one else)."""
        if isinstance(item, p.Outgoing):
            own = p.own_hidden_comment(item.event, self.viewer_id)
            if own is not None:
                return p.dumps(own)
        return item.encoded(self.audience)

    # -- messages in -------------------------------------------------------------------

    def receive(self, text: str | bytes, now: int, server_time: int) -> Action | None:
        """What to do about one message received at ``now``: a reply (an error
        frame when it is refused: the socket stays open), a close (a flood), or a
        call for the engine. ``server_time`` is what a pong reports."""
        if not self.bucket.take(now):
            self.strikes_left -= 1
            if self.strikes_left <= 0:
                return Close(CLOSE_POLICY, "too many messages")
            return Reply(error(RateLimited("too many messages; slow down")))
        request_id = None
        try:
            msg = p.parse_message(text)
            request_id = _request_id(msg)
            return self._dispatch(msg, request_id, server_time)
        except LiveError as exc:
            return Reply(error(exc, request_id))

    def _dispatch(self, msg: dict[str, Any], request_id: Any, server_time: int) -> Action | None:
        kind = msg["type"]
        if kind == "ping":
            t = msg.get("t")
            if t is not None and (isinstance(t, bool) or not isinstance(t, (int, float))):
                raise Invalid("t must be a number (the client's clock in ms)", "t")
            return Reply(p.dumps({"type": "pong", "t": t, "server_time": server_time}))
        if kind in VIEWER_MESSAGES:
            return self._viewer_message(kind, msg, request_id)
        if kind == "command":
            if self.who is None or self.who.role == "viewer":
                raise Forbidden("only staff may send commands")
            command = v.obj(msg.get("command"), "command")
            if command.get("type") in SETUP_COMMANDS:
                raise Invalid("use PUT …/products, PUT …/rundown, POST …/orders.csv or POST …/interactions for this", "command.type")
            return Call("command", command, request_id)
        if kind == "snapshot":
            return Call("snapshot", request_id=request_id)
        raise Invalid(f"unknown message type {kind!r}", "type")

    def _viewer_message(self, kind: str, msg: dict[str, Any], request_id: Any) -> Action:
        """like / comment / share / claim from a viewer (anonymous watchers may not)."""
        if self.viewer_id is None:
            raise Forbidden("register a nickname first: viewers only")
        if kind == "like":
            v.no_unknown_keys(msg, {"type", "count", "request_id"}, "")
            return Call("like", {"count": v.integer(msg.get("count"), "count", lo=1, hi=100, default=1)}, request_id)
        if kind == "comment":
            v.no_unknown_keys(msg, {"type", "text", "request_id"}, "")
            return Call("comment", {"type": "viewer.comment", "text": msg.get("text")}, request_id)
        if kind == "share":
            v.no_unknown_keys(msg, {"type", "request_id"}, "")
            return Call("share", {"type": "viewer.share"}, request_id)
        v.no_unknown_keys(msg, {"type", "sale_id", "qty", "request_id"}, "")
        if request_id is None:
            raise Invalid("a claim needs a request_id (it makes retries safe)", "request_id")
        return Call("claim", {"sale_id": msg.get("sale_id"), "qty": msg.get("qty", 1),
                              "request_id": str(request_id)}, request_id)

    # -- the engine's answers ------------------------------------------------------------

    @staticmethod
    def command_result(call: Call, events: list[Event], seq: int) -> str | None:
        """The frame answering a staff command or a viewer's comment (None for a share)."""
        if call.kind == "share":
            return None
        if call.kind == "comment":
            return p.dumps({"type": "command.result", "request_id": call.request_id, "ok": True})
        return p.dumps({"type": "command.result", "request_id": call.request_id, "ok": True,
                        "seq": events[-1]["seq"] if events else seq,
                        "events": [p.without_private(e) for e in events]})

    @staticmethod
    def claim_result(call: Call, result: dict[str, Any]) -> str:
        return p.dumps({"type": "claim.result", "request_id": call.request_id, **result})

    @staticmethod
    def likes_result(call: Call, accepted: int) -> str | None:
        """An error frame when some of the likes were over the viewer's rate, else None."""
        count = call.body["count"]
        if accepted >= count:
            return None
        return error(RateLimited(f"likes over the rate: {count - accepted} of {count} were not counted"),
                     call.request_id)


def viewer_me(state: ShowState, viewer_id: str) -> dict[str, Any]:
    """A viewer's own part of the snapshot: nickname, pseudonym (to find
    themselves among a draw's entrants and winners) and won claims."""
    viewer = state.ledger.viewers.get(viewer_id)
    return {"role": "viewer", "viewer_id": viewer_id, "nickname": viewer.nickname if viewer else None,
            "pseudonym": viewer.pseudonym if viewer else None, "claims": list(viewer.orders) if viewer else []}
