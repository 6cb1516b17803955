"""Flash sales (秒杀) through ``live.core.commands.apply``: opening, claims and their
losing codes, idempotency, the tick's stock ticker and deadline, and a seeded
property test that no mix of claims oversells or passes a limit."""

from __future__ import annotations

import random
from typing import Any

import pytest

from live.core.errors import Conflict, Invalid, NotFound
from live.core.sales import ClaimLost, IdempotencyMismatch
from tests.live.core.audience_sim import Sim, types


def lost(sim: Sim, vid: str, sale_id: str, qty: int = 1, request_id: str = "lost") -> str:
    """Assert the claim loses and writes nothing; returns its code."""
    err = sim.refused({"type": "flash_sale.claim", "sale_id": sale_id, "qty": qty, "request_id": request_id},
                      ClaimLost, viewer=vid)
    assert err.status == 409
    return err.code


# -- opening ------------------------------------------------------------------------


def test_a_sale_opens_with_its_deadline_in_server_time() -> None:
    sim = Sim()
    [event] = sim.do({"type": "flash_sale.open", "sku": "A1", "price": "39.90", "stock": 20, "per_viewer_limit": 3,
                      "duration_seconds": 120})
    assert event["type"] == "flash_sale.opened"
    assert event["sale"] == {"id": f"fs{event['seq']}", "sku": "A1", "price": "39.90", "stock": 20, "remaining": 20,
                             "per_viewer_limit": 3, "opens_at": sim.now, "deadline": sim.now + 120_000,
                             "status": "open"}
    [view] = [s.view(sim.now) for s in sim.state.ledger.sales.values()]
    assert view["status"] == "open" and view["remaining"] == 20


def test_the_price_defaults_to_the_live_price_and_the_limit_to_one() -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=5, limit=1)
    sale = sim.state.ledger.sales[sale_id]
    assert (sale.price, sale.per_viewer_limit) == ("59.00", 1)
    [event] = sim.do({"type": "flash_sale.open", "sku": "B2", "stock": 5, "duration_seconds": 30})
    assert (event["sale"]["price"], event["sale"]["per_viewer_limit"]) == ("25.00", 1)


def test_sales_open_only_while_live() -> None:
    cmd = {"type": "flash_sale.open", "sku": "A1", "stock": 5, "duration_seconds": 30}
    Sim(start=False).refused(cmd, Conflict)
    sim = Sim()
    sim.do({"type": "show.end"})
    sim.refused(cmd, Conflict)


@pytest.mark.parametrize("change, field", [
    ({"sku": "ZZ9"}, "sku"),
    ({"sku": "bad sku"}, "sku"),
    ({"sku": None}, "sku"),
    ({"stock": 0}, "stock"),
    ({"stock": -1}, "stock"),
    ({"stock": "10"}, "stock"),
    ({"stock": None}, "stock"),
    ({"stock": 1.5}, "stock"),
    ({"duration_seconds": 4}, "duration_seconds"),
    ({"duration_seconds": 6 * 3600 + 1}, "duration_seconds"),
    ({"duration_seconds": None}, "duration_seconds"),
    ({"per_viewer_limit": 0}, "per_viewer_limit"),
    ({"per_viewer_limit": 101}, "per_viewer_limit"),
    ({"per_viewer_limit": True}, "per_viewer_limit"),
    ({"price": "-1"}, "price"),
    ({"price": "1.001"}, "price"),
    ({"price": "free"}, "price"),
    ({"opens_in_seconds": -1}, "opens_in_seconds"),
    ({"colour": "red"}, "colour"),
])
def test_a_bad_sale_is_invalid_with_its_field(change: dict[str, Any], field: str) -> None:
    sim = Sim()
    cmd = {"type": "flash_sale.open", "sku": "A1", "stock": 5, "duration_seconds": 30, **change}
    assert sim.refused(cmd, Invalid).field == field
    assert sim.state.ledger.sales == {}


def test_a_second_sale_for_the_same_sku_waits_for_the_first_to_close() -> None:
    sim = Sim()
    first = sim.open_sale("A1")
    sim.refused({"type": "flash_sale.open", "sku": "A1", "stock": 5, "duration_seconds": 30}, Conflict)
    sim.open_sale("B2")  # another sku is fine
    sim.do({"type": "flash_sale.close", "sale_id": first})
    assert sim.open_sale("A1") != first


def test_a_scheduled_sale_also_blocks_a_second_one() -> None:
    sim = Sim()
    sim.open_sale("A1", opens_in_seconds=600)
    sim.refused({"type": "flash_sale.open", "sku": "A1", "stock": 5, "duration_seconds": 30}, Conflict)


