"""The command vocabulary as a whole through ``live.core.commands.apply``:
malformed commands are refused naming what is wrong, seqs run on from
``show.created``, and folding the journal rebuilds exactly the applied state
(the rundown's own commands: test_rundown.py)."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from typing import Any

import pytest

from live.core.commands import VISIBILITY, apply, evolve
from live.core.errors import Invalid, LiveError
from live.core.show import ShowState
from tests.live.core.show_sim import PRODUCTS, T0, live_show, new_show, refused, run

# -- malformed commands --------------------------------------------------------


@pytest.mark.parametrize("cmd", [{"type": "segment.skip"}, {"type": 5}, {"type": None}, {}, {"type": "SHOW.START"}])
def test_unknown_command_type_is_invalid_type(cmd: dict[str, Any]) -> None:
    assert refused(live_show(), cmd, Invalid).field == "type"


@pytest.mark.parametrize("cmd", [None, "show.start", ["show.start"], 5])
def test_non_object_command_is_invalid(cmd: Any) -> None:
    state, _ = new_show()
    assert refused(state, cmd, Invalid).field is None


def test_unknown_fields_are_invalid_and_named() -> None:
    assert refused(live_show(), {"type": "segment.next", "force": True}, Invalid).field == "force"


# -- sequence numbers and replay ---------------------------------------------------


def test_seq_numbers_are_consecutive_from_show_created() -> None:
    state, journal = new_show()
    state, events = run(
        state,
        {"type": "show.start"},
        {"type": "segment.next"},
        {"type": "product.pin", "sku": "C3"},
        {"type": "segment.goto", "index": 3},
        {"type": "show.end"},
    )
    journal += events
    assert [e["seq"] for e in journal] == list(range(1, len(journal) + 1))
    assert state.seq == len(journal)


def test_events_carry_the_command_time() -> None:
    state, _ = new_show()
    _, events = apply(state, {"type": "show.start"}, T0 + 1234)
    assert {e["at"] for e in events} == {T0 + 1234}


def random_command(rng: random.Random, state: ShowState, may_end: bool) -> dict[str, Any]:
    """A plausible command, often a wrong one: refusals are part of the test."""
    n = len(state.segments)
    choice = rng.choice(
        [
            "start",
            "next",
            "next",
            "next",
            "previous",
            "goto",
            "extend",
            "pin",
            "unpin",
            "end",
            "rundown",
            "products",
            "bad",
        ]
    )
    if choice == "start":
        return {"type": "show.start"}
    if choice in ("next", "previous"):
        return {"type": f"segment.{choice}"}
    if choice == "goto":
        return {"type": "segment.goto", "index": rng.randrange(-1, n + 2)}
    if choice == "extend":
        cmd: dict[str, Any] = {"type": "segment.extend", "seconds": rng.choice([-120, -30, 0, 15, 60, 600, 4000])}
        if rng.random() < 0.3:
            cmd["index"] = rng.randrange(0, n + 1)
        return cmd
    if choice == "pin":
        return {"type": "product.pin", "sku": rng.choice(["A1", "B2", "C3", "ZZ9"])}
    if choice == "unpin":
        return {"type": "product.unpin"}
    if choice == "end":
        # Late and rarely, so that every run stays live for a while.
        return {"type": "show.end"} if may_end and rng.random() < 0.2 else {"type": "segment.next"}
    if choice == "rundown":
        k = rng.randrange(0, 4)
        return {
            "type": "rundown.replace",
            "segments": [
                {
                    "title": f"S{rng.randrange(100)}",
                    "sku": rng.choice(["A1", "B2", "C3", ""]),
                    "planned_seconds": rng.choice([30, 60, 300]),
                }
                for _ in range(k)
            ],
        }
    if choice == "products":
        keep = [p for p in PRODUCTS if rng.random() < 0.8]
        return {"type": "products.replace", "products": keep}
    return {"type": rng.choice(["segment.skip", "show.start"]), "x": 1}


@pytest.mark.parametrize("seed", range(25))
def test_folding_the_journal_rebuilds_exactly_the_applied_state(seed: int) -> None:
    rng = random.Random(seed)
    now = T0 + rng.randrange(10**6)
    state, journal = new_show(now=now)
    accepted = 0
    for step in range(120):
        now += rng.choice([0, 1, 250, 1000, 45_000, 200_000])
        cmd = random_command(rng, state, may_end=step > 80)
        try:
            after, events = apply(state, cmd, now)
        except LiveError:
            continue
        assert [e["seq"] for e in events] == list(range(state.seq + 1, state.seq + 1 + len(events)))
        assert all(e["type"] in VISIBILITY for e in events)
        state = after
        journal += events
        accepted += 1
    assert accepted > 20
    # Through JSON, as the journal stores it.
    stored = [json.loads(json.dumps(e)) for e in journal]
    rebuilt: ShowState | None = None
    for event in stored:
        rebuilt = evolve(rebuilt, event)
    assert rebuilt == state
    assert [e["seq"] for e in stored] == list(range(1, len(stored) + 1))


def test_unknown_event_types_only_advance_seq() -> None:
    state = live_show()
    after = evolve(state, {"type": "gift.sent", "at": T0 + 5, "seq": state.seq + 1, "sale_id": "x"})
    assert after == replace(state, seq=state.seq + 1)
