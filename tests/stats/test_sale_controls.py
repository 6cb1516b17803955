"""What the review knows of a sale the host extended or restocked: it was on air
until its real close, not its first deadline or its sold-out moment."""

from __future__ import annotations

from stats.airings import OnAir
from stats.tally import Tally
from tests.live.core.audience_sim import Sim


def on_air(sim: Sim) -> OnAir:
    return OnAir.of(Tally().add(sim.journal), sim.now)


def test_an_extended_sale_is_on_air_to_its_new_deadline() -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=10, seconds=60)
    opened = sim.now
    sim.do({"type": "flash_sale.extend", "sale_id": sale_id, "seconds": 120})
    sim.wait(100_000)  # live, past the first deadline
    [sale] = on_air(sim).sales
    assert (sale.id, sale.closes, sale.reason) == (sale_id, opened + 100_000, None)
    assert on_air(sim).sale_during(opened + 90_000, opened + 95_000) == sale
    sim.wait(80_000)
    sim.tick()
    [sale] = on_air(sim).sales
    assert (sale.closes, sale.reason) == (opened + 180_000, "ended")


def test_a_restocked_sold_out_sale_is_on_air_until_it_closes_again() -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=1, seconds=60)
    opened = sim.now
    sim.wait(5_000)
    sim.claim(sim.viewer("Ann"), sale_id, 1)
    [sale] = on_air(sim).sales
    assert (sale.closes, sale.reason) == (opened + 5_000, "sold_out")
    sim.wait(5_000)
    sim.do({"type": "flash_sale.restock", "sale_id": sale_id, "add": 5})
    sim.wait(20_000)
    sim.do({"type": "flash_sale.close", "sale_id": sale_id})
    [sale] = on_air(sim).sales
    assert (sale.closes, sale.reason) == (opened + 30_000, "closed")
    assert on_air(sim).sale_during(opened + 20_000, opened + 25_000) == sale


def test_a_sold_out_sale_closed_by_staff_still_ended_when_it_sold_out() -> None:
    sim = Sim()
    sale_id = sim.open_sale("A1", stock=1, seconds=60)
    opened = sim.now
    sim.claim(sim.viewer("Ann"), sale_id, 1)
    sim.wait(5_000)
    sim.do({"type": "flash_sale.close", "sale_id": sale_id})
    [sale] = on_air(sim).sales
    assert (sale.closes, sale.reason) == (opened, "sold_out")
