"""Rundown timing at a given server ``now``: time left, over-run, air time across
airings, the show's drift and the planned-vs-actual view."""

from __future__ import annotations

from typing import Any

import pytest

from live.core.commands import apply, create
from live.core.show import ShowState, parse_show_config
from live.core.timing import aired_ms, deadline, drift_seconds, rundown_view, time_left_ms

T0 = 1_700_000_000_000
S = 1000  # ms

PRODUCTS = [{"sku": "A1", "title": "Tea", "list_price": "99.00", "live_price": "59.00", "stock": 10}]
# planned: 60 s, 120 s, 90 s, 30 s → 300 s
SEGMENTS = [
    {"kind": "warmup", "title": "Hello", "planned_seconds": 60, "talking_points": ["Welcome"]},
    {"title": "Tea", "sku": "A1", "planned_seconds": 120},
    {"kind": "interaction", "title": "Q&A", "planned_seconds": 90},
    {"kind": "closing", "title": "Bye", "planned_seconds": 30},
]


def show(*steps: tuple[int, dict[str, Any]], segments: Any = None) -> ShowState:
    """A show created at T0, then each ``(seconds after T0, command)`` applied."""
    state, _ = create("s", parse_show_config({"title": "t"}), PRODUCTS, SEGMENTS if segments is None else segments, T0)
    for at, cmd in steps:
        state, _ = apply(state, cmd, T0 + at * S)
    return state


START = (0, {"type": "show.start"})


def nxt(at: int) -> tuple[int, dict[str, Any]]:
    return (at, {"type": "segment.next"})


# -- time left -----------------------------------------------------------------


def test_no_time_left_before_start() -> None:
    state = show()
    assert time_left_ms(state, T0) is None
    view = rundown_view(state, T0, staff=True)
    assert (view["current"], view["time_left_seconds"], view["overrun"], view["drift_seconds"]) == (
        None,
        None,
        False,
        0,
    )


@pytest.mark.parametrize(("now", "left"), [(0, 60), (1, 59), (45, 15), (60, 0), (61, -1), (75, -15), (600, -540)])
def test_time_left_counts_down_from_server_now_and_goes_negative(now: int, left: int) -> None:
    state = show(START)
    assert time_left_ms(state, T0 + now * S) == left * S
    view = rundown_view(state, T0 + now * S, staff=False)
    assert view["time_left_seconds"] == left
    assert view["overrun"] is (left < 0)


@pytest.mark.parametrize("ms", [59_999, 500, 1, 0, -1, -500, -999, -1000, -1001])
def test_time_left_seconds_is_negative_exactly_when_over_running(ms: int) -> None:
    state = show(START)
    view = rundown_view(state, T0 + 60 * S - ms, staff=False)
    assert view["overrun"] is (ms < 0)
    assert (view["time_left_seconds"] < 0) is view["overrun"]
    assert view["time_left_seconds"] * S <= ms < (view["time_left_seconds"] + 1) * S


def test_time_left_follows_the_segment_on_air() -> None:
    state = show(START, nxt(50))  # segment 1 (120 s) from 50 s
    assert time_left_ms(state, T0 + 50 * S) == 120 * S
    assert time_left_ms(state, T0 + 200 * S) == -30 * S


@pytest.mark.parametrize(("seconds", "deadline_at"), [(30, 90), (-30, 30), (600, 660), (-60, 0)])
def test_extend_moves_the_deadline(seconds: int, deadline_at: int) -> None:
    state = show(START, (10, {"type": "segment.extend", "seconds": seconds}))
    assert deadline(state.segments[0]) == T0 + deadline_at * S
    assert time_left_ms(state, T0 + 10 * S) == (deadline_at - 10) * S


def test_extending_an_upcoming_segment_counts_when_it_airs() -> None:
    state = show(START, (5, {"type": "segment.extend", "seconds": 60, "index": 1}), nxt(60))
    assert time_left_ms(state, T0 + 60 * S) == 180 * S
    assert deadline(state.segments[0]) is None  # off the air


