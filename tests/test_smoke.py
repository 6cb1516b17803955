from __future__ import annotations

from starlette.testclient import TestClient

from tests.conftest import admin_headers, new_show


def test_create_show_then_start_and_next(client: TestClient) -> None:
    show = new_show(client)
    sid = show["id"]
    r = client.post(f"/api/shows/{sid}/commands", json={"type": "show.start"}, headers=admin_headers())
    assert r.status_code == 200, r.text
    assert [e["type"] for e in r.json()["events"]] == ["show.started", "segment.changed"]
    r = client.post(f"/api/shows/{sid}/commands", json={"type": "segment.next"}, headers=admin_headers())
    assert [e["type"] for e in r.json()["events"]] == ["segment.changed", "product.pinned"]
    state = client.get(f"/api/shows/{sid}/state", headers=admin_headers()).json()
    assert state["rundown"]["current"] == 1
    assert state["pinned_sku"] == "A1"
