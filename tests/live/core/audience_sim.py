"""A show driven through ``live.core.commands.apply`` with a hand-moved clock, the
journal kept: the harness shared by the audience, flash-sale and draw tests.
The shell's context (``_viewer``, ``_seed``, ``_likes``, …) is passed as the
engine passes it; no event loop, database or socket."""

from __future__ import annotations

import copy
import hashlib
import json
import random
from dataclasses import replace
from typing import Any

import pytest

from live.core.auth import pseudonym
from live.core.commands import Event, apply, create, evolve
from live.core.errors import LiveError
from live.core.ledger import COMMENT_INTERVAL_MS
from live.core.show import ShowState, parse_show_config

T0 = 1_700_000_000_000
SECRET = b"test-secret"
PRODUCTS = [
    {"sku": "A1", "title": "Tea", "list_price": "99.00", "live_price": "59.00", "stock": 100},
    {"sku": "B2", "title": "Cup", "list_price": "30.00", "live_price": "25.00", "stock": 50},
]


def fresh_seed(n: int) -> str:
    """64 hex digits, as the engine's ``secrets.token_hex(32)`` (deterministic here)."""
    return hashlib.sha256(f"seed-{n}".encode()).hexdigest()


class Sim:
    """A show driven through ``apply`` with a hand-moved clock; keeps the journal."""

    def __init__(self, start: bool = True, like_goal: int | None = None, segments: Any = None,
                 banned: tuple[str, ...] = (), comment_interval_ms: int = COMMENT_INTERVAL_MS) -> None:
        config = parse_show_config({"title": "Spring tea", "like_goal": like_goal})
        self.state, first = create("show1", config, PRODUCTS, segments or [], T0)
        self.state = replace(self.state, ledger=self.state.ledger.configured(
            banned=banned, comment_interval_ms=comment_interval_ms))
        self.journal: list[Event] = [first]
        self.now = T0
        self.seeds = 0
        if start:
            self.do({"type": "show.start"}, seed=self.seed())

    def seed(self) -> str:
        self.seeds += 1
        return fresh_seed(self.seeds)

    def do(self, cmd: dict[str, Any], **ctx: Any) -> list[Event]:
        """Apply ``cmd`` now with context ``_key=value``; returns its events."""
        full = {**cmd, **{f"_{k}": val for k, val in ctx.items()}}
        self.state, events = apply(self.state, full, self.now)
        self.journal += events
        return events

    def refused(self, cmd: dict[str, Any], error: type[LiveError], **ctx: Any) -> LiveError:
        """Assert ``cmd`` raises exactly ``error`` and changes nothing (ledger included)."""
        before = copy.deepcopy(self.state)
        length = len(self.journal)
        with pytest.raises(error) as caught:
            self.do(cmd, **ctx)
        assert type(caught.value) is error
        assert self.state == before
        assert self.state.seq == before.seq
        assert len(self.journal) == length
        return caught.value

    def wait(self, ms: int) -> None:
        self.now += ms

    def viewer(self, nickname: str = "Ann", staff: bool = False, join: bool = False) -> str:
        vid = f"v{len(self.state.ledger.viewers) + 1:05d}"
        self.do({"type": "viewer.register", "nickname": nickname}, new_viewer=vid,
                pseudonym=pseudonym(SECRET, vid), staff=staff)
        if join:
            self.join(vid)
        return vid

    def join(self, vid: str) -> list[Event]:
        return self.do({"type": "viewer.join"}, viewer=vid)

    def leave(self, vid: str) -> list[Event]:
        return self.do({"type": "viewer.leave"}, viewer=vid)

    def comment(self, vid: str, text: str) -> list[Event]:
        return self.do({"type": "viewer.comment", "text": text}, viewer=vid)

    def tick(self, likes: dict[str, int] | None = None, left: dict[str, int] | None = None,
             viewers: bool = False, entries: bool = False) -> list[Event]:
        return self.do({"type": "tick"}, likes=likes or {}, left=left or {}, viewers=viewers, entries=entries,
                       seed=self.seed())

    def open_sale(self, sku: str = "A1", stock: int = 10, limit: int = 2, seconds: int = 60,
                  **extra: Any) -> str:
        events = self.do({"type": "flash_sale.open", "sku": sku, "stock": stock, "per_viewer_limit": limit,
                          "duration_seconds": seconds, **extra})
        sale_id: str = events[0]["sale"]["id"]
        return sale_id

    def claim(self, vid: str, sale_id: str, qty: int = 1, request_id: str | None = None) -> list[Event]:
        rid = request_id or f"r{len(self.journal)}-{vid}-{qty}"
        return self.do({"type": "flash_sale.claim", "sale_id": sale_id, "qty": qty, "request_id": rid}, viewer=vid)

    def open_draw(self, **params: Any) -> str:
        events = self.do({"type": "draw.open", "prize": "Tea set", **params}, seed=self.seed())
        draw_id: str = events[-1]["draw"]["id"]
        return draw_id