def test_no_time_left_after_the_end() -> None:
    state = show(START, (30, {"type": "show.end"}))
    assert time_left_ms(state, T0 + 40 * S) is None
    assert rundown_view(state, T0 + 40 * S, staff=False)["overrun"] is False


# -- air time across airings ---------------------------------------------------


def test_going_back_accumulates_air_time_across_airings() -> None:
    # Segment 0: 0–60 s, segment 1: 60–90 s, back to segment 0 at 90 s.
    state = show(START, nxt(60), (90, {"type": "segment.previous"}))
    first = state.segments[0]
    assert first.started_at == T0  # first airing is kept
    assert first.aired_ms == 60 * S
    assert aired_ms(first, T0 + 100 * S) == 70 * S
    assert aired_ms(state.segments[1], T0 + 100 * S) == 30 * S
    assert state.segments[1].ended_at == T0 + 90 * S
    # Its 60 s plan is used up: it over-runs at once.
    assert time_left_ms(state, T0 + 100 * S) == -10 * S
    seg0 = rundown_view(state, T0 + 100 * S, staff=False)["segments"][0]
    assert (seg0["actual_seconds"], seg0["ended_at"], seg0["on_air_since"]) == (70, None, T0 + 90 * S)


def test_leaving_again_records_the_last_departure() -> None:
    state = show(START, nxt(60), (90, {"type": "segment.previous"}), nxt(100))
    seg0 = state.segments[0]
    assert (seg0.started_at, seg0.ended_at, seg0.aired_ms, seg0.on_air_since) == (T0, T0 + 100 * S, 70 * S, None)
    # Segment 1 resumes with its earlier 30 s counted against its plan.
    assert time_left_ms(state, T0 + 100 * S) == 90 * S


def test_zero_time_switches_do_not_go_negative() -> None:
    state = show(START, nxt(0), nxt(0))
    assert [s.aired_ms for s in state.segments[:2]] == [0, 0]
    assert state.current == 2


# -- drift ---------------------------------------------------------------------


def test_drift_is_zero_before_start() -> None:
    assert drift_seconds(show(), T0 + 999 * S) == 0


@pytest.mark.parametrize("now", [0, 30, 60])
def test_drift_is_zero_while_on_plan(now: int) -> None:
    assert drift_seconds(show(START), T0 + now * S) == 0


@pytest.mark.parametrize("over", [1, 10, 100, 3600])
def test_over_running_grows_drift_by_the_second(over: int) -> None:
    state = show(START)
    assert drift_seconds(state, T0 + (60 + over) * S) == over


def test_drift_carries_over_into_the_next_segment() -> None:
    state = show(START, nxt(80))  # 20 s late
    assert drift_seconds(state, T0 + 80 * S) == 20
    assert drift_seconds(state, T0 + 200 * S) == 20  # segment 1 still within its plan
    assert drift_seconds(state, T0 + 210 * S) == 30  # and now over-running too


def test_finishing_early_makes_drift_negative() -> None:
    state = show(START, nxt(40))  # 20 s early
    assert drift_seconds(state, T0 + 40 * S) == -20
    assert drift_seconds(state, T0 + 100 * S) == -20


def test_extension_does_not_hide_drift() -> None:
    state = show(START, (10, {"type": "segment.extend", "seconds": 60}))
    assert time_left_ms(state, T0 + 90 * S) == 30 * S  # not over-running its extended time
    assert drift_seconds(state, T0 + 90 * S) == 30  # but 30 s behind the plan


def test_going_back_counts_earlier_air_time_of_the_segment() -> None:
    # 0–60 s segment 0, 60–90 s segment 1, back to 0 at 90 s: its plan is spent,
    # so the show is 30 s behind (the 30 s of segment 1 must be aired again)
    # and falls further behind by the second.
    state = show(START, nxt(60), (90, {"type": "segment.previous"}))
    assert drift_seconds(state, T0 + 90 * S) == 30
    assert drift_seconds(state, T0 + 100 * S) == 40
    # Returning to segment 1 at 100 s: 30 s of it aired, 90 s left of its plan.
    state, _ = apply(state, {"type": "segment.next"}, T0 + 100 * S)
    assert drift_seconds(state, T0 + 100 * S) == 10


