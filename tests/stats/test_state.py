"""The review's state (``stats.state``): the show without its audience, the
same whether taken from the engine's state or folded from the journal alone,
whole or in chunks; and the stored blob (``stats.stored``): a tally and a
review state come back exactly, a tally stored at the show's end and caught up
with late orders and returns says what a fresh one says, and a blob that
cannot be trusted is refused (then rebuilt from the journal by the routes)."""

from __future__ import annotations

import json
import zlib
from typing import Any

import numpy as np
import pytest

from live.core.errors import LiveError
from live.core.show import ShowState
from stats import stored
from stats.review import numbers, review
from stats.state import LEFT_OUT, UNREAD, fold_review, review_state
from stats.tally import Column, Tally
from tests.live.core.audience_sim import Sim, random_show

Event = dict[str, Any]


def with_late_orders(sim: Sim) -> tuple[Sim, int]:
    """Shop orders during the show, then (the show's end journaled) a late order
    and returns; returns the sim and how many journal events the show had at its end."""
    sim.do({"type": "order.place", "order": {"order_id": "JD-1", "sku": "A1", "qty": 2, "amount": "118.00"}})
    ended = len(sim.journal)
    sim.wait(3_600_000)
    sim.do({"type": "order.place", "order": {"order_id": "JD-2", "sku": "B2", "qty": 3, "amount": "298.50",
                                             "at": sim.now - 3_000_000}})
    sim.wait(86_400_000)
    sim.do({"type": "order.return", "return": {"order_id": "JD-1", "qty": 1}})
    with_refusal(sim, {"type": "order.return", "return": {"order_id": "JD-2", "qty": 5}})  # more than ordered
    sim.do({"type": "order.return", "return": {"order_id": "JD-2", "qty": 3}})
    return sim, ended


def stored_journal(sim: Sim) -> list[Event]:
    return json.loads(json.dumps(sim.journal))  # as the journal stores and loads it


def the_review(state: ShowState, tally: Tally) -> Any:
    return json.loads(json.dumps(review(state, *numbers(tally, None))))


def with_refusal(sim: Sim, cmd: dict[str, Any]) -> None:
    """``cmd``, refused (a refusal journals nothing: the journal goes on without it)."""
    length = len(sim.journal)
    with pytest.raises(LiveError):
        sim.do(cmd)
    assert len(sim.journal) == length


@pytest.mark.parametrize("seed", range(8))
def test_the_review_state_is_the_same_from_the_engine_or_from_the_journal(seed: int) -> None:
    sim = random_show(seed)
    sim.do({"type": "order.place", "order": {"order_id": "JD-9", "sku": "A1", "qty": 1, "amount": "1"}})
    events = stored_journal(sim)
    assert fold_review(events) == review_state(sim.state)
    cut = len(events) // 3
    assert fold_review(events[cut:], fold_review(events[:cut])) == review_state(sim.state)


def test_the_review_state_has_no_audience() -> None:
    sim = random_show(3)
    assert sim.state.ledger.viewers and sim.state.ledger.comments  # the full state has them
    ledger = fold_review(stored_journal(sim)).ledger
    assert (ledger.viewers, ledger.comments, ledger.claims, ledger.platform_events, ledger.orders_by_id) == (
        {}, [], {}, {}, {})
    assert ledger.sales.keys() == sim.state.ledger.sales.keys() and ledger.draws == sim.state.ledger.draws
    for sale_id, sale in ledger.sales.items():
        full = sim.state.ledger.sales[sale_id]
        assert sale.claimed == {} and (sale.remaining, sale.orders, sale.status) == (full.remaining, full.orders,
                                                                                    full.status)
    assert any(s.claimed for s in sim.state.ledger.sales.values())  # the full state has who claimed
    assert "viewer.joined" in LEFT_OUT and "order.placed" in LEFT_OUT and "order.placed" not in UNREAD


@pytest.mark.parametrize("seed", range(8))
def test_a_stored_tally_and_state_come_back_exactly(seed: int) -> None:
    sim, _ = with_late_orders(random_show(seed))
    events = stored_journal(sim)
    tally, state = Tally().add(events), fold_review(events)
    expected = the_review(state, tally)
    back_tally, back_state = stored.decode(stored.encode(tally, state), state.id)
    assert back_state == state
    assert the_review(back_state, back_tally) == expected  # the id maps still deferred: a review needs none
    assert back_tally._deferred and back_tally.viewer_count() == len(tally.viewers)
    back_tally.undefer()
    for name in stored._attributes():
        mine, theirs = getattr(tally, name), getattr(back_tally, name)
        if isinstance(mine, Column):
            assert np.array_equal(mine.array(), theirs.array()) and mine.ascending == theirs.ascending, name
        else:
            assert mine == theirs, name


