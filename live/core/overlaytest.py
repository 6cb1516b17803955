"""A test event for setting up an overlay (pure): ``overlay.test {layer}`` puts a
sample of one layer on every overlay of the show, so that whoever sets up OBS
sees where the flash sale, the draw, the like goal, the pinned product or
the comments land, before the show or during it.

It is journaled as a public event and changes nothing a show is made of: no
sale, draw, like or comment, and the stats skip it (``stats.tally`` reads
only the event types it knows). The only thing it leaves is when the last
one was sent: one test event a second per show, so a held-down button
cannot flood every viewer's socket and the journal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from live.core import values as v
from live.core.auth import RUN
from live.core.context import Ctx, Event
from live.core.errors import Conflict, Invalid, RateLimited
from live.core.feature import Command, Feature

if TYPE_CHECKING:
    from live.core.show import ShowState

# The overlay's layers, as ``?layers=`` names them (overlays/pages.py LAYERS; a test keeps the two equal).
LAYERS = ("product", "sale", "draw", "likes", "comments")
TEST_INTERVAL_MS = 1000  # at most one test event a second per show


def overlay_test(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    """``overlay.test {layer}``. Raises Invalid (``layer`` not one of LAYERS),
    Conflict (the show has ended: its overlays are off the stream) or
    RateLimited (less than TEST_INTERVAL_MS after the previous one)."""
    v.no_unknown_keys(cmd, {"type", "layer"}, "")
    layer = cmd.get("layer")
    if layer not in LAYERS:
        raise Invalid(f"layer must be one of {', '.join(LAYERS)}", "layer")
    if state.status == "ended":
        raise Conflict("overlay.test: the show has ended")
    last = state.ledger.overlay_test_at
    if last is not None and now - last < TEST_INTERVAL_MS:
        raise RateLimited("one overlay test event a second: wait a moment")
    return [{"type": "overlay.test", "layer": layer}]


def fold(state: ShowState, event: Event) -> ShowState:
    """Notes when the test event was sent (the rate limit's memory); nothing else."""
    if event["type"] == "overlay.test":
        state.ledger.overlay_test_at = event["at"]
    return state


FEATURE = Feature(
    name="overlaytest",
    commands={"overlay.test": Command(overlay_test, roles=RUN)},
    events={"overlay.test": "public"},
    fold=fold,
)
