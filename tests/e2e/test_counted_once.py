"""Issue 7's "done when", as the review sees it (TestClient, the test's clock): what
a shop or a platform sends twice counts once in the review's numbers, and what is
refused (a bad signature, a return of an unknown order, a bad CSV, a platform
batch for a show that is not live) changes none of them. The journal-level
tests of each are in tests/live/http/test_shop.py and test_interactions.py."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from starlette.testclient import TestClient

from tests.conftest import FakeClock, admin_headers, new_show


def sign(secret: str, raw: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def webhook(client: TestClient, show: dict[str, Any], path: str, body: dict[str, Any],
            secret: str | None = None) -> int:
    raw = json.dumps(body).encode()
    r = client.post(f"/api/shows/{show['id']}/{path}", content=raw,
                    headers={"X-Live-Signature": sign(secret or show["webhook_secret"], raw)})
    return r.status_code


def numbers(client: TestClient, sid: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    r = client.get(f"/api/shows/{sid}/review", headers=admin_headers())
    assert r.status_code == 200, r.text
    return r.json()["metrics"], r.json()["minutes"]


def live_show(client: TestClient) -> dict[str, Any]:
    show = new_show(client)
    r = client.post(f"/api/shows/{show['id']}/commands", json={"type": "show.start"}, headers=admin_headers())
    assert r.status_code == 200, r.text
    return show


def test_an_order_sent_twice_counts_once_and_refused_webhooks_count_nothing(
        client: TestClient, clock: FakeClock) -> None:
    show = live_show(client)
    order = {"order_id": "TB-1", "sku": "A1", "qty": 2, "amount": "398.00"}
    assert webhook(client, show, "orders", order) == 201
    clock.advance(30)
    assert webhook(client, show, "orders", order) == 200  # the shop's retry
    clock.advance(31)
    before = numbers(client, show["id"])
    assert webhook(client, show, "orders", order | {"order_id": "TB-2"}, secret="wh_guess") == 401
    assert webhook(client, show, "returns", {"order_id": "TB-404", "qty": 1}) == 404
    bad_csv = "order_id,sku,qty,amount\nTB-3,A1,1,199.00\nTB-4,NOPE,1,1.00\n"
    r = client.post(f"/api/shows/{show['id']}/orders.csv", content=bad_csv.encode(),
                    headers={**admin_headers(), "Content-Type": "text/csv"})
    assert (r.status_code, r.json()["error"]["field"]) == (422, "line 3")
    metrics, minutes = numbers(client, show["id"])
    assert (metrics, minutes) == before
    assert (metrics["orders"], metrics["units"], metrics["gmv"]) == (1, 2, "398.00")
    assert [m["orders"] for m in minutes] == [1, 0]


def test_platform_events_sent_twice_count_once_and_not_live_none(client: TestClient, clock: FakeClock) -> None:
    draft = new_show(client)
    show = live_show(client)
    t = clock.t
    batch = [{"id": "e1", "type": "join", "viewer_id": "dy-1", "at": t, "nickname": "小王"},
             {"id": "e2", "type": "like", "viewer_id": "dy-1", "at": t + 1, "count": 7},
             {"id": "e3", "type": "comment", "viewer_id": "dy-1", "at": t + 2, "text": "好看"}]
    clock.advance(5)
    for events, accepted, duplicates in ((batch, 3, 0), (batch + batch[1:], 0, 5)):
        r = client.post(f"/api/shows/{show['id']}/interactions", json={"events": events}, headers=admin_headers())
        assert (r.status_code, r.json()["accepted"], r.json()["duplicates"]) == (200, accepted, duplicates)
    r = client.post(f"/api/shows/{draft['id']}/interactions", json={"events": batch}, headers=admin_headers())
    assert r.status_code == 409
    metrics, [minute] = numbers(client, show["id"])
    assert (metrics["unique_viewers"], metrics["likes"], metrics["comments"]) == (1, 7, 1)
    assert (minute["joins"], minute["likes"], minute["comments"], minute["concurrent"]) == (1, 7, 1, 1)
