"""Shop orders and returns through ``live.core.commands.apply``: the webhook's
``order.place`` / ``order.return`` and the CSV's ``orders.import``; idempotency
by order id, returns bounded by the units ordered, claims as orders, and a
journal that folds back to the same ledger."""

from __future__ import annotations

from typing import Any

import pytest

from live.core.errors import IdempotencyMismatch, Invalid, NotFound
from live.core.orders import SKEW_MS, ImportInvalid, import_report
from tests.live.core.audience_sim import T0, Sim, replay, types

ORDER = {"order_id": "JD-1001", "sku": "A1", "qty": 2, "amount": "118.00"}


def place(sim: Sim, **change: Any) -> list[Any]:
    return sim.do({"type": "order.place", "order": {**ORDER, **change}})


def give_back(sim: Sim, **body: Any) -> list[Any]:
    return sim.do({"type": "order.return", "return": {"order_id": "JD-1001", **body}})


def test_an_order_is_journaled_with_its_own_time_and_source() -> None:
    sim = Sim()
    sim.wait(60_000)
    [event] = place(sim, at=T0 + 30_000)
    assert event == {"type": "order.placed", "order_id": "JD-1001", "sku": "A1", "qty": 2, "amount": "118.00",
                     "viewer_id": None, "placed_at": T0 + 30_000, "source": "webhook", "seq": event["seq"],
                     "at": T0 + 60_000}
    order = sim.state.ledger.orders_by_id["JD-1001"]
    assert (order.qty, order.amount, order.returned, order.source) == (2, "118.00", 0, "webhook")
    assert sim.state.ledger.orders == 1


def test_without_at_an_order_happened_now() -> None:
    sim = Sim()
    sim.wait(5_000)
    assert place(sim)[0]["placed_at"] == T0 + 5_000


def test_the_same_order_twice_counts_once() -> None:
    sim = Sim()
    place(sim)
    sim.wait(1_000)
    assert place(sim) == []
    assert place(sim, amount="118") == []  # the same money, written another way
    assert sim.state.ledger.orders == 1 and len(sim.state.ledger.orders_by_id) == 1


@pytest.mark.parametrize("change", [{"qty": 3}, {"sku": "B2"}, {"amount": "1.00"}])
def test_another_order_under_the_same_id_is_a_mismatch(change: dict[str, Any]) -> None:
    sim = Sim()
    place(sim)
    err = sim.refused({"type": "order.place", "order": {**ORDER, **change}}, IdempotencyMismatch)
    assert (err.status, err.code, err.field) == (422, "IDEMPOTENCY_MISMATCH", "order_id")


def test_a_known_viewer_is_the_buyer_and_their_units_count_for_draws() -> None:
    sim = Sim()
    vid = sim.viewer()
    [event] = place(sim, viewer_id=vid)
    assert event["viewer_id"] == vid
    assert sim.state.ledger.viewers[vid].units == 2


@pytest.mark.parametrize(("change", "field"), [
    ({"sku": "NOPE"}, "sku"),
    ({"sku": "bad sku"}, "sku"),
    ({"qty": 0}, "qty"),
    ({"qty": "2"}, "qty"),
    ({"amount": "1.999"}, "amount"),
    ({"amount": "-1"}, "amount"),
    ({"amount": None}, "amount"),
    ({"viewer_id": "v-unknown"}, "viewer_id"),
    ({"order_id": ""}, "order_id"),
    ({"order_id": " JD-1001"}, "order_id"),
    ({"order_id": "x" * 65}, "order_id"),
    ({"order_id": 1001}, "order_id"),
    ({"at": T0 + SKEW_MS + 1}, "at"),
    ({"at": T0 - SKEW_MS - 1}, "at"),
    ({"at": "2024-05-01"}, "at"),
    ({"coupon": "X"}, "coupon"),
])
def test_a_bad_order_is_refused_with_its_field(change: dict[str, Any], field: str) -> None:
    sim = Sim()
    err = sim.refused({"type": "order.place", "order": {**ORDER, **change}}, Invalid)
    assert err.field == field


