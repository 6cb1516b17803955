"""Tracked links through ``live.core.commands.apply``: a click names a product
with a url, carries the viewer's pseudonym when the shell knows who clicked,
and counts in every status."""

from __future__ import annotations

from live.core.errors import NotFound
from tests.live.core.audience_sim import PRODUCTS, Sim, replay

WITH_URL = [{**PRODUCTS[0], "url": "https://shop.example/a1"}, PRODUCTS[1]]


def shop_sim(start: bool = True) -> Sim:
    sim = Sim(start=start)
    sim.do({"type": "products.replace", "products": WITH_URL})
    return sim


def test_a_click_is_journaled_with_the_viewer_when_known() -> None:
    sim = shop_sim()
    vid = sim.viewer()
    [anonymous] = sim.do({"type": "link.click", "sku": "A1"})
    [known] = sim.do({"type": "link.click", "sku": "A1"}, viewer=vid)
    assert (anonymous["viewer_id"], anonymous["pseudonym"]) == (None, None)
    assert (known["type"], known["sku"], known["viewer_id"]) == ("link.clicked", "A1", vid)
    assert known["pseudonym"] == sim.state.ledger.viewers[vid].pseudonym
    assert sim.state.ledger.clicks == {"A1": 2}


def test_an_unknown_viewer_clicks_anonymously() -> None:
    sim = shop_sim()
    [event] = sim.do({"type": "link.click", "sku": "A1"}, viewer="v-gone")
    assert event["viewer_id"] is None


def test_an_unknown_sku_or_a_product_without_url_is_not_found() -> None:
    sim = shop_sim()
    assert sim.refused({"type": "link.click", "sku": "ZZ"}, NotFound).field == "sku"
    assert "no url" in sim.refused({"type": "link.click", "sku": "B2"}, NotFound).message


def test_clicks_count_before_the_start_and_after_the_end_and_fold_back() -> None:
    sim = shop_sim(start=False)
    sim.do({"type": "link.click", "sku": "A1"})
    sim.do({"type": "show.start"}, seed=sim.seed())
    sim.do({"type": "show.end"})
    sim.do({"type": "link.click", "sku": "A1"})
    assert sim.state.ledger.clicks == {"A1": 2}
    assert replay(sim.journal).ledger == sim.state.ledger
