"""The rundown's commands through ``live.core.commands.apply(state, cmd, now)``:
start, moving between segments, extend, pin / unpin, end, and replacing the
products and the rundown: which events each produces, which it refuses (and
that a refusal changes nothing)."""

from __future__ import annotations

from typing import Any

import pytest

from live.core.commands import COMMANDS, SETUP_COMMANDS, apply
from live.core.errors import Conflict, Invalid
from live.core.show import MAX_SEGMENTS
from tests.live.core.show_sim import PRODUCTS, SEGMENTS, T0, live_show, new_show, refused, run, types

# -- start ---------------------------------------------------------------------


def test_start_puts_segment_zero_on_air() -> None:
    state, _ = new_show()
    state, events = apply(state, {"type": "show.start"}, T0 + 5)
    assert types(events) == ["show.started", "segment.changed"]
    assert events[1]["from"] is None and events[1]["to"] == 0 and events[1]["reason"] == "start"
    assert (state.status, state.started_at, state.current) == ("live", T0 + 5, 0)
    assert state.segments[0].started_at == T0 + 5
    assert state.segments[0].on_air_since == T0 + 5
    assert state.pinned_sku is None


def test_start_pins_the_product_of_segment_zero_in_the_same_step() -> None:
    state, _ = new_show(segments=SEGMENTS[1:])
    state, events = apply(state, {"type": "show.start"}, T0)
    assert types(events) == ["show.started", "segment.changed", "product.pinned"]
    assert events[2]["sku"] == "A1" and events[2]["by_segment"] == 0
    assert state.pinned_sku == "A1"


def test_start_with_an_empty_rundown_only_starts() -> None:
    state, _ = new_show(segments=[])
    state, events = apply(state, {"type": "show.start"}, T0)
    assert types(events) == ["show.started"]
    assert (state.status, state.current) == ("live", None)


def test_start_twice_is_a_conflict() -> None:
    refused(live_show(), {"type": "show.start"}, Conflict)


def test_start_with_extra_fields_is_invalid() -> None:
    state, _ = new_show()
    assert refused(state, {"type": "show.start", "index": 2}, Invalid).field == "index"


# -- moving between segments ---------------------------------------------------


@pytest.mark.parametrize(
    "cmd", [{"type": "segment.next"}, {"type": "segment.previous"}, {"type": "segment.goto", "index": 1}]
)
def test_moving_before_start_is_a_conflict(cmd: dict[str, Any]) -> None:
    state, _ = new_show()
    refused(state, cmd, Conflict)


def test_next_moves_on_and_runs_the_segment_actions() -> None:
    state, events = run(live_show(), {"type": "segment.next"}, now=T0 + 60_000)
    assert types(events) == ["segment.changed", "product.pinned"]
    assert events[0] == {
        "type": "segment.changed",
        "from": 0,
        "to": 1,
        "reason": "next",
        "at": T0 + 60_000,
        "seq": events[0]["seq"],
    }
    assert state.current == 1 and state.pinned_sku == "A1"
    assert state.segments[0].ended_at == T0 + 60_000
    assert state.segments[0].on_air_since is None


def test_next_at_the_last_segment_is_a_conflict() -> None:
    state = live_show(*[{"type": "segment.next"}] * 3)
    assert state.current == 3
    refused(state, {"type": "segment.next"}, Conflict)


def test_previous_at_the_first_segment_is_a_conflict() -> None:
    refused(live_show(), {"type": "segment.previous"}, Conflict)


def test_previous_goes_back_one() -> None:
    state, events = run(live_show({"type": "segment.next"}, {"type": "segment.next"}), {"type": "segment.previous"})
    assert events[0]["reason"] == "previous" and (events[0]["from"], events[0]["to"]) == (2, 1)
    assert state.current == 1


def test_goto_jumps_and_pins() -> None:
    state, events = run(live_show(), {"type": "segment.goto", "index": 2})
    assert types(events) == ["segment.changed", "product.pinned"]
    assert events[0]["reason"] == "goto" and state.current == 2 and state.pinned_sku == "B2"


@pytest.mark.parametrize("index", [-1, 4, 100, "1", 1.5, None, True])
def test_goto_out_of_range_or_not_a_number_is_invalid_index(index: Any) -> None:
    assert refused(live_show(), {"type": "segment.goto", "index": index}, Invalid).field == "index"


