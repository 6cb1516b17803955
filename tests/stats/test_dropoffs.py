"""Drop-offs on simulated shows (tests/stats/shows.py): each planted exodus or
over-run comes first and is put on the right segment; shows whose audience
only churns as usual, of every size and length, have none; the end of a show
is never one."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from stats.review import numbers, review
from stats.tally import Tally
from tests.stats.shows import Exodus, Overrun, Spec, draw, journal, state_of


def review_of(spec: Spec) -> dict[str, Any]:
    events = journal(draw(spec))
    minutes, figures = numbers(Tally().add(events), None)
    return review(state_of(events), minutes, figures)


def product_segments(spec: Spec) -> list[int]:
    return [i for i, s in enumerate(draw(spec).segments) if s["kind"] == "product"]


EXODUS = [
    Spec(seed=1, minutes=60, viewers=600),
    Spec(seed=2, minutes=120, viewers=2000, dwell="lognormal", arrivals="waves", language="en", interactions=0.2),
    Spec(seed=3, minutes=30, viewers=1200, dwell="bounce", arrivals="front"),
    Spec(seed=4, minutes=180, viewers=5000, dwell="weibull", drift=0.3, groups=0.1, interactions=0.1),
    Spec(seed=5, minutes=90, viewers=250, stay=0.4, interactions=0.5),
    Spec(seed=6, minutes=45, viewers=1000, dwell="exp", stay=0.1, arrivals="waves", language="en"),
]


@pytest.mark.parametrize("spec", EXODUS, ids=lambda s: f"{s.viewers}v-{s.minutes:g}min-{s.dwell}-{s.arrivals}")
def test_a_sharp_exodus_is_the_first_drop_off_and_names_its_segment(spec: Spec) -> None:
    segments = product_segments(spec)
    planted = segments[len(segments) // 2]
    got = review_of(Spec(**{**spec.__dict__, "effects": (Exodus(planted, after=0.5, share=0.35),)}))
    first = got["drop_offs"][0]
    assert first["segment"]["index"] == planted, got["drop_offs"][:3]
    assert first["viewers_lost"] > 2 * first["expected_lost"] and first["share_lost"] > 0.1
    assert first["segment_overrun_seconds"] == 0
    title = got["segments"][planted]["title"]
    assert first["segment"]["title"] == title and title in got["recommendations"][0]


OVERRUN = [
    Spec(seed=11, minutes=60, viewers=800),
    Spec(seed=12, minutes=120, viewers=3000, dwell="lognormal", arrivals="front", language="en", interactions=0.1),
    Spec(seed=13, minutes=90, viewers=1500, dwell="bounce", drift=0.3),
    Spec(seed=14, minutes=180, viewers=5000, dwell="weibull", arrivals="waves", groups=0.1, interactions=0.1),
]


@pytest.mark.parametrize("spec", OVERRUN, ids=lambda s: f"{s.viewers}v-{s.minutes:g}min-{s.dwell}-{s.arrivals}")
def test_a_segment_that_overruns_and_loses_viewers_after_its_plan_comes_first(spec: Spec) -> None:
    segments = product_segments(spec)
    planted = segments[len(segments) // 2]
    got = review_of(Spec(**{**spec.__dict__, "effects": (Overrun(planted, over=420, hazard=0.15),)}))
    first = got["drop_offs"][0]
    assert first["segment"]["index"] == planted, got["drop_offs"][:3]
    assert first["segment_overrun_seconds"] > 0
    assert any(c["kind"] == "over_plan" for c in first["causes"])
    row = got["segments"][planted]
    assert row["overrun_seconds"] >= 400 and row["lost_after_plan"] > 0.3
    plan_words = "over plan" if spec.language == "en" else "超出计划"
    assert plan_words in first["note"] and plan_words in got["recommendations"][0]


def null_specs(count: int, seed: int) -> list[Spec]:
    """Shows with no planted effect, of every size (30 to 5,000 viewers) and
    length (8 minutes to 3 hours), with varied stays, traffic and noise."""
    rng = np.random.default_rng(seed)
    return [Spec(seed=1000 * seed + i,
                 minutes=float(rng.choice([8, 15, 30, 60, 120, 180])),
                 viewers=int(rng.choice([30, 80, 200, 600, 2000, 5000])),
                 dwell=str(rng.choice(["exp", "lognormal", "weibull", "bounce"])),
                 stay=float(rng.uniform(0.05, 0.5)),
                 arrivals=str(rng.choice(["flat", "front", "waves"])),
                 drift=float(rng.choice([0.0, 0.3])),
                 wind_down=bool(rng.random() < 0.7),
                 groups=float(rng.choice([0.0, 0.1])),
                 closing=bool(rng.random() < 0.7),
                 interactions=0.0)
            for i in range(count)]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_shows_that_only_churn_as_usual_have_no_drop_off(seed: int) -> None:
    found = []
    for spec in null_specs(25, seed):
        got = review_of(spec)
        if got["drop_offs"]:
            found.append((spec, got["drop_offs"][0]))
        assert all(p["orders"] >= 3 for p in got["conversion_peaks"])
    assert found == []


def test_a_small_audience_with_tiny_counts_has_no_drop_off_and_a_clear_review() -> None:
    for seed in range(20, 32):
        got = review_of(Spec(seed=seed, minutes=30, viewers=30, interactions=0.3))
        assert got["drop_offs"] == [] and got["metrics"]["unique_viewers"] > 10
        assert got["drop_off_baseline"]["dispersion"] >= 1
        assert got["recommendations"]


def test_the_end_of_the_show_and_its_wind_down_are_never_drop_offs() -> None:
    # everyone rushes out in the last minutes: with a closing segment, and without
    for closing in (True, False):
        spec = Spec(seed=40, minutes=60, viewers=1500, closing=closing, wind_down=True)
        last = len(draw(spec).segments) - 1
        got = review_of(Spec(**{**spec.__dict__, "effects": (Exodus(last, after=0.8, share=0.6),)}))
        n = len(got["minutes"])
        assert all(d["minute"] < n - 3 for d in got["drop_offs"]), got["drop_offs"]
        leaves = [m["leaves"] for m in got["minutes"]]
        assert max(leaves[-4:]) > 3 * np.median(leaves)  # it really was an exodus
        assert got["drop_off_baseline"]["wind_down_from_minute"] is not None


def test_a_drop_off_after_a_flash_sale_ends_says_so_in_the_shows_language() -> None:
    from tests.stats.shows import Rush

    for language, words in (("en", "the flash sale of"), ("zh-CN", "秒杀刚结束")):
        spec = Spec(seed=50, minutes=60, viewers=1500, language=language, interactions=0.2)
        planted = product_segments(spec)[2]
        show = draw(spec)
        duration = int((show.bounds[planted + 1] - show.bounds[planted]) / 1000 * 0.2)
        sale = Rush(planted, after=0.2, share=0.2, duration=max(30, duration))
        after = 0.2 + max(30, duration) / ((show.bounds[planted + 1] - show.bounds[planted]) / 1000) + 0.02
        got = review_of(Spec(**{**spec.__dict__, "effects": (sale, Exodus(planted, after=after, share=0.35))}))
        first = got["drop_offs"][0]
        assert first["segment"]["index"] == planted
        assert any(c["kind"] == "flash_sale_ended" for c in first["causes"]), first["causes"]
        assert words in first["note"]
