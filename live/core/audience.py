"""What viewers do and what staff run for them: presence, likes, comments,
shares, the like goal, moderation, and the tick (coalesced likes, leaves,
tickers and the deadlines of sales and draws); and their fold.

Pure: handlers read the state and return events; ``fold`` folds them into
the (draft) ledger. Context from the shell: see ``live/core/context.py``.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Any

from live.core import draws
from live.core import values as v
from live.core.auth import MODERATE, PLAN
from live.core.context import Ctx, Event, ctx_str, ctx_viewer, lookup, seed_hex
from live.core.draws import eligible, parse_draw
from live.core.errors import Conflict, Forbidden, Invalid, RateLimited
from live.core.feature import Command, Feature
from live.core.ledger import Comment, Viewer

if TYPE_CHECKING:  # show.py imports this module to validate segment actions
    from live.core.show import ShowState

MAX_COMMENT = 200
MAX_VIEWERS = 1_000_000


def _nickname(value: Any, field: str = "nickname") -> str:
    """A clean nickname (1–20 characters, one line, no control characters and,
    as every text, no invisible ones: ``v.text``); raises Invalid naming ``field``."""
    nickname = v.text(value, field, max_len=20)
    # v.text lets newlines and tabs through (fine in a comment); a name is one line,
    # and C1 controls / DEL would garble overlays and the panel.
    if any(unicodedata.category(c) == "Cc" for c in nickname):
        raise Invalid(f"{field} contains control characters", field)
    return nickname


# -- viewers -------------------------------------------------------------------


def register(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    """``viewer.registered`` for ``_new_viewer`` (id, pseudonym and staff flag from the
    shell). Raises Invalid (field ``nickname``) or Conflict (show ended, id taken)."""
    if len(state.ledger.viewers) >= MAX_VIEWERS:
        raise Conflict("this show has reached its viewer limit")
    if state.status == "ended":
        raise Conflict("the show has ended")
    v.no_unknown_keys(cmd, {"type", "nickname"}, "")
    nickname = _nickname(cmd.get("nickname"))
    viewer_id = ctx_str(ctx, "_new_viewer")
    # evolve would replace the viewer (and lose their visits and orders)
    if viewer_id in state.ledger.viewers:
        raise Conflict(f"viewer {viewer_id} is already registered")
    return [{"type": "viewer.registered", "viewer_id": viewer_id, "nickname": nickname,
             "pseudonym": ctx_str(ctx, "_pseudonym"), "staff": bool(ctx.get("_staff"))}]


def join(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    viewer = ctx_viewer(state.ledger, ctx)
    if viewer.connected_since is not None:
        return []
    return [{"type": "viewer.joined", "viewer_id": viewer.id}]


def leave(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    viewer = ctx_viewer(state.ledger, ctx)
    if viewer.connected_since is None:
        return []
    left_at = min(now, max(viewer.connected_since, int(ctx.get("_left_at", now))))
    return [{"type": "viewer.left", "viewer_id": viewer.id, "left_at": left_at,
             "watched_ms": left_at - viewer.connected_since}]


def comment(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    v.no_unknown_keys(cmd, {"type", "text"}, "")
    viewer = ctx_viewer(state.ledger, ctx)
    if state.status == "ended":
        raise Conflict("the show has ended")
    text = v.text(cmd.get("text"), "text", max_len=MAX_COMMENT)
    if viewer.muted_until > now:
        raise Forbidden("you are muted for now", code="MUTED")
    interval = state.ledger.comment_interval_ms
    if now - viewer.last_comment_at < interval:
        raise RateLimited(f"one comment every {interval / 1000:g} s, please")
    flagged = _banned_word(text, state.ledger.banned)
    return [{"type": "comment.new", "comment_id": f"c{state.seq + 1}", "viewer_id": viewer.id,
             "nickname": viewer.nickname, "pseudonym": viewer.pseudonym, "text": text,
             "hidden": flagged is not None, "flagged": flagged}]


def _banned_word(text: str, words: tuple[str, ...]) -> str | None:
    folded = text.casefold()
    for word in words:
        if word.casefold() in folded:
            return word
    return None


def share(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    v.no_unknown_keys(cmd, {"type"}, "")
    viewer = ctx_viewer(state.ledger, ctx)
    if state.status == "ended":
        raise Conflict("the show has ended")
    return [{"type": "viewer.shared", "viewer_id": viewer.id}]


# -- staff: the like goal ------------------------------------------------------------


def like_goal(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    v.no_unknown_keys(cmd, {"type", "target", "then"}, "")
    if state.status == "ended":
        raise Conflict("the show has ended")
    target = v.integer(cmd.get("target"), "target", lo=1, hi=10**9)
    if target <= state.ledger.likes_total:
        raise Conflict(f"the show already has {state.ledger.likes_total} likes; set a higher goal")
    then = cmd.get("then")
    if then is not None:
        then = v.obj(then, "then")
        if then.get("type", "draw.open") != "draw.open":
            raise Invalid("then must be a draw.open", "then.type")
        spec = parse_draw({k: val for k, val in then.items() if k != "type"}, "then")
        then = {"prize": spec["prize"], "winners": spec["winners"], "eligibility": spec["eligibility"],
                "entry_seconds": spec["entry_seconds"], "kind": spec["kind"]}
    return [{"type": "likes.goal", "target": target, "then": then}]


# -- staff: moderation ----------------------------------------------------------------


def _comment(state: ShowState, cmd: dict[str, Any]) -> Comment:
    return state.ledger.comments[lookup(state.ledger.comment_index, cmd.get("comment_id"), "comment", "comment_id")]


def comment_pin(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    v.no_unknown_keys(cmd, {"type", "comment_id"}, "")
    c = _comment(state, cmd)
    if c.deleted or c.hidden:
        raise Conflict("a deleted or hidden comment cannot be pinned")
    return [{"type": "comment.pinned", "comment_id": c.id, "nickname": c.nickname, "text": c.text}]


def comment_delete(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    v.no_unknown_keys(cmd, {"type", "comment_id"}, "")
    c = _comment(state, cmd)
    if c.deleted:
        raise Conflict("the comment is already deleted")
    return [{"type": "comment.deleted", "comment_id": c.id}]


def viewer_mute(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    v.no_unknown_keys(cmd, {"type", "viewer_id", "seconds"}, "")
    viewer = lookup(state.ledger.viewers, cmd.get("viewer_id"), "viewer", "viewer_id")
    seconds = v.integer(cmd.get("seconds"), "seconds", lo=1, hi=7 * 24 * 3600)
    return [{"type": "viewer.muted", "viewer_id": viewer.id, "until": now + seconds * 1000}]


# -- the tick: coalesced likes, leaves, tickers and deadlines ----------------------------


def like_events(state: ShowState, by: dict[str, int], total_before: int, reached: bool, now: int, ctx: Ctx,
                seq: int, **extra: Any) -> list[Event]:
    """The events of likes ``by`` viewer (each a viewer of the show, each count > 0)
    added to ``total_before``: ``likes.tick`` (with ``extra`` fields) that will get
    ``seq``, and when it crosses the like goal (not yet ``reached``),
    ``likes.goal_reached`` and, live and with ``_seed``, the goal's draw. The tick
    and platform likes (``live.core.platform``) both count likes with it."""
    ledger = state.ledger
    total = total_before + sum(by.values())
    events: list[Event] = [{"type": "likes.tick", "added": total - total_before, "total": total,
                            "goal": ledger.like_goal, "_by": by, **extra}]
    if ledger.like_goal is not None and not reached and total >= ledger.like_goal:
        events.append({"type": "likes.goal_reached", "target": ledger.like_goal, "total": total})
        then = ledger.like_goal_then
        if then is not None and state.status == "live" and ctx.get("_seed"):
            # the draw's id is the seq this event will get: count what comes before it
            events.append(draws.opened(state, then, now, seed_hex(ctx), "like_goal", seq + len(events)))
    return events


def tick(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    """The events one tick makes, in order: ``likes.tick`` (with the running total)
    and, when it crosses the goal, ``likes.goal_reached`` and the goal's draw;
    ``viewer.left`` for visits whose grace period ran out; ``viewers.tick`` (every
    other tick, on change); ``flash_sale.stock`` on change and ``flash_sale.closed``
    at the deadline; ``draw.closed`` at an entry deadline, else ``draw.entries``
    (when ``_entries``, on change). Raises nothing for a well-formed context."""
    ledger = state.ledger
    events: list[Event] = []
    likes = {vid: n for vid, n in (ctx.get("_likes") or {}).items()
             if vid in ledger.viewers and isinstance(n, int) and n > 0}
    if likes and state.status != "ended":
        events += like_events(state, likes, ledger.likes_total, ledger.like_goal_reached, now, ctx, state.seq + 1)
    else:
        likes = {}
    left: dict[str, int] = {}
    for vid, left_at in (ctx.get("_left") or {}).items():
        viewer = ledger.viewers.get(vid)
        if viewer is not None and viewer.connected_since is not None:
            at = min(now, max(viewer.connected_since, int(left_at)))
            left[vid] = at
            events.append({"type": "viewer.left", "viewer_id": vid, "left_at": at,
                           "watched_ms": at - viewer.connected_since})
    present = ledger.present - len(left)
    if ctx.get("_viewers") and present != ledger.announced_viewers:
        events.append({"type": "viewers.tick", "now": present, "peak": max(ledger.peak, present)})
    for sale in ledger.sales.values():
        if sale.status == "closed":
            continue
        if sale.remaining != ledger.announced_stock.get(sale.id, sale.stock):
            events.append({"type": "flash_sale.stock", "sale_id": sale.id, "remaining": sale.remaining,
                           "stock": sale.stock})
        if now >= sale.deadline:
            events.append({"type": "flash_sale.closed", "sale_id": sale.id, "reason": "ended",
                           "remaining": sale.remaining})
    for draw in ledger.draws.values():
        if draw.status != "open":
            continue
        if draw.deadline is not None and now >= draw.deadline:
            events.append(draws.closed(state, draw, now, left, likes))
        elif ctx.get("_entries"):
            n = len(eligible(state, draw, now, left, likes))
            if n != ledger.announced_entries.get(draw.id, -1):
                events.append({"type": "draw.entries", "draw_id": draw.id, "entries": n})
    return events


# -- fold --------------------------------------------------------------------------


def fold(state: ShowState, event: Event) -> ShowState:
    """Fold an audience event into the (draft) ledger."""
    ledger = state.ledger
    kind = event["type"]
    at = event["at"]
    if kind == "viewer.registered":
        ledger.put("viewers", event["viewer_id"], Viewer(event["viewer_id"], event["nickname"], event["pseudonym"],
                                                         staff=event.get("staff", False),
                                                         platform=event.get("platform", False)))
    elif kind == "viewer.joined":
        # decide never joins a present viewer; if a journal did, count them once
        if ledger.viewers[event["viewer_id"]].connected_since is None:
            viewer = ledger.own_viewer(event["viewer_id"])
            # a platform's join carries its own time (the visit runs from then)
            viewer.connected_since = event.get("joined_at", at)
            ledger.present += 1
            ledger.peak = max(ledger.peak, ledger.present)
    elif kind == "viewer.left":
        if ledger.viewers[event["viewer_id"]].connected_since is not None:  # likewise: never below zero present
            viewer = ledger.own_viewer(event["viewer_id"])
            viewer.watched_ms += event["watched_ms"]
            viewer.connected_since = None
            ledger.present -= 1
    elif kind == "viewers.tick":
        ledger.announced_viewers = event["now"]
    elif kind == "likes.tick":
        ledger.likes_total = event["total"]
        for vid, n in event["_by"].items():
            if vid in ledger.viewers:
                liker = ledger.own_viewer(vid)
                liker.likes += n
                liker.last_like_at = at
    elif kind == "likes.goal":
        ledger.like_goal = event["target"]
        ledger.like_goal_then = event.get("then")
        ledger.like_goal_reached = False
    elif kind == "likes.goal_reached":
        ledger.like_goal_reached = True
    elif kind == "comment.new":
        c = Comment(event["comment_id"], event["viewer_id"], event["nickname"], event["pseudonym"], event["text"],
                    at, hidden=event["hidden"], flagged=event.get("flagged"))
        ledger.add_comment(c)
        viewer = ledger.own_viewer(event["viewer_id"])
        viewer.comments += 1
        viewer.last_comment_at = at
        if "commented_at" in event:  # a platform's comment: its pace is judged on the platform's clock
            viewer.platform_comment_at = max(viewer.platform_comment_at, event["commented_at"])
    elif kind == "comment.deleted":
        ledger.own_comment(event["comment_id"]).deleted = True
        if ledger.pinned_comment == event["comment_id"]:
            ledger.pinned_comment = None
    elif kind == "comment.pinned":
        ledger.pinned_comment = event["comment_id"]
    elif kind == "viewer.muted":
        ledger.own_viewer(event["viewer_id"]).muted_until = event["until"]
    elif kind == "viewer.shared":
        ledger.own_viewer(event["viewer_id"]).shares += 1
    return state


FEATURE = Feature(
    name="audience",
    commands={
        "viewer.register": Command(register, "system"),
        "viewer.join": Command(join, "viewer"),
        "viewer.leave": Command(leave, "system"),
        "viewer.comment": Command(comment, "viewer"),
        "viewer.share": Command(share, "viewer"),
        "likes.goal": Command(like_goal, roles=PLAN),
        "comment.pin": Command(comment_pin, roles=MODERATE),
        "comment.delete": Command(comment_delete, roles=MODERATE),
        "viewer.mute": Command(viewer_mute, roles=MODERATE),
        "tick": Command(tick, "system"),
    },
    events={
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
    },
    fold=fold,
)
