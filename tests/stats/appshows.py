"""Shows through the app for the review tests: started, ended, staffed,
sold to by the shop's signed webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from starlette.testclient import TestClient

from tests.conftest import FakeClock, admin_headers, new_show

ADMIN = admin_headers()


def command(client: TestClient, sid: str, kind: str) -> None:
    r = client.post(f"/api/shows/{sid}/commands", json={"type": kind}, headers=ADMIN)
    assert r.status_code == 200, r.text


def staff(client: TestClient, sid: str, role: str, name: str = "Mei") -> dict[str, Any]:
    r = client.post(f"/api/shows/{sid}/staff", json={"name": name, "role": role}, headers=ADMIN)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ended_show(client: TestClient, clock: FakeClock, minutes: float = 3, **extra: Any) -> dict[str, Any]:
    show = new_show(client, **extra)
    command(client, show["id"], "show.start")
    clock.advance(minutes * 60)
    command(client, show["id"], "show.end")
    clock.advance(60)
    return show


def signed(client: TestClient, show: dict[str, Any], path: str, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    mac = "sha256=" + hmac.new(show["webhook_secret"].encode(), raw, hashlib.sha256).hexdigest()
    r = client.post(f"/api/shows/{show['id']}/{path}", content=raw,
                    headers={"X-Live-Signature": mac, "Content-Type": "application/json"})
    assert r.status_code in (200, 201), r.text
