"""The host's flash-sale controls through ``live.core.commands.apply``: restock
(``flash_sale.restock``), extend (``flash_sale.extend``) and close, their
bounds, the states they refuse, and that a restart folds them the same."""

from __future__ import annotations

from typing import Any

import pytest

from live.core.commands import PERMISSIONS
from live.core.errors import Conflict, Invalid, NotFound
from live.core.sales import MAX_EXTEND_SECONDS, MAX_SALE_SECONDS, MAX_STOCK, ClaimLost
from tests.live.core.audience_sim import Sim, replay, types


def restock(sim: Sim, sale_id: str, add: int) -> list[dict[str, Any]]:
    return sim.do({"type": "flash_sale.restock", "sale_id": sale_id, "add": add})


def extend(sim: Sim, sale_id: str, seconds: int) -> list[dict[str, Any]]:
    return sim.do({"type": "flash_sale.extend", "sale_id": sale_id, "seconds": seconds})


# -- restock -------------------------------------------------------------------------


def test_a_restock_adds_units_to_the_stock_and_what_is_left() -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=10, limit=5)
    sim.claim(sim.viewer("Ann"), sale_id, 3)
    [event] = restock(sim, sale_id, 5)
    assert {k: event[k] for k in ("type", "sale_id", "add", "stock", "remaining", "reopened")} == {
        "type": "flash_sale.restocked", "sale_id": sale_id, "add": 5, "stock": 15, "remaining": 12,
        "reopened": False}
    view = sim.state.ledger.sales[sale_id].view(sim.now)
    assert (view["stock"], view["remaining"], view["sold"], view["status"]) == (15, 12, 3, "open")
    # the event announced the stock: the ticker has nothing to add
    assert sim.tick() == []


def test_a_restocked_sale_sells_the_new_units_and_no_more() -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=1, limit=5)
    restock(sim, sale_id, 2)
    events = sim.claim(sim.viewer("Ann"), sale_id, 3)
    assert types(events) == ["flash_sale.claimed", "flash_sale.closed"]
    with pytest.raises(ClaimLost) as lost:
        sim.claim(sim.viewer("Bob"), sale_id, 1)
    assert lost.value.code == "SOLD_OUT"


def test_restocking_a_sold_out_sale_before_its_deadline_reopens_it() -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=2, limit=2, seconds=60)
    sim.claim(sim.viewer("Ann"), sale_id, 2)
    assert sim.state.ledger.sales[sale_id].view(sim.now)["closed_reason"] == "sold_out"
    sim.wait(10_000)
    [event] = restock(sim, sale_id, 4)
    assert (event["stock"], event["remaining"], event["reopened"]) == (6, 4, True)
    view = sim.state.ledger.sales[sale_id].view(sim.now)
    assert (view["status"], view["closed_reason"], view["closed_at"], view["sold"]) == ("open", None, None, 2)
    bob = sim.viewer("Bob")
    assert types(sim.claim(bob, sale_id, 2)) == ["flash_sale.claimed"]
    # the deadline still holds: the tick ends it there
    sim.wait(50_000)
    assert [(e["type"], e["reason"]) for e in sim.tick() if e["type"] == "flash_sale.closed"] == [
        ("flash_sale.closed", "ended")]


def test_a_sold_out_sale_is_not_reopened_beside_a_newer_sale_of_its_product() -> None:
    sim = Sim()
    old = sim.open_sale("A1", stock=1, seconds=60)
    sim.claim(sim.viewer("Ann"), old, 1)
    sim.open_sale("A1", stock=5, seconds=60)
    err = sim.refused({"type": "flash_sale.restock", "sale_id": old, "add": 3}, Conflict)
    assert "already open" in err.message


@pytest.mark.parametrize("how", ["closed", "ended", "show_ended", "sold_out_past_deadline", "past_deadline"])
def test_a_sale_that_is_over_is_not_restocked_or_extended(how: str) -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=1, seconds=30)
    if how == "closed":
        sim.do({"type": "flash_sale.close", "sale_id": sale_id})
    elif how == "ended":
        sim.wait(30_000)
        sim.tick()
    elif how == "show_ended":
        sim.do({"type": "show.end"})
    elif how == "sold_out_past_deadline":
        sim.claim(sim.viewer("Ann"), sale_id, 1)
        sim.wait(30_000)
    else:  # the deadline passed, the tick has not closed it yet
        sim.wait(30_000)
    code = "WRONG_STATE" if how == "show_ended" else "ENDED"
    for cmd in ({"type": "flash_sale.restock", "sale_id": sale_id, "add": 1},
                {"type": "flash_sale.extend", "sale_id": sale_id, "seconds": 60}):
        err = sim.refused(cmd, Conflict)
        assert (err.status, err.code) == (409, code)


@pytest.mark.parametrize("cmd, error, field", [
    ({"add": 0}, Invalid, "add"),
    ({"add": -5}, Invalid, "add"),
    ({"add": 1.5}, Invalid, "add"),
    ({"add": "5"}, Invalid, "add"),
    ({"add": True}, Invalid, "add"),
    ({"add": None}, Invalid, "add"),
    ({"add": MAX_STOCK}, Invalid, "add"),  # the stock would pass MAX_STOCK
    ({"sale_id": "fs999"}, NotFound, "sale_id"),
    ({"sale_id": None}, NotFound, "sale_id"),
    ({"colour": "red"}, Invalid, "colour"),
])
def test_a_bad_restock_is_refused_with_its_field(cmd: dict[str, Any], error: type[Invalid | NotFound],
                                                 field: str) -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=10)
    body = {"type": "flash_sale.restock", "sale_id": sale_id, "add": 5, **cmd}
    assert sim.refused(body, error).field == field


