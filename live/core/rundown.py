"""The show's own commands: start and end, moving through the rundown,
extending, pinning, and replacing the products or the rundown; and how their
events fold into the state.

Pure: ``now`` is a parameter; decisions only read the state.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from live.core import draws, sales
from live.core import values as v
from live.core.auth import PLAN, RUN
from live.core.context import Ctx, Event, need_live
from live.core.errors import Conflict, Invalid
from live.core.feature import Command, Feature
from live.core.ledger import Ledger
from live.core.show import ShowState, parse_products, parse_segments, product_from_dict, segment_from_plan
from live.core.timing import switch

MAX_EXTEND_SECONDS = 3600


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
    need_live(state.status, "show.end")
    events: list[Event] = [{"type": "show.ended", "from": state.current}]
    for sale in state.ledger.sales.values():
        if sale.status != "closed":
            events.append({"type": "flash_sale.closed", "sale_id": sale.id, "reason": "show_ended",
                           "remaining": sale.remaining})
    return events


def _next(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    v.no_unknown_keys(cmd, {"type"}, "")
    need_live(state.status, "segment.next")
    to = 0 if state.current is None else state.current + 1
    if to >= len(state.segments):
        raise Conflict("this is the last segment; send show.end to finish the show")
    return _go(state, to, "next", now, ctx)


def _previous(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    v.no_unknown_keys(cmd, {"type"}, "")
    need_live(state.status, "segment.previous")
    if state.current is None or state.current == 0:
        raise Conflict("this is the first segment; there is none before it")
    return _go(state, state.current - 1, "previous", now, ctx)


def _goto(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    v.no_unknown_keys(cmd, {"type", "index"}, "")
    need_live(state.status, "segment.goto")
    if not state.segments:
        raise Conflict("the rundown is empty")
    index = v.integer(cmd.get("index"), "index", lo=0, hi=len(state.segments) - 1)
    if index == state.current:
        raise Conflict(f"segment {index} is already on air")
    return _go(state, index, "goto", now, ctx)


def _extend(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    v.no_unknown_keys(cmd, {"type", "seconds", "index"}, "")
    need_live(state.status, "segment.extend")
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


# -- fold ------------------------------------------------------------------------


def created(event: Event) -> ShowState:
    """The state a ``show.created`` event starts."""
    at = event["at"]
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


def fold(state: ShowState, event: Event) -> ShowState:
    """Fold one of this feature's events (``show.created`` aside: see ``created``)."""
    kind = event["type"]
    at = event["at"]
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
    return state


FEATURE = Feature(
    name="rundown",
    commands={
        "show.start": Command(_start, roles=RUN),
        "show.end": Command(_end, roles=RUN),
        "segment.next": Command(_next, roles=RUN),
        "segment.previous": Command(_previous, roles=RUN),
        "segment.goto": Command(_goto, roles=RUN),
        "segment.extend": Command(_extend, roles=RUN),
        "product.pin": Command(_pin, roles=RUN),
        "product.unpin": Command(_unpin, roles=RUN),
        "products.replace": Command(_replace_products, "setup", PLAN),
        "rundown.replace": Command(_replace_rundown, "setup", PLAN),
    },
    events={
        "show.created": "staff",
        "products.replaced": "public",
        "rundown.replaced": "public",
        "show.started": "public",
        "segment.changed": "public",
        "segment.extended": "public",
        "product.pinned": "public",
        "product.unpinned": "public",
        "show.ended": "public",
    },
    fold=fold,
)