@pytest.mark.parametrize("seed", range(8))
def test_a_tally_stored_at_the_end_and_caught_up_says_what_a_fresh_one_says(seed: int) -> None:
    sim, ended = with_late_orders(random_show(seed))
    events = stored_journal(sim)
    head, late = events[:ended], events[ended:]
    assert any(e["type"] == "order.returned" for e in late) and any(e["type"] == "order.placed" for e in late)
    tally, state = stored.decode(stored.encode(Tally().add(head), fold_review(head)), "show1")
    tally.add(late)
    state = fold_review(late, state)
    assert the_review(state, tally) == the_review(review_state(sim.state), Tally().add(events))


def a_blob() -> tuple[bytes, Tally, ShowState]:
    sim, _ = with_late_orders(random_show(1))
    events = stored_journal(sim)
    tally, state = Tally().add(events), fold_review(events)
    return stored.encode(tally, state), tally, state


def flip(blob: bytes, at: int) -> bytes:
    return blob[:at] + bytes([blob[at] ^ 0x40]) + blob[at + 1:]


@pytest.mark.parametrize("damage", ["format", "magic", "byte in the header", "byte in a column", "truncated",
                                    "appended", "empty"])
def test_a_blob_that_cannot_be_trusted_is_unusable(damage: str) -> None:
    blob, _, _ = a_blob()
    head = len(stored.MAGIC)
    bad = {
        "format": blob[:head] + (stored.FORMAT + 1).to_bytes(2, "big") + blob[head + 2:],
        "magic": b"X" + blob[1:],
        "byte in the header": flip(blob, head + 40),
        "byte in a column": flip(blob, len(blob) - 10),
        "truncated": blob[:-1],
        "appended": blob + b"\0",
        "empty": b"",
    }[damage]
    with pytest.raises(stored.Unusable):
        stored.decode(bad, "show1")


def test_a_blob_of_another_show_is_unusable() -> None:
    blob, _, _ = a_blob()
    with pytest.raises(stored.Unusable, match="another show|stored for show"):
        stored.decode(blob, "show2")


def test_a_blob_whose_checksum_holds_but_whose_content_is_not_a_review_is_unusable() -> None:
    body = b"".join([stored._LEN.pack(1), stored._LEN.pack(len(z := zlib.compress(b"{}"))), z])
    forged = stored.MAGIC + stored._HEAD.pack(stored.FORMAT, zlib.crc32(body)) + body
    with pytest.raises(stored.Unusable):
        stored.decode(forged, "show1")


def test_a_blob_written_by_a_tally_with_other_fields_is_unusable(monkeypatch: pytest.MonkeyPatch) -> None:
    blob, _, _ = a_blob()
    fields = stored._attributes()
    monkeypatch.setattr(stored, "_attributes", lambda: sorted([*fields, "clicks_by_sku"]))
    with pytest.raises(stored.Unusable, match="other fields"):
        stored.decode(blob, "show1")


def test_a_tally_field_of_an_unknown_kind_is_not_stored_silently(monkeypatch: pytest.MonkeyPatch) -> None:
    _, tally, state = a_blob()
    fields = stored._attributes()
    monkeypatch.setattr(stored, "_attributes", lambda: sorted([*fields, "dwell_model"]))  # as Tally() gaining one
    tally.dwell_model = 0.5  # type: ignore[attr-defined]
    with pytest.raises(stored.Unstorable):
        stored.encode(tally, state)


def test_a_broken_tally_or_one_at_another_seq_is_never_stored() -> None:
    _, tally, state = a_blob()
    from dataclasses import replace

    with pytest.raises(ValueError, match="seq"):
        stored.encode(tally, replace(state, seq=state.seq - 1))
    tally.broken = True
    with pytest.raises(ValueError, match="broken"):
        stored.encode(tally, state)


@pytest.mark.parametrize("seed", range(4))
def test_what_neither_reads_can_be_read_bare(seed: int) -> None:
    sim, _ = with_late_orders(random_show(seed))
    events = stored_journal(sim)
    bare = [{k: e[k] for k in ("type", "seq", "at")} if e["type"] in UNREAD else e for e in events]
    assert sum(e["type"] in UNREAD for e in events) > 10
    assert fold_review(bare) == fold_review(events)
    assert the_review(fold_review(bare), Tally().add(bare)) == the_review(fold_review(events), Tally().add(events))


def test_values_json_writes_but_orjson_refuses_come_back_as_they_were() -> None:
    sim = Sim()
    sim.do({"type": "likes.goal", "target": 10, "then": {"prize": "Bag", "entry_seconds": 10}})
    events = stored_journal(sim)
    state = fold_review(events)
    from dataclasses import replace

    odd = replace(state, ledger=replace(state.ledger, like_goal_then={"big": 2**70, "odd": float("inf")}))
    _, back = stored.decode(stored.encode(Tally().add(events), odd), "show1")
    assert back.ledger.like_goal_then == {"big": 2**70, "odd": float("inf")}
