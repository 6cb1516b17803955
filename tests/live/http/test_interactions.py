"""Platform events over HTTP, on SQLite and PostgreSQL: ``POST
/api/shows/{id}/interactions`` for admin and assistant only, live shows only,
duplicates counted once across batches, all or nothing, a batch size limit and a
per-show rate limit on the app's clock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from live.core.auth import platform_viewer_id, pseudonym
from live.core.platform import MAX_EVENTS
from server import create_app
from tests.conftest import FakeClock, admin_headers, make_settings, new_show


@pytest.fixture
def site(db_url: str, clock: FakeClock) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(db_url, interactions_per_minute=3), clock=clock)) as c:
        yield c


def journal(client: TestClient, sid: str) -> list[dict[str, Any]]:
    hub = client.app.state.hub  # type: ignore[attr-defined]
    events: list[dict[str, Any]] = client.portal.call(hub.journal.load, sid)  # type: ignore[union-attr]
    return events


def live_show(client: TestClient) -> str:
    sid: str = new_show(client)["id"]
    r = client.post(f"/api/shows/{sid}/commands", json={"type": "show.start"}, headers=admin_headers())
    assert r.status_code == 200, r.text
    return sid


def ev(eid: str, kind: str, at: int, who: str = "dy-1", **extra: Any) -> dict[str, Any]:
    return {"id": eid, "type": kind, "viewer_id": who, "at": at, **extra}


def post(client: TestClient, sid: str, events: list[dict[str, Any]], token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else admin_headers()
    return client.post(f"/api/shows/{sid}/interactions", json={"events": events}, headers=headers)


def staff_token(client: TestClient, sid: str, role: str) -> str:
    r = client.post(f"/api/shows/{sid}/staff", json={"name": role, "role": role}, headers=admin_headers())
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


def test_a_batch_is_journaled_with_its_own_times(site: TestClient, clock: FakeClock) -> None:
    sid = live_show(site)
    clock.advance(10)
    t = clock.t
    r = post(site, sid, [ev("e1", "join", t - 500, nickname="小王"), ev("e2", "like", t - 400, count=30),
                         ev("e3", "comment", t - 300, text="好看"), ev("e4", "share", t - 200),
                         ev("e5", "leave", t - 100)])
    assert r.status_code == 200, r.text
    assert r.json() == {"seq": journal(site, sid)[-1]["seq"], "accepted": 5, "duplicates": 0, "dropped": 0}
    vid = platform_viewer_id(b"test-secret", sid, "dy-1")
    events = {e["type"]: e for e in journal(site, sid)}
    assert events["viewer.registered"]["platform"] is True
    assert events["viewer.registered"]["pseudonym"] == pseudonym(b"test-secret", vid)
    assert events["viewer.joined"]["joined_at"] == t - 500
    assert (events["likes.tick"]["liked_at"], events["likes.tick"]["_by"]) == (t - 400, {vid: 30})
    assert (events["comment.new"]["commented_at"], events["comment.new"]["nickname"]) == (t - 300, "小王")
    assert events["viewer.shared"]["shared_at"] == t - 200
    assert (events["viewer.left"]["left_at"], events["viewer.left"]["watched_ms"]) == (t - 100, 400)
    state = site.get(f"/api/shows/{sid}/state", headers=admin_headers()).json()
    assert state["likes"]["total"] == 30


def test_duplicates_count_once_across_batches(site: TestClient, clock: FakeClock) -> None:
    sid = live_show(site)
    assert post(site, sid, [ev("e1", "like", clock.t, count=5)]).json()["accepted"] == 1
    seq = journal(site, sid)[-1]["seq"]
    r = post(site, sid, [ev("e1", "like", clock.t, count=5), ev("e2", "like", clock.t, count=1)])
    assert r.json() | {"seq": 0} == {"seq": 0, "accepted": 1, "duplicates": 1, "dropped": 0}
    r = post(site, sid, [ev("e1", "like", clock.t, count=5)])
    assert r.json() == {"seq": r.json()["seq"], "accepted": 0, "duplicates": 1, "dropped": 0}
    assert journal(site, sid)[-1]["seq"] == r.json()["seq"] > seq
    assert sum(e["added"] for e in journal(site, sid) if e["type"] == "likes.tick") == 6


@pytest.mark.parametrize("role", ["admin", "assistant"])
def test_admin_and_assistant_may_send(site: TestClient, clock: FakeClock, role: str) -> None:
    sid = live_show(site)
    token = None if role == "admin" else staff_token(site, sid, role)
    assert post(site, sid, [ev("e1", "join", clock.t)], token).status_code == 200


@pytest.mark.parametrize("role", ["host", "moderator", "analyst"])
def test_other_roles_are_forbidden_and_write_nothing(site: TestClient, clock: FakeClock, role: str) -> None:
    sid = live_show(site)
    before = len(journal(site, sid))
    r = post(site, sid, [ev("e1", "join", clock.t)], staff_token(site, sid, role))
    assert r.status_code == 403 and r.json()["error"]["code"] == "FORBIDDEN"
    assert len(journal(site, sid)) == before


def test_a_bad_token_is_401(site: TestClient, clock: FakeClock) -> None:
    sid = live_show(site)
    assert post(site, sid, [ev("e1", "join", clock.t)], "nope").status_code == 401
    r = site.post(f"/api/shows/{sid}/interactions", json={"events": []})
    assert r.status_code == 401


@pytest.mark.parametrize("status", ["draft", "ended"])
def test_a_show_that_is_not_live_is_409(site: TestClient, clock: FakeClock, status: str) -> None:
    sid = new_show(site)["id"]
    if status == "ended":
        for command in ("show.start", "show.end"):
            site.post(f"/api/shows/{sid}/commands", json={"type": command}, headers=admin_headers())
    before = len(journal(site, sid))
    r = post(site, sid, [ev("e1", "join", clock.t)])
    assert r.status_code == 409 and r.json()["error"]["code"] == "WRONG_STATE"
    assert len(journal(site, sid)) == before


def test_one_bad_event_is_422_naming_it_and_nothing_is_written(site: TestClient, clock: FakeClock) -> None:
    sid = live_show(site)
    before = len(journal(site, sid))
    r = post(site, sid, [ev("e1", "join", clock.t), ev("e2", "like", clock.t, count=0)])
    assert r.status_code == 422 and r.json()["error"]["field"] == "events[1].count"
    assert len(journal(site, sid)) == before
    # nothing of it was taken: the good event is still new
    assert post(site, sid, [ev("e1", "join", clock.t)]).json()["accepted"] == 1


def test_a_batch_over_the_limit_is_413(site: TestClient, clock: FakeClock) -> None:
    sid = live_show(site)
    r = post(site, sid, [ev(f"e{i}", "like", clock.t) for i in range(MAX_EVENTS + 1)])
    assert r.status_code == 413 and r.json()["error"] | {"message": ""} == {
        "code": "TOO_LARGE", "field": "events", "message": ""}
    assert f"at most {MAX_EVENTS}" in r.json()["error"]["message"]


def test_batches_are_rate_limited_per_show(site: TestClient, clock: FakeClock) -> None:
    sid, other = live_show(site), live_show(site)
    for i in range(3):  # LIVE_INTERACTIONS_PER_MINUTE=3
        assert post(site, sid, [ev(f"e{i}", "like", clock.t)]).status_code == 200
    r = post(site, sid, [ev("e9", "like", clock.t)])
    assert r.status_code == 429 and r.json()["error"]["code"] == "RATE_LIMITED"
    assert post(site, other, [ev("e9", "like", clock.t)]).status_code == 200
    clock.advance(20)  # a minute's rate of 3: one more batch every 20 s
    assert post(site, sid, [ev("e9", "like", clock.t)]).status_code == 200


def test_a_restart_keeps_platform_viewers_present_and_their_ids_taken(site: TestClient, clock: FakeClock) -> None:
    sid = live_show(site)
    post(site, sid, [ev("e1", "join", clock.t)])
    shows = site.app.state.hub.shows  # type: ignore[attr-defined]
    rebuilt = site.portal.call(shows.rebuild, sid)  # type: ignore[union-attr]
    site.portal.call(rebuilt.stop)  # type: ignore[union-attr]
    # no socket of theirs dropped: no grace period runs out on them
    assert rebuilt.presence.leaving == {} and rebuilt.state.ledger.present == 1
    assert set(rebuilt.state.ledger.platform_events) == {"e1"}


def test_the_commands_endpoint_does_not_take_platform_events(site: TestClient) -> None:
    sid = live_show(site)
    r = site.post(f"/api/shows/{sid}/commands", json={"type": "platform.interactions", "events": []},
                  headers=admin_headers())
    assert r.status_code == 422 and "interactions" in r.json()["error"]["message"]
