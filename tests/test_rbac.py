"""The permission matrix (live.core.auth.PERMISSIONS), cell by cell over HTTP.

Each cell puts a show in a state where the command is valid, sends it with a
token of the role, and expects success when the matrix allows it and 403
(with nothing written) when it does not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from live.core.auth import ROLES, STAFF_ROLES, Principal
from live.core.commands import COMMANDS, PERMISSIONS, SETUP_COMMANDS, allowed
from tests.conftest import ADMIN, PRODUCTS, SEGMENTS, admin_headers, new_show

Setup = Callable[[TestClient, str], None]


def admin_command(client: TestClient, sid: str, body: dict[str, Any]) -> None:
    r = client.post(f"/api/shows/{sid}/commands", json=body, headers=admin_headers())
    assert r.status_code == 200, r.text


def draft(client: TestClient, sid: str) -> None:
    pass


def live(client: TestClient, sid: str) -> None:
    admin_command(client, sid, {"type": "show.start"})


def live_on_second(client: TestClient, sid: str) -> None:
    live(client, sid)
    admin_command(client, sid, {"type": "segment.next"})


def pinned(client: TestClient, sid: str) -> None:
    admin_command(client, sid, {"type": "product.pin", "sku": "B2"})


def with_sale(client: TestClient, sid: str) -> dict[str, str]:
    live(client, sid)
    r = client.post(f"/api/shows/{sid}/commands", headers=admin_headers(),
                    json={"type": "flash_sale.open", "sku": "A1", "stock": 5, "duration_seconds": 60})
    assert r.status_code == 200, r.text
    return {"sale_id": r.json()["events"][0]["sale"]["id"]}


def with_draw(client: TestClient, sid: str) -> dict[str, str]:
    live(client, sid)
    r = client.post(f"/api/shows/{sid}/commands", headers=admin_headers(), json={"type": "draw.open", "prize": "Bag"})
    assert r.status_code == 200, r.text
    return {"draw_id": r.json()["events"][0]["draw"]["id"]}


def viewer_comments(client: TestClient, sid: str, nickname: str, text: str) -> str:
    """Register a viewer over HTTP and have them comment (through the engine, as
    their socket would); returns the viewer id."""
    r = client.post(f"/api/shows/{sid}/viewers", json={"nickname": nickname})
    assert r.status_code == 201, r.text
    viewer_id = str(r.json()["viewer_id"])
    hub = client.app.state.hub  # type: ignore[attr-defined]
    engine = client.portal.call(hub.shows.get, sid)  # type: ignore[union-attr]
    client.portal.call(engine.execute, {"type": "viewer.comment", "text": text},  # type: ignore[union-attr]
                       Principal("viewer", sid, nickname, viewer_id))
    return viewer_id


def with_comment(client: TestClient, sid: str) -> dict[str, str]:
    live(client, sid)
    viewer_id = viewer_comments(client, sid, "Ann", "hi all")
    state = client.get(f"/api/shows/{sid}/state", headers=admin_headers()).json()
    return {"comment_id": state["comments"][-1]["comment_id"], "viewer_id": viewer_id}


def with_drawn(client: TestClient, sid: str) -> dict[str, str]:
    live(client, sid)
    r = client.post(f"/api/shows/{sid}/commands", headers=admin_headers(),
                    json={"type": "draw.open", "prize": "Bag", "eligibility": {"keyword": "hi"}})
    draw_id = r.json()["events"][0]["draw"]["id"]
    viewer_comments(client, sid, "Ann", "hi all")
    viewer_comments(client, sid, "Bo", "hi there")  # two entrants: a reroll has someone left
    admin_command(client, sid, {"type": "draw.close", "draw_id": draw_id})
    return {"draw_id": draw_id}


ORDERS_CSV = "order_id,sku,qty,amount\nTB-1,A1,1,199.00\nTB-2,B2,2,199.00\n"

# command → (state it needs, how to send it: (method, path suffix, JSON body, or CSV text))
CELLS: dict[str, tuple[Callable[[TestClient, str], Any], tuple[str, str, dict[str, Any] | str]]] = {
    "show.start": (draft, ("POST", "commands", {"type": "show.start"})),
    "show.end": (live, ("POST", "commands", {"type": "show.end"})),
    "segment.next": (live, ("POST", "commands", {"type": "segment.next"})),
    "segment.previous": (live_on_second, ("POST", "commands", {"type": "segment.previous"})),
    "segment.goto": (live, ("POST", "commands", {"type": "segment.goto", "index": 2})),
    "segment.extend": (live, ("POST", "commands", {"type": "segment.extend", "seconds": 60})),
    "product.pin": (live, ("POST", "commands", {"type": "product.pin", "sku": "B2"})),
    "product.unpin": (pinned, ("POST", "commands", {"type": "product.unpin"})),
    "products.replace": (live, ("PUT", "products", {"products": PRODUCTS})),
    "rundown.replace": (draft, ("PUT", "rundown", {"segments": SEGMENTS[:2]})),
    "flash_sale.open": (live, ("POST", "commands", {"type": "flash_sale.open", "sku": "A1", "stock": 5,
                                                    "duration_seconds": 60})),
    "flash_sale.close": (with_sale, ("POST", "commands", {"type": "flash_sale.close", "sale_id": "{sale_id}"})),
    "flash_sale.restock": (with_sale, ("POST", "commands", {"type": "flash_sale.restock", "sale_id": "{sale_id}",
                                                            "add": 5})),
    "flash_sale.extend": (with_sale, ("POST", "commands", {"type": "flash_sale.extend", "sale_id": "{sale_id}",
                                                           "seconds": 60})),
    "draw.open": (live, ("POST", "commands", {"type": "draw.open", "prize": "Bag", "winners": 1})),
    "draw.close": (with_draw, ("POST", "commands", {"type": "draw.close", "draw_id": "{draw_id}"})),
    "draw.reroll": (with_drawn, ("POST", "commands", {"type": "draw.reroll", "draw_id": "{draw_id}"})),
    "likes.goal": (live, ("POST", "commands", {"type": "likes.goal", "target": 100})),
    "comment.pin": (with_comment, ("POST", "commands", {"type": "comment.pin", "comment_id": "{comment_id}"})),
    "comment.delete": (with_comment, ("POST", "commands", {"type": "comment.delete", "comment_id": "{comment_id}"})),
    "viewer.mute": (with_comment, ("POST", "commands", {"type": "viewer.mute", "viewer_id": "{viewer_id}",
                                                        "seconds": 600})),
    "overlay.test": (draft, ("POST", "commands", {"type": "overlay.test", "layer": "draw"})),
    "orders.import": (live, ("POST", "orders.csv", ORDERS_CSV)),
    "platform.interactions": (live, ("POST", "interactions", {"events": [
        {"id": "e1", "type": "join", "viewer_id": "dy-1", "at": 1_700_000_000_000}]})),
}


def token_for(client: TestClient, sid: str, role: str) -> str:
    if role == "admin":
        return ADMIN
    r = client.post(f"/api/shows/{sid}/staff", json={"name": f"a {role}", "role": role}, headers=admin_headers())
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


def seq_of(client: TestClient, sid: str) -> int:
    return int(client.get(f"/api/shows/{sid}/state", headers=admin_headers()).json()["seq"])


def test_every_command_has_a_row_and_a_cell() -> None:
    # A new command must join the matrix (and this test's setups) to be usable.
    assert set(PERMISSIONS) == set(COMMANDS) | set(SETUP_COMMANDS)
    assert set(CELLS) == set(PERMISSIONS)
    assert all(roles <= set(ROLES) for roles in PERMISSIONS.values())


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("command_type", sorted(PERMISSIONS))
def test_permission_cell(client: TestClient, command_type: str, role: str) -> None:
    sid = new_show(client)["id"]
    setup, (method, suffix, template) = CELLS[command_type]
    ids = setup(client, sid) or {}
    token = token_for(client, sid, role)
    before = seq_of(client, sid)
    headers = {"Authorization": f"Bearer {token}"}
    if isinstance(template, str):
        r = client.request(method, f"/api/shows/{sid}/{suffix}", content=template.encode(),
                           headers=headers | {"Content-Type": "text/csv"})
    else:
        body = {k: val.format(**ids) if isinstance(val, str) else val for k, val in template.items()}
        r = client.request(method, f"/api/shows/{sid}/{suffix}", json=body, headers=headers)
    if allowed(role, command_type):
        assert r.status_code == 200, r.text
        # an import answers what it counted, not its (internal) events
        written = len(r.json()["events"]) if "events" in r.json() else r.json()["seq"] - before
        assert written and seq_of(client, sid) == before + written
    else:
        assert r.status_code == 403, r.text
        assert r.json()["error"]["code"] == "FORBIDDEN"
        assert seq_of(client, sid) == before


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_only_admin_creates_shows(client: TestClient, role: str) -> None:
    sid = new_show(client)["id"]
    token = token_for(client, sid, role)
    r = client.post("/api/shows", json={"title": "Mine"}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "FORBIDDEN"
    assert len(client.get("/api/shows", headers=admin_headers()).json()["shows"]) == 1


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_only_admin_adds_staff(client: TestClient, role: str) -> None:
    sid = new_show(client)["id"]
    token = token_for(client, sid, role)
    r = client.post(f"/api/shows/{sid}/staff", json={"name": "Eve", "role": "assistant"},
                    headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_its_show_and_state(client: TestClient, role: str) -> None:
    sid = new_show(client)["id"]
    headers = {"Authorization": f"Bearer {token_for(client, sid, role)}"}
    r = client.get(f"/api/shows/{sid}/state", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["show"]["id"] == sid and "talking_points" in r.json()["rundown"]["segments"][0]
    assert client.get(f"/api/shows/{sid}", headers=headers).status_code == 200


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_only_admin_reads_or_rotates_the_webhook_secret(client: TestClient, role: str) -> None:
    show = new_show(client)
    sid = show["id"]
    headers = {"Authorization": f"Bearer {token_for(client, sid, role)}"}
    read = client.get(f"/api/shows/{sid}", headers=headers)
    assert read.status_code == 200 and "webhook_secret" not in read.json()
    assert show["webhook_secret"] not in read.text
    r = client.post(f"/api/shows/{sid}/webhook-secret", headers=headers)
    assert r.status_code == 403 and r.json()["error"]["code"] == "FORBIDDEN"
    assert client.get(f"/api/shows/{sid}", headers=admin_headers()).json()["webhook_secret"] == show["webhook_secret"]


def test_the_shop_and_tracked_links_need_no_staff_token(client: TestClient) -> None:
    sid = new_show(client)["id"]
    # a staff token is no signature: webhooks take the show's signature only
    token = token_for(client, sid, "assistant")
    r = client.post(f"/api/shows/{sid}/orders", headers={"Authorization": f"Bearer {token}"},
                    json={"order_id": "x", "sku": "A1", "qty": 1, "amount": "1.00"})
    assert r.status_code == 401
    assert client.get(f"/go/{sid}/A1", follow_redirects=False).status_code == 302


def test_permissions_doc_matches_the_matrix() -> None:
    from scripts.permissions_doc import DOC, render

    assert DOC.read_text(encoding="utf-8") == render(), "run: python -m scripts.permissions_doc"


def test_permissions_doc_check_fails_when_out_of_date(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from scripts import permissions_doc

    stale = tmp_path / "permissions.md"
    stale.write_text("# old\n", encoding="utf-8")
    monkeypatch.setattr(permissions_doc, "DOC", stale)
    assert permissions_doc.main(["--check"]) == 1
    assert permissions_doc.main([]) == 0
    assert permissions_doc.main(["--check"]) == 0
    assert stale.read_text(encoding="utf-8") == permissions_doc.render()