def test_closing_a_sale_by_hand() -> None:
    sim = Sim()
    sale = sim.open_sale("A1", stock=7)
    [event] = sim.do({"type": "flash_sale.close", "sale_id": sale})
    assert (event["type"], event["reason"], event["remaining"]) == ("flash_sale.closed", "closed", 7)
    sim.refused({"type": "flash_sale.close", "sale_id": sale}, Conflict)
    assert sim.refused({"type": "flash_sale.close", "sale_id": "fs999"}, NotFound).field == "sale_id"


# -- claims --------------------------------------------------------------------------


def test_a_won_claim_is_an_order_and_takes_the_stock() -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=10, limit=3)
    vid = sim.viewer("Ann")
    [event] = sim.claim(vid, sale_id, 2, request_id="r1")
    assert event == {"type": "flash_sale.claimed", "sale_id": sale_id, "viewer_id": vid, "qty": 2,
                     "request_id": "r1", "order_id": f"o-show1-{event['seq']}", "remaining": 8, "price": "59.00",
                     "sku": "A1", "at": sim.now, "seq": event["seq"]}
    ledger = sim.state.ledger
    assert ledger.sales[sale_id].remaining == 8 and ledger.sales[sale_id].claimed == {vid: 2}
    assert ledger.viewers[vid].units == 2 and ledger.orders == 1
    assert ledger.claims[f"{vid}:r1"] == {"ok": True, "order_id": event["order_id"], "sale_id": sale_id,
                                          "qty": 2, "price": "59.00", "sku": "A1"}
    assert ledger.viewers[vid].orders == [{"request_id": "r1", **ledger.claims[f"{vid}:r1"]}]


def test_the_same_request_id_makes_one_order() -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=1, limit=1)
    ann, bob = sim.viewer("Ann"), sim.viewer("Bob")
    first = sim.claim(ann, sale_id, 1, request_id="same")
    assert types(first) == ["flash_sale.claimed", "flash_sale.closed"]
    # The retry comes after the sale sold out and closed: still the same winning answer.
    assert sim.claim(ann, sale_id, 1, request_id="same") == []
    assert sim.state.ledger.claims[f"{ann}:same"]["order_id"] == first[0]["order_id"]
    assert sim.state.ledger.orders == 1
    # Another viewer's request_id space is their own.
    assert lost(sim, bob, sale_id, request_id="same") == "SOLD_OUT"


@pytest.mark.parametrize("retry", [{"qty": 2}, {"sale": "other"}, {"sale": "fs999"}])
def test_a_request_id_reused_for_another_sale_or_qty_is_a_mismatch(retry: dict[str, Any]) -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=5, limit=3)
    other = sim.open_sale("B2", stock=5, limit=3)
    vid = sim.viewer("Ann")
    [won] = sim.claim(vid, sale_id, 1, request_id="k")
    target = {"other": other, "fs999": "fs999"}.get(retry.get("sale", ""), sale_id)
    err = sim.refused({"type": "flash_sale.claim", "sale_id": target, "qty": retry.get("qty", 1),
                       "request_id": "k"}, IdempotencyMismatch, viewer=vid)
    assert (err.status, err.code, err.field) == (422, "IDEMPOTENCY_MISMATCH", "request_id")
    # the same sale and qty is still the first order
    assert sim.claim(vid, sale_id, 1, request_id="k") == []
    assert sim.state.ledger.claims[f"{vid}:k"]["order_id"] == won["order_id"]


def test_the_request_id_is_kept_exactly_as_sent() -> None:
    # The shell finds the answer under f"{viewer}:{request_id}" as it sent it.
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=5, limit=2)
    vid = sim.viewer("Ann")
    [event] = sim.claim(vid, sale_id, request_id=" k1 ")
    assert event["request_id"] == " k1 " and f"{vid}: k1 " in sim.state.ledger.claims
    assert types(sim.claim(vid, sale_id, request_id="k1")) == ["flash_sale.claimed"]  # another key
    assert sim.refused({"type": "flash_sale.claim", "sale_id": sale_id, "request_id": " " + "x" * 64}, Invalid,
                       viewer=vid).field == "request_id"


def test_a_lost_claim_is_not_remembered_so_a_retry_can_win() -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=3, opens_in_seconds=10)
    vid = sim.viewer("Ann")
    assert lost(sim, vid, sale_id, request_id="r") == "NOT_OPEN"
    sim.wait(10_000)
    assert types(sim.claim(vid, sale_id, request_id="r")) == ["flash_sale.claimed"]


