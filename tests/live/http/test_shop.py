"""The shop's side over HTTP, on SQLite and PostgreSQL: signed order and return
webhooks (a bad signature writes nothing), idempotency by order id, returns
bounded by what was ordered, the CSV import (all or nothing), and the webhook
secret (the admin's alone, rotatable)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from server import create_app
from tests.conftest import FakeClock, admin_headers, make_settings, new_show

ORDER = {"order_id": "TB-20240501-0001", "sku": "A1", "qty": 2, "amount": "398.00"}


@pytest.fixture
def shop(db_url: str, clock: FakeClock) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(db_url), clock=clock)) as c:
        yield c


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send(client: TestClient, show: dict[str, Any], path: str, body: Any, secret: str | None = None) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(f"/api/shows/{show['id']}/{path}", content=raw,
                       headers={"X-Live-Signature": sign(secret or show["webhook_secret"], raw),
                                "Content-Type": "application/json"})


def journal(client: TestClient, sid: str) -> list[dict[str, Any]]:
    hub = client.app.state.hub  # type: ignore[attr-defined]
    events: list[dict[str, Any]] = client.portal.call(hub.journal.load, sid)  # type: ignore[union-attr]
    return events


def of_type(client: TestClient, sid: str, kind: str) -> list[dict[str, Any]]:
    return [e for e in journal(client, sid) if e["type"] == kind]


# -- signatures -------------------------------------------------------------------------


def bad_signatures(show: dict[str, Any], other: dict[str, Any], raw: bytes) -> dict[str, dict[str, str | bytes]]:
    good = sign(show["webhook_secret"], raw)
    return {
        "missing": {},
        "empty": {"X-Live-Signature": ""},
        "wrong secret": {"X-Live-Signature": sign("wh_guess", raw)},
        "another show's secret": {"X-Live-Signature": sign(other["webhook_secret"], raw)},
        # the signature of the body before someone changed it (here, by one byte)
        "tampered body": {"X-Live-Signature": sign(show["webhook_secret"], raw.replace(b"1", b"2", 1))},
        "one digit off": {"X-Live-Signature": good[:-1] + ("0" if good[-1] != "0" else "1")},
        "no prefix": {"X-Live-Signature": good.removeprefix("sha256=")},
        "other algorithm": {"X-Live-Signature": "sha1=" + hmac.new(show["webhook_secret"].encode(), raw,
                                                                   hashlib.sha1).hexdigest()},
        "not ascii": {"X-Live-Signature": b"sha256=" + "é".encode("latin-1") * 64},
    }


@pytest.mark.parametrize("path", ["orders", "returns"])
def test_a_missing_wrong_or_tampered_signature_is_401_and_writes_nothing(shop: TestClient, path: str) -> None:
    show, other = new_show(shop), new_show(shop)
    send(shop, show, "orders", ORDER)
    body = ORDER if path == "orders" else {"order_id": ORDER["order_id"], "qty": 1}
    raw = json.dumps(body | {"order_id": "TB-new"} if path == "orders" else body).encode()
    before = journal(shop, show["id"])
    for case, headers in bad_signatures(show, other, raw).items():
        r = shop.post(f"/api/shows/{show['id']}/{path}", content=raw, headers=headers)
        assert r.status_code == 401, case
        assert r.json()["error"]["code"] == "UNAUTHORIZED", case
    assert journal(shop, show["id"]) == before


def test_the_signature_is_checked_before_the_body_is_parsed(shop: TestClient) -> None:
    show = new_show(shop)
    r = shop.post(f"/api/shows/{show['id']}/orders", content=b"{not json",
                  headers={"X-Live-Signature": sign("wh_guess", b"{not json")})
    assert r.status_code == 401
    r = send(shop, show, "orders", b"{not json")  # signed, then judged
    assert (r.status_code, r.json()["error"]["field"]) == (422, "body")


def test_an_uppercase_hex_signature_is_the_same_signature(shop: TestClient) -> None:
    show = new_show(shop)
    raw = json.dumps(ORDER).encode()
    r = shop.post(f"/api/shows/{show['id']}/orders", content=raw,
                  headers={"X-Live-Signature": "sha256=" + sign(show["webhook_secret"], raw)[7:].upper()})
    assert r.status_code == 201, r.text


def test_an_unknown_show_is_404(shop: TestClient) -> None:
    new_show(shop)
    r = shop.post("/api/shows/snope/orders", content=b"{}", headers={"X-Live-Signature": "sha256=00"})
    assert r.status_code == 404


# -- orders -----------------------------------------------------------------------------


def test_the_same_order_twice_counts_once_with_the_same_answer(shop: TestClient, clock: FakeClock) -> None:
    show = new_show(shop)
    first = send(shop, show, "orders", ORDER | {"at": clock.t - 60_000})
    assert first.status_code == 201, first.text
    assert first.json() == {**ORDER, "viewer_id": None, "placed_at": clock.t - 60_000, "duplicate": False}
    clock.advance(5)
    again = send(shop, show, "orders", ORDER | {"at": clock.t - 65_000})
    assert again.status_code == 200
    assert again.json() == first.json() | {"duplicate": True}
    [placed] = of_type(shop, show["id"], "order.placed")
    assert placed | {"seq": 0} == {"type": "order.placed", "seq": 0, "at": clock.t - 5000, **ORDER,
                                   "viewer_id": None, "placed_at": clock.t - 65_000, "source": "webhook"}


def test_another_order_under_a_used_id_is_422_and_writes_nothing(shop: TestClient) -> None:
    show = new_show(shop)
    send(shop, show, "orders", ORDER)
    before = journal(shop, show["id"])
    r = send(shop, show, "orders", ORDER | {"qty": 3})
    assert (r.status_code, r.json()["error"]["code"], r.json()["error"]["field"]) == (
        422, "IDEMPOTENCY_MISMATCH", "order_id")
    assert journal(shop, show["id"]) == before


@pytest.mark.parametrize(("change", "field"), [
    ({"sku": "ZZ9"}, "sku"), ({"amount": "12.345"}, "amount"), ({"viewer_id": "v0000"}, "viewer_id"),
    ({"qty": 0}, "qty"), ({"extra": 1}, "extra"), ({"_source": "csv"}, "_source"),
])
def test_a_bad_order_is_422_naming_the_field(shop: TestClient, change: dict[str, Any], field: str) -> None:
    show = new_show(shop)
    r = send(shop, show, "orders", ORDER | change)
    assert (r.status_code, r.json()["error"]["field"]) == (422, field)
    assert of_type(shop, show["id"], "order.placed") == []


def test_the_buyer_is_our_viewer_and_an_ended_show_still_takes_orders(shop: TestClient, clock: FakeClock) -> None:
    show = new_show(shop)
    for command in ("show.start", "show.end"):
        shop.post(f"/api/shows/{show['id']}/commands", json={"type": command}, headers=admin_headers())
    viewer = shop.post(f"/api/shows/{show['id']}/viewers", json={"nickname": "Ann"})
    assert viewer.status_code == 409  # no new viewers once ended; register before
    clock.advance(3 * 24 * 3600)
    r = send(shop, show, "orders", ORDER)
    assert r.status_code == 201 and r.json()["placed_at"] == clock.t


def test_a_known_viewer_is_recorded_as_the_buyer(shop: TestClient) -> None:
    show = new_show(shop)
    vid = shop.post(f"/api/shows/{show['id']}/viewers", json={"nickname": "Ann"}).json()["viewer_id"]
    r = send(shop, show, "orders", ORDER | {"viewer_id": vid})
    assert r.status_code == 201 and r.json()["viewer_id"] == vid
    assert of_type(shop, show["id"], "order.placed")[0]["viewer_id"] == vid


# -- returns ----------------------------------------------------------------------------


def test_a_return_for_an_unknown_order_is_404_and_writes_nothing(shop: TestClient) -> None:
    show = new_show(shop)
    before = journal(shop, show["id"])
    r = send(shop, show, "returns", {"order_id": "TB-nope", "qty": 1})
    assert (r.status_code, r.json()["error"]["field"]) == (404, "order_id")
    assert journal(shop, show["id"]) == before


def test_returns_add_up_to_at_most_the_units_ordered(shop: TestClient, clock: FakeClock) -> None:
    show = new_show(shop)
    send(shop, show, "orders", ORDER)
    clock.advance(86_400)
    first = send(shop, show, "returns", {"order_id": ORDER["order_id"], "qty": 1, "at": clock.t - 1000})
    assert first.status_code == 201
    assert first.json() == {"order_id": ORDER["order_id"], "qty": 1, "returned_at": clock.t - 1000, "returned": 1,
                            "return_id": None, "duplicate": False}
    retry = send(shop, show, "returns", {"order_id": ORDER["order_id"], "qty": 1, "at": clock.t - 1000})
    assert retry.status_code == 200 and retry.json()["duplicate"] is True
    over = send(shop, show, "returns", {"order_id": ORDER["order_id"], "qty": 2})
    assert (over.status_code, over.json()["error"]["field"]) == (422, "qty")
    assert send(shop, show, "returns", {"order_id": ORDER["order_id"], "qty": 1}).status_code == 201
    assert [e["qty"] for e in of_type(shop, show["id"], "order.returned")] == [1, 1]


def test_a_return_id_makes_a_retry_without_a_time_count_once(shop: TestClient, clock: FakeClock) -> None:
    show = new_show(shop)
    send(shop, show, "orders", ORDER)  # 2 units
    clock.advance(3_600)
    body = {"order_id": ORDER["order_id"], "qty": 1, "return_id": "AS-1"}
    first = send(shop, show, "returns", body)
    assert first.status_code == 201 and first.json()["return_id"] == "AS-1"
    clock.advance(60)  # the shop retries a minute later, without a time
    retry = send(shop, show, "returns", body)
    assert retry.status_code == 200
    assert retry.json() | {} == first.json() | {"duplicate": True}  # the recorded time, not the retry's
    other = send(shop, show, "returns", body | {"qty": 2})
    assert (other.status_code, other.json()["error"]["code"], other.json()["error"]["field"]) == (
        422, "IDEMPOTENCY_MISMATCH", "return_id")
    assert [e["qty"] for e in of_type(shop, show["id"], "order.returned")] == [1]
    second = send(shop, show, "returns", body | {"return_id": "AS-2"})
    assert second.status_code == 201 and second.json()["returned"] == 2


def test_a_won_claim_can_be_returned_through_the_webhook(shop: TestClient) -> None:
    show = new_show(shop)
    sid = show["id"]
    shop.post(f"/api/shows/{sid}/commands", json={"type": "show.start"}, headers=admin_headers())
    sale = shop.post(f"/api/shows/{sid}/commands", headers=admin_headers(),
                     json={"type": "flash_sale.open", "sku": "A1", "stock": 5, "duration_seconds": 60})
    token = shop.post(f"/api/shows/{sid}/viewers", json={"nickname": "Bo"}).json()["token"]
    won = shop.post(f"/api/shows/{sid}/flash-sales/{sale.json()['events'][0]['sale']['id']}/claims", json={"qty": 1},
                    headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "k1"}).json()
    r = send(shop, show, "returns", {"order_id": won["order_id"], "qty": 1})
    assert r.status_code == 201 and r.json()["returned"] == 1


# -- the webhook secret -----------------------------------------------------------------


def test_the_secret_is_the_admins_alone_and_rotating_it_retires_the_old_one(shop: TestClient) -> None:
    show = new_show(shop)
    sid, old = show["id"], show["webhook_secret"]
    assert old.startswith("wh_") and len(old) >= 32
    assert shop.get(f"/api/shows/{sid}", headers=admin_headers()).json()["webhook_secret"] == old
    staff = shop.post(f"/api/shows/{sid}/staff", json={"name": "Ann", "role": "assistant"}, headers=admin_headers())
    assistant = {"Authorization": f"Bearer {staff.json()['token']}"}
    assert "webhook_secret" not in shop.get(f"/api/shows/{sid}", headers=assistant).json()
    assert shop.post(f"/api/shows/{sid}/webhook-secret", headers=assistant).status_code == 403
    rotated = shop.post(f"/api/shows/{sid}/webhook-secret", headers=admin_headers())
    assert rotated.status_code == 200
    new = rotated.json()["webhook_secret"]
    assert new != old and new.startswith("wh_")
    assert send(shop, show, "orders", ORDER, secret=old).status_code == 401
    assert send(shop, show, "orders", ORDER, secret=new).status_code == 201
    assert shop.get(f"/api/shows/{sid}", headers=admin_headers()).json()["webhook_secret"] == new
    assert shop.post("/api/shows/snope/webhook-secret", headers=admin_headers()).status_code == 404
    assert all(old not in json.dumps(e) and new not in json.dumps(e) for e in journal(shop, sid))
    assert old not in shop.get(f"/api/shows/{sid}/state", headers=admin_headers()).text


# -- the CSV import ---------------------------------------------------------------------

GOOD_CSV = (
    "\ufeff订单号,商品编码,数量,实付金额,下单时间,类型\n"
    "TB-1,A1,2,398.00,2023-11-15 06:20:00,订单\n"
    "TB-2,B2,1,¥99.50,1700000500000,\n"
    "TB-1,,1,,2023-11-16 10:00:00,退货\n"
)


def post_csv(client: TestClient, sid: str, text: str, headers: dict[str, str] | None = None) -> Any:
    return client.post(f"/api/shows/{sid}/orders.csv", content=text.encode(),
                       headers={**(headers or admin_headers()), "Content-Type": "text/csv; charset=utf-8"})


def test_a_good_csv_imports_every_line_and_again_only_duplicates(shop: TestClient, clock: FakeClock) -> None:
    show = new_show(shop)
    clock.advance(2 * 86_400)
    r = post_csv(shop, show["id"], GOOD_CSV)
    assert r.status_code == 200, r.text
    assert r.json() | {"seq": 0} == {"seq": 0, "lines": 3, "orders": 2, "returns": 1, "duplicates": 0}
    placed = of_type(shop, show["id"], "order.placed")
    assert [(e["order_id"], e["amount"], e["source"]) for e in placed] == [("TB-1", "398.00", "csv"),
                                                                          ("TB-2", "99.50", "csv")]
    assert placed[0]["placed_at"] == 1_700_000_400_000  # 06:20 in Shanghai
    [returned] = of_type(shop, show["id"], "order.returned")
    assert (returned["order_id"], returned["qty"], returned["source"]) == ("TB-1", 1, "csv")
    before = journal(shop, show["id"])
    again = post_csv(shop, show["id"], GOOD_CSV)
    assert again.json() | {"seq": 0} == {"seq": 0, "lines": 3, "orders": 0, "returns": 0, "duplicates": 3}
    assert journal(shop, show["id"]) == before


def test_a_csv_with_bad_lines_names_each_and_imports_nothing(shop: TestClient) -> None:
    show = new_show(shop)
    bad = ("order_id,sku,qty,amount,time\n"
           "ok-1,A1,1,199.00,1700000100000\n"
           "bad-1,ZZ9,1,1.00,1700000100000\n"
           "bad-2,A1,two,1.00,1700000100000\n"
           "\n"
           "bad-3,A1,1,1.001,1700000100000\n"
           "bad-4,A1,1,1.00,next tuesday\n")
    before = journal(shop, show["id"])
    r = post_csv(shop, show["id"], bad)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["field"] == "line 3"
    assert [e["field"] for e in error["errors"]] == ["line 3", "line 4", "line 6", "line 7"]
    assert "sku" in error["errors"][0]["message"] and "next tuesday" in error["errors"][3]["message"]
    assert journal(shop, show["id"]) == before


@pytest.mark.parametrize(("text", "ctype", "field"), [
    ("sku,qty\nA1,1\n", "text/csv", "line 1"),
    (GOOD_CSV, "application/json", "Content-Type"),
])
def test_a_csv_the_import_cannot_read_is_422(shop: TestClient, text: str, ctype: str, field: str) -> None:
    show = new_show(shop)
    r = shop.post(f"/api/shows/{show['id']}/orders.csv", content=text.encode(),
                  headers={**admin_headers(), "Content-Type": ctype})
    assert (r.status_code, r.json()["error"]["field"]) == (422, field)


def test_the_import_is_not_a_command_for_the_commands_endpoint(shop: TestClient) -> None:
    show = new_show(shop)
    r = shop.post(f"/api/shows/{show['id']}/commands", headers=admin_headers(),
                  json={"type": "orders.import", "rows": []})
    assert (r.status_code, r.json()["error"]["field"]) == (422, "type")
