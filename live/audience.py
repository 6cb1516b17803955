"""What viewers do and what staff run for them: presence, likes, comments,
shares, flash-sale claims, lucky draws, the like goal, moderation.

Pure like ``commands``: handlers read the state and return events; ``evolve``
folds them into the Ledger. The shell injects context under keys that start
with ``_`` (``_viewer``: the authenticated viewer; ``_seed``: 32 fresh bytes in
hex for a draw; ``_likes``/``_left``: what the engine gathered since the last
tick). Clients can never send such keys: the engine refuses them.
"""

from __future__ import annotations

from typing import Any

from live import values as v
from live.errors import Conflict, Forbidden, Invalid, LiveError, NotFound, RateLimited
from live.flash_sales import FlashSale, decide_claim, parse_open, parse_qty
from live.ledger import Comment, Draw, Ledger, Viewer
from live.lucky_draws import MAX_DRAW_WINNERS, commitment, entrants_hash, mask_nickname, parse_draw, pick_winners
from live.show import ShowState

Event = dict[str, Any]

MAX_COMMENT = 200
COMMENT_INTERVAL_MS = 1000
MAX_VIEWERS = 1_000_000


class ClaimLost(LiveError):
    """A claim that did not win: SOLD_OUT, LIMIT_REACHED, NOT_OPEN or ENDED."""

    status = 409

    def __init__(self, code: str) -> None:
        messages = {
            "SOLD_OUT": "sold out",
            "LIMIT_REACHED": "you have reached this sale's per-viewer limit",
            "NOT_OPEN": "the sale has not opened yet",
            "ENDED": "the sale has ended",
        }
        super().__init__(messages.get(code, code), code=code)


def _ledger(state: ShowState) -> Ledger:
    return state.ledger


def _viewer(state: ShowState, ctx: dict[str, Any]) -> Viewer:
    vid = ctx.get("_viewer")
    viewer = _ledger(state).viewers.get(vid) if isinstance(vid, str) else None
    if viewer is None:
        raise NotFound("unknown viewer; register again")
    return viewer


def _need_live(state: ShowState, what: str) -> None:
    if state.status != "live":
        raise Conflict(f"{what}: the show is not live")


# -- viewers -------------------------------------------------------------------


def register(state: ShowState, cmd: dict[str, Any], now: int, ctx: dict[str, Any]) -> list[Event]:
    if len(_ledger(state).viewers) >= MAX_VIEWERS:
        raise Conflict("this show has reached its viewer limit")
    if state.status == "ended":
        raise Conflict("the show has ended")
    nickname = v.text(cmd.get("nickname"), "nickname", max_len=20)
    return [{"type": "viewer.registered", "viewer_id": ctx["_new_viewer"], "nickname": nickname,
             "pseudonym": ctx["_pseudonym"], "staff": bool(ctx.get("_staff"))}]


def join(state: ShowState, cmd: dict[str, Any], now: int, ctx: dict[str, Any]) -> list[Event]:
    viewer = _viewer(state, ctx)
    if viewer.connected_since is not None:
        return []
    return [{"type": "viewer.joined", "viewer_id": viewer.id}]


def leave(state: ShowState, cmd: dict[str, Any], now: int, ctx: dict[str, Any]) -> list[Event]:
    viewer = _viewer(state, ctx)
    if viewer.connected_since is None:
        return []
    left_at = min(now, max(viewer.connected_since, int(ctx.get("_left_at", now))))
    return [{"type": "viewer.left", "viewer_id": viewer.id, "left_at": left_at,
             "watched_ms": left_at - viewer.connected_since}]


def comment(state: ShowState, cmd: dict[str, Any], now: int, ctx: dict[str, Any]) -> list[Event]:
    v.no_unknown_keys(cmd, {"type", "text"}, "")
    viewer = _viewer(state, ctx)
    if state.status == "ended":
        raise Conflict("the show has ended")
    text = v.text(cmd.get("text"), "text", max_len=MAX_COMMENT)
    if viewer.muted_until > now:
        raise Forbidden("you are muted for now", code="MUTED")
    if now - viewer.last_comment_at < COMMENT_INTERVAL_MS:
        raise RateLimited("one comment a second, please")
    flagged = _banned_word(text, _ledger(state).banned)
    return [{"type": "comment.new", "comment_id": f"c{state.seq + 1}", "viewer_id": viewer.id,
             "nickname": viewer.nickname, "pseudonym": viewer.pseudonym, "text": text,
             "hidden": flagged is not None, "flagged": flagged}]


def _banned_word(text: str, words: tuple[str, ...]) -> str | None:
    folded = text.casefold()
    for word in words:
        if word.casefold() in folded:
            return word
    return None