def types(events: list[Event]) -> list[str]:
    return [e["type"] for e in events]


def replay(journal: list[Event]) -> ShowState:
    """Fold the journal as a restart does: through JSON, as the journal stores it."""
    state: ShowState | None = None
    for event in json.loads(json.dumps(journal)):
        state = evolve(state, event)
    assert state is not None
    return state


def random_show(seed: int, kind: type[Sim] = Sim) -> Sim:
    """A seeded random mix of viewer actions, sales, claims, draws and ticks;
    refusals are part of the mix (they must leave no trace)."""
    rng = random.Random(seed)
    sim = kind(banned=("scam",))
    ids: list[str] = []
    for step in range(600):
        sim.wait(rng.choice((0, 1, 250, 1_000, 5_000)))
        roll = rng.random()
        who = rng.choice(ids) if ids else None
        cmd: dict[str, Any]
        ctx: dict[str, Any] = {}
        if who is None or roll < 0.08:
            vid = f"v{len(ids):04d}"
            cmd, ctx = {"type": "viewer.register", "nickname": f"N{step}"}, {
                "new_viewer": vid, "pseudonym": pseudonym(SECRET, vid), "staff": rng.random() < 0.1}
            ids.append(vid)
        elif roll < 0.25:
            cmd, ctx = {"type": rng.choice(("viewer.join", "viewer.leave"))}, {"viewer": who}
        elif roll < 0.35:
            cmd, ctx = {"type": "viewer.comment", "text": rng.choice(("tea!", "a scam", "tea time"))}, {"viewer": who}
        elif roll < 0.38:
            cmd, ctx = {"type": "viewer.share"}, {"viewer": who}
        elif roll < 0.55:
            open_now = [i for i, sale in sim.state.ledger.sales.items() if sale.status == "open"]
            sales = open_now if open_now and rng.random() < 0.8 else list(sim.state.ledger.sales) or ["fs0"]
            cmd = {"type": "flash_sale.claim", "sale_id": rng.choice(sales), "qty": rng.randint(1, 3),
                   "request_id": f"r{rng.randint(0, 200)}"}
            ctx = {"viewer": who}
        elif roll < 0.60:
            cmd = {"type": "flash_sale.open", "sku": rng.choice(("A1", "B2")), "stock": rng.randint(1, 15),
                   "per_viewer_limit": rng.randint(1, 3), "duration_seconds": rng.randint(5, 60)}
        elif roll < 0.63:
            rule = rng.choice((None, {"present": True}, {"keyword": "tea"}, {"liked": True},
                               {"watched_seconds": 5}, {"bought_items": 1}, {"exclude_staff": False}))
            cmd, ctx = {"type": "draw.open", "prize": "Pot", "winners": rng.randint(1, 3), "eligibility": rule,
                        "entry_seconds": rng.choice((None, 5, 20))}, {"seed": sim.seed()}
        elif roll < 0.67:
            draws = list(sim.state.ledger.draws) or ["d0"]
            cmd = {"type": rng.choice(("draw.close", "draw.reroll")), "draw_id": rng.choice(draws)}
        elif roll < 0.69:
            cmd = {"type": "likes.goal", "target": sim.state.ledger.likes_total + rng.randint(1, 200),
                   "then": rng.choice((None, {"prize": "Bag", "entry_seconds": 10}))}
        elif roll < 0.71:
            comments = [c.id for c in sim.state.ledger.comments] or ["c0"]
            cmd = {"type": rng.choice(("comment.pin", "comment.delete")), "comment_id": rng.choice(comments)}
        elif roll < 0.72:
            cmd = {"type": "viewer.mute", "viewer_id": who, "seconds": rng.randint(1, 10)}
        else:
            likes = {rng.choice(ids): rng.randint(0, 20) for _ in range(rng.randint(0, 5))}
            left = {rng.choice(ids): sim.now - rng.randint(0, 20_000) for _ in range(rng.randint(0, 2))}
            cmd, ctx = {"type": "tick"}, {"likes": likes, "left": left, "viewers": rng.random() < 0.5,
                                          "entries": rng.random() < 0.5, "seed": sim.seed()}
        try:
            sim.do(cmd, **ctx)
        except LiveError:
            if cmd["type"] == "viewer.register":
                ids.pop()
    sim.do({"type": "show.end"})
    return sim
