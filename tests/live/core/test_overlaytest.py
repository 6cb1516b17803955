"""``overlay.test {layer}``: a public test event for setting up overlays. It is
journaled, changes nothing a show is made of, is refused with the contract's
errors (422 layer, 409 after the end, 429 within a second of the last one,
by the show's clock), and the review of a show with test events is the
review of the same show without them."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from live.core.commands import PERMISSIONS, fold
from live.core.errors import Conflict, Invalid, RateLimited
from live.core.overlaytest import LAYERS, TEST_INTERVAL_MS
from live.core.protocol import PUBLIC, STAFF, for_audience, state_view
from stats.review import numbers, review
from stats.tally import Tally
from tests.live.core.audience_sim import Sim, random_show, replay


def test_each_layer_has_a_public_test_event_that_changes_nothing_shown() -> None:
    sim = Sim()
    sim.open_sale("A1", stock=5)
    for layer in LAYERS:
        before = state_view(sim.state, sim.now, STAFF)
        [event] = sim.do({"type": "overlay.test", "layer": layer})
        assert {k: event[k] for k in ("type", "layer")} == {"type": "overlay.test", "layer": layer}
        assert set(event) == {"type", "layer", "seq", "at"}
        assert for_audience(event, PUBLIC) == event and for_audience(event, STAFF) == event
        assert state_view(sim.state, sim.now, STAFF) == before
        sim.wait(TEST_INTERVAL_MS)
    assert replay(sim.journal) == sim.state


def test_a_test_event_is_also_sent_before_the_show() -> None:
    sim = Sim(start=False)
    assert [e["type"] for e in sim.do({"type": "overlay.test", "layer": "product"})] == ["overlay.test"]


def test_after_the_end_there_is_no_overlay_to_test() -> None:
    sim = Sim()
    sim.do({"type": "show.end"})
    assert sim.refused({"type": "overlay.test", "layer": "sale"}, Conflict).status == 409


@pytest.mark.parametrize("cmd, field", [
    ({"layer": "ticker"}, "layer"),
    ({"layer": None}, "layer"),
    ({"layer": ["sale"]}, "layer"),
    ({"layer": "SALE"}, "layer"),
    ({"layer": "sale", "text": "hi"}, "text"),
])
def test_a_bad_test_event_is_refused_with_its_field(cmd: dict[str, Any], field: str) -> None:
    assert Sim().refused({"type": "overlay.test", **cmd}, Invalid).field == field


def test_one_test_event_a_second_per_show_by_the_shows_clock() -> None:
    sim = Sim()
    sim.do({"type": "overlay.test", "layer": "draw"})
    sim.wait(TEST_INTERVAL_MS - 1)
    err = sim.refused({"type": "overlay.test", "layer": "likes"}, RateLimited)
    assert (err.status, err.code) == (429, "RATE_LIMITED")
    sim.wait(1)
    assert len(sim.do({"type": "overlay.test", "layer": "likes"})) == 1


def test_the_host_sends_test_events() -> None:
    assert PERMISSIONS["overlay.test"] == {"admin", "host", "assistant"}


def test_the_layers_are_the_overlays() -> None:
    from overlays.pages import LAYERS as PAGE_LAYERS

    assert set(LAYERS) == set(PAGE_LAYERS)


def with_test_events(journal: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """The journal with overlay.test events between its events (at the time of the
    one before), renumbered; every other event as it was."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for event in journal:
        out.append(event)
        if event["type"] != "show.ended" and rng.random() < 0.2:
            out.append({"type": "overlay.test", "layer": rng.choice(LAYERS), "at": event["at"]})
    return [{**event, "seq": i + 1} for i, event in enumerate(out)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_show_with_test_events_has_the_same_review(seed: int) -> None:
    journal = random_show(seed).journal
    tested = with_test_events(journal, seed)
    assert sum(e["type"] == "overlay.test" for e in tested) > 20

    def review_of(events: list[dict[str, Any]]) -> str:
        minutes, figures = numbers(Tally().add(events), None)
        return json.dumps(review(fold(events), minutes, figures), sort_keys=True, default=str)

    assert review_of(tested) == review_of(journal)