def test_goto_without_index_is_invalid_index() -> None:
    assert refused(live_show(), {"type": "segment.goto"}, Invalid).field == "index"


def test_goto_the_current_segment_is_a_conflict() -> None:
    refused(live_show({"type": "segment.next"}), {"type": "segment.goto", "index": 1}, Conflict)


def test_goto_on_an_empty_rundown_is_a_conflict() -> None:
    state, _ = new_show(segments=[])
    state, _ = run(state, {"type": "show.start"})
    refused(state, {"type": "segment.goto", "index": 0}, Conflict)


def test_segment_unpin_action_unpins() -> None:
    segs = [SEGMENTS[1], {"title": "Chat", "planned_seconds": 60, "actions": ["product.unpin"]}]
    state, _ = new_show(segments=segs)
    state, events = run(state, {"type": "show.start"}, {"type": "segment.next"})
    assert types(events)[-2:] == ["segment.changed", "product.unpinned"]
    assert state.pinned_sku is None


# -- extend --------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [60, -30, 3600, -59])
def test_extend_the_current_segment(seconds: int) -> None:
    state, events = run(live_show(), {"type": "segment.extend", "seconds": seconds})
    assert types(events) == ["segment.extended"]
    assert (events[0]["index"], events[0]["seconds"], events[0]["extended_seconds"]) == (0, seconds, seconds)
    assert state.segments[0].extended_seconds == seconds


def test_extensions_add_up() -> None:
    state, events = run(
        live_show(), {"type": "segment.extend", "seconds": 60}, {"type": "segment.extend", "seconds": -20}
    )
    assert [e["extended_seconds"] for e in events] == [60, 40]
    assert state.segments[0].extended_seconds == 40


def test_extend_an_upcoming_segment_by_index() -> None:
    state, events = run(live_show(), {"type": "segment.extend", "seconds": 30, "index": 3})
    assert events[0]["index"] == 3 and state.segments[3].extended_seconds == 30
    assert state.segments[0].extended_seconds == 0


@pytest.mark.parametrize("seconds", [0, 3601, -3601, 10**9, 1.5, "60", None, True])
def test_extend_by_zero_or_beyond_limits_is_invalid_seconds(seconds: Any) -> None:
    assert refused(live_show(), {"type": "segment.extend", "seconds": seconds}, Invalid).field == "seconds"


def test_extend_that_makes_a_segment_negative_is_invalid() -> None:
    state = live_show({"type": "segment.extend", "seconds": -50})  # 60 s planned → 10 s
    assert refused(state, {"type": "segment.extend", "seconds": -11}, Invalid).field == "seconds"
    state, _ = run(state, {"type": "segment.extend", "seconds": -10})  # exactly 0 s is allowed
    assert state.segments[0].extended_seconds == -60


def test_extend_beyond_six_hours_in_all_is_invalid() -> None:
    state = live_show(*[{"type": "segment.extend", "seconds": 3600}] * 6)
    assert state.segments[0].extended_seconds == 6 * 3600
    assert refused(state, {"type": "segment.extend", "seconds": 1}, Invalid).field == "seconds"


@pytest.mark.parametrize("index", [-1, 4, "0"])
def test_extend_unknown_index_is_invalid_index(index: Any) -> None:
    assert refused(live_show(), {"type": "segment.extend", "seconds": 5, "index": index}, Invalid).field == "index"


@pytest.mark.parametrize(
    "cmd", [{"type": "segment.extend", "seconds": 5}, {"type": "segment.extend", "seconds": 5, "index": 0}]
)
def test_extend_on_an_empty_rundown_is_a_conflict(cmd: dict[str, Any]) -> None:
    state, _ = new_show(segments=[])
    state, _ = run(state, {"type": "show.start"})
    refused(state, cmd, Conflict)


def test_extend_before_start_is_a_conflict() -> None:
    state, _ = new_show()
    refused(state, {"type": "segment.extend", "seconds": 5}, Conflict)


# -- pin / unpin ---------------------------------------------------------------


def test_pin_and_unpin() -> None:
    state, events = run(live_show(), {"type": "product.pin", "sku": "C3"}, {"type": "product.unpin"})
    assert types(events) == ["product.pinned", "product.unpinned"]
    assert events[0]["sku"] == "C3" and state.pinned_sku is None


