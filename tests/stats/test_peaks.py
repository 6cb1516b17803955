"""Conversion peaks on simulated shows: an order rush during a flash sale comes
first, named by its sale and segment; a show whose viewers order at a steady
rate lists none, whatever its size or how much it sells."""

from __future__ import annotations

import numpy as np
import pytest

from tests.stats.shows import Rush, Spec, draw
from tests.stats.test_dropoffs import product_segments, review_of

RUSH = [
    Spec(seed=61, minutes=60, viewers=600),
    Spec(seed=62, minutes=120, viewers=3000, dwell="lognormal", arrivals="waves", orders=3.0, language="en"),
    Spec(seed=63, minutes=30, viewers=1000, dwell="bounce", orders=0.3),
    Spec(seed=64, minutes=180, viewers=5000, dwell="weibull", orders=1.0, groups=0.1),
]


@pytest.mark.parametrize("spec", RUSH, ids=lambda s: f"{s.viewers}v-{s.minutes:g}min-orders{s.orders:g}")
def test_an_order_rush_in_a_flash_sale_is_the_first_peak(spec: Spec) -> None:
    planted = product_segments(spec)[1]
    got = review_of(Spec(**{**spec.__dict__, "interactions": 0.0, "effects": (Rush(planted, share=0.2),)}))
    first = got["conversion_peaks"][0]
    assert first["flash_sale"] == "fs0" and first["segment"]["index"] == planted, got["conversion_peaks"][:3]
    assert first["orders"] >= 3 * first["expected_orders"]
    assert first["conversion"] == round(first["orders"] / first["viewers"], 4)
    sku = draw(spec).segments[planted]["sku"]
    assert first["flash_sale_sku"] == sku
    title = got["segments"][planted]["title"]
    assert title in next(r for r in got["recommendations"] if str(first["minute"]) in r)


def test_steady_ordering_lists_no_peak() -> None:
    rng = np.random.default_rng(7)
    found = []
    for i in range(60):
        spec = Spec(seed=700 + i, minutes=float(rng.choice([8, 15, 30, 60, 120, 180])),
                    viewers=int(rng.choice([30, 80, 200, 600, 2000, 5000])),
                    dwell=str(rng.choice(["exp", "lognormal", "weibull", "bounce"])),
                    stay=float(rng.uniform(0.05, 0.5)), arrivals=str(rng.choice(["flat", "front", "waves"])),
                    orders=float(rng.choice([0.1, 0.3, 1.0, 3.0])), interactions=0.0)
        got = review_of(spec)
        if got["conversion_peaks"]:
            found.append((spec, got["conversion_peaks"][0]))
    assert found == []


def test_a_peak_while_a_draw_is_open_names_the_draw() -> None:
    spec = Spec(seed=65, minutes=60, viewers=1500, interactions=0.0)
    show = draw(spec)
    # the interaction segment's draw takes entries for 60 % of it; a flash sale rushes a fifth of the way in
    interaction = next(i for i, s in enumerate(show.segments) if s["kind"] == "interaction")
    got = review_of(Spec(**{**spec.__dict__, "effects": (Rush(interaction, after=0.2, share=0.25),)}))
    first = got["conversion_peaks"][0]
    assert first["segment"]["index"] == interaction and first["draw"] == "d0" and first["flash_sale"] == "fs0"
