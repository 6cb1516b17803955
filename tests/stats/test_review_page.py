"""``/shows/{id}/review`` through the app: who may open it (the control panel's
login), its errors as pages, its language, its headers, what it shows of a
live show; and the control panel's link to it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from live.core.auth import REVIEW, STAFF_ROLES
from tests.conftest import FakeClock, admin_headers, new_show
from tests.stats.appshows import bearer, command, ended_show, staff

ADMIN = admin_headers()


def page(client: TestClient, sid: str, headers: dict[str, str] | None = None, query: str = "") -> Any:
    return client.get(f"/shows/{sid}/review{query}", headers=ADMIN if headers is None else headers)


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_the_page_is_for_the_review_roles(client: TestClient, clock: FakeClock, role: str) -> None:
    show = ended_show(client, clock)
    r = page(client, show["id"], bearer(staff(client, show["id"], role)["token"]))
    assert r.headers["content-type"].startswith("text/html")
    if role in REVIEW:
        assert r.status_code == 200 and 'data-chart="viewers"' in r.text
    else:
        assert r.status_code == 403 and "the moderator role may not read the review" in r.text


def test_a_session_cookie_opens_it_as_it_opens_the_control_panel(client: TestClient, clock: FakeClock) -> None:
    show = ended_show(client, clock)
    link = staff(client, show["id"], "analyst")["login_url"].replace("http://testserver", "")
    assert client.get(link, follow_redirects=False).status_code == 303  # sets the session cookie
    r = client.get(f"/shows/{show['id']}/review")
    assert r.status_code == 200 and "Test show" in r.text


def test_without_a_login_it_is_the_control_panels_login_page(client: TestClient, clock: FakeClock) -> None:
    sid = ended_show(client, clock)["id"]
    r = page(client, sid, {})
    panel = client.get(f"/shows/{sid}/control")
    assert r.status_code == panel.status_code == 401
    assert r.text == panel.text and "login.py --show ID" in r.text
    other = new_show(client)["id"]  # another show's analyst
    assert page(client, sid, bearer(staff(client, other, "analyst")["token"])).status_code == 403


def test_an_unknown_show_is_a_404_page_and_a_draft_a_409_page(client: TestClient) -> None:
    r = page(client, "nope")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    draft = new_show(client, language="zh-CN")["id"]
    r = page(client, draft, query="?lang=zh-CN")
    assert r.status_code == 409 and "直播尚未开始，暂无可复盘的数据。" in r.text
    assert "login.py" not in r.text  # logged in: no login hint
    assert "The show has not started" in page(client, draft, query="?lang=en").text


def test_the_shows_language_decides_and_lang_overrides(client: TestClient, clock: FakeClock) -> None:
    zh = ended_show(client, clock, language="zh-CN")["id"]
    en = ended_show(client, clock, language="en")["id"]
    assert '<html lang="zh-CN">' in page(client, zh).text and "核心数据" in page(client, zh).text
    assert '<html lang="en">' in page(client, en).text
    assert "Key numbers" in page(client, zh, query="?lang=en").text
    assert "核心数据" in page(client, en, query="?lang=zh").text
    # Accept-Language does not override the show's language; ?lang= does
    assert "核心数据" in page(client, zh, {**ADMIN, "Accept-Language": "en"}).text


def test_the_page_carries_its_own_strict_policy(client: TestClient, clock: FakeClock) -> None:
    r = page(client, ended_show(client, clock)["id"])
    policy = r.headers["content-security-policy"]
    assert policy.startswith("default-src 'none'; style-src 'sha256-") and "script-src" not in policy
    assert "frame-ancestors 'none'" in policy
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["referrer-policy"] == "no-referrer"
    assert "no-store" in r.headers["cache-control"]
    assert "<script" not in r.text and "url(http" not in r.text and 'rel="stylesheet"' not in r.text


def test_a_live_show_is_the_review_so_far_and_names_no_viewer(client: TestClient, clock: FakeClock) -> None:
    show = new_show(client)
    command(client, show["id"], "show.start")
    viewer = client.post(f"/api/shows/{show['id']}/viewers", json={"nickname": "王小明"}).json()
    r = client.post(f"/api/shows/{show['id']}/interactions", headers=ADMIN, json={"events": [
        {"id": "e1", "type": "join", "viewer_id": "dy-8812", "nickname": "李小红", "at": clock.t},
        {"id": "e2", "type": "comment", "viewer_id": "dy-8812", "text": "好看", "at": clock.t + 1000}]})
    assert r.status_code == 200, r.text
    clock.advance(150)
    r = page(client, show["id"], query="?lang=en")
    assert r.status_code == 200
    assert "The review so far: the show is still live." in r.text
    assert re.search(r'<tr data-metric="unique_viewers"><td>Unique viewers</td><td><b>1</b>', r.text)
    for name in (viewer["viewer_id"], "王小明", "dy-8812", "李小红", "好看"):
        assert name not in r.text


def test_the_control_panel_links_to_it_for_the_review_roles(client: TestClient, clock: FakeClock) -> None:
    sid = new_show(client)["id"]
    for role in STAFF_ROLES:
        r = client.get(f"/shows/{sid}/control", headers=bearer(staff(client, sid, role)["token"]))
        links = re.findall(r'<a [^>]*data-testid="review-link"[^>]*>', r.text)
        link = f'<a class="lang" href="/shows/{sid}/review" target="_blank" rel="noopener" data-testid="review-link">'
        assert (links == [link]) == (role in REVIEW), role


def test_the_page_names_the_benchmark_and_its_sources(client: TestClient, clock: FakeClock) -> None:
    html = page(client, ended_show(client, clock, language="en")["id"]).text
    assert 'Benchmark “default”, version 1 of 2026-12-01, category general, confidence low.' in html
    assert "nmg-ql.com/10732.html" in html  # the dwell figure's source, by name
    assert "There is no earlier ended show to compare with." in html