def share(state: ShowState, cmd: dict[str, Any], now: int, ctx: dict[str, Any]) -> list[Event]:
    v.no_unknown_keys(cmd, {"type"}, "")
    viewer = _viewer(state, ctx)
    return [{"type": "viewer.shared", "viewer_id": viewer.id}]


def claim(state: ShowState, cmd: dict[str, Any], now: int, ctx: dict[str, Any]) -> list[Event]:
    v.no_unknown_keys(cmd, {"type", "sale_id", "qty", "request_id"}, "")
    viewer = _viewer(state, ctx)
    request_id = v.text(cmd.get("request_id"), "request_id", max_len=64)
    ledger = _ledger(state)
    key = f"{viewer.id}:{request_id}"
    if key in ledger.claims:
        return []  # already won with this request_id: the shell replies from the ledger
    sale_id = cmd.get("sale_id")
    sale = ledger.sales.get(sale_id) if isinstance(sale_id, str) else None
    if sale is None:
        raise NotFound(f"no flash sale {sale_id!r}", "sale_id")
    qty = parse_qty(cmd.get("qty"))
    lost = decide_claim(sale, viewer.id, qty, now)
    if lost is not None:
        raise ClaimLost(lost)
    remaining = sale.remaining - qty
    events: list[Event] = [{
        "type": "flash_sale.claimed", "sale_id": sale.id, "viewer_id": viewer.id, "qty": qty,
        "request_id": request_id, "order_id": f"o-{state.id}-{state.seq + 1}", "remaining": remaining,
        "price": sale.price, "sku": sale.sku,
    }]
    if remaining == 0:
        events.append({"type": "flash_sale.closed", "sale_id": sale.id, "reason": "sold_out", "remaining": 0})
    return events


# -- staff: flash sales ----------------------------------------------------------


def _sale_event(state: ShowState, spec: dict[str, Any], now: int, seq: int) -> Event:
    opens_at = now + spec["opens_in_seconds"] * 1000
    sale = {
        "id": f"fs{seq}", "sku": spec["sku"], "price": spec["price"], "stock": spec["stock"],
        "remaining": spec["stock"], "per_viewer_limit": spec["per_viewer_limit"], "opens_at": opens_at,
        "deadline": opens_at + spec["duration_seconds"] * 1000, "status": "open",
    }
    return {"type": "flash_sale.opened", "sale": sale}


def _open_sale_for(state: ShowState, sku: str, now: int) -> FlashSale | None:
    for sale in _ledger(state).sales.values():
        if sale.sku == sku and sale.status_at(now) in ("open", "scheduled"):
            return sale
    return None


def sale_open(state: ShowState, cmd: dict[str, Any], now: int, ctx: dict[str, Any]) -> list[Event]:
    _need_live(state, "flash_sale.open")
    sku = v.sku(cmd.get("sku"), "sku")
    product = state.product(sku)
    if product is None:
        raise Invalid(f"unknown sku {sku!r}", "sku")
    spec = parse_open(cmd, product.live_price)
    running = _open_sale_for(state, sku, now)
    if running is not None:
        raise Conflict(f"a flash sale for {sku} is already open ({running.id})")
    return [_sale_event(state, spec, now, state.seq + 1)]


def segment_sale(state: ShowState, params: dict[str, Any], now: int, seq: int) -> Event | None:
    """A segment's flash_sale.open action (validated when planned); None when the
    product is gone or a sale for it is already running."""
    product = state.product(params["sku"])
    if product is None or _open_sale_for(state, params["sku"], now) is not None:
        return None
    spec = parse_open({"type": "flash_sale.open", **params}, product.live_price)
    return _sale_event(state, spec, now, seq)


def segment_draw(state: ShowState, params: dict[str, Any], now: int, seed_hex: str, seq: int) -> Event:
    """A segment's draw.open action."""
    return _opened(state, parse_draw(params), now, seed_hex, "segment", seq)


def _sale(state: ShowState, cmd: dict[str, Any]) -> FlashSale:
    sale_id = cmd.get("sale_id")
    sale = _ledger(state).sales.get(sale_id) if isinstance(sale_id, str) else None
    if sale is None:
        raise NotFound(f"no flash sale {sale_id!r}", "sale_id")
    return sale


def sale_close(state: ShowState, cmd: dict[str, Any], now: int, ctx: dict[str, Any]) -> list[Event]:
    v.no_unknown_keys(cmd, {"type", "sale_id"}, "")
    sale = _sale(state, cmd)
    if sale.status == "closed":
        raise Conflict(f"flash sale {sale.id} is already closed")
    return [{"type": "flash_sale.closed", "sale_id": sale.id, "reason": "closed", "remaining": sale.remaining}]


