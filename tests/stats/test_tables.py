"""The review's segment and product tables on a small show worked out by hand,
and the cohort counts they are built on against a plain count."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from stats.cohorts import Cohorts
from stats.review import numbers, review
from stats.series import Visits
from stats.tally import Tally
from tests.stats.journal import T0, claim, click, e, join, leave, likes, order, returned
from tests.stats.shows import state_of

SEC = 1000
PRODUCTS = [{"sku": "A1", "title": "Serum", "list_price": "129.00", "live_price": "99.00", "stock": 10},
            {"sku": "B2", "title": "Cream", "list_price": "59.00", "live_price": "45.50", "stock": 10}]
SEGMENTS = [{"kind": "warmup", "title": "Warm-up", "sku": None, "planned_seconds": 60},
            {"kind": "product", "title": "Serum", "sku": "A1", "planned_seconds": 120},
            {"kind": "product", "title": "Cream", "sku": "B2", "planned_seconds": 60}]


def small_show() -> list[dict[str, Any]]:
    """Segment 0 from 0 s, 1 from 60 s (180 s: 60 over), 2 from 240 s to the end at 330 s (90 s: 30 over).
    Viewers: a 0–100 s, b from 30 s on, c 50–200 s, d 120–250 s, e from 245 s on."""
    events = [
        {"type": "show.created", "at": T0 - 3_600_000, "show": {"id": "s1", "title": "t", "currency": "CNY",
                                                                 "language": "en"},
         "products": PRODUCTS, "segments": SEGMENTS},
        e("show.started", 0), e("segment.changed", 0, to=0, reason="start"),
        e("segment.changed", 60 * SEC, to=1, reason="next"), e("product.pinned", 60 * SEC, sku="A1"),
        e("segment.changed", 240 * SEC, to=2, reason="next"), e("product.pinned", 240 * SEC, sku="B2"),
        join(0, "a"), leave(100 * SEC, "a"), join(30 * SEC, "b"), join(50 * SEC, "c"), leave(200 * SEC, "c"),
        join(120 * SEC, "d"), leave(250 * SEC, "d"), join(245 * SEC, "e"),
        likes(70 * SEC, b=4), likes(250 * SEC, e=2),
        e("comment.new", 130 * SEC, viewer_id="d"), e("comment.new", 135 * SEC, viewer_id="d"),
        e("viewer.shared", 260 * SEC, viewer_id="b"),
        click(70 * SEC, "b"), click(80 * SEC, "c"), click(100 * SEC),
        {**click(260 * SEC, "e"), "sku": "B2"},
        claim(150 * SEC, "d", 1, "99.00", "o1"),
        order(200 * SEC, "o2", "198.00", qty=2, viewer="b"),
        {**order(300 * SEC, "o3", "45.50", viewer="e"), "sku": "B2"},
        {**order(320 * SEC, "o4", "91.00", qty=2), "sku": "B2"},
        e("show.ended", 330 * SEC),
        returned(3_000 * SEC, "o2", 1),
    ]
    events.sort(key=lambda x: x["at"])
    return [{**x, "seq": i + 1} for i, x in enumerate(events)]


@pytest.fixture(scope="module")
def got() -> dict[str, Any]:
    events = small_show()
    minutes, figures = numbers(Tally().add(events), None)
    return review(state_of(events), minutes, figures)


def test_each_segment_planned_against_aired(got: dict[str, Any]) -> None:
    rows = got["segments"]
    assert [(r["index"], r["planned_seconds"], r["actual_seconds"], r["overrun_seconds"]) for r in rows] == [
        (0, 60, 60, 0), (1, 120, 180, 60), (2, 60, 90, 30)]
    assert [(r["started_at"], r["ended_at"]) for r in rows] == [
        (T0, T0 + 60 * SEC), (T0 + 60 * SEC, T0 + 240 * SEC), (T0 + 240 * SEC, T0 + 330 * SEC)]


def test_each_segment_viewers_and_retention(got: dict[str, Any]) -> None:
    warmup, serum, cream = got["segments"]
    # at 0 s only a (a join at the instant counts); at 60 s a, b, c
    assert (warmup["viewers_start"], warmup["viewers_end"], warmup["retention_change"]) == (1, 3, 2.0)
    assert warmup["retention_curve"] == [1.0, 1.0]  # a, still there at 60 s
    # Serum, 60–240 s: a, b, c at its start; a gone at 100 s, c at 200 s; d came at 120 s (not of the cohort)
    assert (serum["viewers_start"], serum["viewers_end"]) == (3, 2)  # b, d at 240 s
    assert serum["retention_curve"] == [1.0, 0.6667, 0.6667, 0.3333]  # at 60, 120, 180, 240 s: 3, 2, 2, 1
    assert serum["retention"] == 0.3333 and serum["retention_change"] == round((2 - 3) / 3, 4)
    # its planned end was 180 s: b, c, d watching then; c left (200 s) before it ended
    assert serum["lost_after_plan"] == round(1 - 2 / 3, 4)
    assert (serum["joins"], serum["leaves"]) == (1, 2)  # d joined; a, c left
    # Cream, 240–330 s: b, d at its start; d gone at 250 s
    assert cream["retention_curve"] == [1.0, 0.5, 0.5]  # at 240, 300, 330 s
    assert (cream["viewers_start"], cream["viewers_end"], cream["retention_change"]) == (2, 2, 0.0)
    assert cream["lost_after_plan"] == 0.0  # b, e at 300 s, both there at 330 s


def test_each_segment_interactions_and_orders(got: dict[str, Any]) -> None:
    _, serum, cream = got["segments"]
    # Serum: 4 likes and 2 comments in 3 minutes; viewer-time a 40 + b 180 + c 140 + d 120 = 480 s
    assert (serum["likes_per_minute"], serum["comments_per_minute"], serum["interactions_per_minute"]) == (
        round(4 / 3, 2), round(2 / 3, 2), 2.0)
    assert serum["average_viewers"] == round(480 / 180, 1)
    assert serum["interactions_per_viewer_minute"] == round(6 / (480 / 60), 3)
    assert (serum["orders"], serum["gmv"]) == (2, "297.00")  # o1 99.00 at 150 s, o2 198.00 at 200 s
    # Cream: 2 likes and a share in 1.5 minutes; b 90 + d 10 + e 85 = 185 viewer-s
    assert cream["interactions_per_minute"] == 2.0
    assert cream["interactions_per_viewer_minute"] == round(3 / (185 / 60), 3)
    assert (cream["orders"], cream["gmv"]) == (2, "136.50")


def test_each_product(got: dict[str, Any]) -> None:
    serum, cream = got["products"]
    assert serum == {
        "sku": "A1", "title": "Serum", "segments": [1], "planned_seconds": 120, "aired_seconds": 180,
        "viewers_start": 3, "viewers_end": 2,
        "viewers_reached": 4,  # a, b, c, d were there at some instant of 60–240 s
        "clicks": 3, "orders": 2, "units": 3, "gmv": "297.00",
        "buyers": 2,  # d (the claim) and b
        "conversion": 2 / 4,
        "returned_units": 1, "return_rate": 1 / 3,
    }
    assert cream == {
        "sku": "B2", "title": "Cream", "segments": [2], "planned_seconds": 60, "aired_seconds": 90,
        "viewers_start": 2, "viewers_end": 2,
        "viewers_reached": 3,  # b, d (until 250 s), e
        "clicks": 1, "orders": 2, "units": 3, "gmv": "136.50",
        "buyers": 2,  # e, and the order without a viewer
        "conversion": 1 / 3,  # of b, d, e only e bought
        "returned_units": 0, "return_rate": 0.0,
    }


def test_a_sku_sold_but_never_on_air_has_no_air_and_no_conversion() -> None:
    events = small_show()
    events.insert(-1, {**order(310 * SEC, "o9", "5.00", viewer="b"), "sku": "ZZ", "seq": 0})
    events = [{**x, "seq": i + 1} for i, x in enumerate(events)]
    minutes, figures = numbers(Tally().add(events), None)
    extra = review(state_of(events), minutes, figures)["products"][-1]
    assert (extra["sku"], extra["title"], extra["segments"], extra["aired_seconds"]) == ("ZZ", "ZZ", [], 0)
    assert (extra["viewers_start"], extra["conversion"], extra["orders"], extra["gmv"]) == (None, None, 1, "5.00")


def test_cohorts_count_as_a_plain_count_does() -> None:
    rng = np.random.default_rng(5)
    start, n = T0, 30
    end = start + (n - 1) * 60_000 + 17_000
    join_at = start + np.sort(rng.integers(0, end - start, 3000)).astype(np.int64)
    join_at[:200] = start  # the warm-up crowd, at the start exactly
    join_at[200:260] = start + 60_000 * rng.integers(1, n - 1, 60)  # on minute boundaries
    stay = rng.exponential(300_000, len(join_at)).astype(np.int64)
    until = np.minimum(join_at + stay, end)
    left = join_at + stay < end
    until[::97] = start + 60_000 * 5  # some leave exactly on a boundary
    left[::97] = until[::97] > join_at[::97]
    until = np.maximum(until, join_at + 1)
    v = Visits(join_at, until, left, np.arange(len(join_at), dtype=np.int32))
    cohorts = Cohorts(v, start, n)
    for t, s in [(start, start), (start, start + 60_000), (start + 59_999, start + 300_000),
                 (start + 300_000, start + 300_000), (start + 61_234, end), (end, end), (start + 600_000, end - 1)]:
        want = int(((join_at <= t) & (~left | (until > s))).sum())
        assert cohorts.still(t, s) == want, (t - start, s - start)
    assert all(cohorts.present(int(t)) == int(((join_at <= t) & (~left | (until > t))).sum())
               for t in rng.integers(start, end, 200))
