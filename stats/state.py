"""The show's state as the review reads it: the show without its audience (pure).

The review (``stats.review``) reads the show's plan and what happened on air
from a ``ShowState``: the segments and their timing, the products, flash
sales (without who claimed them), draws, clicks by sku, the like goal.
What viewers did — visits, likes, comments, shares, clicks, claims and shop
orders with their returns — is counted from the journal by the tally
(``stats.tally``), which leaves staff out and counts each order once; the
per-order facts (time, units, money, buyer, sku, returned units) are its
columns. So the review's state leaves all that out: no viewers, comments,
claim results, orders or platform event ids, and no live counters (present,
peak, what the tickers last announced). That keeps it small, so it is stored
with the tally when a show ends (``stats.stored``) and read back fast, and
cheap to fold from the journal (``fold_review`` skips LEFT_OUT, most of a
long show's events).

``review_state(engine.state)`` and ``fold_review(journal)`` are the same
value (a test checks it on random shows): whichever the review gets, it says
the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from live.core.commands import Event, Folding, fold
from live.core.ledger import FlashSale, Ledger
from live.core.show import ShowState
from stats.tally import READS

# What the review's state leaves out: the audience's events and the shop's orders (the tally counts them).
LEFT_OUT = frozenset({
    "viewer.registered", "viewer.joined", "viewer.left", "viewer.shared", "viewer.muted", "viewers.tick",
    "comment.new", "comment.deleted", "comment.pinned", "platform.received", "flash_sale.stock", "draw.entries",
    "order.placed", "order.returned",
})
# What neither the tally nor the review's state reads: a long journal's reader asks for them bare.
UNREAD = LEFT_OUT - READS


def _sale(sale: FlashSale) -> FlashSale:
    return replace(sale, claimed={}, orders_by_id={})  # who claimed how many: the tally's business


def review_state(state: ShowState) -> ShowState:
    """``state`` without its audience and orders (see the module's docstring);
    ``state`` itself does not change (the new ledger shares its other records, sealed)."""
    ledger = state.ledger
    out = Ledger(
        likes_total=ledger.likes_total,
        like_goal=ledger.like_goal,
        like_goal_then=ledger.like_goal_then,
        like_goal_reached=ledger.like_goal_reached,
        sales={k: _sale(sale) for k, sale in ledger.sales.items()},
        draws=ledger.draws,
        clicks=ledger.clicks,
    )
    return replace(state, ledger=out.seal())


def fold_review(events: Iterable[Event], state: ShowState | None = None) -> ShowState:
    """The review's state after ``events`` (a whole journal from ``None``, or what
    came after ``state``, itself a review state). Raises NotFound without
    ``show.created``, and what a fold raises for a malformed event."""
    return review_state(fold(events, state, skip=LEFT_OUT))


class ReviewFolding:
    """``fold_review`` in several calls (a long journal read chunk by chunk): ``add``, then ``state()`` once."""

    def __init__(self, state: ShowState | None = None) -> None:
        self._folding = Folding(state, skip=LEFT_OUT)

    def add(self, events: Iterable[Event]) -> None:
        self._folding.add(events)

    def state(self) -> ShowState:
        return review_state(self._folding.state())
