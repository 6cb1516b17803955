"""The socket protocol's shapes (pure): hello, snapshot, events per audience, pong.

Audiences: ``staff`` sees everything a show's team may see (talking points,
compliance warnings); ``public`` (overlays, viewers) sees public events only,
stripped of staff-only fields.
"""

from __future__ import annotations

import json
import struct
from typing import Any

from live.core import values as v
from live.core.commands import VISIBILITY, Event
from live.core.errors import Invalid
from live.core.show import ShowState
from live.core.timing import rundown_view

STAFF = "staff"
PUBLIC = "public"
MAX_MESSAGE_BYTES = 64 * 1024
HELLO_FIELDS = {"type", "token", "overlay_key", "last_seq", "lang"}
_STAFF_ONLY_SEGMENT_FIELDS = ("talking_points", "actions")


def dumpb(message: dict[str, Any]) -> bytes:
    """``message`` as compact UTF-8 JSON (what every frame carries). The core
    keeps to the standard library: an event is encoded once per audience,
    whatever the number of sockets, so the encoder is not the fan-out's cost."""
    return dumps(message).encode()


def dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def text_frame(payload: bytes) -> bytes:
    """The whole WebSocket text frame (RFC 6455 §5.2: FIN, opcode 1, unmasked as a
    server sends it, no extension) carrying ``payload``, ready for a transport."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 65536:
        return struct.pack("!BBH", 0x81, 126, n) + payload
    return struct.pack("!BBQ", 0x81, 127, n) + payload


def parse_message(text: str | bytes) -> dict[str, Any]:
    """A client message as a dict with a string ``type``; raises Invalid."""
    if len(text) > MAX_MESSAGE_BYTES:
        raise Invalid(f"message larger than {MAX_MESSAGE_BYTES} bytes", "message")
    data = v.obj(v.parse_json(text, "message"), "message")
    if not isinstance(data.get("type"), str):
        raise Invalid("message needs a string 'type'", "type")
    return data


def parse_hello(data: dict[str, Any]) -> dict[str, Any]:
    """``{token, overlay_key, last_seq}`` from a parsed hello (absent ones None);
    raises Invalid when it is not a hello or a field is malformed."""
    if data.get("type") != "hello":
        raise Invalid("the first message must be hello", "type")
    v.no_unknown_keys(data, HELLO_FIELDS, "")
    last_seq = data.get("last_seq")
    return {
        "token": v.optional_text(data.get("token"), "token", max_len=200),
        "overlay_key": v.optional_text(data.get("overlay_key"), "overlay_key", max_len=100),
        "last_seq": None if last_seq is None else v.integer(last_seq, "last_seq", lo=0, hi=2**53),
    }


def state_view(state: ShowState, now: int, audience: str, warnings: list[dict[str, Any]] | None = None,
               viewer_id: str | None = None) -> dict[str, Any]:
    """The snapshot's ``state`` (also ``GET …/state``); for ``viewer_id``, with that
    viewer's own hidden comments among the comments (see ``own_hidden_comment``)."""
    staff = audience == STAFF
    view: dict[str, Any] = {
        "show": {
            "id": state.id,
            "title": state.title,
            "status": state.status,
            "scheduled_start": state.scheduled_start,
            "started_at": state.started_at,
            "ended_at": state.ended_at,
            "currency": state.currency,
            "timezone": state.timezone,
            "language": state.language,
        },
        "rundown": rundown_view(state, now, staff=staff),
        "products": [p.to_dict() for p in state.products],
        "pinned_sku": state.pinned_sku,
        **audience_view(state, now, staff, viewer_id),
    }
    if staff:
        view["compliance"] = warnings or []
    return view


def audience_view(state: ShowState, now: int, staff: bool, viewer_id: str | None = None) -> dict[str, Any]:
    """Flash sales, draws, likes, viewers and recent comments for a snapshot (a
    viewer's own hidden comments included for ``viewer_id``)."""
    ledger = state.ledger
    draws = []
    for d in ledger.draws.values():
        view = d.view(now, staff)
        if view["entries"] is None:
            view["entries"] = ledger.announced_entries.get(d.id, 0)
        draws.append(view)
    comments = ledger.comments[-(100 if staff else 30):]
    pinned = None
    if ledger.pinned_comment is not None:
        pinned = ledger.comments[ledger.comment_index[ledger.pinned_comment]].view(staff=False)
    return {
        "flash_sales": [s.view(now) for s in ledger.sales.values()],
        "draws": draws,
        "likes": {"total": ledger.likes_total, "goal": ledger.like_goal, "reached": ledger.like_goal_reached},
        "viewers": {"now": ledger.present, "peak": ledger.peak},
        "comments": [c.view(staff) for c in comments
                     if staff or not (c.deleted or (c.hidden and (viewer_id is None or c.viewer_id != viewer_id)))],
        "pinned_comment": pinned,
    }


