"""The review's metrics (docs/stats.md) on journals built by hand."""

from __future__ import annotations

from typing import Any

import pytest

from stats.metrics import metrics
from stats.series import minute_series
from tests.stats.journal import MIN, T0, claim, click, e, join, journal, leave, likes, order, returned


def m(*events: dict[str, Any], end: int = 10 * MIN, **kw: Any) -> dict[str, Any]:
    return metrics(journal(*events, end=end, **kw))


def visit(viewer: str, t: int, seconds: int) -> list[dict[str, Any]]:
    return [join(t, viewer), leave(t + seconds * 1000, viewer)]


def test_an_empty_show_has_zeros_and_null_ratios() -> None:
    got = m()
    assert got["unique_viewers"] == 0 and got["peak_concurrent"] == 0
    assert got["avg_dwell_seconds"] is None and got["median_dwell_seconds"] is None
    assert got["orders"] == 0 and got["units"] == 0 and got["gmv"] == "0.00" and got["buyers"] == 0
    for ratio in ("interaction_rate", "conversion_rate", "gmv_per_buyer", "avg_order_value", "return_rate"):
        assert got[ratio] is None, ratio


def test_dwell_median_of_an_odd_count_is_the_middle_one() -> None:
    got = m(*visit("a", 0, 10), *visit("b", 0, 30), *visit("c", 0, 200))
    assert got["median_dwell_seconds"] == 30.0
    assert got["avg_dwell_seconds"] == 80.0


def test_dwell_median_of_an_even_count_is_the_mean_of_the_middle_two() -> None:
    got = m(*visit("a", 0, 10), *visit("b", 0, 31), *visit("c", 0, 40), *visit("d", 0, 500))
    assert got["median_dwell_seconds"] == 35.5


def test_watch_time_is_the_sum_of_a_viewers_clipped_visits() -> None:
    # a: 60 s in the warm-up (not counted) + 30 s of the show, then 20 s; b: open at the end (10 min - 9 min)
    got = m(join(-60_000, "a"), leave(30_000, "a"), *visit("a", 100_000, 20), join(9 * MIN, "b"))
    assert got["unique_viewers"] == 2
    assert got["median_dwell_seconds"] == 55.0  # (50 + 60) / 2
    assert got["peak_concurrent"] == 1


def test_a_visit_entirely_in_the_warm_up_makes_no_viewer() -> None:
    assert m(*visit("a", -120_000, 30))["unique_viewers"] == 0


def test_peak_concurrent_is_the_most_present_at_any_instant() -> None:
    assert m(*visit("a", 70_000, 10), *visit("b", 75_000, 10), *visit("c", 200_000, 5))["peak_concurrent"] == 2


def test_interaction_rate_counts_likers_commenters_sharers_and_claimers_once() -> None:
    viewers = [x for v in "abcdef" for x in visit(v, 0, 60)]
    got = m(*viewers, likes(1000, a=2), likes(2000, a=1, b=1), e("comment.new", 3000, viewer_id="c"),
            e("viewer.shared", 4000, viewer_id="d"), claim(5000, "a", 1, "1.00", "o1"), click(6000, "f"))
    assert got["interaction_rate"] == 4 / 6  # a, b, c, d; a click is no interaction


def test_totals_of_likes_comments_shares_and_clicks() -> None:
    got = m(likes(0, a=2, b=5), likes(70_000, a=1), e("comment.new", 1, viewer_id="a"),
            e("viewer.shared", 2, viewer_id="a"), e("viewer.shared", 3, viewer_id="a"), click(5), click(6, "a"))
    assert (got["likes"], got["comments"], got["shares"], got["clicks"]) == (8, 1, 2, 2)


def test_money_is_exact_and_divided_with_the_currencys_places() -> None:
    viewers = [x for v in "abc" for x in visit(v, 0, 60)]
    got = m(*viewers, claim(1000, "a", 3, "0.10", "o1"), order(2000, "o2", "0.35", viewer="b"),
            order(3000, "o3", "0.35", viewer="b"))
    assert got["gmv"] == "1.00"
    assert got["buyers"] == 2
    assert got["gmv_per_buyer"] == "0.50"
    assert got["avg_order_value"] == "0.33"
    assert got["conversion_rate"] == 2 / 3


def test_a_division_rounds_half_up() -> None:
    got = m(order(0, "o1", "0.01"), order(1, "o2", "0.00"), order(2, "o3", "0.00"), order(3, "o4", "0.00"),
            order(4, "o5", "0.01"), order(5, "o6", "0.00"), order(6, "o7", "0.00"), order(7, "o8", "0.00"))
    assert got["avg_order_value"] == "0.00"  # 0.0025 → 0.00
    got = m(order(0, "o1", "0.01"), order(1, "o2", "0.00"))
    assert got["avg_order_value"] == "0.01"  # 0.005 → 0.01


def test_an_order_without_a_viewer_is_a_buyer_of_its_own() -> None:
    got = m(order(0, "o1", "10.00"), order(1, "o2", "10.00"), order(2, "o3", "10.00", viewer="a"),
            order(3, "o4", "10.00", viewer="a"))
    assert got["buyers"] == 3
    assert got["conversion_rate"] is None  # nobody watched
    assert got["gmv_per_buyer"] == "13.33"


