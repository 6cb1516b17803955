"""A show's state as JSON and back (``live.core.snapshot``), and ``fold``'s
``skip``: random shows (viewers, staff, comments, sales, claims, draws, likes
goals, shop orders and late returns) survive the trip exactly, and a state
loaded from a snapshot folds on exactly as the original does."""

from __future__ import annotations

import json
from typing import Any

import pytest

from live.core.commands import fold
from live.core.snapshot import SnapshotMismatch, dump, load
from tests.live.core.audience_sim import Sim, random_show


def with_orders(sim: Sim) -> Sim:
    """Shop orders during the show's journal and a return after its end."""
    sim.do({"type": "order.place", "order": {"order_id": "JD-1", "sku": "A1", "qty": 2, "amount": "118.00"}})
    sim.wait(86_400_000)
    sim.do({"type": "order.return", "return": {"order_id": "JD-1", "qty": 1}})
    return sim


def through_json(state: Any) -> Any:
    return load(json.loads(json.dumps(dump(state), ensure_ascii=False)))


@pytest.mark.parametrize("seed", range(6))
def test_a_random_show_survives_the_trip_exactly(seed: int) -> None:
    state = with_orders(random_show(seed)).state
    back = through_json(state)
    assert back == state
    assert back.ledger == state.ledger and back.ledger.sealed
    assert [c.id for c in back.ledger.comments] == list(back.ledger.comment_index)


@pytest.mark.parametrize("seed", range(3))
def test_a_loaded_state_folds_on_as_the_original(seed: int) -> None:
    sim = random_show(seed)
    cut = len(sim.journal) // 2
    half = fold(sim.journal[:cut])
    loaded = through_json(half)
    rest = sim.journal[cut:]
    assert fold(rest, loaded) == fold(rest, half) == sim.state
    assert loaded == through_json(half)  # folding on changed neither


def test_a_snapshot_of_records_with_other_fields_is_refused() -> None:
    data = json.loads(json.dumps(dump(with_orders(Sim()).state)))
    data["fields"]["Order"].append("gift_wrap")
    with pytest.raises(SnapshotMismatch):
        load(data)
    data = json.loads(json.dumps(dump(Sim().state)))
    del data["ledger"]["clicks"]
    with pytest.raises(SnapshotMismatch):
        load(data)


def test_fold_can_leave_event_types_out_and_still_counts_their_seq() -> None:
    sim = Sim()
    ann = sim.viewer("Ann", join=True)
    sim.comment(ann, "hello")
    state = fold(sim.journal, skip={"comment.new"})
    assert state.seq == sim.state.seq
    assert state.ledger.comments == [] and sim.state.ledger.comments != []
    assert (state.ledger.viewers[ann].comments, sim.state.ledger.viewers[ann].comments) == (0, 1)
