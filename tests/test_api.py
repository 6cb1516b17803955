"""The HTTP API (docs/api.md) through Starlette's TestClient: every endpoint that
exists, and every bad input answered with the contract's error and nothing written."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import ADMIN, PRODUCTS, SEGMENTS, FakeClock, admin_headers, new_show

ADMIN_H = admin_headers()


# -- helpers ---------------------------------------------------------------------


def seq_of(client: TestClient, sid: str) -> int:
    r = client.get(f"/api/shows/{sid}/state", headers=ADMIN_H)
    assert r.status_code == 200, r.text
    return int(r.json()["seq"])


def show_count(client: TestClient) -> int:
    r = client.get("/api/shows", headers=ADMIN_H)
    assert r.status_code == 200, r.text
    return len(r.json()["shows"])


def assert_error(r: Any, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    """The contract's error body: exactly ``{"error": {code, message[, field]}}``."""
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert err["code"] == code, err
    assert isinstance(err["message"], str) and err["message"], err
    assert set(err) <= {"code", "message", "field"}, err
    assert err.get("field") == field, err
    return err  # type: ignore[no-any-return]


def command(client: TestClient, sid: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    return client.post(f"/api/shows/{sid}/commands", json=body, headers=headers or ADMIN_H)


def add_staff(client: TestClient, sid: str, role: str, name: str = "Ann") -> dict[str, Any]:
    r = client.post(f"/api/shows/{sid}/staff", json={"name": name, "role": role}, headers=ADMIN_H)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def show(client: TestClient) -> dict[str, Any]:
    return new_show(client)


# -- shows -------------------------------------------------------------------------


def test_create_show_returns_201_with_id_overlay_key_and_plan(client: TestClient, clock: FakeClock) -> None:
    r = client.post("/api/shows", json={"title": "Spring", "products": PRODUCTS, "segments": SEGMENTS}, headers=ADMIN_H)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["id"] and body["overlay_key"].startswith("ov_")
    assert body["status"] == "draft" and body["created_at"] == clock()
    assert [p["sku"] for p in body["products"]] == ["A1", "B2"]
    assert [s["title"] for s in body["segments"]] == [s["title"] for s in SEGMENTS]
    assert body["links"]["overlay"].endswith(f"/shows/{body['id']}/overlay?key={body['overlay_key']}")


def test_create_show_accepts_rundown_object(client: TestClient) -> None:
    r = client.post(
        "/api/shows", json={"title": "T", "products": PRODUCTS, "rundown": {"segments": SEGMENTS[:2]}}, headers=ADMIN_H
    )
    assert r.status_code == 201, r.text
    assert len(r.json()["segments"]) == 2


def test_list_and_read_shows(client: TestClient, show: dict[str, Any]) -> None:
    other = new_show(client, title="Other")
    r = client.get("/api/shows", headers=ADMIN_H)
    assert r.status_code == 200
    assert {s["id"] for s in r.json()["shows"]} == {show["id"], other["id"]}
    r = client.get(f"/api/shows/{show['id']}", headers=ADMIN_H)
    assert r.status_code == 200
    assert r.json()["title"] == "Test show" and r.json()["overlay_key"] == show["overlay_key"]


def test_staff_lists_only_their_show(client: TestClient, show: dict[str, Any]) -> None:
    new_show(client, title="Other")
    host = add_staff(client, show["id"], "host")
    r = client.get("/api/shows", headers=bearer(host["token"]))
    assert r.status_code == 200
    assert [s["id"] for s in r.json()["shows"]] == [show["id"]]


def test_put_products_replaces_the_list(client: TestClient, show: dict[str, Any]) -> None:
    sid = show["id"]
    products = [*PRODUCTS, {"sku": "C3", "title": "Mask", "list_price": "20", "stock": 5}]
    r = client.put(f"/api/shows/{sid}/products", json={"products": products}, headers=ADMIN_H)
    assert r.status_code == 200, r.text
    assert [e["type"] for e in r.json()["events"]] == ["products.replaced"]
    assert r.json()["seq"] == seq_of(client, sid) == 2
    state = client.get(f"/api/shows/{sid}/state", headers=ADMIN_H).json()
    assert [p["sku"] for p in state["products"]] == ["A1", "B2", "C3"]


def test_put_rundown_json_replaces_segments(client: TestClient, show: dict[str, Any]) -> None:
    sid = show["id"]
    r = client.put(f"/api/shows/{sid}/rundown", json={"segments": SEGMENTS[:2]}, headers=ADMIN_H)
    assert r.status_code == 200, r.text
    state = client.get(f"/api/shows/{sid}/state", headers=ADMIN_H).json()
    assert [s["title"] for s in state["rundown"]["segments"]] == ["Warm-up", "Serum"]


def test_put_rundown_csv_imports_a_spreadsheet(client: TestClient, show: dict[str, Any]) -> None:
    sid = show["id"]
    csv_text = "kind,title,sku,minutes,talking_points\nwarmup,Hello,,5,hi | welcome\nproduct,Serum,A1,15,\n"
    r = client.put(
        f"/api/shows/{sid}/rundown", content=csv_text.encode(), headers={**ADMIN_H, "Content-Type": "text/csv"}
    )
    assert r.status_code == 200, r.text
    segs = client.get(f"/api/shows/{sid}/state", headers=ADMIN_H).json()["rundown"]["segments"]
    assert [(s["title"], s["sku"], s["planned_seconds"]) for s in segs] == [("Hello", None, 300), ("Serum", "A1", 900)]
    assert segs[0]["talking_points"] == ["hi", "welcome"]


def test_post_staff_returns_token_and_login_link(client: TestClient, show: dict[str, Any]) -> None:
    r = client.post(f"/api/shows/{show['id']}/staff", json={"name": "Li", "role": "assistant"}, headers=ADMIN_H)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["role"] == "assistant" and body["name"] == "Li"
    assert body["token"].startswith("st_")
    assert body["login_url"].startswith("http://testserver/login/")


def test_commands_return_seq_and_events(client: TestClient, show: dict[str, Any]) -> None:
    sid = show["id"]
    r = command(client, sid, {"type": "show.start"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["seq"] == 3 and [e["seq"] for e in body["events"]] == [2, 3]
    r = command(client, sid, {"type": "segment.extend", "seconds": 60})
    assert r.status_code == 200, r.text
    assert r.json()["events"][0]["extended_seconds"] == 60


def test_state_with_bearer_is_the_staff_view(client: TestClient, show: dict[str, Any], clock: FakeClock) -> None:
    r = client.get(f"/api/shows/{show['id']}/state", headers=ADMIN_H)
    assert r.status_code == 200
    state = r.json()
    assert state["server_time"] == clock()
    assert state["show"]["id"] == show["id"] and state["show"]["status"] == "draft"
    assert state["rundown"]["segments"][0]["talking_points"] == ["hello"]
    assert "compliance" in state


@pytest.mark.parametrize("how", ["query", "header"])
def test_state_with_overlay_key_is_the_public_view(client: TestClient, show: dict[str, Any], how: str) -> None:
    sid, key = show["id"], show["overlay_key"]
    if how == "query":
        r = client.get(f"/api/shows/{sid}/state", params={"key": key})
    else:
        r = client.get(f"/api/shows/{sid}/state", headers={"X-Overlay-Key": key})
    assert r.status_code == 200, r.text
    state = r.json()
    assert state["seq"] == 1 and state["show"]["title"] == "Test show"
    assert "compliance" not in state
    assert all("talking_points" not in s and "actions" not in s for s in state["rundown"]["segments"])
    assert "talking_points" not in r.text


def test_state_with_wrong_overlay_key_is_401(client: TestClient, show: dict[str, Any]) -> None:
    r = client.get(f"/api/shows/{show['id']}/state", params={"key": "ov_wrong"})
    assert_error(r, 401, "UNAUTHORIZED")
    r = client.get(f"/api/shows/{show['id']}/state", params={"key": "é-not-ascii"})
    assert_error(r, 401, "UNAUTHORIZED")


def test_overlay_key_grants_no_commands(client: TestClient, show: dict[str, Any]) -> None:
    sid = show["id"]
    r = client.post(f"/api/shows/{sid}/commands", json={"type": "show.start"}, headers={"X-Overlay-Key": show["overlay_key"]})
    assert_error(r, 401, "UNAUTHORIZED")
    assert seq_of(client, sid) == 1


# -- login links and the session cookie ------------------------------------------------


def test_login_link_is_one_time_and_opens_the_control_panel(client: TestClient, show: dict[str, Any]) -> None:
    sid = show["id"]
    staff = add_staff(client, sid, "host")
    path = staff["login_url"].removeprefix("http://testserver")
    r = client.get(path, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"/shows/{sid}/control"
    cookie = r.headers["set-cookie"]
    assert "live_session=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    r = client.get(f"/shows/{sid}/control")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    # Second use of the same link: refused (an API client asking for JSON gets the contract's error).
    client.cookies.clear()
    r = client.get(path, follow_redirects=False, headers={"Accept": "application/json"})
    assert_error(r, 403, "LINK_USED")
    assert "set-cookie" not in r.headers


def test_control_panel_without_session_is_refused(client: TestClient, show: dict[str, Any]) -> None:
    r = client.get(f"/shows/{show['id']}/control")
    assert r.status_code == 401


def login(client: TestClient, sid: str, role: str) -> None:
    staff = add_staff(client, sid, role)
    r = client.get(staff["login_url"].removeprefix("http://testserver"), follow_redirects=False)
    assert r.status_code == 303


def test_cookie_post_without_origin_is_refused_as_csrf(client: TestClient, show: dict[str, Any]) -> None:
    sid = show["id"]
    login(client, sid, "assistant")
    r = client.post(f"/api/shows/{sid}/commands", json={"type": "show.start"})
    assert_error(r, 403, "BAD_ORIGIN")
    r = client.post(f"/api/shows/{sid}/commands", json={"type": "show.start"}, headers={"Origin": "https://evil.example"})
    assert_error(r, 403, "BAD_ORIGIN")
    r = client.put(f"/api/shows/{sid}/rundown", json={"segments": SEGMENTS[:1]}, headers={"Origin": "http://evil.test"})
    assert_error(r, 403, "BAD_ORIGIN")
    assert seq_of(client, sid) == 1


def test_cookie_post_with_matching_origin_is_accepted(client: TestClient, show: dict[str, Any]) -> None:
    sid = show["id"]
    login(client, sid, "assistant")
    r = client.post(f"/api/shows/{sid}/commands", json={"type": "show.start"}, headers={"Origin": "http://testserver"})
    assert r.status_code == 200, r.text
    r = client.put(
        f"/api/shows/{sid}/rundown", json={"segments": SEGMENTS}, headers={"Origin": "http://testserver"}
    )
    assert r.status_code == 200, r.text
    # Reading with the cookie needs no Origin.
    r = client.get(f"/api/shows/{sid}/state")
    assert r.status_code == 200 and r.json()["show"]["status"] == "live"


def test_bearer_requests_need_no_origin(client: TestClient, show: dict[str, Any]) -> None:
    r = command(client, show["id"], {"type": "show.start"})
    assert r.status_code == 200, r.text


def test_logout_ends_the_session(client: TestClient, show: dict[str, Any]) -> None:
    sid = show["id"]
    login(client, sid, "host")
    assert client.get(f"/api/shows/{sid}/state").status_code == 200
    cookie = client.cookies.get("live_session")
    r = client.post("/logout", headers={"Origin": "http://testserver"})
    assert r.status_code == 200
    client.cookies.set("live_session", cookie or "")
    assert_error(client.get(f"/api/shows/{sid}/state"), 401, "UNAUTHORIZED")


# -- bad input: each answered with the contract error, nothing written ---------------


@pytest.mark.parametrize(
    ("content", "ctype", "status", "code", "field"),
    [
        (b"{not json", "application/json", 422, "INVALID", "body"),
        (b"", "application/json", 422, "INVALID", "body"),
        (b"   ", "application/json", 422, "INVALID", "body"),
        (b"[1, 2]", "application/json", 422, "INVALID", "body"),
        (b'"text"', "application/json", 422, "INVALID", "body"),
        (b"\xff\xfe", "application/json", 422, "INVALID", "body"),
    ],
    ids=["malformed", "empty", "blank", "array", "string", "not-utf8"],
)
@pytest.mark.parametrize("endpoint", ["create", "products", "rundown", "staff", "commands"])
def test_bad_body_is_422_and_writes_nothing(
    client: TestClient, show: dict[str, Any], endpoint: str, content: bytes, ctype: str, status: int, code: str,
    field: str,
) -> None:
    sid = show["id"]
    method, path = {
        "create": ("POST", "/api/shows"),
        "products": ("PUT", f"/api/shows/{sid}/products"),
        "rundown": ("PUT", f"/api/shows/{sid}/rundown"),
        "staff": ("POST", f"/api/shows/{sid}/staff"),
        "commands": ("POST", f"/api/shows/{sid}/commands"),
    }[endpoint]
    r = client.request(method, path, content=content, headers={**ADMIN_H, "Content-Type": ctype})
    assert_error(r, status, code, field)
    assert seq_of(client, sid) == 1
    assert show_count(client) == 1


@pytest.mark.parametrize("endpoint", ["create", "products", "rundown", "commands"])
def test_body_over_one_mib_is_413(client: TestClient, show: dict[str, Any], endpoint: str) -> None:
    sid = show["id"]
    method, path = {
        "create": ("POST", "/api/shows"),
        "products": ("PUT", f"/api/shows/{sid}/products"),
        "rundown": ("PUT", f"/api/shows/{sid}/rundown"),
        "commands": ("POST", f"/api/shows/{sid}/commands"),
    }[endpoint]
    big = json.dumps({"title": "x" * (1024 * 1024 + 1)}).encode()
    r = client.request(method, path, content=big, headers={**ADMIN_H, "Content-Type": "application/json"})
    assert_error(r, 413, "TOO_LARGE", "body")
    assert seq_of(client, sid) == 1
    assert show_count(client) == 1


def test_chunked_body_over_one_mib_is_413(client: TestClient, show: dict[str, Any]) -> None:
    def chunks() -> Any:
        for _ in range(17):
            yield b" " * 65536

    r = client.post(f"/api/shows/{show['id']}/commands", content=chunks(), headers=ADMIN_H)
    assert_error(r, 413, "TOO_LARGE", "body")
    assert seq_of(client, show["id"]) == 1


@pytest.mark.parametrize(
    ("seconds", "field"),
    [(-5, "segments[1].planned_seconds"), (0, "segments[1].planned_seconds"),
     (10**9, "segments[1].planned_seconds"), ("ten", "segments[1].planned_seconds"),
     (1.5, "segments[1].planned_seconds")],
    ids=["negative", "zero", "absurd", "text", "fraction"],
)
def test_bad_duration_is_422_with_field(client: TestClient, show: dict[str, Any], seconds: Any, field: str) -> None:
    segs = [SEGMENTS[0], {**SEGMENTS[1], "planned_seconds": seconds}]
    r = client.post("/api/shows", json={"title": "T", "products": PRODUCTS, "segments": segs}, headers=ADMIN_H)
    assert_error(r, 422, "INVALID", field)
    assert show_count(client) == 1
    r = client.put(f"/api/shows/{show['id']}/rundown", json={"segments": segs}, headers=ADMIN_H)
    assert_error(r, 422, "INVALID", field)
    assert seq_of(client, show["id"]) == 1


@pytest.mark.parametrize("seconds", [0, -10**6, 10**6, "60"], ids=["zero", "absurd-negative", "absurd", "text"])
def test_bad_extend_is_422_with_field(client: TestClient, show: dict[str, Any], seconds: Any) -> None:
    sid = show["id"]
    command(client, sid, {"type": "show.start"})
    before = seq_of(client, sid)
    assert_error(command(client, sid, {"type": "segment.extend", "seconds": seconds}), 422, "INVALID", "seconds")
    assert seq_of(client, sid) == before


def test_extend_below_zero_length_is_422(client: TestClient, show: dict[str, Any]) -> None:
    sid = show["id"]
    command(client, sid, {"type": "show.start"})
    before = seq_of(client, sid)
    r = command(client, sid, {"type": "segment.extend", "seconds": -601})
    assert_error(r, 422, "INVALID", "seconds")
    assert seq_of(client, sid) == before


def test_unknown_sku_is_422_everywhere(client: TestClient, show: dict[str, Any]) -> None:
    sid = show["id"]
    segs = [{"kind": "product", "title": "Ghost", "sku": "NOPE", "planned_seconds": 60}]
    r = client.post("/api/shows", json={"title": "T", "products": PRODUCTS, "segments": segs}, headers=ADMIN_H)
    assert_error(r, 422, "INVALID", "segments[0].sku")
    r = client.put(f"/api/shows/{sid}/rundown", json={"segments": segs}, headers=ADMIN_H)
    assert_error(r, 422, "INVALID", "segments[0].sku")
    r = client.put(
        f"/api/shows/{sid}/rundown", content=b"title,sku,seconds\nGhost,NOPE,60\n",
        headers={**ADMIN_H, "Content-Type": "text/csv"},
    )
    assert_error(r, 422, "INVALID", "segments[0].sku")
    assert_error(command(client, sid, {"type": "product.pin", "sku": "NOPE"}), 422, "INVALID", "sku")
    assert seq_of(client, sid) == 1
    assert show_count(client) == 1


@pytest.mark.parametrize(("cell", "column"), [("1e308", "minutes"), ("9" * 5000 + ":00", "duration")])
def test_a_csv_with_an_absurd_duration_is_422_naming_the_row(
    client: TestClient, show: dict[str, Any], cell: str, column: str
) -> None:
    first = "5" if column == "minutes" else "5:00"
    r = client.put(
        f"/api/shows/{show['id']}/rundown", content=f"title,{column}\nIntro,{first}\nBig,{cell}\n".encode(),
        headers={**ADMIN_H, "Content-Type": "text/csv"},
    )
    assert_error(r, 422, "INVALID", f"csv.row[3].{column}")
    assert seq_of(client, show["id"]) == 1


def test_products_dropping_a_used_sku_is_422(client: TestClient, show: dict[str, Any]) -> None:
    r = client.put(f"/api/shows/{show['id']}/products", json={"products": PRODUCTS[:1]}, headers=ADMIN_H)
    assert_error(r, 422, "INVALID", "products")
    assert seq_of(client, show["id"]) == 1


def test_more_than_500_segments_is_422(client: TestClient, show: dict[str, Any]) -> None:
    segs = [{"kind": "break", "title": f"s{i}", "planned_seconds": 10} for i in range(501)]
    r = client.post("/api/shows", json={"title": "T", "segments": segs}, headers=ADMIN_H)
    assert_error(r, 422, "INVALID", "segments")
    r = client.put(f"/api/shows/{show['id']}/rundown", json={"segments": segs}, headers=ADMIN_H)
    assert_error(r, 422, "INVALID", "segments")
    csv_text = "title,seconds\n" + "".join(f"s{i},10\n" for i in range(501))
    r = client.put(
        f"/api/shows/{show['id']}/rundown", content=csv_text.encode(), headers={**ADMIN_H, "Content-Type": "text/csv"}
    )
    assert_error(r, 422, "INVALID", "segments")
    assert seq_of(client, show["id"]) == 1
    assert show_count(client) == 1
    # 500 is the limit, not beyond it.
    r = client.put(f"/api/shows/{show['id']}/rundown", json={"segments": segs[:500]}, headers=ADMIN_H)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b"", "csv"),
        (b"\xff\xfetitle,seconds\n", "csv"),
        (b"title,colour\nA,red\n", "csv.header"),
        (b"kind,sku\nproduct,A1\n", "csv.header"),
        (b"title,duration\nA,5:99\n", "csv.row[2].duration"),
        (b"title,minutes\nA,lots\n", "csv.row[2].minutes"),
        (b"title,seconds\nA,10,extra\n", "csv.row[2]"),
        (b"title,seconds\nA,-10\n", "segments[0].planned_seconds"),
        (b"title,seconds\nA\x00,10\n", "csv"),
    ],
    ids=["empty", "not-utf8", "unknown-column", "no-title", "bad-duration", "bad-minutes", "extra-cell",
         "negative", "nul"],
)
def test_malformed_csv_is_422_with_field(client: TestClient, show: dict[str, Any], content: bytes, field: str) -> None:
    r = client.put(f"/api/shows/{show['id']}/rundown", content=content, headers={**ADMIN_H, "Content-Type": "text/csv"})
    assert_error(r, 422, "INVALID", field)
    assert seq_of(client, show["id"]) == 1


def test_unknown_fields_are_422(client: TestClient, show: dict[str, Any]) -> None:
    r = client.post("/api/shows", json={"title": "T", "colour": "red"}, headers=ADMIN_H)
    assert_error(r, 422, "INVALID", "colour")
    r = client.put(f"/api/shows/{show['id']}/products", json={"products": PRODUCTS, "x": 1}, headers=ADMIN_H)
    assert_error(r, 422, "INVALID", "x")
    assert_error(command(client, show["id"], {"type": "show.start", "now": 1}), 422, "INVALID", "now")
    assert_error(command(client, show["id"], {"type": "show.explode"}), 422, "INVALID", "type")
    assert_error(command(client, show["id"], {"kind": "show.start"}), 422, "INVALID", "type")
    assert seq_of(client, show["id"]) == 1
    assert show_count(client) == 1


def test_setup_commands_are_refused_on_the_command_endpoint(client: TestClient, show: dict[str, Any]) -> None:
    r = command(client, show["id"], {"type": "rundown.replace", "segments": []})
    assert_error(r, 422, "INVALID", "type")
    assert seq_of(client, show["id"]) == 1


def test_staff_with_bad_role_or_name_is_422(client: TestClient, show: dict[str, Any]) -> None:
    sid = show["id"]
    r = client.post(f"/api/shows/{sid}/staff", json={"name": "A", "role": "admin"}, headers=ADMIN_H)
    assert_error(r, 422, "INVALID", "role")
    r = client.post(f"/api/shows/{sid}/staff", json={"name": "", "role": "host"}, headers=ADMIN_H)
    assert_error(r, 422, "INVALID", "name")


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/shows/nope"), ("GET", "/api/shows/nope/state"), ("POST", "/api/shows/nope/commands"),
     ("PUT", "/api/shows/nope/products"), ("PUT", "/api/shows/nope/rundown"), ("POST", "/api/shows/nope/staff"),
     ("GET", "/api/shows/" + "x" * 200)],
)
def test_unknown_show_is_404(client: TestClient, method: str, path: str) -> None:
    r = client.request(method, path, json={"type": "show.start"}, headers=ADMIN_H)
    assert_error(r, 404, "NOT_FOUND")
    assert show_count(client) == 0