@pytest.mark.parametrize("sku", ["ZZ9", "bad sku", None, 5])
def test_pin_unknown_sku_is_invalid_sku(sku: Any) -> None:
    assert refused(live_show(), {"type": "product.pin", "sku": sku}, Invalid).field == "sku"


def test_pin_the_pinned_sku_is_a_conflict() -> None:
    state = live_show({"type": "product.pin", "sku": "B2"})
    refused(state, {"type": "product.pin", "sku": "B2"}, Conflict)


def test_unpin_with_nothing_pinned_is_a_conflict() -> None:
    refused(live_show(), {"type": "product.unpin"}, Conflict)


# -- end -----------------------------------------------------------------------


def test_end_closes_the_segment_on_air() -> None:
    state = live_show({"type": "segment.next"})  # segment 1 on air since T0 + 1 s
    state, events = apply(state, {"type": "show.end"}, T0 + 61_000)
    assert events == [{"type": "show.ended", "from": 1, "at": T0 + 61_000, "seq": state.seq}]
    assert (state.status, state.ended_at, state.current) == ("ended", T0 + 61_000, None)
    seg = state.segments[1]
    assert (seg.on_air_since, seg.ended_at, seg.aired_ms) == (None, T0 + 61_000, 60_000)
    assert all(s.on_air_since is None for s in state.segments)


def test_end_before_start_is_a_conflict() -> None:
    state, _ = new_show()
    refused(state, {"type": "show.end"}, Conflict)


@pytest.mark.parametrize(
    "cmd",
    [
        {"type": "show.start"},
        {"type": "show.end"},
        {"type": "segment.next"},
        {"type": "segment.previous"},
        {"type": "segment.goto", "index": 0},
        {"type": "segment.extend", "seconds": 60},
        {"type": "product.pin", "sku": "C3"},
        {"type": "product.unpin"},
        {"type": "products.replace", "products": PRODUCTS},
        {"type": "rundown.replace", "segments": []},
        {"type": "flash_sale.open", "sku": "A1", "stock": 5, "duration_seconds": 60},
        {"type": "draw.open", "prize": "Bag", "_seed": "00" * 32},
        {"type": "likes.goal", "target": 100},
        {"type": "platform.interactions", "events": [], "_platform_viewers": {}},
        {"type": "overlay.test", "layer": "sale"},
    ],
)
def test_every_command_after_the_end_is_a_conflict(cmd: dict[str, Any]) -> None:
    state = live_show({"type": "segment.next"}, {"type": "show.end"})
    assert state.pinned_sku == "A1"  # so that product.unpin has something to refuse
    refused(state, cmd, Conflict)


def test_every_command_is_covered_after_the_end() -> None:
    # The table above must grow with the vocabulary.
    covered = {
        "show.start",
        "show.end",
        "segment.next",
        "segment.previous",
        "segment.goto",
        "segment.extend",
        "product.pin",
        "product.unpin",
        "products.replace",
        "rundown.replace",
        "flash_sale.open",
        "draw.open",
        "likes.goal",
        "platform.interactions",
        "overlay.test",
        # these act on a sale, draw, comment or viewer that must exist: after the
        # end they still may (close a sale, draw, moderate); tests/live/core/test_audience.py
        "flash_sale.close",
        # restocked or extended only while live (tests/live/core/test_sale_controls.py)
        "flash_sale.restock",
        "flash_sale.extend",
        "draw.close",
        "draw.reroll",
        "comment.pin",
        "comment.delete",
        "viewer.mute",
        # late orders arrive after the show: an import is accepted then (tests/live/core/test_orders.py)
        "orders.import",
    }
    assert covered == set(COMMANDS) | set(SETUP_COMMANDS)


# -- products.replace ----------------------------------------------------------


def test_products_replace_swaps_the_list() -> None:
    state, _ = new_show()
    new = [*PRODUCTS[:2], {"sku": "D4", "title": "Tray", "list_price": "15"}]
    state, events = run(state, {"type": "products.replace", "products": new})
    assert types(events) == ["products.replaced"]
    assert [p.sku for p in state.products] == ["A1", "B2", "D4"]


def test_products_replace_that_drops_a_sku_the_rundown_uses_is_invalid() -> None:
    state, _ = new_show()
    err = refused(state, {"type": "products.replace", "products": [PRODUCTS[0], PRODUCTS[2]]}, Invalid)
    assert err.field == "products" and "B2" in err.message