def test_return_rate_is_returned_over_ordered_units_and_never_more_than_an_order_had() -> None:
    got = m(order(0, "o1", "10.00", qty=4), order(1, "o2", "10.00", qty=6), returned(MIN, "o1", 1),
            returned(2 * MIN, "o1", 9), returned(3 * MIN, "unknown", 5))
    assert got["units"] == 10 and got["returned_units"] == 4
    assert got["return_rate"] == 0.4
    assert got["gmv"] == "20.00"  # gross of returns


def test_a_return_arriving_days_later_counts() -> None:
    events = journal(order(0, "o1", "10.00", qty=2), end=MIN)
    events.append({**returned(3 * 86_400_000, "o1", 1), "seq": len(events) + 1})
    assert metrics(events)["return_rate"] == 0.5


def test_orders_after_the_end_count_in_the_metrics_not_the_series() -> None:
    events = journal(order(0, "o1", "10.00"), end=MIN)
    events.append({**order(5 * MIN, "o2", "5.00"), "seq": len(events) + 1})
    assert metrics(events)["orders"] == 2
    assert sum(r["orders"] for r in minute_series(events).rows()) == 1


def test_staff_are_not_counted_anywhere() -> None:
    got = m(*visit("boss", 0, 60), *visit("a", 0, 30), likes(1000, boss=3), e("comment.new", 1, viewer_id="boss"),
            claim(2000, "boss", 1, "99.00", "o1"), returned(3000, "o1", 1), staff=("boss",))
    assert (got["unique_viewers"], got["likes"], got["comments"], got["orders"], got["returned_units"]) == (1, 0, 0, 0, 0)
    assert got["interaction_rate"] == 0.0
    assert got["median_dwell_seconds"] == 30.0


@pytest.mark.parametrize("currency", ["CNY", "USD"])
def test_money_strings_have_two_places(currency: str) -> None:
    assert m(order(0, "o1", "7"), currency=currency)["gmv"] == "7.00"


def test_metrics_of_a_live_show_run_to_now() -> None:
    events = journal(join(0, "a"))
    assert metrics(events, now=T0 + 90_000)["avg_dwell_seconds"] == 90.0


def test_every_metric_of_a_small_show_by_hand() -> None:
    """A 10-minute show, each metric worked out by hand (DESIGN.md 6.2, docs/stats.md)."""
    got = m(
        # visits: a twice (0–120 s, 300–360 s), b from the warm-up (counted from the start), c to the end, d briefly
        join(0, "a"), leave(120_000, "a"), join(300_000, "a"), leave(360_000, "a"),
        join(-60_000, "b"), leave(240_000, "b"),
        join(60_000, "c"),
        join(500_000, "d"), leave(530_000, "d"),
        join(0, "boss"), likes(100_000, boss=7),  # staff: never counted
        likes(30_000, a=5), likes(90_000, b=2, c=3),
        e("comment.new", 200_000, viewer_id="c"), e("comment.new", 210_000, viewer_id="c"),
        e("viewer.shared", 100_000, viewer_id="a"),
        click(150_000, "b"), click(160_000),
        claim(220_000, "c", 2, "99.00", "o1"),
        order(510_000, "o2", "45.50", viewer="d"),
        order(550_000, "o3", "10.00", qty=3),
        order(550_000, "o4", "20.00", viewer="c", placed=700_000),  # placed after the end: counts here
        returned(900_000, "o1", 1), returned(900_000, "zz", 1),  # a return of no order of the show: ignored
        staff=("boss",),
    )
    # watch time: a 120 + 60 = 180 s, b 240 s (from the start), c 600 - 60 = 540 s, d 30 s
    assert got["unique_viewers"] == 4
    assert got["visits"] == 5  # a came twice
    assert got["avg_dwell_seconds"] == (180 + 240 + 540 + 30) / 4  # 247.5
    assert got["median_dwell_seconds"] == (180 + 240) / 2  # sorted 30, 180, 240, 540
    assert got["peak_concurrent"] == 3  # a, b and c from 60 s to 120 s
    assert (got["likes"], got["comments"], got["shares"], got["clicks"]) == (5 + 2 + 3, 2, 1, 2)
    assert got["interaction_rate"] == 3 / 4  # a, b, c; d only bought from the shop
    assert got["orders"] == 4
    assert got["units"] == 2 + 1 + 3 + 1
    assert got["gmv"] == "273.50"  # 2 × 99.00 + 45.50 + 10.00 + 20.00
    assert got["buyers"] == 3  # c (twice), d, and the order without a viewer
    assert got["conversion_rate"] == 3 / 4
    assert got["gmv_per_buyer"] == "91.17"  # 273.50 / 3 = 91.1666…
    assert got["avg_order_value"] == "68.38"  # 273.50 / 4 = 68.375, half up
    assert (got["returned_units"], got["return_rate"]) == (1, 1 / 7)
    assert got["gpm"] == "54700.00"  # 273.50 / 5 visits × 1,000
    assert got["uv_value"] == "68.38"  # 273.50 / 4 viewers = 68.375


def test_gpm_and_uv_value_are_null_without_visits() -> None:
    got = m(order(0, "o1", "10.00"))
    assert (got["visits"], got["gpm"], got["uv_value"]) == (0, None, None)
    assert m()["gpm"] is None