def test_unknown_show_with_overlay_key_is_404(client: TestClient, show: dict[str, Any]) -> None:
    r = client.get("/api/shows/nope/state", params={"key": show["overlay_key"]})
    assert_error(r, 404, "NOT_FOUND")


def test_next_before_start_is_409(client: TestClient, show: dict[str, Any]) -> None:
    assert_error(command(client, show["id"], {"type": "segment.next"}), 409, "WRONG_STATE")
    assert seq_of(client, show["id"]) == 1


def test_start_twice_is_409(client: TestClient, show: dict[str, Any]) -> None:
    sid = show["id"]
    assert command(client, sid, {"type": "show.start"}).status_code == 200
    before = seq_of(client, sid)
    assert_error(command(client, sid, {"type": "show.start"}), 409, "WRONG_STATE")
    assert seq_of(client, sid) == before


def test_commands_after_end_are_409(client: TestClient, show: dict[str, Any]) -> None:
    sid = show["id"]
    command(client, sid, {"type": "show.start"})
    command(client, sid, {"type": "show.end"})
    before = seq_of(client, sid)
    for body in ({"type": "show.start"}, {"type": "segment.next"}, {"type": "show.end"}):
        assert_error(command(client, sid, body), 409, "WRONG_STATE")
    r = client.put(f"/api/shows/{sid}/rundown", json={"segments": SEGMENTS}, headers=ADMIN_H)
    assert_error(r, 409, "WRONG_STATE")
    assert seq_of(client, sid) == before


