"""The audience side of a show: viewers, likes, comments, flash sales, draws.

High-rate state lives in a ``Ledger`` hung on the frozen ShowState. A ledger
that belongs to a state value never changes: folding events starts with
``draft()``, a copy-on-write working copy that shares every container and
record with the ledger it came from and copies each one the first time the
fold changes it (``own_viewer``, ``own_sale``… and ``_own`` for containers),
and ends with ``seal()``. So a batch of 2,000 claims costs one copy of the
containers it touches, not 2,000, and an old state value (a snapshot being
sent, the state before a failed append) never sees later changes.
``decide`` only reads.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, TypeVar

R = TypeVar("R")


COMMENT_INTERVAL_MS = 1000  # the default time a viewer waits between two comments


class SealedError(RuntimeError):
    """A sealed ledger (one that belongs to a state value) was about to change: a bug."""


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
    orders: int = 0  # won claims and shop orders
    orders_by_id: dict[str, Order] = field(default_factory=dict)  # every order (claims too) by its id
    # the shop's own return ids (its after-sale number) → (order_id, qty, returned_at): a retried return counts once
    return_ids: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    clicks: dict[str, int] = field(default_factory=dict)  # tracked-link clicks by sku
    _draft: object = field(default=None, init=False, repr=False, compare=False)

    def __copy__(self) -> FlashSale:
        return _clone(self, claimed=dict(self.claimed))

    def view(self, now: int) -> dict[str, Any]:
        return {
            "id": self.id,
            "sku": self.sku,
            "price": self.price,
            "stock": self.stock,
            "remaining": self.remaining,
            "sold": self.stock - self.remaining,  # won claims' units (a sell-through bar: sold / stock)
            "per_viewer_limit": self.per_viewer_limit,
            "opens_at": self.opens_at,
            "deadline": self.deadline,
            "status": self.status_at(now),
            "closed_reason": self.closed_reason,
            "closed_at": self.closed_at,
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
    platform: bool = False  # came from a platform connector (POST …/interactions), keyed by the platform's id
    connected_since: int | None = None  # set while present (a platform join: the platform's time)
    watched_ms: int = 0  # earlier visits
    likes: int = 0
    comments: int = 0
    shares: int = 0
    units: int = 0  # bought in this show
    last_comment_at: int = -(10**15)
    platform_comment_at: int = -(10**15)  # the platform's time of their latest platform comment
    muted_until: int = 0
    last_like_at: int = -(10**15)
    orders: list[dict[str, Any]] = field(default_factory=list)  # won claims
    _draft: object = field(default=None, init=False, repr=False, compare=False)

    def __copy__(self) -> Viewer:
        return _clone(self, orders=list(self.orders))

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
    _draft: object = field(default=None, init=False, repr=False, compare=False)

    def __copy__(self) -> Comment:
        return _clone(self)

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
    # [{count, winners: [{pseudonym, nickname (masked), full_nickname}], at}]: the draw, then each reroll
    rounds: list[dict[str, Any]] = field(default_factory=list)
    next_i: int = 0
    _draft: object = field(default=None, init=False, repr=False, compare=False)

    def __copy__(self) -> Draw:
        return _clone(self, entrants=list(self.entrants), rounds=list(self.rounds))

    def winners(self) -> list[dict[str, Any]]:
        return [w for r in self.rounds for w in r["winners"]]

    def view(self, now: int, staff: bool = False) -> dict[str, Any]:
        """The draw as the snapshot shows it (no seed until closed, no entrant list);
        for ``staff`` each winner also with ``full_nickname`` (null for a draw
        journaled before winners carried it)."""
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
            "drawn": [{"pseudonym": w["pseudonym"], "nickname": w["nickname"]}
                      | ({"full_nickname": w.get("full_nickname")} if staff else {}) for w in self.winners()],
        }

    def record(self) -> dict[str, Any]:
        """Everything needed to verify the draw (``GET …/draws/{id}``)."""
        closed = self.status == "closed"
        return {
            "id": self.id,
            "prize": self.prize,
            "winners_wanted": self.winners_wanted,
            "kind": self.kind,
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
            "algorithm": "docs/draws.md: HMAC-SHA256(seed, f'{id}:{i}')[:8] big-endian, rejection sampling, "
            "entrants sorted; verify with scripts/verify_draw.py",
        }


@dataclass
class Order:
    """One order of the show: a won claim (``source`` ``claim``) or a shop order
    (``webhook``, ``csv``). ``returns`` lists ``(returned_at, qty)`` in order;
    ``returned`` is their sum, never more than ``qty``."""

    id: str
    sku: str | None
    qty: int
    amount: str | None  # the order's total; None for a claim journaled without its price
    viewer_id: str | None
    placed_at: int
    source: str
    returned: int = 0
    returns: list[tuple[int, int]] = field(default_factory=list)
    _draft: object = field(default=None, init=False, repr=False, compare=False)

    def __copy__(self) -> Order:
        return _clone(self, returns=list(self.returns))

    def view(self) -> dict[str, Any]:
        return {"order_id": self.id, "sku": self.sku, "qty": self.qty, "amount": self.amount,
                "viewer_id": self.viewer_id, "placed_at": self.placed_at, "source": self.source,
                "returned": self.returned}


def _clone(record: R, **fresh: Any) -> R:
    """A shallow copy of a record with ``fresh`` copies of its own containers."""
    out = object.__new__(type(record))
    out.__dict__.update(record.__dict__, **fresh)
    return out


# Containers a fold may change; a draft copies each one at its first change.
_CONTAINERS = ("viewers", "comments", "comment_index", "sales", "claims", "draws", "announced_stock",
               "announced_entries", "orders_by_id", "return_ids", "clicks", "platform_events")


@dataclass
class Ledger:
    # configuration, not journaled, so not part of equality: the comment word list
    banned: tuple[str, ...] = field(default=(), compare=False)
    comment_interval_ms: int = field(default=COMMENT_INTERVAL_MS, compare=False)  # likewise (LIVE_COMMENT_INTERVAL_MS)
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
    orders: int = 0  # won claims and shop orders
    orders_by_id: dict[str, Order] = field(default_factory=dict)  # every order (claims too) by its id
    # the shop's own return ids (its after-sale number) → (order_id, qty, returned_at): a retried return counts once
    return_ids: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    clicks: dict[str, int] = field(default_factory=dict)  # tracked-link clicks by sku
    # every platform event id taken (live.core.platform): its value is always True
    platform_events: dict[str, bool] = field(default_factory=dict)
    # what the tickers last announced, so they speak only on change
    announced_viewers: int = 0
    announced_stock: dict[str, int] = field(default_factory=dict)
    announced_entries: dict[str, int] = field(default_factory=dict)
    overlay_test_at: int | None = None  # the last overlay.test (live/core/overlaytest.py: one a second)
    # copy-on-write bookkeeping (see the module's docstring)
    _token: object = field(default_factory=object, repr=False, compare=False)
    _owned: set[str] = field(default_factory=lambda: set(_CONTAINERS), repr=False, compare=False)
    _sealed: bool = field(default=False, repr=False, compare=False)

    def __setattr__(self, name: str, value: Any) -> None:
        if self.__dict__.get("_sealed"):
            raise SealedError(f"a sealed ledger never changes (tried to set {name})")
        object.__setattr__(self, name, value)

    # -- versions -------------------------------------------------------------

    def draft(self) -> Ledger:
        """A working copy to fold into; this ledger stays as it is."""
        out = object.__new__(Ledger)
        out.__dict__.update(self.__dict__, _token=object(), _owned=set(), _sealed=False)
        return out

    def seal(self) -> Ledger:
        """Freeze this ledger (it now belongs to a state value); returns it."""
        self._sealed = True
        return self

    @property
    def sealed(self) -> bool:
        return self._sealed

    def configured(self, **config: Any) -> Ledger:
        """The same ledger with other configuration (``banned``), sealed."""
        out = self.draft()
        for name, value in config.items():
            setattr(out, name, value)
        return out.seal()

    # -- copy-on-write changes (folds only) -----------------------------------------

    def _own(self, name: str) -> Any:
        """Container ``name`` of this draft, copied at its first change."""
        if self._sealed:
            raise SealedError(f"a sealed ledger never changes (tried to change {name})")
        if name not in self._owned:
            object.__setattr__(self, name, copy.copy(getattr(self, name)))
            self._owned.add(name)
        return getattr(self, name)

    def _own_record(self, name: str, key: Any) -> Any:
        if self._sealed:
            raise SealedError(f"a sealed ledger never changes (tried to change {name})")
        record = getattr(self, name)[key]
        if record._draft is not self._token:
            record = copy.copy(record)
            record._draft = self._token
            self._own(name)[key] = record
        return record

    def own_viewer(self, viewer_id: str) -> Viewer:
        """The viewer, to change in this draft; raises KeyError."""
        found: Viewer = self._own_record("viewers", viewer_id)
        return found

    def own_sale(self, sale_id: str) -> FlashSale:
        found: FlashSale = self._own_record("sales", sale_id)
        return found

    def own_draw(self, draw_id: str) -> Draw:
        found: Draw = self._own_record("draws", draw_id)
        return found

    def own_order(self, order_id: str) -> Order:
        found: Order = self._own_record("orders_by_id", order_id)
        return found

    def own_comment(self, comment_id: str) -> Comment:
        found: Comment = self._own_record("comments", self.comment_index[comment_id])
        return found

    def put(self, name: str, key: Any, value: Any) -> None:
        """``self.<name>[key] = value`` in this draft (a new record or a plain value)."""
        if hasattr(value, "_draft"):
            value._draft = self._token
        self._own(name)[key] = value

    def add_comment(self, comment: Comment) -> None:
        comment._draft = self._token
        self._own("comment_index")[comment.id] = len(self.comments)
        self._own("comments").append(comment)
