"""The show's state as the review reads it: the show without its audience (pure).

The review (``stats.review``) reads the show's plan and what happened on air
from a ``ShowState``: the segments and their timing, the products, flash
sales, draws, every order with its returns, clicks by sku, the like goal.
What viewers did is counted from the journal by the tally (``stats.tally``),
so the review's state leaves the audience out: no viewers, comments, claim
results or platform event ids, and no live counters (present, peak, what
the tickers last announced). That keeps it small, so it is stored with the
tally when a show ends (``stats.stored``), and cheap to fold from the journal
(``fold_review`` skips the audience's events, most of a long show's).

``review_state(engine.state)`` and ``fold_review(journal)`` are the same
value (a test checks it on simulated shows): whichever the review gets, it
says the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from live.core.commands import Event, fold
from live.core.ledger import Ledger
from live.core.show import ShowState
from stats.tally import READS

# The audience's events: what the review's state leaves out (the tally counts them).
AUDIENCE = frozenset({
    "viewer.registered", "viewer.joined", "viewer.left", "viewer.shared", "viewer.muted", "viewers.tick",
    "comment.new", "comment.deleted", "comment.pinned", "platform.received", "flash_sale.stock", "draw.entries",
})


# What neither the tally nor the review's state reads: a long journal's reader asks for them bare.
UNREAD = AUDIENCE - READS


def review_state(state: ShowState) -> ShowState:
    """``state`` without its audience (see the module's docstring); ``state``
    itself does not change (the new ledger shares its records, sealed)."""
    ledger = state.ledger
    out = Ledger(
        likes_total=ledger.likes_total,
        like_goal=ledger.like_goal,
        like_goal_then=ledger.like_goal_then,
        like_goal_reached=ledger.like_goal_reached,
        sales=ledger.sales,
        draws=ledger.draws,
        orders=ledger.orders,
        orders_by_id=ledger.orders_by_id,
        clicks=ledger.clicks,
    )
    return replace(state, ledger=out.seal())


def fold_review(events: Iterable[Event], state: ShowState | None = None) -> ShowState:
    """The review's state after ``events`` (a whole journal from ``None``, or what
    came after ``state``, itself a review state). Raises NotFound without
    ``show.created``, and what a fold raises for a malformed event."""
    return review_state(fold(events, state, skip=AUDIENCE))
