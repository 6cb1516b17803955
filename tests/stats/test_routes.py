"""``GET /api/shows/{id}/review`` and ``…/review.csv`` through the app (TestClient,
the test's clock): who may read them, a draft's 409, the numbers so far of a
live show, the CSV Excel opens, no viewer id anywhere; a simulated show
imported as a recording gets its planted effects first; a refused return
leaves the review as it was."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from live.core.auth import REVIEW, STAFF_ROLES
from tests.conftest import FakeClock, admin_headers, new_show
from tests.stats.shows import Exodus, Rush, Spec, draw, recording
from tests.stats.test_dropoffs import product_segments


def staff(client: TestClient, sid: str, role: str) -> dict[str, str]:
    r = client.post(f"/api/shows/{sid}/staff", json={"name": "Mei", "role": role}, headers=admin_headers())
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def command(client: TestClient, sid: str, body: dict[str, Any]) -> dict[str, Any]:
    r = client.post(f"/api/shows/{sid}/commands", json=body, headers=admin_headers())
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def review(client: TestClient, sid: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    r = client.get(f"/api/shows/{sid}/review", headers=headers or admin_headers())
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def register(client: TestClient, sid: str, nickname: str) -> dict[str, Any]:
    r = client.post(f"/api/shows/{sid}/viewers", json={"nickname": nickname})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


@pytest.fixture
def live(client: TestClient) -> str:
    sid = str(new_show(client)["id"])
    command(client, sid, {"type": "show.start"})
    return sid


def test_the_readers_of_the_review_are_admin_host_assistant_and_analyst() -> None:
    assert REVIEW == {"admin", "host", "assistant", "analyst"}  # docs/permissions.md says so


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_the_review_is_for_its_readers_only(client: TestClient, live: str, role: str) -> None:
    status = 200 if role in REVIEW else 403
    for path in (f"/api/shows/{live}/review", f"/api/shows/{live}/review.csv"):
        assert client.get(path, headers=staff(client, live, role)).status_code == status
        assert client.get(path, headers=admin_headers()).status_code == 200


def test_the_review_needs_a_staff_token_of_the_show(client: TestClient, live: str) -> None:
    other = str(new_show(client)["id"])
    assert client.get(f"/api/shows/{live}/review").status_code == 401
    assert client.get(f"/api/shows/{live}/review", headers=staff(client, other, "analyst")).status_code == 403
    viewer = register(client, live, "小明")
    assert client.get(f"/api/shows/{live}/review",
                      headers={"Authorization": f"Bearer {viewer['token']}"}).status_code == 401
    r = client.get("/api/shows/nope/review", headers=admin_headers())
    assert r.status_code == 404


def test_a_draft_has_nothing_to_review(client: TestClient) -> None:
    sid = new_show(client)["id"]
    for path in (f"/api/shows/{sid}/review", f"/api/shows/{sid}/review.csv"):
        r = client.get(path, headers=admin_headers())
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "WRONG_STATE"


def test_a_live_show_is_reviewed_so_far(client: TestClient, clock: FakeClock, live: str) -> None:
    started = clock.t
    clock.advance(125)
    got = review(client, live)
    assert got["show"]["status"] == "live" and got["show"]["started_at"] == started
    assert got["as_of"] == clock.t
    assert [m["minute"] for m in got["minutes"]] == [0, 1, 2]
    assert set(got["minutes"][0]) == {"minute", "at", "concurrent", "peak", "joins", "leaves", "likes", "comments",
                                      "shares", "clicks", "orders", "units", "gmv", "segment"}
    clock.advance(60)
    assert len(review(client, live)["minutes"]) == 4


def test_the_review_counts_what_viewers_did_and_names_none_of_them(client: TestClient, clock: FakeClock,
                                                                   live: str) -> None:
    viewer = register(client, live, "小明")
    sale = next(e for e in command(client, live, {"type": "flash_sale.open", "sku": "A1", "stock": 5, "per_viewer_limit": 2,
                                                  "duration_seconds": 600})["events"]
                if e["type"] == "flash_sale.opened")["sale"]
    clock.advance(10)
    with client.websocket_connect(f"/ws/shows/{live}") as ws:
        ws.send_json({"type": "hello", "token": viewer["token"]})
        assert ws.receive_json()["type"] == "snapshot"
        ws.send_json({"type": "comment", "text": "好看", "request_id": "c1"})
        while ws.receive_json()["type"] != "command.result":
            pass
        ws.close()
    # the socket closed, but the clock stands still: the grace period never runs out, no leave
    clock.advance(60)
    r = client.post(f"/api/shows/{live}/flash-sales/{sale['id']}/claims", json={"qty": 2},
                    headers={"Authorization": f"Bearer {viewer['token']}", "Idempotency-Key": "k1"})
    assert r.status_code == 200, r.text
    r = client.get(f"/api/shows/{live}/review", headers=admin_headers())
    got = r.json()
    assert viewer["viewer_id"] not in r.text
    metrics = got["metrics"]
    assert (metrics["unique_viewers"], metrics["comments"], metrics["orders"], metrics["units"]) == (1, 1, 1, 2)
    assert (metrics["gmv"], metrics["buyers"], metrics["conversion_rate"]) == ("398.00", 1, 1.0)
    assert metrics["interaction_rate"] == 1.0
    rows = got["minutes"]
    assert [(m["joins"], m["comments"], m["orders"], m["gmv"], m["concurrent"]) for m in rows] == [
        (1, 1, 0, "0.00", 1), (0, 0, 1, "398.00", 1)]


def test_an_ended_show_is_reviewed_to_its_end(client: TestClient, clock: FakeClock, live: str) -> None:
    clock.advance(839)
    command(client, live, {"type": "show.end"})
    clock.advance(3600)
    got = review(client, live)
    assert got["show"]["status"] == "ended"
    assert [m["minute"] for m in got["minutes"]] == list(range(14))


def test_the_csv_is_the_minute_series_that_excel_opens_in_chinese(client: TestClient, clock: FakeClock) -> None:
    segments = [{"kind": "warmup", "title": "预热 开场", "planned_seconds": 60},
                {"kind": "product", "title": "=HYPERLINK(1)", "sku": "A1", "planned_seconds": 60}]
    sid = new_show(client, segments=segments)["id"]
    command(client, sid, {"type": "show.start"})
    clock.advance(70)
    command(client, sid, {"type": "segment.next"})
    clock.advance(60)
    r = client.get(f"/api/shows/{sid}/review.csv", headers=staff(client, sid, "analyst"))
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in r.headers["content-disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["minute", "at", "time", "concurrent", "peak", "joins", "leaves", "likes", "comments",
                       "shares", "clicks", "orders", "units", "gmv", "segment", "segment_title"]
    assert [(row[0], row[-2], row[-1]) for row in rows[1:]] == [("0", "0", "预热 开场"), ("1", "1", "'=HYPERLINK(1)"),
                                                                 ("2", "1", "'=HYPERLINK(1)")]
    assert rows[1][13] == "0.00"
    assert r.content.count(b"\r\n") == 4
    assert review(client, sid)["minutes"][2]["segment"] == 1


def test_an_imported_show_gets_its_planted_exodus_and_rush_first(client: TestClient) -> None:
    spec = Spec(seed=91, minutes=40, viewers=900, interactions=0.1, language="en")
    segments = product_segments(spec)
    show = draw(Spec(**{**spec.__dict__, "effects": (Exodus(segments[1], share=0.35), Rush(segments[2], share=0.2))}))
    body = "\n".join(json.dumps(line, ensure_ascii=False) for line in recording(show)).encode()
    r = client.post("/api/shows/import", content=body,
                    headers={"Content-Type": "application/x-ndjson", **admin_headers()})
    assert r.status_code == 201, r.text
    got = review(client, r.json()["id"])
    assert got["drop_offs"][0]["segment"]["index"] == segments[1]
    assert got["conversion_peaks"][0]["segment"]["index"] == segments[2]
    assert got["conversion_peaks"][0]["flash_sale"] is not None
    assert got["metrics"]["unique_viewers"] == len(show.join)
    assert got["recommendations"] and got["show"]["language"] == "en"


def test_a_return_for_an_unknown_order_is_refused_and_the_review_unchanged(client: TestClient, live: str) -> None:
    secret = client.get(f"/api/shows/{live}", headers=admin_headers()).json()["webhook_secret"]
    before = review(client, live)
    raw = json.dumps({"order_id": "TB-nope", "qty": 1}).encode()
    r = client.post(f"/api/shows/{live}/returns", content=raw, headers={
        "X-Live-Signature": "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest(),
        "Content-Type": "application/json"})
    assert r.status_code == 404
    error = r.json()["error"]
    assert error["field"] == "order_id" and "TB-nope" in error["message"]
    after = review(client, live)
    assert after["metrics"] == before["metrics"] and after["metrics"]["returned_units"] == 0