def test_a_restock_may_fill_the_stock_up_to_its_bound() -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=10)
    [event] = restock(sim, sale_id, MAX_STOCK - 10)
    assert event["stock"] == MAX_STOCK


# -- extend --------------------------------------------------------------------------


def test_an_extension_moves_the_deadline_and_claims_follow_it() -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=10, seconds=60)
    deadline = sim.state.ledger.sales[sale_id].deadline
    [event] = extend(sim, sale_id, 120)
    assert (event["type"], event["sale_id"], event["seconds"], event["deadline"]) == (
        "flash_sale.extended", sale_id, 120, deadline + 120_000)
    sim.wait(90_000)  # past the old deadline
    assert sim.tick() == []
    assert types(sim.claim(sim.viewer("Ann"), sale_id, 1)) == ["flash_sale.claimed"]
    assert sim.state.ledger.sales[sale_id].view(sim.now)["deadline"] == deadline + 120_000
    sim.wait(90_000)
    assert "flash_sale.closed" in types(sim.tick())


def test_a_scheduled_sale_may_be_restocked_and_extended() -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=10, seconds=60, opens_in_seconds=30)
    restock(sim, sale_id, 5)
    extend(sim, sale_id, 60)
    sale = sim.state.ledger.sales[sale_id]
    assert (sale.view(sim.now)["status"], sale.stock, sale.deadline - sale.opens_at) == ("scheduled", 15, 120_000)


def test_a_sold_out_sale_is_restocked_before_it_is_extended() -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=1)
    sim.claim(sim.viewer("Ann"), sale_id, 1)
    err = sim.refused({"type": "flash_sale.extend", "sale_id": sale_id, "seconds": 60}, Conflict)
    assert (err.code, "restock" in err.message) == ("SOLD_OUT", True)
    restock(sim, sale_id, 1)
    assert types(extend(sim, sale_id, 60)) == ["flash_sale.extended"]


@pytest.mark.parametrize("cmd, error, field", [
    ({"seconds": 0}, Invalid, "seconds"),
    ({"seconds": -60}, Invalid, "seconds"),
    ({"seconds": MAX_EXTEND_SECONDS + 1}, Invalid, "seconds"),
    ({"seconds": "60"}, Invalid, "seconds"),
    ({"seconds": None}, Invalid, "seconds"),
    ({"seconds": 2.5}, Invalid, "seconds"),
    ({"sale_id": "fs999"}, NotFound, "sale_id"),
    ({"sale_id": 3}, NotFound, "sale_id"),
    ({"deadline": 1}, Invalid, "deadline"),
])
def test_a_bad_extension_is_refused_with_its_field(cmd: dict[str, Any], error: type[Invalid | NotFound],
                                                   field: str) -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=10)
    body = {"type": "flash_sale.extend", "sale_id": sale_id, "seconds": 60, **cmd}
    assert sim.refused(body, error).field == field


def test_extensions_stop_at_the_longest_sale() -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=10, seconds=MAX_SALE_SECONDS - MAX_EXTEND_SECONDS)
    extend(sim, sale_id, MAX_EXTEND_SECONDS)
    assert sim.refused({"type": "flash_sale.extend", "sale_id": sale_id, "seconds": 1}, Invalid).field == "seconds"


def test_restock_and_extend_need_a_live_show() -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=10)
    sim.do({"type": "show.end"})
    assert "ended" in sim.refused({"type": "flash_sale.restock", "sale_id": sale_id, "add": 1}, Conflict).message
    assert "ended" in sim.refused({"type": "flash_sale.extend", "sale_id": sale_id, "seconds": 9}, Conflict).message


# -- close, roles, restart -------------------------------------------------------------


def test_a_restocked_then_sold_out_sale_is_closed_by_staff() -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=1, limit=5)
    sim.claim(sim.viewer("Ann"), sale_id, 1)
    restock(sim, sale_id, 1)
    sim.claim(sim.viewer("Bob"), sale_id, 1)
    [closed] = sim.do({"type": "flash_sale.close", "sale_id": sale_id})
    assert (closed["reason"], sim.state.ledger.sales[sale_id].view(sim.now)["closed_reason"]) == ("closed", "closed")


def test_the_host_runs_a_sale_but_plans_none() -> None:
    for kind in ("flash_sale.restock", "flash_sale.extend", "flash_sale.close"):
        assert PERMISSIONS[kind] == {"admin", "host", "assistant"}
    assert "host" not in PERMISSIONS["flash_sale.open"]


def test_a_restart_folds_restocks_and_extensions_to_the_same_state() -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=2, limit=2)
    sim.claim(sim.viewer("Ann"), sale_id, 2)
    restock(sim, sale_id, 3)
    extend(sim, sale_id, 300)
    sim.claim(sim.viewer("Bob"), sale_id, 1)
    assert replay(sim.journal) == sim.state