def test_skipping_ahead_makes_drift_negative() -> None:
    state = show(START, (10, {"type": "segment.goto", "index": 2}))
    # Planned start of segment 2 is 180 s; it went on air at 10 s.
    assert drift_seconds(state, T0 + 10 * S) == -170


@pytest.mark.parametrize(
    ("steps", "drift"),
    [
        ([START, nxt(60), nxt(180), nxt(270), (300, {"type": "show.end"})], 0),  # exactly on plan
        ([START, nxt(60), nxt(180), nxt(270), (330, {"type": "show.end"})], 30),  # closing over-ran
        ([START, nxt(70), nxt(190), nxt(280), (310, {"type": "show.end"})], 10),  # late all along
        ([START, nxt(60), (100, {"type": "show.end"})], -80),  # cut segment 1 short: 100 s vs 180 s
        ([START, (30, {"type": "show.end"})], -30),
    ],
)
def test_ended_show_drift_is_frozen(steps: list[tuple[int, dict[str, Any]]], drift: int) -> None:
    state = show(*steps)
    assert drift_seconds(state, state.ended_at or 0) == drift
    assert drift_seconds(state, T0 + 10**6 * S) == drift


def test_ended_drift_uses_the_last_segment_on_air_even_after_going_back() -> None:
    # 0–60 s seg 0, 60–180 s seg 1, 180–200 s seg 2, back to seg 1 and end at 210 s.
    state = show(START, nxt(60), nxt(180), (200, {"type": "segment.previous"}), (210, {"type": "show.end"}))
    assert drift_seconds(state, T0 + 999 * S) == 210 - 180
    # The live value just before the end agreed.
    before = show(START, nxt(60), nxt(180), (200, {"type": "segment.previous"}))
    assert drift_seconds(before, T0 + 210 * S) == 30


def test_live_show_with_no_segments_drifts_by_elapsed_time() -> None:
    state = show(START, segments=[])
    assert drift_seconds(state, T0 + 42 * S) == 42


# -- rundown_view ----------------------------------------------------------------


def test_rundown_view_planned_vs_actual() -> None:
    state = show(START, nxt(75), (80, {"type": "segment.extend", "seconds": 30}))
    view = rundown_view(state, T0 + 100 * S, staff=True)
    assert view["current"] == 1
    assert view["planned_total_seconds"] == 300
    assert view["drift_seconds"] == drift_seconds(state, T0 + 100 * S) == 15
    assert view["time_left_seconds"] == 125  # 120 + 30 planned, 25 s in
    assert view["overrun"] is False
    rows = view["segments"]
    assert [r["index"] for r in rows] == [0, 1, 2, 3]
    assert [r["planned_seconds"] for r in rows] == [60, 120, 90, 30]
    assert [r["actual_seconds"] for r in rows] == [75, 25, None, None]
    assert [r["extended_seconds"] for r in rows] == [0, 30, 0, 0]
    assert rows[0]["started_at"] == T0 and rows[0]["ended_at"] == T0 + 75 * S
    assert rows[1]["deadline"] == T0 + (75 + 150) * S
    assert rows[2]["started_at"] is None and rows[2]["deadline"] is None
    assert rows[1]["sku"] == "A1" and rows[1]["kind"] == "product" and rows[1]["title"] == "Tea"


def test_rundown_view_shows_talking_points_and_actions_to_staff_only() -> None:
    state = show(START)
    staff = rundown_view(state, T0, staff=True)["segments"]
    public = rundown_view(state, T0, staff=False)["segments"]
    assert staff[0]["talking_points"] == ["Welcome"]
    assert staff[1]["actions"] == [{"type": "product.pin", "sku": "A1"}]
    assert all("talking_points" not in r and "actions" not in r for r in public)


def test_rundown_view_after_the_end() -> None:
    state = show(START, nxt(60), (200, {"type": "show.end"}))
    view = rundown_view(state, T0 + 999 * S, staff=False)
    assert view["current"] is None
    assert [r["actual_seconds"] for r in view["segments"]] == [60, 140, None, None]
    assert view["drift_seconds"] == 200 - 180