# -- staff: draws ------------------------------------------------------------------


def _opened(state: ShowState, spec: dict[str, Any], now: int, seed_hex: str, trigger: str, seq: int) -> Event:
    seed = bytes.fromhex(seed_hex)
    deadline = None if spec["entry_seconds"] is None else now + spec["entry_seconds"] * 1000
    draw = {"id": f"d{seq}", "prize": spec["prize"], "winners": spec["winners"], "kind": spec["kind"],
            "eligibility": spec["eligibility"], "commitment": commitment(seed), "deadline": deadline,
            "trigger": trigger, "status": "open"}
    return {"type": "draw.opened", "draw": draw, "_seed": seed_hex}


def draw_open(state: ShowState, cmd: dict[str, Any], now: int, ctx: dict[str, Any]) -> list[Event]:
    _need_live(state, "draw.open")
    spec = parse_draw(cmd)
    if cmd.get("trigger") not in (None, "command"):
        raise Invalid("trigger must be 'command'; for the like goal send likes.goal with then", "trigger")
    return [_opened(state, spec, now, ctx["_seed"], "command", state.seq + 1)]


def _draw(state: ShowState, cmd: dict[str, Any]) -> Draw:
    draw_id = cmd.get("draw_id")
    draw = _ledger(state).draws.get(draw_id) if isinstance(draw_id, str) else None
    if draw is None:
        raise NotFound(f"no draw {draw_id!r}", "draw_id")
    return draw


def eligible(state: ShowState, draw: Draw, now: int) -> list[Viewer]:
    rule = draw.eligibility
    keyword = rule.get("keyword")
    commenters: set[str] = set()
    if keyword:
        k = keyword.casefold()
        for c in _ledger(state).comments:
            if c.at >= draw.opened_at and not c.deleted and k in c.text.casefold():
                commenters.add(c.viewer_id)
    out = []
    for viewer in _ledger(state).viewers.values():
        if rule.get("exclude_staff", True) and viewer.staff:
            continue
        if rule.get("present") and viewer.connected_since is None:
            continue
        if keyword and viewer.id not in commenters:
            continue
        if rule.get("liked") and viewer.last_like_at < draw.opened_at:
            continue
        if rule.get("watched_seconds") and viewer.watched(now) < rule["watched_seconds"] * 1000:
            continue
        if rule.get("bought_items") and viewer.units < rule["bought_items"]:
            continue
        out.append(viewer)
    return out


def _closed(state: ShowState, draw: Draw, now: int) -> Event:
    people = eligible(state, draw, now)
    by_pseudonym = {p.pseudonym: p for p in people}
    entrants = sorted(by_pseudonym)
    winners, next_i = pick_winners(bytes.fromhex(draw.seed), draw.id, entrants, draw.winners_wanted)
    return {
        "type": "draw.closed", "draw_id": draw.id, "seed": draw.seed, "entrants_hash": entrants_hash(entrants),
        "entries": len(entrants),
        "winners": [{"pseudonym": w, "nickname": mask_nickname(by_pseudonym[w].nickname)} for w in winners],
        "next_i": next_i, "_entrants": entrants,
    }


def draw_close(state: ShowState, cmd: dict[str, Any], now: int, ctx: dict[str, Any]) -> list[Event]:
    v.no_unknown_keys(cmd, {"type", "draw_id"}, "")
    draw = _draw(state, cmd)
    if draw.status == "closed":
        raise Conflict(f"draw {draw.id} is already drawn; its result stands (draw.reroll draws more)",
                       code="ALREADY_DRAWN")
    return [_closed(state, draw, now)]


def draw_reroll(state: ShowState, cmd: dict[str, Any], now: int, ctx: dict[str, Any]) -> list[Event]:
    v.no_unknown_keys(cmd, {"type", "draw_id", "winners"}, "")
    draw = _draw(state, cmd)
    if draw.status != "closed":
        raise Conflict("a draw can be rerolled only after it is drawn")
    count = v.integer(cmd.get("winners"), "winners", lo=1, hi=MAX_DRAW_WINNERS, default=1)
    taken = [w["pseudonym"] for w in draw.winners()]
    if len(taken) >= len(draw.entrants):
        raise Conflict("every entrant has already won")
    winners, next_i = pick_winners(bytes.fromhex(draw.seed), draw.id, draw.entrants, count, taken, draw.next_i)
    nick = {vw.pseudonym: vw.nickname for vw in _ledger(state).viewers.values()}
    return [{"type": "draw.rerolled", "draw_id": draw.id, "count": count, "next_i": next_i,
             "winners": [{"pseudonym": w, "nickname": mask_nickname(nick.get(w, ""))} for w in winners]}]


