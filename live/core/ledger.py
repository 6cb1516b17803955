"""The audience side of a show: viewers, likes, comments, flash sales, draws.

High-rate state lives in one mutable ``Ledger`` hung on the frozen
ShowState. Only ``evolve`` changes it, and only after the journal accepted
the event (the engine journals first); copying dicts of 10,000 viewers on
every like would cost more than it protects. ``decide`` only reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FlashSale:
    """One sale. ``claimed`` (viewer → units) only grows, and only in ``evolve``."""

    id: str
    sku: str
    price: str
    stock: int
    per_viewer_limit: int
    opens_at: int
    deadline: int
    remaining: int
    status: str = "open"  # open | closed
    closed_reason: str | None = None
    closed_at: int | None = None
    claimed: dict[str, int] = field(default_factory=dict)
    orders: int = 0

    def view(self, now: int) -> dict[str, Any]:
        return {
            "id": self.id,
            "sku": self.sku,
            "price": self.price,
            "stock": self.stock,
            "remaining": self.remaining,
            "per_viewer_limit": self.per_viewer_limit,
            "opens_at": self.opens_at,
            "deadline": self.deadline,
            "status": self.status_at(now),
            "closed_reason": self.closed_reason,
        }

    def status_at(self, now: int) -> str:
        if self.status == "closed":
            return "closed"
        if now < self.opens_at:
            return "scheduled"
        if now >= self.deadline:
            return "closed"
        return "open"


@dataclass
class Viewer:
    id: str
    nickname: str
    pseudonym: str
    staff: bool = False
    connected_since: int | None = None  # set while present
    watched_ms: int = 0  # earlier visits
    likes: int = 0
    comments: int = 0
    shares: int = 0
    units: int = 0  # bought in this show
    last_comment_at: int = -(10**15)
    muted_until: int = 0
    last_like_at: int = -(10**15)
    orders: list[dict[str, Any]] = field(default_factory=list)  # won claims

    def watched(self, now: int) -> int:
        live = max(0, now - self.connected_since) if self.connected_since is not None else 0
        return self.watched_ms + live


@dataclass
class Comment:
    id: str
    viewer_id: str
    nickname: str
    pseudonym: str
    text: str
    at: int
    hidden: bool = False
    flagged: str | None = None
    deleted: bool = False

    def view(self, staff: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"comment_id": self.id, "nickname": self.nickname, "text": self.text, "at": self.at}
        if staff:
            out |= {"viewer_id": self.viewer_id, "pseudonym": self.pseudonym, "hidden": self.hidden,
                    "flagged": self.flagged, "deleted": self.deleted}
        return out


@dataclass
class Draw:
    id: str
    prize: str
    winners_wanted: int
    eligibility: dict[str, Any]
    commitment: str
    opened_at: int
    deadline: int | None
    trigger: str
    kind: str = "draw"  # draw | lucky_bag
    seed: str = ""  # hex; secret until the draw closes
    status: str = "open"  # open | closed
    closed_at: int | None = None
    entrants: list[str] = field(default_factory=list)  # pseudonyms, sorted, frozen at close
    entrants_hash: str | None = None
    rounds: list[dict[str, Any]] = field(default_factory=list)  # [{count, winners:[{pseudonym,nickname}]}]
    next_i: int = 0

    def winners(self) -> list[dict[str, Any]]:
        return [w for r in self.rounds for w in r["winners"]]

    def view(self, now: int) -> dict[str, Any]:
        """The draw as the snapshot shows it (no seed until closed, no entrant list)."""
        return {
            "id": self.id,
            "prize": self.prize,
            "winners": self.winners_wanted,
            "status": self.status,
            "commitment": self.commitment,
            "entries": len(self.entrants) if self.status == "closed" else None,
            "deadline": self.deadline,
            "closed_at": self.closed_at,
            "eligibility": self.eligibility,
            "trigger": self.trigger,
            "kind": self.kind,
            "seed": self.seed if self.status == "closed" else None,
            "entrants_hash": self.entrants_hash,
            "drawn": [{"pseudonym": w["pseudonym"], "nickname": w["nickname"]} for w in self.winners()],
        }

    def record(self) -> dict[str, Any]:
        """Everything needed to verify the draw (``GET …/draws/{id}``)."""
        closed = self.status == "closed"
        return {
            "id": self.id,
            "prize": self.prize,
            "winners_wanted": self.winners_wanted,
            "status": self.status,
            "eligibility": self.eligibility,
            "trigger": self.trigger,
            "commitment": self.commitment,
            "opened_at": self.opened_at,
            "deadline": self.deadline,
            "closed_at": self.closed_at,
            "seed": self.seed if closed else None,
            "entrants_hash": self.entrants_hash,
            "entrants": self.entrants if closed else None,
            "winners": [w["pseudonym"] for w in self.winners()],
            "winner_nicknames": [w["nickname"] for w in self.winners()],
            "rounds": [{"count": r["count"], "winners": [w["pseudonym"] for w in r["winners"]]} for r in self.rounds],
            "algorithm": "DESIGN §5: HMAC-SHA256(seed, f'{id}:{i}')[:8] big-endian, rejection sampling, "
            "entrants sorted; verify with scripts/verify_draw.py",
        }


@dataclass
class Ledger:
    # comment word list: configuration, not journaled, so not part of equality
    banned: tuple[str, ...] = field(default=(), compare=False)
    comment_interval_ms: int = field(default=1000, compare=False)  # likewise (LIVE_COMMENT_INTERVAL_MS)
    viewers: dict[str, Viewer] = field(default_factory=dict)
    present: int = 0
    peak: int = 0
    likes_total: int = 0
    like_goal: int | None = None
    like_goal_then: dict[str, Any] | None = None
    like_goal_reached: bool = False
    comments: list[Comment] = field(default_factory=list)
    comment_index: dict[str, int] = field(default_factory=dict)
    pinned_comment: str | None = None
    sales: dict[str, FlashSale] = field(default_factory=dict)
    claims: dict[str, dict[str, Any]] = field(default_factory=dict)  # f"{viewer}:{request_id}" → result
    draws: dict[str, Draw] = field(default_factory=dict)
    orders: int = 0
    # what the tickers last announced, so they speak only on change
    announced_viewers: int = 0
    announced_stock: dict[str, int] = field(default_factory=dict)
    announced_entries: dict[str, int] = field(default_factory=dict)