def test_a_claim_bigger_than_what_is_left_is_sold_out_with_no_partial_order() -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=3, limit=5)
    ann, bob = sim.viewer("Ann"), sim.viewer("Bob")
    sim.claim(ann, sale_id, 2)
    assert lost(sim, bob, sale_id, 2) == "SOLD_OUT"
    assert sim.state.ledger.sales[sale_id].remaining == 1 and sim.state.ledger.viewers[bob].units == 0
    assert types(sim.claim(bob, sale_id, 1)) == ["flash_sale.claimed", "flash_sale.closed"]


def test_the_per_viewer_limit_holds_across_claims() -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=50, limit=3)
    vid = sim.viewer("Ann")
    sim.claim(vid, sale_id, 2)
    assert lost(sim, vid, sale_id, 2) == "LIMIT_REACHED"
    sim.claim(vid, sale_id, 1)
    assert lost(sim, vid, sale_id, 1) == "LIMIT_REACHED"
    assert sim.state.ledger.sales[sale_id].claimed[vid] == 3
    assert types(sim.claim(sim.viewer("Bob"), sale_id, 3)) == ["flash_sale.claimed"]


def test_before_the_opening_a_claim_is_not_open() -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=5, seconds=30, opens_in_seconds=60)
    sale = sim.state.ledger.sales[sale_id]
    assert (sale.opens_at, sale.deadline, sale.view(sim.now)["status"]) == (sim.now + 60_000, sim.now + 90_000,
                                                                            "scheduled")
    vid = sim.viewer("Ann")
    sim.wait(59_999)
    assert lost(sim, vid, sale_id) == "NOT_OPEN"
    sim.wait(1)
    assert types(sim.claim(vid, sale_id)) == ["flash_sale.claimed"]


def test_at_the_deadline_a_claim_has_ended_even_before_the_tick_closes_the_sale() -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=5, seconds=30)
    vid = sim.viewer("Ann")
    sim.wait(29_999)
    assert types(sim.claim(vid, sale_id)) == ["flash_sale.claimed"]
    sim.wait(1)
    assert sim.state.ledger.sales[sale_id].status == "open"  # no tick yet
    assert lost(sim, vid, sale_id) == "ENDED"
    assert sim.state.ledger.sales[sale_id].view(sim.now)["status"] == "closed"


def test_after_a_close_a_claim_has_ended() -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=5)
    sim.do({"type": "flash_sale.close", "sale_id": sale_id})
    assert lost(sim, sim.viewer("Ann"), sale_id) == "ENDED"


def test_the_last_unit_closes_the_sale_in_the_same_step_and_later_claims_are_sold_out() -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=2, limit=2)
    ann, bob = sim.viewer("Ann"), sim.viewer("Bob")
    events = sim.claim(ann, sale_id, 2)
    assert types(events) == ["flash_sale.claimed", "flash_sale.closed"]
    assert (events[1]["reason"], events[1]["remaining"], events[1]["seq"]) == ("sold_out", 0, events[0]["seq"] + 1)
    assert sim.state.ledger.sales[sale_id].closed_reason == "sold_out"
    # the crowd still pressing the button lost to the stock, not to the clock
    assert lost(sim, bob, sale_id) == "SOLD_OUT"
    assert sim.tick() == []  # nothing left to say about a closed sale


def test_staff_take_a_sold_out_sale_off_the_screen_once_and_it_stays_sold_out() -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=1)
    sim.claim(sim.viewer("Ann"), sale_id, 1)
    sold_at = sim.state.ledger.sales[sale_id].closed_at
    sim.wait(5000)
    events = sim.do({"type": "flash_sale.close", "sale_id": sale_id})
    assert [(e["type"], e["reason"], e["remaining"]) for e in events] == [("flash_sale.closed", "closed", 0)]
    sale = sim.state.ledger.sales[sale_id]
    assert (sale.closed_reason, sale.closed_at) == ("closed", sold_at)  # it stopped selling when it sold out
    assert sale.view(sim.now)["closed_at"] == sold_at
    assert lost(sim, sim.viewer("Bob"), sale_id) == "SOLD_OUT"
    with pytest.raises(Conflict):
        sim.do({"type": "flash_sale.close", "sale_id": sale_id})


@pytest.mark.parametrize("cmd, error, field", [
    ({"sale_id": "fs999"}, NotFound, "sale_id"),
    ({"sale_id": None}, NotFound, "sale_id"),
    ({"sale_id": 12}, NotFound, "sale_id"),
    ({"qty": 0}, Invalid, "qty"),
    ({"qty": 101}, Invalid, "qty"),
    ({"qty": "2"}, Invalid, "qty"),
    ({"qty": True}, Invalid, "qty"),
    ({"request_id": ""}, Invalid, "request_id"),
    ({"request_id": None}, Invalid, "request_id"),
    ({"request_id": "x" * 65}, Invalid, "request_id"),
    ({"coupon": "FREE"}, Invalid, "coupon"),
])
def test_a_malformed_claim_is_refused_with_its_field(cmd: dict[str, Any], error: type[Invalid | NotFound],
                                                     field: str) -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1")
    vid = sim.viewer("Ann")
    body = {"type": "flash_sale.claim", "sale_id": sale_id, "qty": 1, "request_id": "r1", **cmd}
    assert sim.refused(body, error, viewer=vid).field == field


