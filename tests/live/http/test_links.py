"""Tracked links over HTTP, on SQLite and PostgreSQL: ``GET /go/{show}/{sku}``
counts the click and redirects to the product's stored url, 404s what it does
not know, knows the viewer only from the click cookie, and a bot clicking from
one address cannot inflate the count."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from live.core.auth import click_token, pseudonym
from server import create_app
from tests.conftest import PRODUCTS, FakeClock, admin_headers, make_settings, new_show

A1_URL = PRODUCTS[0]["url"]


@pytest.fixture
def site(db_url: str, clock: FakeClock) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(db_url, clicks_per_minute=3), clock=clock)) as c:
        yield c


def clicks(client: TestClient, sid: str) -> list[dict[str, Any]]:
    hub = client.app.state.hub  # type: ignore[attr-defined]
    events: list[dict[str, Any]] = client.portal.call(hub.journal.load, sid)  # type: ignore[union-attr]
    return [e for e in events if e["type"] == "link.clicked"]


def test_a_click_is_counted_and_sent_to_the_product(site: TestClient, clock: FakeClock) -> None:
    sid = new_show(site)["id"]
    r = site.get(f"/go/{sid}/A1", follow_redirects=False)
    assert (r.status_code, r.headers["location"], r.headers["cache-control"]) == (302, A1_URL, "no-store")
    [click] = clicks(site, sid)
    assert click | {"seq": 0} == {"type": "link.clicked", "seq": 0, "at": clock.t, "sku": "A1", "viewer_id": None,
                                  "pseudonym": None}


def test_only_the_stored_url_is_ever_the_target(site: TestClient) -> None:
    sid = new_show(site)["id"]
    r = site.get(f"/go/{sid}/A1?url=https://evil.example/&next=//evil.example", follow_redirects=False)
    assert r.headers["location"] == A1_URL


@pytest.mark.parametrize(("path", "words"), [
    ("/go/{sid}/ZZ9", "not part of the show"),
    ("/go/{sid}/B2", "no page to open"),  # B2 has no url
    ("/go/snope/A1", "does not exist"),
])
def test_what_it_does_not_know_is_a_404_page_and_no_click(site: TestClient, path: str, words: str) -> None:
    sid = new_show(site)["id"]
    r = site.get(path.format(sid=sid), follow_redirects=False)
    assert r.status_code == 404 and words in r.text
    assert r.headers["content-type"].startswith("text/html")
    assert clicks(site, sid) == []


def test_an_api_client_gets_the_contract_error(site: TestClient) -> None:
    sid = new_show(site)["id"]
    r = site.get(f"/go/{sid}/B2", headers={"Accept": "application/json"}, follow_redirects=False)
    assert r.status_code == 404
    assert r.json()["error"] == {"code": "NOT_FOUND", "field": "sku", "message": r.json()["error"]["message"]}
    assert "no url" in r.json()["error"]["message"]


def test_a_chinese_browser_gets_a_chinese_page(site: TestClient) -> None:
    r = site.get("/go/snope/A1", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert r.status_code == 404 and "这场直播不存在" in r.text


def test_clicks_count_before_the_start_and_after_the_end(site: TestClient) -> None:
    sid = new_show(site)["id"]
    site.get(f"/go/{sid}/A1", follow_redirects=False)
    for command in ("show.start", "show.end"):
        site.post(f"/api/shows/{sid}/commands", json={"type": command}, headers=admin_headers())
    site.get(f"/go/{sid}/A1", follow_redirects=False)
    assert len(clicks(site, sid)) == 2


def test_one_address_clicking_fast_is_redirected_but_counted_only_up_to_the_limit(
    site: TestClient, clock: FakeClock
) -> None:
    sid = new_show(site)["id"]
    answers = [site.get(f"/go/{sid}/A1", follow_redirects=False) for _ in range(10)]
    assert {(r.status_code, r.headers["location"]) for r in answers} == {(302, A1_URL)}
    assert len(clicks(site, sid)) == 3  # LIVE_CLICKS_PER_MINUTE=3
    clock.advance(60)
    site.get(f"/go/{sid}/A1", follow_redirects=False)
    assert len(clicks(site, sid)) == 4


def test_a_head_request_says_where_the_link_goes_and_counts_nothing(site: TestClient) -> None:
    sid = new_show(site)["id"]
    r = site.head(f"/go/{sid}/A1", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (302, A1_URL)
    assert clicks(site, sid) == []


def test_a_registered_viewer_clicks_with_their_pseudonym(site: TestClient) -> None:
    sid = new_show(site)["id"]
    r = site.post(f"/api/shows/{sid}/viewers", json={"nickname": "Ann"})
    vid = r.json()["viewer_id"]
    cookie = r.headers["set-cookie"]
    assert "live_click=" in cookie and f"Path=/go/{sid}" in cookie and "HttpOnly" in cookie
    assert r.json()["token"] not in cookie  # the cookie is not a viewer token
    site.get(f"/go/{sid}/A1", follow_redirects=False)
    [click] = clicks(site, sid)
    assert (click["viewer_id"], click["pseudonym"]) == (vid, pseudonym(b"test-secret", vid))


def test_a_forged_or_foreign_click_cookie_clicks_anonymously(site: TestClient) -> None:
    sid, other = new_show(site)["id"], new_show(site)["id"]
    vid = site.post(f"/api/shows/{sid}/viewers", json={"nickname": "Ann"}).json()["viewer_id"]
    site.cookies.clear()
    forged = {"live_click": f"{vid}.{'0' * 32}"}
    foreign = {"live_click": click_token(b"test-secret", other, vid)}  # made for another show
    for cookies in (forged, foreign):
        site.cookies.clear()
        site.cookies.update(cookies)
        site.get(f"/go/{sid}/A1", follow_redirects=False)
    assert [c["viewer_id"] for c in clicks(site, sid)] == [None, None]