# -- auth --------------------------------------------------------------------------------


def test_wrong_role_is_403(client: TestClient, show: dict[str, Any]) -> None:
    sid = show["id"]
    mod = add_staff(client, sid, "moderator")
    assert_error(command(client, sid, {"type": "show.start"}, bearer(mod["token"])), 403, "FORBIDDEN")
    host = add_staff(client, sid, "host")
    r = client.put(f"/api/shows/{sid}/rundown", content=b"not,a,csv\x00", headers={**bearer(host["token"]), "Content-Type": "text/csv"})
    assert_error(r, 403, "FORBIDDEN")
    r = client.put(f"/api/shows/{sid}/products", content=b"{broken", headers=bearer(host["token"]))
    assert_error(r, 403, "FORBIDDEN")
    assert seq_of(client, sid) == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/shows"), ("POST", "/api/shows"), ("GET", "/api/shows/{sid}"), ("GET", "/api/shows/{sid}/state"),
     ("PUT", "/api/shows/{sid}/products"), ("PUT", "/api/shows/{sid}/rundown"), ("POST", "/api/shows/{sid}/staff"),
     ("POST", "/api/shows/{sid}/commands")],
)
@pytest.mark.parametrize(
    "auth", [None, "Bearer nope", "Bearer st_forged", "Bearer se_forged", "Basic YWRtaW46YWRtaW4=", "Bearer "],
    ids=["none", "bad", "forged-staff", "forged-session", "basic", "empty"],
)
def test_missing_or_bad_token_is_401(
    client: TestClient, show: dict[str, Any], method: str, path: str, auth: str | None
) -> None:
    headers = {} if auth is None else {"Authorization": auth}
    r = client.request(method, path.format(sid=show["id"]), json={"type": "show.start"}, headers=headers)
    assert_error(r, 401, "UNAUTHORIZED")
    assert seq_of(client, show["id"]) == 1
    assert show_count(client) == 1