def like_goal(state: ShowState, cmd: dict[str, Any], now: int, ctx: dict[str, Any]) -> list[Event]:
    v.no_unknown_keys(cmd, {"type", "target", "then"}, "")
    if state.status == "ended":
        raise Conflict("the show has ended")
    target = v.integer(cmd.get("target"), "target", lo=1, hi=10**9)
    if target <= _ledger(state).likes_total:
        raise Conflict(f"the show already has {_ledger(state).likes_total} likes; set a higher goal")
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
    cid = cmd.get("comment_id")
    index = _ledger(state).comment_index.get(cid) if isinstance(cid, str) else None
    if index is None:
        raise NotFound(f"no comment {cid!r}", "comment_id")
    return _ledger(state).comments[index]


def comment_pin(state: ShowState, cmd: dict[str, Any], now: int, ctx: dict[str, Any]) -> list[Event]:
    v.no_unknown_keys(cmd, {"type", "comment_id"}, "")
    c = _comment(state, cmd)
    if c.deleted or c.hidden:
        raise Conflict("a deleted or hidden comment cannot be pinned")
    return [{"type": "comment.pinned", "comment_id": c.id, "nickname": c.nickname, "text": c.text}]


def comment_delete(state: ShowState, cmd: dict[str, Any], now: int, ctx: dict[str, Any]) -> list[Event]:
    v.no_unknown_keys(cmd, {"type", "comment_id"}, "")
    c = _comment(state, cmd)
    if c.deleted:
        raise Conflict("the comment is already deleted")
    return [{"type": "comment.deleted", "comment_id": c.id}]


def viewer_mute(state: ShowState, cmd: dict[str, Any], now: int, ctx: dict[str, Any]) -> list[Event]:
    v.no_unknown_keys(cmd, {"type", "viewer_id", "seconds"}, "")
    vid = cmd.get("viewer_id")
    viewer = _ledger(state).viewers.get(vid) if isinstance(vid, str) else None
    if viewer is None:
        raise NotFound(f"no viewer {vid!r}", "viewer_id")
    seconds = v.integer(cmd.get("seconds"), "seconds", lo=1, hi=7 * 24 * 3600)
    return [{"type": "viewer.muted", "viewer_id": viewer.id, "until": now + seconds * 1000}]


# -- the tick: coalesced likes, leaves, tickers and deadlines ----------------------------


def tick(state: ShowState, cmd: dict[str, Any], now: int, ctx: dict[str, Any]) -> list[Event]:
    ledger = _ledger(state)
    events: list[Event] = []
    seq = state.seq
    likes = {vid: n for vid, n in (ctx.get("_likes") or {}).items() if vid in ledger.viewers and n > 0}
    if likes and state.status != "ended":
        added = sum(likes.values())
        total = ledger.likes_total + added
        events.append({"type": "likes.tick", "added": added, "total": total, "goal": ledger.like_goal,
                       "_by": likes})
        seq += 1
        if ledger.like_goal is not None and not ledger.like_goal_reached and total >= ledger.like_goal:
            events.append({"type": "likes.goal_reached", "target": ledger.like_goal, "total": total})
            seq += 1
            then = ledger.like_goal_then
            if then is not None and state.status == "live" and ctx.get("_seed"):
                seq += 1
                events.append(_opened(state, then, now, ctx["_seed"], "like_goal", seq))
    for vid, left_at in (ctx.get("_left") or {}).items():
        viewer = ledger.viewers.get(vid)
        if viewer is not None and viewer.connected_since is not None:
            at = min(now, max(viewer.connected_since, int(left_at)))
            events.append({"type": "viewer.left", "viewer_id": vid, "left_at": at,
                           "watched_ms": at - viewer.connected_since})
            seq += 1
    present = ledger.present - sum(1 for e in events if e["type"] == "viewer.left")
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
            events.append(_closed(state, draw, now))
        elif ctx.get("_entries"):
            n = len(eligible(state, draw, now))
            if n != ledger.announced_entries.get(draw.id, -1):
                events.append({"type": "draw.entries", "draw_id": draw.id, "entries": n})
    return events


HANDLERS = {
    "viewer.register": register,
    "viewer.join": join,
    "viewer.leave": leave,
    "viewer.comment": comment,
    "viewer.share": share,
    "flash_sale.claim": claim,
    "flash_sale.open": sale_open,
    "flash_sale.close": sale_close,
    "draw.open": draw_open,
    "draw.close": draw_close,
    "draw.reroll": draw_reroll,
    "likes.goal": like_goal,
    "comment.pin": comment_pin,
    "comment.delete": comment_delete,
    "viewer.mute": viewer_mute,
    "tick": tick,
}


