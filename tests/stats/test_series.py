"""The minute series, rule by rule (docs/stats.md), on journals built by hand;
then against a slow, obviously-correct reference on random journals."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest

from stats.series import NotStarted, minute_series, per_minute
from stats.tally import NO_SKU, Tally
from tests.stats.journal import MIN, T0, claim, click, e, join, journal, leave, likes, order, returned


def col(events: list[dict[str, Any]], field: str, now: int | None = None) -> list[Any]:
    return [row[field] for row in minute_series(events, now).rows()]


# -- the minutes -------------------------------------------------------------------------


@pytest.mark.parametrize(("end_ms", "minutes"), [
    (839_000, 14),  # 13:59 → minutes 0–13
    (840_000, 15),  # exactly 14:00 → minute 14 holds only the end
    (59_999, 1),
    (0, 1),  # ended at its start: one minute
])
def test_the_series_runs_from_minute_0_to_the_minute_holding_the_end(end_ms: int, minutes: int) -> None:
    rows = minute_series(journal(end=end_ms)).rows()
    assert [r["minute"] for r in rows] == list(range(minutes))
    assert [r["at"] for r in rows] == [T0 + MIN * m for m in range(minutes)]


def test_a_live_show_runs_to_now() -> None:
    assert len(minute_series(journal(), now=T0 + 125_000)) == 3


def test_an_ended_show_runs_to_its_end_whatever_now_is() -> None:
    assert len(minute_series(journal(end=100_000), now=T0 + 10 * MIN)) == 2


def test_a_show_that_has_not_started_has_no_series() -> None:
    with pytest.raises(NotStarted):
        minute_series(journal()[:1], now=T0)


# -- visits ------------------------------------------------------------------------------


def test_a_leave_exactly_at_a_minutes_end_no_longer_counts_there() -> None:
    events = journal(join(10_000, "a"), leave(2 * MIN, "a"), end=5 * MIN)
    assert col(events, "concurrent") == [1, 0, 0, 0, 0, 0]
    assert col(events, "peak") == [1, 1, 0, 0, 0, 0]
    assert col(events, "leaves") == [0, 0, 1, 0, 0, 0]  # 2:00 is minute 2's first instant


def test_a_join_exactly_at_a_minutes_end_counts_there() -> None:
    events = journal(join(MIN, "a"), end=3 * MIN - 1)
    assert col(events, "concurrent") == [1, 1, 1]
    # 1:00 is minute 1's first instant, so minute 0's peak (its own instants) does not see it
    assert col(events, "peak") == [0, 1, 1]
    assert col(events, "joins") == [0, 1, 0]


def test_joins_in_the_warm_up_count_as_joins_at_the_start() -> None:
    events = journal(join(-600_000, "a"), join(-1, "b"), end=90_000)
    assert col(events, "joins") == [2, 0]
    assert col(events, "concurrent") == [2, 2]


def test_a_visit_that_ended_in_the_warm_up_is_no_visit() -> None:
    events = journal(join(-600_000, "a"), leave(-300_000, "a"), join(-200_000, "b"), leave(0, "b"), end=90_000)
    assert col(events, "joins") == [0, 0]
    assert col(events, "leaves") == [0, 0]
    assert col(events, "peak") == [0, 0]


def test_a_visit_open_at_the_end_closes_there_and_is_not_a_leave() -> None:
    events = journal(join(10_000, "a"), join(20_000, "b"), leave(90_000, "b"), end=100_000)
    assert col(events, "leaves") == [0, 1]
    assert col(events, "concurrent") == [2, 1]  # the last minute: those still watching at the end


def test_a_leave_after_the_end_is_not_a_leave() -> None:
    events = journal(join(10_000, "a"), end=100_000)
    events.append({**leave(130_000, "a"), "seq": len(events) + 1})
    assert col(events, "leaves") == [0, 0]
    assert col(events, "concurrent") == [1, 1]


def test_a_leave_exactly_at_the_end_is_a_leave() -> None:
    events = journal(join(10_000, "a"), leave(100_000, "a", journaled_after=0), end=100_000)
    assert col(events, "leaves") == [0, 1]
    assert col(events, "concurrent") == [1, 0]


def test_a_leave_counts_at_its_own_time_not_when_it_was_journaled() -> None:
    # the socket dropped at 0:50, the grace period ran out at 1:05
    events = journal(join(0, "a"), leave(50_000, "a", journaled_after=15_000), end=3 * MIN)
    assert col(events, "leaves") == [1, 0, 0, 0]
    assert col(events, "concurrent") == [0, 0, 0, 0]


def test_the_peak_sees_a_visit_within_a_minute() -> None:
    events = journal(join(70_000, "a"), leave(80_000, "a"), join(75_000, "b"), leave(85_000, "b"), end=3 * MIN)
    assert col(events, "concurrent") == [0, 0, 0, 0]
    assert col(events, "peak") == [0, 2, 0, 0]


def test_a_leave_and_a_join_at_one_instant_do_not_overlap() -> None:
    events = journal(join(0, "a"), leave(30_000, "a"), join(30_000, "b"), end=MIN)
    assert col(events, "peak") == [1, 1]


def test_a_join_of_a_present_viewer_and_a_leave_of_an_absent_one_change_nothing() -> None:
    events = journal(join(0, "a"), join(30_000, "a"), leave(70_000, "a"), leave(80_000, "a"), end=3 * MIN)
    assert col(events, "joins") == [1, 0, 0, 0]
    assert col(events, "leaves") == [0, 1, 0, 0]


def test_a_viewer_who_comes_back_has_two_visits() -> None:
    events = journal(join(0, "a"), leave(30_000, "a"), join(90_000, "a"), end=3 * MIN)
    assert col(events, "joins") == [1, 1, 0, 0]
    assert col(events, "concurrent") == [0, 1, 1, 1]


def test_staff_viewers_are_not_audience() -> None:
    events = journal(join(0, "boss"), join(0, "a"), likes(1000, boss=5, a=2),
                     e("comment.new", 2000, viewer_id="boss"), e("viewer.shared", 3000, viewer_id="boss"),
                     click(4000, "boss"), claim(5000, "boss", 1, "9.90", "o1"), leave(30_000, "boss"),
                     end=MIN - 1, staff=("boss",))
    rows = minute_series(events).rows()
    assert [(r["joins"], r["leaves"], r["concurrent"], r["peak"], r["likes"], r["comments"], r["shares"],
             r["clicks"], r["orders"]) for r in rows] == [(1, 0, 1, 1, 2, 0, 0, 0, 0)]


# -- counts at their own time ---------------------------------------------------------------


def test_likes_comments_shares_and_clicks_count_in_their_minute() -> None:
    events = journal(likes(1000, a=3, b=4), likes(61_000, a=1), e("comment.new", 59_999, viewer_id="a"),
                     e("comment.new", 60_000, viewer_id="b"), e("viewer.shared", 120_000, viewer_id="a"),
                     click(30_000), click(30_001, "a"), end=150_000)
    assert col(events, "likes") == [7, 1, 0]
    assert col(events, "comments") == [1, 1, 0]
    assert col(events, "shares") == [0, 0, 1]
    assert col(events, "clicks") == [2, 0, 0]


def test_orders_count_at_their_own_time_and_money_is_exact() -> None:
    events = journal(claim(10_000, "a", 3, "0.10", "o1"),  # 0.30, never 0.30000000000000004
                     order(200_000, "o2", "123.45", qty=2, placed=70_000),  # journaled later, placed in minute 1
                     order(80_000, "o3", "0.01", placed=-50_000),  # placed in the warm-up: minute 0
                     end=150_000)
    assert col(events, "orders") == [2, 1, 0]
    assert col(events, "units") == [4, 2, 0]
    assert col(events, "gmv") == ["0.31", "123.45", "0.00"]


def test_an_order_placed_after_the_end_is_in_no_minute() -> None:
    events = journal(order(10_000, "o1", "5.00"), end=MIN - 1)
    events.append({**order(90_000, "o2", "7.00"), "seq": len(events) + 1})
    assert col(events, "orders") == [1]


def test_an_order_counts_once_and_returns_are_not_in_the_series() -> None:
    events = journal(order(10_000, "o1", "5.00"), order(20_000, "o1", "5.00"), returned(30_000, "o1", 1),
                     end=MIN - 1)
    assert col(events, "orders") == [1]
    assert col(events, "gmv") == ["5.00"]


def test_gmv_has_the_currencys_places() -> None:
    assert col(journal(order(0, "o1", "1200"), end=1000, currency="JPY"), "gmv") == ["1200"]


# -- the segment on air ---------------------------------------------------------------------


def test_the_segment_is_the_one_on_air_at_the_minutes_end() -> None:
    events = journal(e("segment.changed", 30_000, to=1), e("segment.changed", 2 * MIN, to=2),
                     e("segment.changed", 3 * MIN - 1, to=3), e("segment.changed", 3 * MIN + 1, to=4),
                     end=4 * MIN + 10_000)
    # minute 1 ends at 2:00 exactly, when segment 2 went on air; 3:00 is between two changes
    assert col(events, "segment") == [1, 2, 3, 4, 4]


def test_no_segment_before_the_first_and_the_last_minute_keeps_the_last_one() -> None:
    events = [x for x in journal(end=MIN + 5) if x["type"] != "segment.changed"]
    assert col(events, "segment") == [None, None]
    events = journal(e("segment.changed", 70_000, to=2), end=110_000)
    assert col(events, "segment") == [0, 2]  # the show ended on segment 2


@pytest.mark.parametrize("seed", range(20))
def test_counting_ascending_times_by_binary_search_equals_counting_each(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randrange(1, 12)
    end = T0 + (n - 1) * MIN + rng.randrange(MIN)
    times = np.sort(np.array([T0 + rng.randrange(-2 * MIN, (n + 1) * MIN, 5000) for _ in range(100)], np.int64))
    weights = np.array([rng.randrange(0, 10**6) for _ in range(100)], np.int64)
    for w in (None, weights):
        assert per_minute(times, T0, end, n, w, ascending=True).tolist() == per_minute(times, T0, end, n, w).tolist()


def test_events_out_of_time_order_count_in_their_own_minutes() -> None:
    events = journal(end=150_000)
    late = [e("comment.new", 70_000, viewer_id="a"), e("comment.new", 10_000, viewer_id="b"),
            e("viewer.shared", 130_000, viewer_id="a"), e("viewer.shared", 5_000, viewer_id="a")]
    events = [*events[:-1], *late, events[-1]]
    events = [{**x, "seq": i + 1} for i, x in enumerate(events)]
    tally = Tally().add(events)
    assert not tally.comment_at.ascending
    assert col(events, "comments") == [1, 1, 0]
    assert col(events, "shares") == [1, 0, 1]


# -- the tally ------------------------------------------------------------------------------


def busy_journal() -> list[dict[str, Any]]:
    return journal(join(-5000, "a"), join(1000, "b"), likes(2000, a=1, b=2), leave(65_000, "a"),
                   claim(70_000, "b", 1, "9.90", "o1"), join(100_000, "a"), e("comment.new", 110_000, viewer_id="a"),
                   end=200_000, viewers=("a", "b"))


def test_a_tally_fed_in_parts_or_twice_is_the_tally_of_the_whole() -> None:
    events = busy_journal()
    whole = minute_series(events).rows()
    tally = Tally()
    for i in range(0, len(events), 3):
        tally.add(events[i:i + 3])
    tally.add(events)  # again: nothing counts twice
    assert minute_series(tally).rows() == whole


def test_reading_a_tally_between_additions_changes_nothing() -> None:
    events = busy_journal()
    tally = Tally()
    for i in range(len(events)):
        tally.add(events[i:i + 1])
        if tally.start is not None:
            minute_series(tally, now=events[i]["at"])
    assert minute_series(tally).rows() == minute_series(events).rows()


def test_a_malformed_event_breaks_the_tally_loudly() -> None:
    tally = Tally()
    with pytest.raises(KeyError):
        tally.add(journal({"type": "comment.new", "at": T0 + 5}))
    assert tally.broken
    with pytest.raises(ValueError, match="rebuild"):
        tally.add([])


# -- against a reference --------------------------------------------------------------------


def reference(events: list[dict[str, Any]]) -> dict[str, list[int]]:
    """The definitions, one instant and one visit at a time."""
    start = next(x["at"] for x in events if x["type"] == "show.started")
    end = next(x["at"] for x in events if x["type"] == "show.ended")
    open_: dict[str, int] = {}
    visits: list[tuple[int, int, bool]] = []  # clipped (join, until, a real leave)
    for x in events:
        if x["type"] == "viewer.joined" and x["viewer_id"] not in open_:
            open_[x["viewer_id"]] = x["at"]
        elif x["type"] == "viewer.left" and x["viewer_id"] in open_:
            joined, gone = open_.pop(x["viewer_id"]), x["left_at"]
            visits.append((max(joined, start), min(gone, end), gone <= end))
    visits += [(max(j, start), end, False) for j in open_.values()]
    visits = [(a, b, left) for a, b, left in visits if (a < b if left else a <= end)]

    def present(t: int) -> int:
        return sum(1 for a, b, left in visits if a <= t and (not left or t < b))

    n = (end - start) // MIN + 1
    out: dict[str, list[int]] = {"concurrent": [], "peak": [], "joins": [], "leaves": []}
    for m in range(n):
        lo, hi = start + m * MIN, min(start + (m + 1) * MIN, end)
        instants = {lo} | {t for a, b, left in visits for t in (a, b) if lo <= t < lo + MIN and t <= end}
        out["concurrent"].append(present(hi))
        out["peak"].append(max(present(t) for t in instants))
        out["joins"].append(sum(1 for a, _, _ in visits if (a - start) // MIN == m))
        out["leaves"].append(sum(1 for _, b, left in visits if left and (b - start) // MIN == m))
    return out


@pytest.mark.parametrize("seed", range(30))
def test_the_series_matches_the_definitions_on_random_journals(seed: int) -> None:
    rng = random.Random(seed)
    grid = 5_000  # coarse times: joins and leaves often meet each other and the minutes' ends
    end = rng.randrange(1, 40) * grid
    events = []
    for v in range(rng.randrange(0, 25)):
        t = rng.randrange(-8, 40) * grid
        for _ in range(rng.randrange(1, 4)):
            events.append(join(t, f"v{v}"))
            t += rng.randrange(0, 12) * grid
            events.append(leave(t, f"v{v}", journaled_after=rng.choice([0, 15_000])))
            t += rng.randrange(0, 6) * grid
    built = journal(*events, end=end)  # events after the end come before show.ended: harmless
    got = minute_series(built)
    want = reference(built)
    assert {k: getattr(got, k).tolist() for k in want} == want


def test_platform_events_count_in_the_minute_of_their_own_time() -> None:
    # A connector's batch journaled at 2:30 carries what happened at 0:40 and 1:10.
    batch = T0 + 2 * MIN + 30_000
    events = journal(
        e("viewer.registered", batch, viewer_id="p1", nickname="观众", pseudonym="aa", staff=False, platform=True),
        e("viewer.joined", batch, viewer_id="p1", joined_at=T0 + 40_000),
        e("likes.tick", batch, added=5, total=5, _by={"p1": 5}, liked_at=T0 + 70_000),
        e("comment.new", batch, viewer_id="p1", comment_id="c9", text="好", commented_at=T0 + 70_000),
        e("viewer.shared", batch, viewer_id="p1", shared_at=T0 + 40_000),
        end=3 * MIN - 1_000,
    )
    assert col(events, "joins") == [1, 0, 0]
    assert col(events, "concurrent") == [1, 1, 1]
    assert col(events, "likes") == [0, 5, 0]
    assert col(events, "comments") == [0, 1, 0]
    assert col(events, "shares") == [1, 0, 0]


def test_each_counted_order_and_click_keeps_its_sku() -> None:
    events = journal(
        order(10_000, "o1", "10.00"), {**order(20_000, "o2", "20.00"), "sku": "B2"},
        claim(30_000, "a", 1, "5.00", "c1"),
        {**order(40_000, "o3", "1.00", viewer="boss"), "sku": "B2"}, click(50_000), {**click(60_000), "sku": "B2"},
        {**click(61_000, "boss"), "sku": "B2"}, e("link.clicked", 62_000, sku=None, viewer_id=None),
        end=600_000, viewers=("a",), staff=("boss",))
    tally = Tally().add(events)
    skus = {i: sku for sku, i in tally.skus.items()} | {NO_SKU: None}
    assert [skus[i] for i in tally.order_sku.array().tolist()] == ["A1", "B2", "A1"]  # the staff order left out
    assert [skus[i] for i in tally.click_sku.array().tolist()] == ["A1", "B2", None]
