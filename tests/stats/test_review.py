"""The review's shape (DESIGN.md 6.3, docs/stats.md) and the shows at its edges:
no viewers, orders without viewers, a show still live, one minute, no
segments; and no viewer id anywhere in it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from live.core import i18n_review
from live.core.i18n import EN, ZH
from stats.review import numbers, review
from stats.tally import Tally
from tests.stats.journal import MIN, T0, e, join, leave, order
from tests.stats.shows import Exodus, Rush, Spec, draw, journal, state_of
from tests.stats.test_dropoffs import product_segments

TOP = {"show", "as_of", "metrics", "minutes", "drop_offs", "drop_off_baseline", "conversion_peaks", "products",
       "segments", "recommendations"}
DROP = {"minute", "at", "viewers_lost", "expected_lost", "share_lost", "times_usual", "segment",
        "segment_overrun_seconds", "note", "causes"}
PEAK = {"minute", "at", "orders", "units", "viewers", "conversion", "expected_orders", "times_usual", "segment",
        "flash_sale", "flash_sale_sku", "draw"}
PRODUCT = {"sku", "title", "segments", "planned_seconds", "aired_seconds", "viewers_start", "viewers_end",
           "viewers_reached", "clicks", "orders", "units", "gmv", "buyers", "conversion", "returned_units",
           "return_rate"}
SEGMENT = {"index", "kind", "title", "sku", "planned_seconds", "extended_seconds", "actual_seconds",
           "overrun_seconds", "started_at", "ended_at", "viewers_start", "viewers_end", "retention",
           "retention_change", "retention_curve", "joins", "leaves", "likes_per_minute", "comments_per_minute",
           "interactions_per_minute", "average_viewers", "interactions_per_viewer_minute", "orders", "gmv",
           "lost_after_plan"}


def review_of_events(events: list[dict[str, Any]], now: int | None = None) -> dict[str, Any]:
    minutes, figures = numbers(Tally().add(events), now)
    return review(state_of(events), minutes, figures)


def plain(*events: dict[str, Any], end: int | None = 10 * MIN, segments: bool = True,
          language: str = "en") -> list[dict[str, Any]]:
    """A show with one product and, unless ``segments`` is False, a two-segment rundown."""
    plan = [{"kind": "warmup", "title": "Hello", "sku": None, "planned_seconds": 120},
            {"kind": "product", "title": "Serum", "sku": "A1", "planned_seconds": 600}] if segments else []
    head = [{"type": "show.created", "at": T0 - 3_600_000,
             "show": {"id": "s1", "title": "t", "currency": "CNY", "language": language},
             "products": [{"sku": "A1", "title": "Serum", "list_price": "99.00", "live_price": "99.00", "stock": 5}],
             "segments": plan},
            e("show.started", 0)]
    if segments:
        head += [e("segment.changed", 0, to=0, reason="start"), e("segment.changed", 2 * MIN, to=1, reason="next")]
    body = sorted(events, key=lambda x: x["at"])
    tail = [] if end is None else [e("show.ended", end)]
    return [{**x, "seq": i + 1} for i, x in enumerate(head + body + tail)]


@pytest.fixture(scope="module")
def busy() -> dict[str, Any]:
    spec = Spec(seed=81, minutes=40, viewers=900, interactions=0.3, language="en")
    segs = product_segments(spec)
    return review_of_events(journal(draw(Spec(**{**spec.__dict__, "effects": (
        Exodus(segs[1], share=0.35), Rush(segs[2], share=0.2))}))))


def test_the_review_has_every_field_of_the_design(busy: dict[str, Any]) -> None:
    assert set(busy) == TOP
    assert busy["drop_offs"] and busy["conversion_peaks"] and busy["products"] and busy["segments"]
    assert all(set(d) == DROP for d in busy["drop_offs"])
    assert all(set(p) == PEAK for p in busy["conversion_peaks"])
    assert all(set(p) == PRODUCT for p in busy["products"])
    assert all(set(s) == SEGMENT for s in busy["segments"])
    assert set(busy["drop_offs"][0]["segment"]) == {"index", "title", "sku"}
    assert all(isinstance(s, str) and s for s in busy["recommendations"])
    json.dumps(busy)  # plain JSON all through


def test_drop_offs_are_worst_first_and_peaks_best_first(busy: dict[str, Any]) -> None:
    excess = [d["viewers_lost"] - d["expected_lost"] for d in busy["drop_offs"]]
    assert excess == sorted(excess, reverse=True)
    conversion = [p["conversion"] for p in busy["conversion_peaks"]]
    assert conversion == sorted(conversion, reverse=True)


def test_no_viewer_id_appears_in_the_review(busy: dict[str, Any]) -> None:
    text = json.dumps(busy, ensure_ascii=False)
    assert not re.search(r'"v\d+"', text)  # the simulated viewers are v0, v1, …


def test_a_show_with_no_viewers_gets_a_clear_review() -> None:
    got = review_of_events(plain())
    assert got["metrics"]["unique_viewers"] == 0 and got["metrics"]["gpm"] is None
    assert (got["drop_offs"], got["conversion_peaks"]) == ([], [])
    assert got["drop_off_baseline"]["leaves_per_viewer_minute"] is None
    assert got["recommendations"] == [EN["review_no_viewers"]]
    serum = got["products"][0]
    assert (serum["viewers_reached"], serum["conversion"], serum["orders"]) == (0, None, 0)
    assert [s["viewers_start"] for s in got["segments"]] == [0, 0]
    assert got["segments"][1]["retention"] is None and got["segments"][1]["retention_curve"] == []


def test_a_show_with_orders_but_no_viewers_says_so() -> None:
    got = review_of_events(plain(order(3 * MIN, "o1", "10.00"), order(3 * MIN + 5, "o2", "10.00"),
                                 order(4 * MIN, "o3", "10.00"), language="zh-CN"))
    assert got["metrics"]["conversion_rate"] is None and got["metrics"]["uv_value"] is None
    assert got["conversion_peaks"] == []
    assert got["recommendations"] == [ZH["review_orders_no_viewers"].format(orders=3)]
    assert got["products"][0]["orders"] == 3 and got["products"][0]["conversion"] is None  # nobody reached


def test_a_show_still_live_is_reviewed_so_far() -> None:
    events = plain(join(0, "a"), join(10_000, "b"), leave(200_000, "b"), end=None)
    got = review_of_events(events, now=T0 + 5 * MIN + 30_000)
    assert got["show"]["status"] == "live" and got["as_of"] == T0 + 5 * MIN + 30_000
    assert len(got["minutes"]) == 6
    assert got["recommendations"][0] == EN["review_live"]
    serum = got["segments"][1]
    assert serum["actual_seconds"] == 210 and serum["overrun_seconds"] == 0 and serum["viewers_end"] == 1


def test_a_show_of_one_minute() -> None:
    got = review_of_events(plain(join(0, "a"), leave(20_000, "a"), join(5_000, "b"), end=40_000))
    assert len(got["minutes"]) == 1 and got["drop_offs"] == []
    assert got["drop_off_baseline"]["minutes_tested"] == 0
    assert got["segments"][0]["actual_seconds"] == 40 and got["segments"][1]["actual_seconds"] is None


def test_a_show_with_no_segments() -> None:
    viewers = [x for i in range(40) for x in (join(i * 1000, f"x{i}"), leave(3 * MIN + i * 5_000, f"x{i}"))]
    got = review_of_events(plain(*viewers, order(MIN, "o1", "99.00", viewer="x1"), segments=False))
    assert got["segments"] == []
    assert got["products"][0]["segments"] == [] and got["products"][0]["aired_seconds"] == 0
    assert got["products"][0]["conversion"] is None
    for d in got["drop_offs"]:  # forty leave within three minutes: if it is one, it has no segment to name
        assert d["segment"] is None and d["segment_overrun_seconds"] == 0 and d["note"]


def test_a_segment_the_plan_no_longer_has_is_no_crash() -> None:
    # the journal aired a segment 7 the state's plan does not have (as if the rundown were replaced since)
    events = plain(join(0, "a"), e("segment.changed", 3 * MIN, to=7, reason="goto"))
    minutes, figures = numbers(Tally().add(events), None)
    got = review(state_of([x for x in events if x.get("to") != 7]), minutes, figures)
    assert len(got["segments"]) == 2 and got["segments"][1]["actual_seconds"] == 60


def test_the_recommendations_speak_the_shows_language() -> None:
    spec = Spec(seed=82, minutes=40, viewers=900, interactions=0.3)
    segs = product_segments(spec)
    effects = (Exodus(segs[1], share=0.35),)
    zh = review_of_events(journal(draw(Spec(**{**spec.__dict__, "language": "zh-CN", "effects": effects}))))
    en = review_of_events(journal(draw(Spec(**{**spec.__dict__, "language": "en", "effects": effects}))))
    assert len(zh["recommendations"]) == len(en["recommendations"]) >= 2
    assert all(re.search(r"[\u4e00-\u9fff]", s) for s in zh["recommendations"])
    assert all(not re.search(r"[\u4e00-\u9fff]", s.replace("福袋", "")) for s in en["recommendations"])
    assert zh["drop_offs"][0]["minute"] == en["drop_offs"][0]["minute"]


def test_every_review_sentence_has_both_languages_with_the_same_fields() -> None:
    assert set(i18n_review.EN) == set(i18n_review.ZH)
    fields = re.compile(r"{(\w+)}")
    for key, text in i18n_review.EN.items():
        assert key.startswith("review_") and text.strip() and i18n_review.ZH[key].strip()
        assert set(fields.findall(text)) == set(fields.findall(i18n_review.ZH[key])), key
        assert EN[key] == text and ZH[key] == i18n_review.ZH[key]