def test_products_replace_that_drops_a_pin_action_sku_is_invalid() -> None:
    segs = [{"title": "Chat", "planned_seconds": 60, "actions": [{"type": "product.pin", "sku": "C3"}]}]
    state, _ = new_show(segments=segs)
    assert refused(state, {"type": "products.replace", "products": PRODUCTS[:2]}, Invalid).field == "products"


def test_products_replace_that_drops_the_pinned_sku_is_invalid() -> None:
    state, _ = new_show(segments=[])
    state, _ = run(state, {"type": "product.pin", "sku": "C3"})
    assert refused(state, {"type": "products.replace", "products": PRODUCTS[:2]}, Invalid).field == "products"


def test_products_replace_with_a_bad_product_names_its_field() -> None:
    state, _ = new_show()
    bad = [*PRODUCTS, {"sku": "D4", "title": "Tray", "list_price": "1.234"}]
    assert refused(state, {"type": "products.replace", "products": bad}, Invalid).field == "products[3].list_price"


# -- rundown.replace -----------------------------------------------------------

NEW_TAIL = [
    {"title": "Pot", "sku": "C3", "planned_seconds": 300},
    {"kind": "closing", "title": "Thanks", "planned_seconds": 45},
]


def test_rundown_replace_before_start_replaces_everything() -> None:
    state, _ = new_show()
    state, events = run(state, {"type": "rundown.replace", "segments": NEW_TAIL})
    assert events[0]["from_index"] == 0
    assert [s.title for s in state.segments] == ["Pot", "Thanks"]


def test_rundown_replace_while_live_keeps_the_segments_up_to_the_current_one() -> None:
    state = live_show({"type": "segment.next"})
    before = state.segments[:2]
    state, events = run(state, {"type": "rundown.replace", "segments": NEW_TAIL})
    assert events[0]["from_index"] == 2
    assert state.segments[:2] == before  # on-air timing kept, not just the plan
    assert [s.title for s in state.segments] == ["Hello", "Tea", "Pot", "Thanks"]
    assert state.current == 1 and state.segments[1].on_air_since is not None


def test_rundown_replace_while_live_can_drop_everything_after_the_current_one() -> None:
    state, _ = run(live_show(), {"type": "rundown.replace", "segments": []})
    assert [s.title for s in state.segments] == ["Hello"]
    refused(state, {"type": "segment.next"}, Conflict)


def test_rundown_replace_live_with_nothing_on_air_replaces_everything() -> None:
    state, _ = new_show(segments=[])
    state, _ = run(state, {"type": "show.start"}, {"type": "rundown.replace", "segments": SEGMENTS})
    state, events = run(state, {"type": "rundown.replace", "segments": NEW_TAIL})
    assert events[0]["from_index"] == 0
    assert [s.title for s in state.segments] == ["Pot", "Thanks"]


def test_rundown_replace_errors_are_numbered_by_absolute_index() -> None:
    state = live_show({"type": "segment.next"})  # current 1, so new segments start at 2
    bad = [NEW_TAIL[0], {"title": "Ghost", "sku": "ZZ9", "planned_seconds": 60}]
    assert refused(state, {"type": "rundown.replace", "segments": bad}, Invalid).field == "segments[3].sku"
    bad = [{"title": "Too long", "planned_seconds": 5 * 3600}]
    assert refused(state, {"type": "rundown.replace", "segments": bad}, Invalid).field == "segments[2].planned_seconds"


def test_rundown_replace_cannot_exceed_the_segment_limit_counting_kept_ones() -> None:
    state = live_show({"type": "segment.next"})  # 2 kept
    too_many = [{"title": "x", "planned_seconds": 60}] * (MAX_SEGMENTS - 1)
    assert refused(state, {"type": "rundown.replace", "segments": too_many}, Invalid).field == "segments"
    state, _ = run(state, {"type": "rundown.replace", "segments": too_many[:-1]})
    assert len(state.segments) == MAX_SEGMENTS


@pytest.mark.parametrize("segments", [None, {"title": "x"}, "x"])
def test_rundown_replace_needs_a_list(segments: Any) -> None:
    state, _ = new_show()
    assert refused(state, {"type": "rundown.replace", "segments": segments}, Invalid).field == "segments"