def test_orders_are_taken_before_the_start_and_after_the_end() -> None:
    sim = Sim(start=False)
    place(sim)
    sim.do({"type": "show.start"}, seed=sim.seed())
    sim.do({"type": "show.end"})
    sim.wait(3 * 24 * 3600_000)
    assert types(place(sim, order_id="late", at=sim.now - 1000)) == ["order.placed"]


# -- returns --------------------------------------------------------------------------


def test_a_return_counts_the_units_and_a_retry_with_its_time_is_a_duplicate() -> None:
    sim = Sim()
    place(sim)
    sim.wait(86_400_000)
    [event] = give_back(sim, qty=1, at=sim.now - 10)
    assert event == {"type": "order.returned", "order_id": "JD-1001", "qty": 1, "returned_at": sim.now - 10,
                     "source": "webhook", "seq": event["seq"], "at": sim.now}
    assert give_back(sim, qty=1, at=sim.now - 10) == []
    assert sim.state.ledger.orders_by_id["JD-1001"].returned == 1


def test_a_return_for_an_unknown_order_is_not_found() -> None:
    sim = Sim()
    err = sim.refused({"type": "order.return", "return": {"order_id": "nope", "qty": 1}}, NotFound)
    assert (err.status, err.field) == (404, "order_id")


def test_no_more_units_come_back_than_were_ordered() -> None:
    sim = Sim()
    place(sim)
    give_back(sim, qty=1)
    err = sim.refused({"type": "order.return", "return": {"order_id": "JD-1001", "qty": 2}}, Invalid)
    assert err.field == "qty" and "1 of its 2 units" in err.message
    give_back(sim, qty=1)
    sim.refused({"type": "order.return", "return": {"order_id": "JD-1001", "qty": 1}}, Invalid)


def test_a_return_before_its_order_is_refused() -> None:
    sim = Sim()
    sim.wait(3_600_000)
    place(sim)
    err = sim.refused({"type": "order.return", "return": {"order_id": "JD-1001", "qty": 1, "at": T0}}, Invalid)
    assert err.field == "at"


def test_a_won_claim_is_an_order_a_return_may_name() -> None:
    sim = Sim()
    vid = sim.viewer()
    sale = sim.open_sale(stock=5, limit=3)
    claimed = sim.claim(vid, sale, qty=3)[0]
    order = sim.state.ledger.orders_by_id[claimed["order_id"]]
    assert (order.sku, order.qty, order.amount, order.viewer_id, order.source) == ("A1", 3, "177.00", vid, "claim")
    sim.do({"type": "order.return", "return": {"order_id": claimed["order_id"], "qty": 2}})
    assert sim.state.ledger.orders_by_id[claimed["order_id"]].returned == 2
    # the shop reporting the same order is the same order
    same = {"order_id": claimed["order_id"], "sku": "A1", "qty": 3, "amount": "177.00", "viewer_id": vid}
    assert sim.do({"type": "order.place", "order": same}) == []


# -- the CSV import ---------------------------------------------------------------------


def rows(*items: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"line": i + 2, **item} for i, item in enumerate(items)]


def import_(sim: Sim, *items: dict[str, Any]) -> list[Any]:
    return sim.do({"type": "orders.import", "rows": rows(*items)})


def test_an_import_writes_every_order_and_return_in_one_step() -> None:
    sim = Sim()
    sim.wait(10_000)
    events = import_(sim,
                     {"order_id": "a", "sku": "A1", "qty": 1, "amount": "59.00", "at": T0 + 1000},
                     {"kind": "return", "order_id": "b", "qty": 1, "at": T0 + 9000},
                     {"order_id": "b", "sku": "B2", "qty": 3, "amount": "50.00", "at": T0 + 2000, "returned_qty": 2})
    # the return line, then what the total adds to it
    assert types(events) == ["order.placed", "order.placed", "order.returned", "order.returned"]
    assert [e["qty"] for e in events[2:]] == [1, 1]
    assert {e["source"] for e in events} == {"csv"}
    assert sim.state.ledger.orders_by_id["b"].returned == 2


