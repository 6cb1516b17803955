"""Platform events (pure): batches of joins, leaves, likes, comments and shares
that a platform connector (Douyin, TikTok) sends to ``POST …/interactions``;
and the fold of the ids it has taken.

A platform viewer is keyed by the platform's own id; the shell maps each one to
a viewer of the show (``_platform_viewers``: platform id → ``[viewer_id,
pseudonym]``, see ``live.core.auth.platform_viewer_id``) and registers them at
first sight. Each event happened at its own time ``at`` (the platform's), which
the journal keeps beside the engine's ``at``: ``joined_at``, ``left_at``,
``liked_at``, ``commented_at``, ``shared_at``; the minute series counts an
event in the minute of that time.

Deduplicated by the platform's event id: every id taken is journaled (one
internal ``platform.received {ids, duplicates, dropped}`` per batch) and kept
in ``ledger.platform_events`` for the whole show, so an id sent again, in any
later batch or after a restart, counts as a duplicate. Its cost: about 100
bytes plus the id's length per event (measured: 106 MB for a million 26-character
ids; a 3-hour show at 100 events a second holds about 1.1 M), and a batch's
fold copies that dict once (copy-on-write: about 35 ms a million ids).

All or nothing: the batch is one command, decided in one engine step; any bad
event refuses the whole batch (422 naming ``events[i].field``) and nothing of it
is written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from live.core import values as v
from live.core.audience import MAX_COMMENT, MAX_VIEWERS, _banned_word, _nickname, like_events
from live.core.auth import PLAN
from live.core.context import Ctx, Event, need_live
from live.core.errors import Conflict, Invalid, TooLarge
from live.core.feature import Command, Feature

if TYPE_CHECKING:
    from live.core.show import ShowState

MAX_EVENTS = 1_000  # events in one batch (more: 413)
MAX_LIKES = 10_000  # likes one event may carry
MAX_ID = 128  # characters of a platform's event or viewer id
SKEW_MS = 60_000  # how far a platform's clock may run ahead of ours
# A batch's likes become one likes.tick per 250 ms of their own time, as socket
# likes per tick: overlays get at most 4 a second of the platform's time, not one
# per like. A divisor of a minute, so a tick never spans two minutes of the series.
LIKE_WINDOW_MS = 250
DEFAULT_NICKNAME = "观众"
TYPES = ("join", "leave", "like", "comment", "share")
_BASE = frozenset({"id", "type", "viewer_id", "at", "nickname"})
FIELDS = {"join": _BASE, "leave": _BASE, "share": _BASE, "like": _BASE | {"count"}, "comment": _BASE | {"text"}}
OWN_TIME = {"join": "joined_at", "leave": "left_at", "like": "liked_at", "comment": "commented_at",
            "share": "shared_at"}


def _platform_id(value: Any, name: str) -> str:
    clean = v.text(value, name, max_len=MAX_ID)
    if clean != value:
        raise Invalid(f"{name} must not have spaces around it", name)
    return clean


def parse_event(state: ShowState, raw: Any, i: int, now: int) -> dict[str, Any]:
    """Event ``i`` of a batch, checked: ``{id, type, viewer_id, at, count, text,
    nickname}`` (``count`` 1 unless a like says more; ``text`` only for a comment;
    ``nickname`` None when not sent). Raises Invalid naming ``events[i].field``."""
    p = f"events[{i}]"
    e = v.obj(raw, p)
    kind = e.get("type")
    if kind not in TYPES:
        raise Invalid(f"{p}.type must be one of {', '.join(TYPES)}", f"{p}.type")
    v.no_unknown_keys(e, set(FIELDS[kind]), p)
    at = v.integer(e.get("at"), f"{p}.at", lo=0, hi=2**53)
    if at > now + SKEW_MS:
        raise Invalid(f"{p}.at is in the future (more than {SKEW_MS // 1000} s after the server's time); "
                      "send Unix milliseconds", f"{p}.at")
    if at < state.created_at:
        raise Invalid(f"{p}.at is before the show was created; send Unix milliseconds", f"{p}.at")
    nickname = e.get("nickname")
    return {
        "id": _platform_id(e.get("id"), f"{p}.id"),
        "type": kind,
        "viewer_id": _platform_id(e.get("viewer_id"), f"{p}.viewer_id"),
        "at": at,
        "count": v.integer(e.get("count"), f"{p}.count", lo=1, hi=MAX_LIKES, default=1) if kind == "like" else 0,
        "text": v.text(e.get("text"), f"{p}.text", max_len=MAX_COMMENT) if kind == "comment" else None,
        "nickname": None if nickname is None else _nickname(nickname, f"{p}.nickname"),
    }


def parse_batch(state: ShowState, cmd: dict[str, Any], now: int) -> list[dict[str, Any]]:
    """The batch's events, every one checked; raises TooLarge (over MAX_EVENTS)
    or Invalid naming the first bad field."""
    raw = cmd.get("events")
    if isinstance(raw, list) and len(raw) > MAX_EVENTS:
        raise TooLarge(f"a batch has at most {MAX_EVENTS} events, not {len(raw)}: send the rest in another",
                       "events")
    return [parse_event(state, e, i, now) for i, e in enumerate(v.array(raw, "events", MAX_EVENTS))]


def interactions(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    """``platform.interactions {events}``: the events of every platform event not
    taken before (by id), in the order of their own times (a batch may be out of
    order), then ``platform.received {ids, duplicates, dropped}``; no events at all
    when every one is a duplicate. Raises Conflict (the show is not live),
    TooLarge or Invalid (nothing of the batch is written).

    Per type: ``join`` registers the viewer at first sight (``viewer.registered``
    with ``platform: true``; so does any type but ``leave``) and, unless present,
    ``viewer.joined`` with ``joined_at``; ``leave`` of a present viewer:
    ``viewer.left`` with ``left_at`` clamped to the visit and ``watched_ms``;
    ``like``: one ``likes.tick`` (with ``_by`` and ``liked_at``, the latest like's
    time) per LIKE_WINDOW_MS of the show's clock from its start (so never across
    a minute of the series) that has likes, counted exactly, the like goal as for socket likes; ``comment``:
    ``comment.new`` with ``commented_at``, unless the viewer is muted at that time
    or commented less than the comment interval before or after it on the
    platform's clock (then ``dropped``, its id still taken); ``share``:
    ``viewer.shared`` with ``shared_at``."""
    v.no_unknown_keys(cmd, {"type", "events"}, "")
    need_live(state.status, "platform events")
    batch = parse_batch(state, cmd, now)
    mapping = ctx.get("_platform_viewers")
    if not isinstance(mapping, dict):
        raise TypeError("the shell did not inject _platform_viewers")
    ledger = state.ledger
    taken: set[str] = set()
    fresh: list[dict[str, Any]] = []
    for e in batch:
        if e["id"] in ledger.platform_events or e["id"] in taken:
            continue
        taken.add(e["id"])
        fresh.append(e)
    if not fresh:
        return []
    events: list[Event] = []
    registered: dict[str, str] = {}  # viewers this batch registers → their nickname
    since: dict[str, int | None] = {}  # presence as this batch leaves it
    commented: dict[str, int] = {}  # the platform time of each viewer's latest comment, as this batch leaves it
    total, reached = ledger.likes_total, ledger.like_goal_reached
    likes: dict[str, int] = {}
    likes_at = 0
    likes_window: int | None = None
    origin = state.started_at or 0
    dropped = 0

    def flush_likes() -> None:
        nonlocal likes, total, reached
        nonlocal likes_window
        likes_window = None
        if likes:
            made = like_events(state, likes, total, reached, now, ctx, state.seq + len(events) + 1,
                               liked_at=likes_at)
            events.extend(made)
            total = made[0]["total"]
            reached = reached or any(m["type"] == "likes.goal_reached" for m in made)
            likes = {}

    for e in sorted(fresh, key=lambda e: e["at"]):  # stable: a batch's order among equal times
        at = e["at"]
        window = (at - origin) // LIKE_WINDOW_MS
        if likes_window is not None and window != likes_window:
            flush_likes()
        vid, pseudonym = _mapped(mapping, e["viewer_id"])
        known = vid in ledger.viewers or vid in registered
        if not known and e["type"] != "leave":
            if len(ledger.viewers) + len(registered) >= MAX_VIEWERS:
                raise Conflict("this show has reached its viewer limit")
            events.append({"type": "viewer.registered", "viewer_id": vid,
                           "nickname": e["nickname"] or DEFAULT_NICKNAME, "pseudonym": pseudonym,
                           "staff": False, "platform": True})
            registered[vid] = e["nickname"] or DEFAULT_NICKNAME
            known = True
        viewer = ledger.viewers.get(vid)
        present = since.get(vid, viewer.connected_since if viewer else None)
        if e["type"] == "join" and present is None:
            events.append({"type": "viewer.joined", "viewer_id": vid, "joined_at": at})
            since[vid] = at
        elif e["type"] == "leave" and known and present is not None:
            left_at = min(now, max(present, at))
            events.append({"type": "viewer.left", "viewer_id": vid, "left_at": left_at,
                           "watched_ms": left_at - present})
            since[vid] = None
        elif e["type"] == "like":
            likes_at, likes_window = at, window
            likes[vid] = likes.get(vid, 0) + e["count"]
        elif e["type"] == "comment":
            last = commented.get(vid, viewer.platform_comment_at if viewer else -(10**15))
            muted = viewer is not None and viewer.muted_until > at
            if muted or abs(at - last) < ledger.comment_interval_ms:
                dropped += 1
                continue
            commented[vid] = max(last, at)
            text = e["text"]
            flagged = _banned_word(text, ledger.banned)
            events.append({"type": "comment.new", "comment_id": f"c{state.seq + len(events) + 1}",
                           "viewer_id": vid, "nickname": viewer.nickname if viewer else registered[vid],
                           "pseudonym": pseudonym, "text": text,
                           "hidden": flagged is not None, "flagged": flagged, "commented_at": at})
        elif e["type"] == "share":
            events.append({"type": "viewer.shared", "viewer_id": vid, "shared_at": at})
    flush_likes()
    events.append({"type": "platform.received", "ids": [e["id"] for e in fresh],
                   "duplicates": len(batch) - len(fresh), "dropped": dropped})
    return events


def _mapped(mapping: dict[str, Any], platform_id: str) -> tuple[str, str]:
    found = mapping.get(platform_id)
    if not (isinstance(found, (list, tuple)) and len(found) == 2 and all(isinstance(x, str) and x for x in found)):
        raise ValueError("the shell did not map every platform viewer (_platform_viewers)")
    return found[0], found[1]


def fold(state: ShowState, event: Event) -> ShowState:
    if event["type"] == "platform.received":
        ledger = state.ledger
        for event_id in event["ids"]:
            ledger.put("platform_events", event_id, True)
    return state


FEATURE = Feature(
    name="platform",
    commands={"platform.interactions": Command(interactions, "setup", PLAN)},
    events={"platform.received": "internal"},
    fold=fold,
)
