"""POST /api/shows/import and GET /api/shows/{id}/events over HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from live.core import recording as rec
from tests.conftest import admin_headers
from tests.live.runtime.test_replay import T0, recording

NDJSON = {"Content-Type": "application/x-ndjson"}


def post(client: TestClient, body: bytes, headers: dict[str, str] | None = None) -> Any:
    return client.post("/api/shows/import", content=body, headers={**NDJSON, **(headers or admin_headers())})


def shows(client: TestClient) -> int:
    return len(client.get("/api/shows", headers=admin_headers()).json()["shows"])


def staff(client: TestClient, show_id: str, role: str) -> dict[str, str]:
    r = client.post(f"/api/shows/{show_id}/staff", json={"name": role, "role": role}, headers=admin_headers())
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_a_recording_imports_into_an_ended_show(client: TestClient) -> None:
    r = post(client, recording())
    assert r.status_code == 201, r.text
    body = r.json()
    state = client.get(f"/api/shows/{body['id']}/state", headers=admin_headers()).json()
    assert state["show"]["status"] == "ended" and state["seq"] == body["events"]
    assert state["show"]["ended_at"] == T0 + 60_000


def lines(*inputs: dict[str, Any]) -> bytes:
    show = {"show": {"title": "t", "products": [{"sku": "A1", "title": "a", "live_price": "1.00"}]}}
    return "\n".join(json.dumps(x) for x in (show, *inputs)).encode()


START = {"at": T0, "command": {"type": "show.start"}}
BAD = [
    ("not json", b'{"show": {"title": "t"}}\n{"at": 1,', "line 2"),
    ("a bad show line", lines().replace(b'"title": "t"', b'"title": 3'), "line 1"),
    ("no at", lines(START, {"command": {"type": "show.end"}}), "line 3"),
    ("at decreasing", lines(START, {"at": T0 - 1, "command": {"type": "show.end"}}), "line 3"),
    ("an unknown viewer action", lines(START, {"at": T0, "viewer": "x", "action": "dance"}), "line 3"),
    ("an unknown command", lines(START, {"at": T0, "command": {"type": "show.explode"}}), "line 3"),
    ("two inputs on one line", lines({**START, "order": {}}), "line 2"),
    ("a like over 100", lines(START, {"at": T0, "viewer": "x", "action": "like", "count": 101}), "line 3"),
    ("a viewer after the end", lines(START, {"at": T0, "command": {"type": "show.end"}},
                                     {"at": T0, "viewer": "x", "action": "join"}), "line 4"),
    # refused only when replayed: the engine's own checks, named by line
    ("a command that does not fit then", lines({"at": T0, "command": {"type": "segment.next"}}), "line 2"),
    ("a claim with no sale", lines(START, {"at": T0 + 5, "viewer": "x", "action": "claim", "sku": "A1"}), "line 3"),
    ("a return of an unknown order", lines(START, {"at": T0, "return": {"order_id": "no", "qty": 1}}), "line 3"),
    ("never started", lines({"at": T0, "viewer": "x", "action": "join"}), "line 2"),
]


@pytest.mark.parametrize(("body", "field"), [(b, f) for _, b, f in BAD], ids=[i for i, _, _ in BAD])
def test_a_bad_line_is_named_and_nothing_is_imported(client: TestClient, body: bytes, field: str) -> None:
    before = shows(client)
    r = post(client, body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field
    assert shows(client) == before


def test_the_content_type_must_be_ndjson(client: TestClient) -> None:
    r = client.post("/api/shows/import", content=recording(), headers=admin_headers())
    assert r.status_code == 422 and r.json()["error"]["field"] == "Content-Type"


def test_too_large_is_413(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import live.http.recordings as routes

    monkeypatch.setattr(routes, "MAX_RECORDING_BYTES", 1000)
    r = post(client, recording())
    assert r.status_code == 413 and r.json()["error"]["code"] == "TOO_LARGE"
    assert shows(client) == 0


def test_too_many_lines_is_422_and_nothing_imported(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rec, "MAX_RECORDING_LINES", 5)
    r = post(client, recording())
    assert r.status_code == 422 and r.json()["error"]["field"] == "body"
    assert shows(client) == 0


@pytest.mark.parametrize("role", ["host", "assistant", "moderator", "analyst"])
def test_only_the_admin_imports(client: TestClient, role: str) -> None:
    show_id = post(client, recording()).json()["id"]
    r = post(client, recording(), headers=staff(client, show_id, role))
    assert r.status_code == 403
    assert post(client, recording(), headers={"Authorization": "Bearer nope"}).status_code == 401


@pytest.mark.parametrize(("role", "status"), [("host", 200), ("assistant", 200), ("analyst", 200),
                                              ("moderator", 403)])
def test_the_export_is_for_analysts_and_up(client: TestClient, role: str, status: int) -> None:
    show_id = post(client, recording()).json()["id"]
    assert client.get(f"/api/shows/{show_id}/events", headers=staff(client, show_id, role)).status_code == status
    other = post(client, recording()).json()["id"]
    assert client.get(f"/api/shows/{other}/events", headers=staff(client, show_id, "analyst")).status_code == 403
    assert client.get("/api/shows/nope/events", headers=admin_headers()).status_code == 404


def test_the_export_has_pseudonyms_only_and_no_private_keys(client: TestClient) -> None:
    show_id = post(client, recording()).json()["id"]
    r = client.get(f"/api/shows/{show_id}/events", headers=admin_headers())
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    events = [json.loads(line) for line in r.text.splitlines()]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    state = client.get(f"/api/shows/{show_id}/state", headers=admin_headers()).json()
    assert len(events) == state["seq"]
    pseudonyms = {e["pseudonym"] for e in events if e["type"] == "viewer.registered"}
    assert len(pseudonyms) == 2
    viewer_ids = {e["viewer_id"] for e in events if e.get("viewer_id")}
    assert viewer_ids == pseudonyms  # every viewer_id is a pseudonym
    text = r.text
    assert '"_' not in text  # no _seed, _by, _entrants
    # our ids (v + 16 hex) never appear
    import re

    assert not re.search(r'"v[0-9a-f]{16}"', text)