def test_a_claim_needs_a_known_viewer() -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1")
    sim.refused({"type": "flash_sale.claim", "sale_id": sale_id, "request_id": "r"}, NotFound, viewer="ghost")


# -- the tick ------------------------------------------------------------------------------


def test_the_tick_reports_stock_only_when_it_changed() -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=10, limit=5)
    assert sim.tick() == []
    vid = sim.viewer("Ann")
    sim.claim(vid, sale_id, 2)
    sim.claim(vid, sale_id, 1)
    [event] = sim.tick()
    assert (event["type"], event["sale_id"], event["remaining"], event["stock"]) == (
        "flash_sale.stock", sale_id, 7, 10)
    assert sim.tick() == []
    sim.claim(vid, sale_id, 1)
    assert [e["remaining"] for e in sim.tick()] == [6]


def test_the_tick_closes_a_sale_at_its_deadline() -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=10, seconds=30)
    sim.claim(sim.viewer("Ann"), sale_id, 1)
    sim.wait(29_999)
    assert types(sim.tick()) == ["flash_sale.stock"]
    sim.wait(1)
    [event] = sim.tick()
    assert (event["type"], event["reason"], event["remaining"]) == ("flash_sale.closed", "ended", 9)
    assert sim.state.ledger.sales[sale_id].status == "closed"
    assert sim.tick() == []


def test_the_show_end_closes_open_sales() -> None:
    sim = Sim()
    a = sim.open_sale("A1", stock=4)
    b = sim.open_sale("B2", stock=3, opens_in_seconds=300)
    events = sim.do({"type": "show.end"})
    assert types(events) == ["show.ended", "flash_sale.closed", "flash_sale.closed"]
    assert {(e["sale_id"], e["reason"], e["remaining"]) for e in events[1:]} == {
        (a, "show_ended", 4), (b, "show_ended", 3)}
    assert all(s.status == "closed" for s in sim.state.ledger.sales.values())


# -- property: no oversell, no limit passed ------------------------------------------------


@pytest.mark.parametrize("seed", range(8))
def test_random_claims_never_oversell_nor_pass_a_limit(seed: int) -> None:
    rng = random.Random(seed)
    sim = Sim()
    stock, limit = rng.randint(1, 60), rng.randint(1, 4)
    sale_id = sim.open_sale("A1", stock=stock, limit=limit, seconds=600)
    viewers = [sim.viewer(f"V{i}") for i in range(rng.randint(5, 40))]
    wins: dict[str, int] = {}
    answered = 0
    for n in range(400):
        vid = rng.choice(viewers)
        qty = rng.randint(1, limit + 1)
        rid = f"r{rng.randint(0, 300)}"  # some retries reuse a request_id
        repeat = f"{vid}:{rid}" in sim.state.ledger.claims
        try:
            events = sim.claim(vid, sale_id, qty, request_id=rid)
        except ClaimLost as exc:
            assert exc.code in ("SOLD_OUT", "LIMIT_REACHED", "ENDED")
            answered += 1
            continue
        except IdempotencyMismatch:
            assert repeat and sim.state.ledger.claims[f"{vid}:{rid}"]["qty"] != qty
            answered += 1
            continue
        answered += 1
        if repeat:
            assert events == []
            continue
        assert events[0]["type"] == "flash_sale.claimed"
        wins[vid] = wins.get(vid, 0) + qty
        if n % 7 == 0:
            sim.tick()
    sale = sim.state.ledger.sales[sale_id]
    assert answered == 400
    assert 0 <= sale.remaining <= stock
    assert sum(wins.values()) == stock - sale.remaining
    assert sale.claimed == wins
    assert all(units <= limit for units in sale.claimed.values())
    assert sum(sim.state.ledger.viewers[v].units for v in viewers) == stock - sale.remaining
    assert sim.state.ledger.orders == sum(1 for e in sim.journal if e["type"] == "flash_sale.claimed")
    # 400 claims on at most 60 units with 5+ viewers: this mix always sells out or fills every limit
    assert sale.remaining == 0 or all(sale.claimed.get(v, 0) == limit for v in viewers)