def test_importing_the_same_file_again_writes_nothing() -> None:
    sim = Sim()
    file = ({"order_id": "a", "sku": "A1", "qty": 2, "amount": "118.00", "at": T0, "returned_qty": 1},
            {"kind": "return", "order_id": "a", "qty": 1, "at": T0 + 5})
    first = import_(sim, *file)
    # the total (1) counts the file's return line: nothing more to return
    assert import_report(rows(*file), first) == {"lines": 2, "orders": 1, "returns": 1, "duplicates": 0}
    again = import_(sim, *file)
    assert again == []
    assert import_report(rows(*file), again) == {"lines": 2, "orders": 0, "returns": 0, "duplicates": 2}


def test_a_cumulative_returned_qty_returns_only_what_is_new() -> None:
    sim = Sim()
    place(sim, order_id="a", qty=3)
    give_back(sim, order_id="a", qty=1)
    [event] = import_(sim, {"order_id": "a", "sku": "A1", "qty": 3, "amount": "118.00", "returned_qty": 3})
    assert (event["type"], event["qty"]) == ("order.returned", 2)
    err = sim.refused({"type": "orders.import", "rows": rows(
        {"order_id": "a", "sku": "A1", "qty": 3, "amount": "118.00", "returned_qty": 1})}, ImportInvalid)
    assert "less than the 3 units" in err.message


def test_a_bad_file_names_every_bad_line_and_imports_nothing() -> None:
    sim = Sim()
    err = sim.refused({"type": "orders.import", "rows": rows(
        {"order_id": "ok", "sku": "A1", "qty": 1, "amount": "59.00"},
        {"order_id": "x", "sku": "NOPE", "qty": 1, "amount": "1.00"},
        {"order_id": "y", "sku": "A1", "qty": "two", "amount": "1.00"},
        {"order_id": "ok", "sku": "A1", "qty": 5, "amount": "59.00"},
        {"kind": "return", "order_id": "ghost", "qty": 1, "at": T0},
        {"kind": "return", "order_id": "ok", "qty": 2, "at": T0},
        {"kind": "return", "order_id": "ok", "qty": 1},
        {"kind": "swap", "order_id": "ok", "qty": 1},
        {"order_id": "z", "sku": "A1", "qty": 1, "amount": "1.00", "at": "yesterday"},
    )}, ImportInvalid)
    assert isinstance(err, ImportInvalid)
    assert [e["field"] for e in err.errors] == [f"line {n}" for n in range(3, 11)]
    assert err.field == "line 3" and err.status == 422
    body = err.to_dict()
    assert body["errors"][0] == {"field": "line 3", "message": "sku 'NOPE' is not a product of this show"}
    assert "nothing was imported" in body["message"]


def test_an_import_is_accepted_after_the_end_and_folds_back_the_same() -> None:
    sim = Sim()
    vid = sim.viewer()
    sale = sim.open_sale()
    sim.claim(vid, sale)
    sim.do({"type": "show.end"})
    sim.wait(86_400_000)
    import_(sim, {"order_id": "a", "sku": "B2", "qty": 4, "amount": "100.00", "viewer_id": vid, "at": T0 + 1},
            {"kind": "return", "order_id": "a", "qty": 1, "at": T0 + 3_600_000})
    place(sim, order_id="w", at=sim.now)
    give_back(sim, order_id="w", qty=2)
    rebuilt = replay(sim.journal)
    assert rebuilt == sim.state and rebuilt.ledger == sim.state.ledger
    assert rebuilt.ledger.orders_by_id["a"].returns == [(T0 + 3_600_000, 1)]
    assert rebuilt.ledger.viewers[vid].units == 5
