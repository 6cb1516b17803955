"""The command vocabulary: ``decide`` turns a command into events, ``evolve`` folds
an event into the state, and ``apply`` does both and numbers the events.

Pure: no clock (``now`` is a parameter), no I/O. Rebuilding a show after a
restart is ``evolve`` over its journal, so every state change lives in an
event and ``decide`` never changes state itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from live.core import audience, draws, sales
from live.core import values as v
from live.core.errors import Conflict, Invalid, NotFound
from live.core.ledger import Ledger
from live.core.rundown import switch
from live.core.show import (
    ShowState,
    parse_products,
    parse_segments,
    product_from_dict,
    segment_from_plan,
)

Event = dict[str, Any]
Ctx = dict[str, Any]  # what the shell injects: keys starting with "_" (see live/core/context.py)

# Commands staff send to POST /commands and over the control socket.
COMMANDS = (
    "show.start",
    "show.end",
    "segment.next",
    "segment.previous",
    "segment.goto",
    "segment.extend",
    "product.pin",
    "product.unpin",
    "flash_sale.open",
    "flash_sale.close",
    "draw.open",
    "draw.close",
    "draw.reroll",
    "likes.goal",
    "comment.pin",
    "comment.delete",
    "viewer.mute",
)
# What a viewer's socket (or the claims endpoint) may send on the viewer's behalf.
VIEWER_ACTIONS = ("viewer.join", "viewer.comment", "viewer.share", "flash_sale.claim")
# Sent by the server itself: registration, leaves after the grace period, the tick.
SYSTEM_COMMANDS = ("viewer.register", "viewer.leave", "tick")
# Set-up commands issued by the PUT endpoints.
SETUP_COMMANDS = ("products.replace", "rundown.replace")

# Who may see each event: "public" (everyone, overlays and viewers included),
# "staff", or "internal" (journal only: presence, claims, registrations).
# Anything not listed is staff-only. Keys starting with "_" never leave the server.
VISIBILITY = {
    "show.created": "staff",
    "products.replaced": "public",
    "rundown.replaced": "public",
    "show.started": "public",
    "segment.changed": "public",
    "segment.extended": "public",
    "product.pinned": "public",
    "product.unpinned": "public",
    "show.ended": "public",
    "viewer.registered": "internal",
    "viewer.joined": "internal",
    "viewer.left": "internal",
    "viewer.shared": "internal",
    "viewer.muted": "staff",
    "viewers.tick": "public",
    "likes.tick": "public",
    "likes.goal": "public",
    "likes.goal_reached": "public",
    "comment.new": "public",
    "comment.deleted": "public",
    "comment.pinned": "public",
    "flash_sale.opened": "public",
    "flash_sale.claimed": "internal",
    "flash_sale.stock": "public",
    "flash_sale.closed": "public",
    "draw.opened": "public",
    "draw.entries": "public",
    "draw.closed": "public",
    "draw.rerolled": "public",
}

MAX_EXTEND_SECONDS = 3600


def create(show_id: str, config: dict[str, Any], products: Any, segments: Any, now: int) -> tuple[ShowState, Event]:
    """The first event of a show (seq 1), from an already-validated config."""
    prods = parse_products(products if products is not None else [])
    segs = parse_segments(segments if segments is not None else [], prods)
    event: Event = {
        "type": "show.created",
        "at": now,
        "seq": 1,
        "show": {"id": show_id, **config},
        "products": [p.to_dict() for p in prods],
        "segments": [s.plan_dict() for s in segs],
    }
    return evolve(None, event), event


Outcome = list[Event] | Exception  # a command's events, or why it was refused


def apply_all(state: ShowState, commands: Sequence[Any], now: int) -> tuple[ShowState, list[Outcome]]:
    """Decide and fold commands in turn, each on the state the earlier ones left:
    returns the new state and, per command, its events (numbered from
    ``state.seq + 1`` on, stamped ``at=now``) or the exception that refused it
    (a LiveError, or a bug; a refused command changes nothing). ``state`` itself
    never changes: the fold works on a draft of its ledger, sealed at the end.
    The engine's write path and the core's tests both run this function."""
    work = begin(state)
    outcomes: list[Outcome] = []
    for command in commands:
        try:
            events = decide(work, command, now)
        except Exception as exc:  # noqa: BLE001 - handed back to the caller, who tells a bug from a refusal
            outcomes.append(exc)
            continue
        for event in events:
            event["at"] = now
            event["seq"] = work.seq + 1
            work = _fold(work, event)
        outcomes.append(events)
    work.ledger.seal()
    return work, outcomes


def apply(state: ShowState, command: Any, now: int) -> tuple[ShowState, list[Event]]:
    """``apply_all`` for one command: the new state and its events. Raises the
    LiveError that refused it, and then nothing has changed."""
    new, [outcome] = apply_all(state, [command], now)
    if isinstance(outcome, Exception):
        raise outcome
    return new, outcome


def decide(state: ShowState, command: Any, now: int) -> list[Event]:
    """The events a command produces (without ``seq``/``at``); changes nothing.
    Raises Invalid (bad input, ``field`` set) or Conflict (wrong state)."""
    cmd = v.obj(command, "")
    kind = cmd.get("type")
    handler = _HANDLERS.get(kind) if isinstance(kind, str) else None
    if handler is None:
        raise Invalid(f"unknown command type {kind!r}", "type")
    # The shell's context travels in "_" keys; the handlers see the rest.
    ctx = {k: val for k, val in cmd.items() if k.startswith("_")}
    if ctx:
        cmd = {k: val for k, val in cmd.items() if not k.startswith("_")}
    return handler(state, cmd, now, ctx)


# -- handlers ------------------------------------------------------------------


def _need_live(state: ShowState, what: str) -> None:
    if state.status == "draft":
        raise Conflict(f"{what}: the show has not started yet (send show.start first)")
    if state.status == "ended":
        raise Conflict(f"{what}: the show has ended")


def _go(state: ShowState, to: int, reason: str, now: int, ctx: Ctx, first: list[Event] | None = None) -> list[Event]:
    """Events that put segment ``to`` on air, then its actions, in the same step.
    An action that cannot run now (a sale already open for the sku) is skipped:
    moving on must never fail because of it."""
    events: list[Event] = list(first or [])
    events.append({"type": "segment.changed", "from": state.current, "to": to, "reason": reason})
    for action, arg in state.segments[to].actions:
        seq = state.seq + len(events) + 1  # the seq this action's event will get
        if action == "product.pin" and arg is not None and state.product(arg) is not None:
            events.append({"type": "product.pinned", "sku": arg, "by_segment": to})
        elif action == "product.unpin":
            events.append({"type": "product.unpinned", "by_segment": to})
        elif action == "flash_sale.open" and arg is not None:
            event = sales.segment_sale(state, json.loads(arg), now, seq)
            if event is not None:
                events.append(event | {"by_segment": to})
        elif action == "draw.open" and arg is not None and ctx.get("_seed"):
            events.append(draws.segment_draw(state, json.loads(arg), now, ctx["_seed"], seq) | {"by_segment": to})
    return events


def _start(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    v.no_unknown_keys(cmd, {"type"}, "")
    if state.status == "live":
        raise Conflict("the show is already live")
    if state.status == "ended":
        raise Conflict("the show has ended; it cannot start again")
    if not state.segments:
        return [{"type": "show.started"}]
    # segment 0's actions run as on a live show: fold show.started first
    started = replace(state, status="live")
    return _go(started, 0, "start", now, ctx, first=[{"type": "show.started"}])


def _end(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    v.no_unknown_keys(cmd, {"type"}, "")
    _need_live(state, "show.end")
    events: list[Event] = [{"type": "show.ended", "from": state.current}]
    for sale in state.ledger.sales.values():
        if sale.status != "closed":
            events.append({"type": "flash_sale.closed", "sale_id": sale.id, "reason": "show_ended",
                           "remaining": sale.remaining})
    return events


def _next(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    v.no_unknown_keys(cmd, {"type"}, "")
    _need_live(state, "segment.next")
    to = 0 if state.current is None else state.current + 1
    if to >= len(state.segments):
        raise Conflict("this is the last segment; send show.end to finish the show")
    return _go(state, to, "next", now, ctx)


def _previous(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    v.no_unknown_keys(cmd, {"type"}, "")
    _need_live(state, "segment.previous")
    if state.current is None or state.current == 0:
        raise Conflict("this is the first segment; there is none before it")
    return _go(state, state.current - 1, "previous", now, ctx)


def _goto(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    v.no_unknown_keys(cmd, {"type", "index"}, "")
    _need_live(state, "segment.goto")
    if not state.segments:
        raise Conflict("the rundown is empty")
    index = v.integer(cmd.get("index"), "index", lo=0, hi=len(state.segments) - 1)
    if index == state.current:
        raise Conflict(f"segment {index} is already on air")
    return _go(state, index, "goto", now, ctx)


def _extend(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    v.no_unknown_keys(cmd, {"type", "seconds", "index"}, "")
    _need_live(state, "segment.extend")
    seconds = v.integer(cmd.get("seconds"), "seconds", lo=-MAX_EXTEND_SECONDS, hi=MAX_EXTEND_SECONDS)
    if seconds == 0:
        raise Invalid("seconds must not be 0", "seconds")
    # An empty rundown has no valid index at all: say so before judging one.
    if not state.segments:
        raise Conflict("the rundown is empty")
    if "index" in cmd:
        index = v.integer(cmd["index"], "index", lo=0, hi=len(state.segments) - 1)
    elif state.current is None:
        raise Conflict("no segment is on air")
    else:
        index = state.current
    seg = state.segments[index]
    total = seg.extended_seconds + seconds
    if seg.planned_seconds + total < 0:
        raise Invalid(f"a segment cannot be shorter than 0 s (planned {seg.planned_seconds} s)", "seconds")
    if total > 6 * 3600:
        raise Invalid("a segment cannot be extended by more than 6 hours in all", "seconds")
    return [{"type": "segment.extended", "index": index, "seconds": seconds, "extended_seconds": total}]


def _pin(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    v.no_unknown_keys(cmd, {"type", "sku"}, "")
    if state.status == "ended":
        raise Conflict("the show has ended")
    sku = v.sku(cmd.get("sku"), "sku")
    if state.product(sku) is None:
        raise Invalid(f"unknown sku {sku!r}", "sku")
    if state.pinned_sku == sku:
        raise Conflict(f"{sku} is already pinned")
    return [{"type": "product.pinned", "sku": sku}]


def _unpin(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    v.no_unknown_keys(cmd, {"type"}, "")
    if state.status == "ended":
        raise Conflict("the show has ended")
    if state.pinned_sku is None:
        raise Conflict("no product is pinned")
    return [{"type": "product.unpinned"}]


def _replace_products(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    v.no_unknown_keys(cmd, {"type", "products"}, "")
    if state.status == "ended":
        raise Conflict("the show has ended")
    products = parse_products(cmd.get("products"))
    skus = {p.sku for p in products}
    for i, seg in enumerate(state.segments):
        used = {seg.sku} | {s for _, s in seg.actions}
        missing = sorted(s for s in used if s is not None and s not in skus)
        if missing:
            raise Invalid(f"segment {i} ({seg.title}) uses sku {missing[0]!r}, which the new list drops", "products")
    if state.pinned_sku is not None and state.pinned_sku not in skus:
        raise Invalid(f"sku {state.pinned_sku!r} is pinned; unpin it before removing it", "products")
    return [{"type": "products.replaced", "products": [p.to_dict() for p in products]}]


def _replace_rundown(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    """Before the show: the whole rundown. While live: only what comes after the
    segment on air (segments up to and including it stay as they are)."""
    v.no_unknown_keys(cmd, {"type", "segments"}, "")
    if state.status == "ended":
        raise Conflict("the show has ended; its rundown is history")
    # Live with nothing on air yet (started on an empty rundown) means nothing has
    # aired either, so the whole rundown is still upcoming.
    keep = 0 if state.current is None or state.status != "live" else state.current + 1
    raw = cmd.get("segments")
    v.array(raw, "segments", 500 - keep)
    segments = parse_segments(raw, state.products, offset=keep)
    if keep + len(segments) > 500:
        raise Invalid(f"a rundown has at most 500 segments ({keep} are already on air or done)", "segments")
    return [{"type": "rundown.replaced", "from_index": keep, "segments": [s.plan_dict() for s in segments]}]


_HANDLERS = {
    "show.start": _start,
    "show.end": _end,
    "segment.next": _next,
    "segment.previous": _previous,
    "segment.goto": _goto,
    "segment.extend": _extend,
    "product.pin": _pin,
    "product.unpin": _unpin,
    "products.replace": _replace_products,
    "rundown.replace": _replace_rundown,
    **audience.HANDLERS,
}


# -- evolve -----------------------------------------------------------------


def begin(state: ShowState) -> ShowState:
    """A working copy of ``state`` to fold into: the same values, a draft ledger."""
    return replace(state, ledger=state.ledger.draft())


def evolve(state: ShowState | None, event: Event) -> ShowState:
    """The state after one journaled event (``None`` before ``show.created``);
    ``state`` itself does not change."""
    return fold([event], state)


def fold(events: Iterable[Event], state: ShowState | None = None) -> ShowState:
    """The state after ``events`` (a whole journal, from ``None``; or what came
    after ``state``), folded on one draft; ``state`` itself does not change.
    Raises NotFound when there is no show (no ``show.created``)."""
    work = None if state is None else begin(state)
    for event in events:
        work = _fold(work, event)
    if work is None:
        raise NotFound("no such show")
    work.ledger.seal()
    return work


def _fold(state: ShowState | None, event: Event) -> ShowState:
    """Fold one event into a working state (its ledger a draft)."""
    kind = event["type"]
    at = event["at"]
    if kind == "show.created":
        show = event["show"]
        return ShowState(
            id=show["id"],
            title=show["title"],
            created_at=at,
            scheduled_start=show.get("scheduled_start"),
            currency=show.get("currency", "CNY"),
            timezone=show.get("timezone", "Asia/Shanghai"),
            language=show.get("language", "zh-CN"),
            like_goal=show.get("like_goal"),
            benchmark=show.get("benchmark", "default"),
            stream_url=show.get("stream_url"),
            ledger=Ledger(like_goal=show.get("like_goal")),
            products=tuple(product_from_dict(p) for p in event["products"]),
            segments=tuple(segment_from_plan(s) for s in event["segments"]),
            seq=event["seq"],
        )
    assert state is not None, "a journal starts with show.created"
    state = replace(state, seq=event["seq"])
    if kind == "show.started":
        return replace(state, status="live", started_at=at)
    if kind == "segment.changed":
        return replace(state, segments=switch(state.segments, state.current, event["to"], at), current=event["to"])
    if kind == "segment.extended":
        segs = list(state.segments)
        segs[event["index"]] = replace(segs[event["index"]], extended_seconds=event["extended_seconds"])
        return replace(state, segments=tuple(segs))
    if kind == "product.pinned":
        return replace(state, pinned_sku=event["sku"])
    if kind == "product.unpinned":
        return replace(state, pinned_sku=None)
    if kind == "show.ended":
        closed = switch(state.segments, state.current, None, at)
        return replace(state, status="ended", ended_at=at, current=None, segments=closed)
    if kind == "products.replaced":
        return replace(state, products=tuple(product_from_dict(p) for p in event["products"]))
    if kind == "rundown.replaced":
        keep = event["from_index"]
        new = tuple(segment_from_plan(s) for s in event["segments"])
        return replace(state, segments=state.segments[:keep] + new)
    # The audience's events change the ledger in place; events this version
    # does not know (written by a newer one) change nothing.
    audience.evolve(state, event)
    return state