def test_staff_token_of_another_show_is_403(client: TestClient, show: dict[str, Any]) -> None:
    other = new_show(client, title="Other")
    token = add_staff(client, other["id"], "assistant")["token"]
    sid = show["id"]
    for method, path, body in [
        ("GET", f"/api/shows/{sid}", None),
        ("GET", f"/api/shows/{sid}/state", None),
        ("POST", f"/api/shows/{sid}/commands", {"type": "show.start"}),
        ("PUT", f"/api/shows/{sid}/products", {"products": PRODUCTS}),
        ("PUT", f"/api/shows/{sid}/rundown", {"segments": SEGMENTS}),
    ]:
        assert_error(client.request(method, path, json=body, headers=bearer(token)), 403, "FORBIDDEN")
    assert seq_of(client, sid) == 1


def test_unknown_route_is_404_in_contract_shape(client: TestClient) -> None:
    assert_error(client.get("/api/nothing-here"), 404, "NOT_FOUND")


def test_wrong_method_is_405_in_contract_shape(client: TestClient, show: dict[str, Any]) -> None:
    r = client.delete(f"/api/shows/{show['id']}", headers=ADMIN_H)
    assert_error(r, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in r.headers["allow"]
    assert show_count(client) == 1


def test_admin_token_is_never_echoed(client: TestClient, show: dict[str, Any]) -> None:
    r = client.get(f"/api/shows/{show['id']}", headers=ADMIN_H)
    assert ADMIN not in r.text


def test_unexpected_error_is_500_in_contract_shape_and_logs_no_login_code(
    app: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from live.adapters.accounts import Accounts

    async def broken(self: Any, code: str) -> Any:
        raise RuntimeError("database went away")

    monkeypatch.setattr(Accounts, "redeem", broken)
    code = "secret-one-time-code-123456"
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get(f"/login/{code}")
        assert_error(r, 500, "INTERNAL")
        assert "database went away" not in r.text
        # The server still answers.
        assert c.get("/api/shows", headers=ADMIN_H).status_code == 200
    logged = "\n".join(rec.getMessage() + (rec.exc_text or "") for rec in caplog.records)
    assert "unhandled error on GET /login/***" in logged
    assert code not in logged


def test_a_command_result_never_carries_a_draws_secret_seed(client: TestClient) -> None:
    # A segment whose action opens a draw: show.start's result holds draw.opened.
    segments = [{"kind": "interaction", "title": "Draw", "planned_seconds": 60,
                 "actions": [{"type": "draw.open", "prize": "Tea set"}]}]
    sid = new_show(client, segments=segments)["id"]
    started = command(client, sid, {"type": "show.start"}).json()
    opened = command(client, sid, {"type": "draw.open", "prize": "Cup"}).json()
    for body in (started, opened):
        draws = [e for e in body["events"] if e["type"] == "draw.opened"]
        assert draws and all(not k.startswith("_") for e in body["events"] for k in e), body
        assert body["seq"] == body["events"][-1]["seq"]