def snapshot(
    state: ShowState, now: int, audience: str, epoch: str, warnings: list[dict[str, Any]] | None = None,
    viewer_id: str | None = None,
) -> dict[str, Any]:
    """The ``snapshot`` message: ``seq``, ``epoch``, ``server_time`` and ``state``."""
    return {
        "type": "snapshot",
        "seq": state.seq,
        "epoch": epoch,
        "server_time": now,
        "state": state_view(state, now, audience, warnings, viewer_id),
    }


# Fields of public events that only staff see (viewer ids; why a comment was hidden).
_STAFF_ONLY_FIELDS = ("viewer_id", "pseudonym", "hidden", "flagged")


def without_private(event: Event) -> Event:
    """The event without its "_" keys (a draw's seed before the reveal, its
    entrant list, who liked): those never leave the server."""
    if any(k.startswith("_") for k in event):
        return {k: val for k, val in event.items() if not k.startswith("_")}
    return event


def for_audience(event: Event, audience: str) -> Event | None:
    """The event as ``audience`` may see it, or None when it is not theirs.
    Keys starting with "_" (draw seeds before the reveal, entrant lists, who
    liked) never leave the server; "internal" events reach no socket."""
    visibility = VISIBILITY.get(event["type"], STAFF)
    if visibility == "internal":
        return None
    event = without_private(event)
    if audience == STAFF:
        return event
    if visibility != PUBLIC:
        return None
    if event["type"] == "rundown.replaced":
        segs = [{k: s[k] for k in s if k not in _STAFF_ONLY_SEGMENT_FIELDS} for s in event["segments"]]
        return {**event, "segments": segs}
    if event["type"] == "comment.new":
        if event.get("hidden"):
            return None
        return {k: val for k, val in event.items() if k not in _STAFF_ONLY_FIELDS}
    if event["type"] in ("draw.closed", "draw.rerolled") and "winners" in event:  # the stream: masked (王**)
        return {**event, "winners": [{k: val for k, val in w.items() if k != "full_nickname"}
                                     for w in event["winners"]]}
    return event


def own_hidden_comment(event: Event, viewer_id: str | None) -> Event | None:
    """A comment hidden by the banned-word filter as its own author sees it: like
    any shown comment (as on Douyin, the author is not told, and no one else
    sees it); None for every other event or viewer."""
    if (event["type"] != "comment.new" or not event.get("hidden") or viewer_id is None
            or event.get("viewer_id") != viewer_id):
        return None
    return {k: val for k, val in without_private(event).items() if k not in _STAFF_ONLY_FIELDS}


class Outgoing:
    """One published event, encoded at most once per audience however many
    connections send it (fan-out to thousands must not re-encode per socket)."""

    __slots__ = ("_encoded", "_frames", "_texts", "event", "seq")

    def __init__(self, event: Event) -> None:
        self.event = event
        self.seq: int = event["seq"]
        self._encoded: dict[str, bytes | None] = {}
        self._frames: dict[str, bytes | None] = {}
        self._texts: dict[str, str | None] = {}

    def payload(self, audience: str) -> bytes | None:
        """The event's JSON as ``audience`` sees it (UTF-8), or None when it is not theirs."""
        if audience not in self._encoded:
            view = for_audience(self.event, audience)
            self._encoded[audience] = None if view is None else dumpb(view)
        return self._encoded[audience]

    def encoded(self, audience: str) -> str | None:
        """``payload(audience)`` as text, decoded once per audience."""
        if audience not in self._texts:
            data = self.payload(audience)
            self._texts[audience] = None if data is None else data.decode()
        return self._texts[audience]

    def frame(self, audience: str) -> bytes | None:
        """The whole WebSocket frame of ``payload(audience)``, built once per audience."""
        if audience not in self._frames:
            data = self.payload(audience)
            self._frames[audience] = None if data is None else text_frame(data)
        return self._frames[audience]


class Notice:
    """A message for one audience that is not a journal event (``stats.tick``):
    it has no ``seq``, so a session sends it whatever it has sent before, and a
    reconnect never replays it. ``roles``, when given, narrows the audience to
    the staff of those roles (the show's numbers go to those who may read the
    review). Encoded once, however many connections send it."""

    __slots__ = ("_frame", "_str", "_text", "audience", "message", "roles")
    seq: None = None

    def __init__(self, message: dict[str, Any], audience: str = STAFF,
                 roles: frozenset[str] | None = None) -> None:
        self.message = message
        self.audience = audience
        self.roles = roles
        self._text: bytes | None = None
        self._str: str | None = None
        self._frame: bytes | None = None

    def payload(self, audience: str) -> bytes | None:
        """The message's JSON (UTF-8) for ``audience``, or None when it is not theirs."""
        if audience != self.audience:
            return None
        if self._text is None:
            self._text = dumpb(self.message)
        return self._text

    def encoded(self, audience: str) -> str | None:
        if audience != self.audience:
            return None
        if self._str is None:
            self._str = (self.payload(audience) or b"").decode()
        return self._str

    def frame(self, audience: str) -> bytes | None:
        """The whole WebSocket frame of ``payload(audience)``, built once."""
        if audience != self.audience:
            return None
        if self._frame is None:
            self._frame = text_frame(self.payload(audience) or b"")
        return self._frame


Delivery = Outgoing | Notice  # what the bus carries to a connection