# -- evolve ------------------------------------------------------------------------


def evolve(state: ShowState, event: Event) -> bool:
    """Fold an audience event into the ledger; False when the type is not ours."""
    ledger = _ledger(state)
    kind = event["type"]
    at = event["at"]
    if kind == "viewer.registered":
        ledger.viewers[event["viewer_id"]] = Viewer(event["viewer_id"], event["nickname"], event["pseudonym"],
                                                    staff=event.get("staff", False))
    elif kind == "viewer.joined":
        viewer = ledger.viewers[event["viewer_id"]]
        viewer.connected_since = at
        ledger.present += 1
        ledger.peak = max(ledger.peak, ledger.present)
    elif kind == "viewer.left":
        viewer = ledger.viewers[event["viewer_id"]]
        viewer.watched_ms += event["watched_ms"]
        viewer.connected_since = None
        ledger.present -= 1
    elif kind == "viewers.tick":
        ledger.announced_viewers = event["now"]
    elif kind == "likes.tick":
        ledger.likes_total = event["total"]
        for vid, n in event["_by"].items():
            liker = ledger.viewers.get(vid)
            if liker is not None:
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
        ledger.comment_index[c.id] = len(ledger.comments)
        ledger.comments.append(c)
        viewer = ledger.viewers[event["viewer_id"]]
        viewer.comments += 1
        viewer.last_comment_at = at
    elif kind == "comment.deleted":
        ledger.comments[ledger.comment_index[event["comment_id"]]].deleted = True
        if ledger.pinned_comment == event["comment_id"]:
            ledger.pinned_comment = None
    elif kind == "comment.pinned":
        ledger.pinned_comment = event["comment_id"]
    elif kind == "viewer.muted":
        ledger.viewers[event["viewer_id"]].muted_until = event["until"]
    elif kind == "viewer.shared":
        ledger.viewers[event["viewer_id"]].shares += 1
    elif kind == "flash_sale.opened":
        s = event["sale"]
        ledger.sales[s["id"]] = FlashSale(s["id"], s["sku"], s["price"], s["stock"], s["per_viewer_limit"],
                                          s["opens_at"], s["deadline"], s["remaining"])
        ledger.announced_stock[s["id"]] = s["remaining"]
    elif kind == "flash_sale.claimed":
        sale = ledger.sales[event["sale_id"]]
        sale.remaining = event["remaining"]
        sale.claimed[event["viewer_id"]] = sale.claimed.get(event["viewer_id"], 0) + event["qty"]
        sale.orders += 1
        ledger.orders += 1
        viewer = ledger.viewers[event["viewer_id"]]
        viewer.units += event["qty"]
        result = {"ok": True, "order_id": event["order_id"], "sale_id": sale.id, "qty": event["qty"],
                  "price": event.get("price"), "sku": event.get("sku")}
        ledger.claims[f"{event['viewer_id']}:{event['request_id']}"] = result
        viewer.orders.append({"request_id": event["request_id"], **result})
    elif kind == "flash_sale.stock":
        ledger.announced_stock[event["sale_id"]] = event["remaining"]
    elif kind == "flash_sale.closed":
        sale = ledger.sales[event["sale_id"]]
        sale.status = "closed"
        sale.closed_reason = event["reason"]
        sale.closed_at = at
        ledger.announced_stock[sale.id] = sale.remaining
    elif kind == "draw.opened":
        d = event["draw"]
        ledger.draws[d["id"]] = Draw(d["id"], d["prize"], d["winners"], d["eligibility"], d["commitment"], at,
                                     d["deadline"], d["trigger"], kind=d.get("kind", "draw"),
                                     seed=event["_seed"])
    elif kind == "draw.entries":
        ledger.announced_entries[event["draw_id"]] = event["entries"]
    elif kind == "draw.closed":
        draw = ledger.draws[event["draw_id"]]
        draw.status = "closed"
        draw.closed_at = at
        draw.entrants = list(event["_entrants"])
        draw.entrants_hash = event["entrants_hash"]
        draw.rounds.append({"count": draw.winners_wanted, "winners": list(event["winners"])})
        draw.next_i = event["next_i"]
    elif kind == "draw.rerolled":
        draw = ledger.draws[event["draw_id"]]
        draw.rounds.append({"count": event["count"], "winners": list(event["winners"])})
        draw.next_i = event["next_i"]
    else:
        return False
    return True
