"""The host's controls over HTTP: restock, extend and close a flash sale (also a
sold-out one), and the overlay test event; each bad input gets the
contract's error and writes nothing. The server's clock is the test's."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import FakeClock, admin_headers, new_show
from tests.test_rbac import admin_command, seq_of, token_for, viewer_comments


def host_show(client: TestClient) -> tuple[str, dict[str, str], str]:
    """A live show with a 60 s sale of 2 units; returns its id, a host's headers, the sale id."""
    sid = new_show(client)["id"]
    admin_command(client, sid, {"type": "show.start"})
    r = client.post(f"/api/shows/{sid}/commands", headers=admin_headers(),
                    json={"type": "flash_sale.open", "sku": "A1", "stock": 2, "per_viewer_limit": 2,
                          "duration_seconds": 60})
    sale_id = r.json()["events"][0]["sale"]["id"]
    return sid, {"Authorization": f"Bearer {token_for(client, sid, 'host')}"}, sale_id


def send(client: TestClient, sid: str, headers: dict[str, str], body: dict[str, Any]) -> Any:
    return client.post(f"/api/shows/{sid}/commands", headers=headers, json=body)


def sale_of(client: TestClient, sid: str, sale_id: str) -> dict[str, Any]:
    state = client.get(f"/api/shows/{sid}/state", headers=admin_headers()).json()
    return next(s for s in state["flash_sales"] if s["id"] == sale_id)  # type: ignore[no-any-return]


def sell_out(client: TestClient, sid: str, sale_id: str) -> None:
    r = client.post(f"/api/shows/{sid}/viewers", json={"nickname": "Ann"})
    token = r.json()["token"]
    r = client.post(f"/api/shows/{sid}/flash-sales/{sale_id}/claims", json={"qty": 2},
                    headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "k1"})
    assert r.status_code == 200, r.text


def test_the_host_restocks_a_sold_out_sale_and_it_sells_again(client: TestClient, clock: FakeClock) -> None:
    sid, host, sale_id = host_show(client)
    sell_out(client, sid, sale_id)
    sold_out = sale_of(client, sid, sale_id)
    assert (sold_out["status"], sold_out["closed_reason"], sold_out["sold"]) == ("closed", "sold_out", 2)
    clock.advance(10)
    r = send(client, sid, host, {"type": "flash_sale.restock", "sale_id": sale_id, "add": 3})
    assert r.status_code == 200, r.text
    [event] = r.json()["events"]
    assert (event["type"], event["stock"], event["remaining"], event["reopened"]) == ("flash_sale.restocked", 5, 3,
                                                                                       True)
    sale = sale_of(client, sid, sale_id)
    assert (sale["status"], sale["stock"], sale["remaining"], sale["sold"], sale["closed_reason"]) == (
        "open", 5, 3, 2, None)


def test_the_host_extends_a_sale_and_closes_it_when_sold_out(client: TestClient, clock: FakeClock) -> None:
    sid, host, sale_id = host_show(client)
    deadline = sale_of(client, sid, sale_id)["deadline"]
    r = send(client, sid, host, {"type": "flash_sale.extend", "sale_id": sale_id, "seconds": 300})
    assert r.status_code == 200, r.text
    assert r.json()["events"][0]["deadline"] == deadline + 300_000
    clock.advance(90)  # past the old deadline: still selling
    assert sale_of(client, sid, sale_id)["status"] == "open"
    sell_out(client, sid, sale_id)
    r = send(client, sid, host, {"type": "flash_sale.close", "sale_id": sale_id})
    assert r.status_code == 200, r.text
    assert sale_of(client, sid, sale_id)["closed_reason"] == "closed"


@pytest.mark.parametrize("body, status, code, field", [
    ({"type": "flash_sale.restock", "sale_id": "{sale}", "add": 0}, 422, "INVALID", "add"),
    ({"type": "flash_sale.restock", "sale_id": "{sale}", "add": "3"}, 422, "INVALID", "add"),
    ({"type": "flash_sale.restock", "sale_id": "{sale}"}, 422, "INVALID", "add"),
    ({"type": "flash_sale.restock", "sale_id": "fs999", "add": 3}, 404, "NOT_FOUND", "sale_id"),
    ({"type": "flash_sale.extend", "sale_id": "{sale}", "seconds": 3601}, 422, "INVALID", "seconds"),
    ({"type": "flash_sale.extend", "sale_id": "{sale}", "seconds": -10}, 422, "INVALID", "seconds"),
    ({"type": "flash_sale.extend", "sale_id": "nope", "seconds": 10}, 404, "NOT_FOUND", "sale_id"),
    ({"type": "flash_sale.extend", "sale_id": "{sale}", "seconds": 10, "x": 1}, 422, "INVALID", "x"),
    ({"type": "overlay.test", "layer": "banner"}, 422, "INVALID", "layer"),
    ({"type": "overlay.test"}, 422, "INVALID", "layer"),
])
def test_a_bad_control_gets_the_contracts_error_and_writes_nothing(
    client: TestClient, body: dict[str, Any], status: int, code: str, field: str
) -> None:
    sid, host, sale_id = host_show(client)
    before = seq_of(client, sid)
    r = send(client, sid, host, {k: val.format(sale=sale_id) if isinstance(val, str) else val
                                 for k, val in body.items()})
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code and r.json()["error"]["field"] == field
    assert seq_of(client, sid) == before


@pytest.mark.parametrize("kind, extra", [("flash_sale.restock", {"add": 1}), ("flash_sale.extend", {"seconds": 60})])
def test_a_closed_or_ended_sale_is_a_wrong_state(client: TestClient, clock: FakeClock, kind: str,
                                                 extra: dict[str, Any]) -> None:
    sid, host, sale_id = host_show(client)
    admin_command(client, sid, {"type": "flash_sale.close", "sale_id": sale_id})
    before = seq_of(client, sid)
    r = send(client, sid, host, {"type": kind, "sale_id": sale_id, **extra})
    assert r.status_code == 409 and r.json()["error"]["code"] == "ENDED"
    assert seq_of(client, sid) == before


def test_overlay_test_events_are_one_a_second_by_the_servers_clock(client: TestClient, clock: FakeClock) -> None:
    sid = new_show(client)["id"]  # a draft show: overlays are set up before it starts
    host = {"Authorization": f"Bearer {token_for(client, sid, 'host')}"}
    r = send(client, sid, host, {"type": "overlay.test", "layer": "sale"})
    assert r.status_code == 200 and r.json()["events"][0]["layer"] == "sale"
    before = seq_of(client, sid)
    r = send(client, sid, host, {"type": "overlay.test", "layer": "draw"})
    assert r.status_code == 429 and r.json()["error"]["code"] == "RATE_LIMITED"
    assert seq_of(client, sid) == before
    clock.advance(1)
    assert send(client, sid, host, {"type": "overlay.test", "layer": "draw"}).status_code == 200


def test_a_show_with_test_events_reviews_as_one_without(client: TestClient, clock: FakeClock) -> None:
    def run(tests: bool) -> dict[str, Any]:
        sid = new_show(client)["id"]
        admin_command(client, sid, {"type": "show.start"})
        for minute in range(3):
            viewer_comments(client, sid, f"V{minute}", "hello")
            if tests:
                admin_command(client, sid, {"type": "overlay.test", "layer": "comments"})
            clock.advance(60)
        admin_command(client, sid, {"type": "show.end"})
        r = client.get(f"/api/shows/{sid}/review", headers=admin_headers())
        assert r.status_code == 200, r.text
        return r.json()["metrics"]  # type: ignore[no-any-return]

    assert run(tests=True) == run(tests=False)
