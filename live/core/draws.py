"""Lucky draws and lucky bags (pure): open, entries, close, reroll, and their fold.

The fairness lives in ``fairdraw`` (commitment, entrants hash, winners);
this module decides who is eligible and turns commands into events.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from live.core import values as v
from live.core.auth import PLAN
from live.core.context import Ctx, Event, lookup, need_live, seed_hex
from live.core.errors import Conflict, Invalid
from live.core.fairdraw import commitment, entrants_hash, mask_nickname, pick_winners
from live.core.feature import Command, Feature
from live.core.ledger import Draw, Viewer

if TYPE_CHECKING:  # show.py imports this module to validate segment actions
    from live.core.show import ShowState


MAX_DRAW_WINNERS = 1000
ELIGIBILITY_KEYS = {"present", "keyword", "liked", "watched_seconds", "bought_items", "exclude_staff"}


# -- parsing draw.open -----------------------------------------------------------


def parse_eligibility(raw: Any, field: str) -> dict[str, Any]:
    if raw is None:
        return {"present": True, "exclude_staff": True}
    raw = v.obj(raw, field)
    v.no_unknown_keys(raw, ELIGIBILITY_KEYS, field)
    out: dict[str, Any] = {"exclude_staff": v.boolean(raw.get("exclude_staff"), f"{field}.exclude_staff",
                                                      default=True)}
    if v.boolean(raw.get("present"), f"{field}.present", default=False):
        out["present"] = True
    if v.boolean(raw.get("liked"), f"{field}.liked", default=False):
        out["liked"] = True
    if raw.get("keyword") is not None:
        out["keyword"] = v.text(raw["keyword"], f"{field}.keyword", max_len=50)
    if raw.get("watched_seconds") is not None:
        out["watched_seconds"] = v.integer(raw["watched_seconds"], f"{field}.watched_seconds", lo=1, hi=24 * 3600)
    if raw.get("bought_items") is not None:
        out["bought_items"] = v.integer(raw["bought_items"], f"{field}.bought_items", lo=1, hi=10**6)
    return out


def parse_draw(cmd: dict[str, Any], field: str = "") -> dict[str, Any]:
    v.no_unknown_keys(cmd, {"type", "prize", "winners", "eligibility", "entry_seconds", "trigger", "kind"}, field)
    pre = f"{field}." if field else ""
    kind = cmd.get("kind", "draw")
    if kind not in ("draw", "lucky_bag"):
        raise Invalid("kind must be 'draw' or 'lucky_bag'", f"{pre}kind")
    entry = cmd.get("entry_seconds")
    return {
        "prize": v.text(cmd.get("prize"), f"{pre}prize", max_len=100),
        "winners": v.integer(cmd.get("winners"), f"{pre}winners", lo=1, hi=MAX_DRAW_WINNERS, default=1),
        "eligibility": parse_eligibility(cmd.get("eligibility"), f"{pre}eligibility"),
        "entry_seconds": None if entry is None else v.integer(entry, f"{pre}entry_seconds", lo=5, hi=6 * 3600),
        "kind": kind,
    }


def segment_draw(state: ShowState, params: dict[str, Any], now: int, seed_hex: str, seq: int) -> Event:
    """A segment's draw.open action."""
    return opened(state, parse_draw(params), now, seed_hex, "segment", seq)


def draw_seed(fresh_hex: str, draw_id: str) -> bytes:
    """The draw's own seed: HMAC-SHA256(the shell's fresh bytes, draw id).

    One command can open several draws (a segment's actions) with the one
    ``_seed`` the shell injected; publishing one draw's seed at its close must
    not reveal another's, so each draw gets a seed of its own."""
    return hmac.new(bytes.fromhex(fresh_hex), draw_id.encode(), hashlib.sha256).digest()


def opened(state: ShowState, spec: dict[str, Any], now: int, seed_hex: str, trigger: str, seq: int) -> Event:
    """The ``draw.opened`` event for a draw that will get ``seq``; its seed stays
    private (``_seed``) until the close publishes it."""
    draw_id = f"d{seq}"
    seed = draw_seed(seed_hex, draw_id)
    deadline = None if spec["entry_seconds"] is None else now + spec["entry_seconds"] * 1000
    draw = {"id": draw_id, "prize": spec["prize"], "winners": spec["winners"], "kind": spec["kind"],
            "eligibility": spec["eligibility"], "commitment": commitment(seed), "deadline": deadline,
            "trigger": trigger, "status": "open"}
    return {"type": "draw.opened", "draw": draw, "_seed": seed.hex()}


