"""State values never change: a command's fold works on a draft and seals it,
so an old state (a snapshot being sent, the state before a failed append)
never sees what came after it. ``apply_all`` (the engine's write path) and
``apply`` (one command) are the same path."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from live.core.commands import apply, apply_all, evolve, fold
from live.core.errors import LiveError
from live.core.ledger import SealedError
from live.core.show import ShowState
from tests.live.core.audience_sim import Sim, random_show


class Recording(Sim):
    """A Sim that keeps every state it passed through, with a deep copy of each."""

    def __init__(self, **kwargs: Any) -> None:
        self.kept: list[tuple[ShowState, ShowState]] = []
        super().__init__(**kwargs)

    def do(self, cmd: dict[str, Any], **ctx: Any) -> list[Any]:
        self.kept.append((self.state, copy.deepcopy(self.state)))
        return super().do(cmd, **ctx)


@pytest.mark.parametrize("seed", range(3))
def test_an_old_state_never_sees_later_changes(seed: int) -> None:
    sim = random_show(seed, Recording)
    assert isinstance(sim, Recording) and len(sim.kept) > 500
    changed = [i for i, (state, then) in enumerate(sim.kept) if state != then or state.ledger != then.ledger]
    assert changed == []
    # …and each kept state is still the fold of the journal up to its seq
    for state, _ in sim.kept[::50]:
        assert fold([e for e in sim.journal if e["seq"] <= state.seq]) == state


def test_the_old_state_check_would_notice_a_change_in_place() -> None:
    # Guard against a comparison that cannot fail: change a kept state's record in place.
    sim = Recording()
    sim.viewer("Ann", join=True)
    state, then = sim.kept[-1]  # before the join; Ann is registered
    next(iter(state.ledger.viewers.values())).likes += 1
    assert state.ledger != then.ledger


def test_a_sealed_ledger_refuses_every_change() -> None:
    sim = Sim()
    ledger = sim.state.ledger
    assert ledger.sealed
    with pytest.raises(SealedError):
        ledger.present = 3
    with pytest.raises(SealedError):
        ledger.put("claims", "x", {})
    with pytest.raises(SealedError):
        ledger.own_viewer("nobody")


def test_a_batch_is_the_same_as_its_commands_one_by_one() -> None:
    sim = Sim()
    viewers = [sim.viewer(f"V{i}", join=True) for i in range(5)]
    sale = sim.open_sale("A1", stock=3, limit=1)
    claims = [{"type": "flash_sale.claim", "sale_id": sale, "qty": 1, "request_id": f"r{i}", "_viewer": vid}
              for i, vid in enumerate(viewers)]
    start = sim.state
    batched, outcomes = apply_all(start, claims, sim.now)
    one_by_one = start
    singles: list[Any] = []
    for claim in claims:
        try:
            one_by_one, events = apply(one_by_one, claim, sim.now)
            singles.append(events)
        except LiveError as exc:
            singles.append(exc)
    assert batched == one_by_one and batched.ledger == one_by_one.ledger
    assert [o if isinstance(o, list) else o.code for o in outcomes] == [
        s if isinstance(s, list) else s.code for s in singles]
    assert [o.code for o in outcomes if isinstance(o, LiveError)] == ["SOLD_OUT", "SOLD_OUT"]
    assert start.ledger.sales[sale].remaining == 3  # the input state is untouched
    assert batched.ledger.sales[sale].remaining == 0


def test_a_refused_command_in_a_batch_leaves_the_others_their_events() -> None:
    sim = Sim()
    batched, outcomes = apply_all(sim.state, [{"type": "segment.goto"}, {"type": "product.pin", "sku": "A1"}],
                                  sim.now)
    assert isinstance(outcomes[0], LiveError)
    assert isinstance(outcomes[1], list) and outcomes[1][0]["seq"] == sim.state.seq + 1
    assert batched.pinned_sku == "A1" and sim.state.pinned_sku is None


def test_evolve_and_fold_leave_their_input_as_it_was() -> None:
    sim = random_show(1)
    half = len(sim.journal) // 2
    middle = fold(json.loads(json.dumps(sim.journal[:half])))
    kept = copy.deepcopy(middle)
    rest = json.loads(json.dumps(sim.journal[half:]))
    assert fold(rest, middle) == sim.state
    state = middle
    for event in rest:
        state = evolve(state, event)
    assert state == sim.state
    assert middle == kept and middle.ledger == kept.ledger
