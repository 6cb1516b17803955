"""A show driven through ``live.core.commands.apply`` with a hand-moved clock, the
journal kept: the harness shared by the audience, flash-sale and draw tests.
The shell's context (``_viewer``, ``_seed``, ``_likes``, …) is passed as the
engine passes it; no event loop, database or socket."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import pytest

from live.core.auth import pseudonym
from live.core.commands import Event, apply, create, evolve
from live.core.errors import LiveError
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
                 banned: tuple[str, ...] = ()) -> None:
        config = parse_show_config({"title": "Spring tea", "like_goal": like_goal})
        self.state, first = create("show1", config, PRODUCTS, segments or [], T0)
        self.state.ledger.banned = banned
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