def draw_open(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    need_live(state.status, "draw.open")
    spec = parse_draw(cmd)
    if cmd.get("trigger") not in (None, "command"):
        raise Invalid("trigger must be 'command'; for the like goal send likes.goal with then", "trigger")
    return [opened(state, spec, now, seed_hex(ctx), "command", state.seq + 1)]


def _draw(state: ShowState, cmd: dict[str, Any]) -> Draw:
    return lookup(state.ledger.draws, cmd.get("draw_id"), "draw", "draw_id")


def eligible(
    state: ShowState, draw: Draw, now: int, left: dict[str, int] | None = None, liked: Collection[str] = ()
) -> list[Viewer]:
    """The viewers who may win ``draw`` at ``now``: O(viewers + comments since it opened).

    ``left`` (viewer → left_at) and ``liked`` are what the same tick is about to
    journal before closing the draw: a viewer who left in it is no longer
    present (and watched until left_at), one who liked in it has liked."""
    rule = draw.eligibility
    left = left or {}
    keyword = rule.get("keyword")
    commenters: set[str] = set()
    if keyword:
        k = keyword.casefold()
        # Comments are appended in time order: scan back only to the opening.
        for c in reversed(state.ledger.comments):
            if c.at < draw.opened_at:
                break
            # hidden: caught by the banned-word filter; it does not enter anyone
            if not c.deleted and not c.hidden and k in c.text.casefold():
                commenters.add(c.viewer_id)
    out = []
    for viewer in state.ledger.viewers.values():
        if rule.get("exclude_staff", True) and viewer.staff:
            continue
        gone = left.get(viewer.id) if viewer.connected_since is not None else None
        if rule.get("present") and (viewer.connected_since is None or gone is not None):
            continue
        if keyword and viewer.id not in commenters:
            continue
        if rule.get("liked") and viewer.last_like_at < draw.opened_at and viewer.id not in liked:
            continue
        if rule.get("watched_seconds"):
            watched = viewer.watched(now if gone is None else max(gone, viewer.connected_since or 0))
            if watched < rule["watched_seconds"] * 1000:
                continue
        if rule.get("bought_items") and viewer.units < rule["bought_items"]:
            continue
        out.append(viewer)
    return out


def closed(
    state: ShowState, draw: Draw, now: int, left: dict[str, int] | None = None, liked: Collection[str] = ()
) -> Event:
    """The ``draw.closed`` event: entrants frozen (sorted pseudonyms) and winners
    picked by ``pick_winners`` from the draw's seed, now published."""
    people = eligible(state, draw, now, left, liked)
    by_pseudonym = {p.pseudonym: p for p in people}
    entrants = sorted(by_pseudonym)
    winners, next_i = pick_winners(bytes.fromhex(draw.seed), draw.id, entrants, draw.winners_wanted)
    return {
        "type": "draw.closed", "draw_id": draw.id, "seed": draw.seed, "entrants_hash": entrants_hash(entrants),
        "entries": len(entrants),
        "winners": [winner(w, by_pseudonym[w].nickname) for w in winners],
        "next_i": next_i, "_entrants": entrants,
    }


def winner(pseudonym: str, nickname: str) -> dict[str, str]:
    """One winner as ``draw.closed`` and ``draw.rerolled`` carry it: the pseudonym
    and the masked nickname (``王**``) that everyone sees, and ``full_nickname``,
    which only staff see (``protocol.for_audience``): the host reads it aloud."""
    return {"pseudonym": pseudonym, "nickname": mask_nickname(nickname), "full_nickname": nickname}


def draw_close(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    v.no_unknown_keys(cmd, {"type", "draw_id"}, "")
    draw = _draw(state, cmd)
    if draw.status == "closed":
        raise Conflict(f"draw {draw.id} is already drawn; its result stands (draw.reroll draws more)",
                       code="ALREADY_DRAWN")
    return [closed(state, draw, now)]


def draw_reroll(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    v.no_unknown_keys(cmd, {"type", "draw_id", "winners"}, "")
    draw = _draw(state, cmd)
    if draw.status != "closed":
        raise Conflict("a draw can be rerolled only after it is drawn")
    count = v.integer(cmd.get("winners"), "winners", lo=1, hi=MAX_DRAW_WINNERS, default=1)
    taken = [w["pseudonym"] for w in draw.winners()]
    if not draw.entrants:
        raise Conflict("the draw had no entrants; there is nobody to draw")
    if len(taken) >= len(draw.entrants):
        raise Conflict("every entrant has already won")
    winners, next_i = pick_winners(bytes.fromhex(draw.seed), draw.id, draw.entrants, count, taken, draw.next_i)
    nick = {vw.pseudonym: vw.nickname for vw in state.ledger.viewers.values()}
    return [{"type": "draw.rerolled", "draw_id": draw.id, "count": count, "next_i": next_i,
             "winners": [winner(w, nick.get(w, "")) for w in winners]}]


def fold(state: ShowState, event: Event) -> ShowState:
    """Fold a draw event into the (draft) ledger."""
    ledger = state.ledger
    at = event["at"]
    kind = event["type"]
    if kind == "draw.opened":
        d = event["draw"]
        ledger.put("draws", d["id"], Draw(d["id"], d["prize"], d["winners"], d["eligibility"], d["commitment"], at,
                                     d["deadline"], d["trigger"], kind=d.get("kind", "draw"),
                                     seed=event["_seed"]))
    elif kind == "draw.entries":
        ledger.put("announced_entries", event["draw_id"], event["entries"])
    elif kind == "draw.closed":
        draw = ledger.own_draw(event["draw_id"])
        draw.status = "closed"
        draw.closed_at = at
        draw.entrants = list(event["_entrants"])
        draw.entrants_hash = event["entrants_hash"]
        draw.rounds.append({"count": draw.winners_wanted, "winners": list(event["winners"]), "at": at})
        draw.next_i = event["next_i"]
    elif kind == "draw.rerolled":
        draw = ledger.own_draw(event["draw_id"])
        draw.rounds.append({"count": event["count"], "winners": list(event["winners"]), "at": at})
        draw.next_i = event["next_i"]
    return state


FEATURE = Feature(
    name="draws",
    commands={
        "draw.open": Command(draw_open, roles=PLAN),
        "draw.close": Command(draw_close, roles=PLAN),
        "draw.reroll": Command(draw_reroll, roles=PLAN),
    },
    events={
        "draw.opened": "public",
        "draw.entries": "public",
        "draw.closed": "public",
        "draw.rerolled": "public",
    },
    fold=fold,
)
