"""Security and robustness of the HTTP side (docs/api.md): hostile JSON gets
the contract's 422 and writes nothing; a stream URL cannot break or widen a
page's Content-Security-Policy; every HTML page carries its security headers;
cookies are Secure behind https; a staff cookie of one show does nothing on
another, and never from a foreign Origin; login links redirect only locally;
and a real server (a subprocess, INFO and DEBUG) logs none of the secrets it
issued."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from websockets.sync.client import connect

from server import ROOT, create_app
from tests.conftest import PRODUCTS, SEGMENTS, FakeClock, admin_headers, free_port, make_settings, new_show
from tests.test_api import assert_error, seq_of
from tests.waiting import CEILING, receive_until, wait_until

ADMIN_H = admin_headers()


@pytest.fixture
def show(client: TestClient) -> dict[str, Any]:
    return new_show(client)


def staff_of(client: TestClient, sid: str, role: str) -> dict[str, Any]:
    r = client.post(f"/api/shows/{sid}/staff", json={"name": "Sam", "role": role}, headers=ADMIN_H)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def session_of(client: TestClient, login_url: str) -> str:
    """Open a login link; returns the session cookie it set."""
    r = client.get(login_url.replace("http://testserver", ""), follow_redirects=False)
    assert r.status_code == 303, r.text
    return str(r.cookies["live_session"])


def admin_login_path(client: TestClient) -> str:
    """A fresh one-time admin login path (what ``scripts/login.py`` prints)."""
    accounts = client.app.state.hub.accounts  # type: ignore[attr-defined]
    code = client.portal.call(accounts.login_code, "admin", None, "admin")  # type: ignore[union-attr]
    return f"/login/{code}"


def all_seqs(client: TestClient) -> dict[str, int]:
    shows = client.get("/api/shows", headers=ADMIN_H).json()["shows"]
    return {s["id"]: s["seq"] for s in shows}


# -- hostile JSON: 422 in the contract's shape, nothing written ----------------------------------


def nested(depth: int, kind: str) -> bytes:
    if kind == "array":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


def endpoints(sid: str) -> list[tuple[str, str]]:
    return [
        ("POST", "/api/shows"),
        ("POST", f"/api/shows/{sid}/commands"),
        ("PUT", f"/api/shows/{sid}/products"),
        ("PUT", f"/api/shows/{sid}/rundown"),
        ("POST", f"/api/shows/{sid}/staff"),
        ("POST", f"/api/shows/{sid}/viewers"),
    ]


@pytest.mark.parametrize("kind", ["array", "object"])
@pytest.mark.parametrize("depth", [100_000, 40])
def test_deeply_nested_json_is_422_and_writes_nothing(
    client: TestClient, show: dict[str, Any], kind: str, depth: int
) -> None:
    sid = show["id"]
    before = all_seqs(client)
    for method, path in endpoints(sid):
        r = client.request(method, path, content=nested(depth, kind),
                           headers={**ADMIN_H, "Content-Type": "application/json"})
        err = assert_error(r, 422, "INVALID", "body")
        assert "deeper" in err["message"], (path, err)
    assert all_seqs(client) == before


def test_json_nested_a_few_levels_is_still_accepted(client: TestClient, show: dict[str, Any]) -> None:
    # the limit refuses only what no request of the contract needs
    r = client.post(f"/api/shows/{show['id']}/commands", headers=ADMIN_H,
                    json={"type": "draw.open", "prize": "x", "winners": 1, "eligibility": {"keyword": "hi"}})
    assert r.status_code in (200, 409), r.text  # 409: the show is not live; judged, not refused as JSON


SURROGATE_CASES = [
    ("POST", "/api/shows", '{"title":"ab\\ud800"}', "title"),
    ("PUT", "/api/shows/{sid}/rundown",
     '{"segments":[{"kind":"warmup","title":"x\\udc00","planned_seconds":60}]}', "segments[0].title"),
    ("POST", "/api/shows/{sid}/staff", '{"name":"\\ud800","role":"host"}', "name"),
    ("POST", "/api/shows/{sid}/viewers", '{"nickname":"bob\\udfff"}', "nickname"),
    ("POST", "/api/shows/{sid}/commands", '{"type":"draw.open","prize":"\\ud800","winners":1}', "prize"),
    ("POST", "/api/shows/{sid}/commands", '{"type":"show.start","\\ud800":1}', "body"),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), SURROGATE_CASES,
                         ids=[c[3] if c[3] != "body" else "key" for c in SURROGATE_CASES])
def test_lone_surrogate_is_422_with_its_field_and_writes_nothing(
    client: TestClient, show: dict[str, Any], method: str, path: str, body: str, field: str
) -> None:
    """``"\\ud800"`` is valid JSON but no text: it used to pass the checks and then
    fail to encode (500), leaving a show whose state could not be read."""
    sid = show["id"]
    assert client.post(f"/api/shows/{sid}/commands", json={"type": "show.start"}, headers=ADMIN_H).status_code == 200
    before = all_seqs(client)
    r = client.request(method, path.format(sid=sid), content=body.encode(),
                       headers={**ADMIN_H, "Content-Type": "application/json"})
    assert_error(r, 422, "INVALID", field)
    assert all_seqs(client) == before
    assert client.get(f"/api/shows/{sid}/state", headers=ADMIN_H).status_code == 200


def test_a_surrogate_pair_is_an_ordinary_character(client: TestClient) -> None:
    r = client.post("/api/shows", content=b'{"title":"live \\ud83d\\ude00"}', headers=ADMIN_H)
    assert r.status_code == 201, r.text
    assert r.json()["title"] == "live \U0001f600"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(client: TestClient, show: dict[str, Any], constant: str) -> None:
    sid = show["id"]
    before = seq_of(client, sid)
    r = client.post(f"/api/shows/{sid}/commands", headers=ADMIN_H,
                    content=f'{{"type":"segment.extend","seconds":{constant}}}'.encode())
    assert_error(r, 422, "INVALID", "body")
    assert seq_of(client, sid) == before


def test_a_key_given_twice_is_422_and_a_live_show_goes_on(client: TestClient, show: dict[str, Any]) -> None:
    """``{"type":"segment.next","type":"show.end"}`` used to end the show (the last key won)."""
    sid = show["id"]
    assert client.post(f"/api/shows/{sid}/commands", json={"type": "show.start"}, headers=ADMIN_H).status_code == 200
    before = all_seqs(client)
    for method, path, body in [
        ("POST", f"/api/shows/{sid}/commands", '{"type":"segment.next","type":"show.end"}'),
        ("PUT", f"/api/shows/{sid}/products", '{"products":[],"products":[]}'),
        ("POST", f"/api/shows/{sid}/viewers", '{"nickname":"Ann","nickname":"Bob"}'),
        ("POST", "/api/shows", '{"title":"a","segments":[{"title":"x","title":"y","planned_seconds":60}]}'),
    ]:
        r = client.request(method, path, content=body.encode(), headers={**ADMIN_H, "Content-Type": "application/json"})
        assert_error(r, 422, "INVALID", "body")
    assert all_seqs(client) == before
    assert client.get(f"/api/shows/{sid}/state", headers=ADMIN_H).json()["show"]["status"] == "live"


@pytest.mark.parametrize("nickname", ["\u202eevil", "\u200b\u200b", "\ufeffAnn", "Ann\U000e0041", "\u2066Ann\u2069"],
                         ids=["rlo", "zero-width-only", "bom", "tag", "isolate"])
def test_an_invisible_character_in_a_nickname_is_422_and_registers_no_one(
    client: TestClient, show: dict[str, Any], nickname: str
) -> None:
    before = seq_of(client, show["id"])
    r = client.post(f"/api/shows/{show['id']}/viewers", json={"nickname": nickname})
    assert_error(r, 422, "INVALID", "nickname")
    assert seq_of(client, show["id"]) == before


# -- pages: security headers, and a stream URL that cannot break them ----------------------------


def csp_directives(response: Any) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    out: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            assert words[0] not in out, f"directive {words[0]} twice in {policy!r}"
            out[words[0]] = words[1:]
    return out


EXPECTED_DIRECTIVES = {"default-src", "img-src", "media-src", "connect-src", "frame-ancestors", "base-uri",
                       "form-action"}


def test_watch_page_with_a_non_ascii_stream_host_is_served(client: TestClient) -> None:
    """A Chinese host name cannot travel in a header as it is: it used to make the
    watch page a 500; its IDNA form is what the CSP allows."""
    show = new_show(client, stream_url="https://直播.例子.cn/live/stream.m3u8")
    r = client.get(f"/shows/{show['id']}/watch")
    assert r.status_code == 200, r.text
    assert csp_directives(r)["media-src"] == ["'self'", "https://xn--z6ut02b.xn--fsqu00a.cn", "blob:"]
    assert 'src="https://直播.例子.cn/live/stream.m3u8"' in r.text


@pytest.mark.parametrize("url", [
    "https://cdn.example.com;script-src-elem%20*;/live.m3u8",
    "https://cdn.example.com,default-src/live.m3u8",
    "https://cdn.example.com'unsafe-inline'/x",
])
def test_a_stream_url_cannot_add_a_csp_directive(client: TestClient, url: str) -> None:
    show = new_show(client, stream_url=url)
    r = client.get(f"/shows/{show['id']}/watch")
    assert r.status_code == 200, r.text
    assert "," not in r.headers["content-security-policy"]  # a comma would start a second policy
    directives = csp_directives(r)
    assert set(directives) == EXPECTED_DIRECTIVES
    assert directives["media-src"] == ["'self'", "blob:"]
    assert "script-src" not in r.headers["content-security-policy"]


def test_a_stream_url_with_a_port_keeps_it_in_the_csp(client: TestClient) -> None:
    show = new_show(client, stream_url="https://user:pw@CDN.example.com:8443/live.m3u8")
    r = client.get(f"/shows/{show['id']}/watch")
    assert csp_directives(r)["media-src"] == ["'self'", "https://cdn.example.com:8443", "blob:"]


def test_every_html_page_carries_the_security_headers(client: TestClient, show: dict[str, Any]) -> None:
    sid, key = show["id"], show["overlay_key"]
    session = session_of(client, staff_of(client, sid, "host")["login_url"])
    pages = {
        "/": {},
        f"/shows/{sid}/control": {"Cookie": f"live_session={session}"},
        f"/shows/{sid}/control?no-login": {"Cookie": ""},
        f"/shows/{sid}/overlay?key={key}": {},
        f"/shows/{sid}/overlay?key=wrong": {},
        f"/shows/{sid}/watch": {},
        "/shows/nope/watch": {},
        "/shows/nope/overlay?key=x": {},
    }
    statuses = set()
    for path, headers in pages.items():
        client.cookies.clear()
        r = client.get(path, headers=headers)
        statuses.add(r.status_code)
        assert r.headers["content-type"].startswith("text/html"), path
        directives = csp_directives(r)
        assert set(directives) == EXPECTED_DIRECTIVES, path
        assert directives["default-src"] == ["'self'"], path  # so scripts only from this server, none inline
        assert "'unsafe-inline'" not in r.headers["content-security-policy"], path
        assert r.headers["x-content-type-options"] == "nosniff", path
        # the overlay URL carries its key: no page may hand it on as a Referer
        assert r.headers["referrer-policy"] == "no-referrer", path
        # only the OBS overlay may be framed
        assert directives["frame-ancestors"] == (["*"] if "/overlay?key=" + key in path else ["'none'"]), path
    assert statuses == {200, 401, 404}


# -- cookies and sessions ------------------------------------------------------------------------


def test_session_cookie_is_secure_when_the_public_url_is_https(sqlite_url: str, clock: FakeClock) -> None:
    """Behind a TLS proxy the app sees http; LIVE_PUBLIC_URL says what browsers use."""
    app = create_app(make_settings(sqlite_url, public_url="https://live.example.com"), clock=clock)
    with TestClient(app) as c:
        sid = new_show(c)["id"]
        staff = staff_of(c, sid, "host")
        assert staff["login_url"].startswith("https://live.example.com/login/")
        r = c.get(staff["login_url"].replace("https://live.example.com", ""), follow_redirects=False)
        assert r.status_code == 303
        flags = {f.strip().lower() for f in r.headers["set-cookie"].split(";")[1:]}
        assert {"secure", "httponly", "samesite=lax", "path=/"} <= flags


def test_session_cookie_is_httponly_and_not_secure_on_plain_http(client: TestClient, show: dict[str, Any]) -> None:
    r = client.get(staff_of(client, show["id"], "host")["login_url"].replace("http://testserver", ""),
                   follow_redirects=False)
    flags = {f.strip().lower() for f in r.headers["set-cookie"].split(";")[1:]}
    assert {"httponly", "samesite=lax"} <= flags and "secure" not in flags


@pytest.mark.parametrize("wanted", [
    "//evil.example/", "/\\evil.example", "https://evil.example/", "/shows//evil.example",
    "/shows/\\evil.example", "http:/evil.example", "/%2F%2Fevil.example", "javascript:alert(1)",
])
def test_login_link_never_redirects_off_site(client: TestClient, show: dict[str, Any], wanted: str) -> None:
    r = client.get(admin_login_path(client), params={"next": wanted}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/"
    # the one local target it is for still works
    r = client.get(admin_login_path(client), params={"next": f"/shows/{show['id']}/control"}, follow_redirects=False)
    assert r.headers["location"] == f"/shows/{show['id']}/control"


def test_only_admin_links_follow_next(client: TestClient, show: dict[str, Any]) -> None:
    other = new_show(client)
    r = client.get(staff_of(client, show["id"], "host")["login_url"].replace("http://testserver", ""),
                   params={"next": f"/shows/{other['id']}/control"}, follow_redirects=False)
    assert r.headers["location"] == f"/shows/{show['id']}/control"


def test_staff_cookie_of_one_show_does_nothing_on_another(client: TestClient, show: dict[str, Any]) -> None:
    other = new_show(client)
    session = session_of(client, staff_of(client, show["id"], "assistant")["login_url"])
    before = all_seqs(client)
    client.cookies.clear()
    cookie = {"Cookie": f"live_session={session}", "Origin": "http://testserver"}
    oid = other["id"]
    for method, path, body in [
        ("GET", f"/api/shows/{oid}", None),
        ("GET", f"/api/shows/{oid}/state", None),
        ("POST", f"/api/shows/{oid}/commands", {"type": "show.start"}),
        ("PUT", f"/api/shows/{oid}/products", {"products": PRODUCTS}),
        ("PUT", f"/api/shows/{oid}/rundown", {"segments": SEGMENTS}),
        ("POST", f"/api/shows/{oid}/staff", {"name": "x", "role": "host"}),
    ]:
        r = client.request(method, path, json=body, headers=cookie)
        assert_error(r, 403, "FORBIDDEN")
    page = client.get(f"/shows/{oid}/control", headers=cookie)
    assert page.status_code == 403 and 'id="panel"' not in page.text
    listed = client.get("/api/shows", headers=cookie).json()["shows"]
    assert [s["id"] for s in listed] == [show["id"]]
    assert all_seqs(client) == before


@pytest.mark.parametrize("origin", [None, "http://evil.example", "null", "http://testserver.evil.example",
                                    "https://testserver", "http://testserver:8000", "ws://testserver"])
def test_every_unsafe_cookie_request_from_a_foreign_origin_is_refused(
    client: TestClient, show: dict[str, Any], origin: str | None
) -> None:
    """CSRF: the admin's browser session, driven by another site, changes nothing."""
    sid = show["id"]
    session = session_of(client, admin_login_path(client))
    client.cookies.clear()
    headers = {"Cookie": f"live_session={session}", **({"Origin": origin} if origin else {})}
    before = all_seqs(client)
    for method, path, body in [
        ("POST", "/api/shows", {"title": "forged"}),
        ("POST", f"/api/shows/{sid}/commands", {"type": "show.start"}),
        ("PUT", f"/api/shows/{sid}/products", {"products": PRODUCTS}),
        ("PUT", f"/api/shows/{sid}/rundown", {"segments": SEGMENTS}),
        ("POST", f"/api/shows/{sid}/staff", {"name": "mallory", "role": "assistant"}),
        ("POST", "/logout", None),
    ]:
        r = client.request(method, path, json=body, headers=headers)
        assert_error(r, 403, "BAD_ORIGIN")
    assert all_seqs(client) == before
    # the session survived the forged logout
    assert client.get("/api/shows", headers={"Cookie": f"live_session={session}"}).status_code == 200
    # a viewer registration carrying the cookie is just an ordinary viewer's
    r = client.post(f"/api/shows/{sid}/viewers", json={"nickname": "anna"}, headers=headers)
    assert r.status_code == 201, r.text
    engine = client.portal.call(client.app.state.hub.shows.get, sid)  # type: ignore[union-attr,attr-defined]
    assert engine.state.ledger.viewers[r.json()["viewer_id"]].staff is False


@pytest.mark.parametrize(("base", "origin"), [
    ("http://testserver", "http://testserver"),
    ("http://testserver", "http://testserver:80"),
    ("https://testserver", "https://testserver"),
    ("https://testserver", "https://testserver:443"),
])
def test_a_cookie_request_from_the_same_origin_is_served(sqlite_url: str, clock: FakeClock, base: str,
                                                          origin: str) -> None:
    """Same origin is scheme, host and port; a default port may be spelled out or not."""
    with TestClient(create_app(make_settings(sqlite_url, public_url=base), clock=clock), base_url=base) as c:
        session = session_of(c, admin_login_path(c))
        r = c.post("/api/shows", json={"title": "T"}, headers={"Cookie": f"live_session={session}", "Origin": origin})
        assert r.status_code == 201, r.text


@pytest.mark.parametrize(("base", "origin"), [("https://testserver", "http://testserver"),
                                              ("https://testserver", "https://testserver:8443"),
                                              ("http://testserver", "https://testserver")])
def test_a_socket_from_another_scheme_or_port_is_refused(sqlite_url: str, clock: FakeClock, base: str,
                                                         origin: str) -> None:
    from starlette.websockets import WebSocketDisconnect

    with TestClient(create_app(make_settings(sqlite_url), clock=clock), base_url=base) as c:
        sid = new_show(c)["id"]
        url = base.replace("http", "ws", 1) + f"/ws/shows/{sid}"
        with pytest.raises(WebSocketDisconnect), c.websocket_connect(url, headers={"Origin": origin}):
            pass
        with c.websocket_connect(url, headers={"Origin": base}) as ws:
            ws.send_text(json.dumps({"type": "hello"}))
            assert ws.receive_json()["type"] == "snapshot"
            ws.close()


BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def used_link(client: TestClient, sid: str) -> str:
    path = staff_of(client, sid, "host")["login_url"].removeprefix("http://testserver")
    assert client.get(path, follow_redirects=False).status_code == 303
    client.cookies.clear()
    return path


@pytest.mark.parametrize(("query", "headers", "lang", "words"), [
    ("", BROWSER, "en", ["used already or has expired", "Ask the admin"]),
    ("", {**BROWSER, "Accept-Language": "zh-CN,zh;q=0.9"}, "zh-CN", ["已被使用或已过期", "管理员"]),
    ("?lang=zh-CN", BROWSER, "zh-CN", ["已被使用或已过期"]),
    ("", {}, "en", ["used already or has expired"]),  # */* (curl, a QR-code scanner): a page too
])
def test_a_used_login_link_shows_a_page_saying_how_to_get_a_new_one(
    client: TestClient, show: dict[str, Any], query: str, headers: dict[str, str], lang: str, words: list[str]
) -> None:
    """It used to answer a browser with raw JSON."""
    r = client.get(used_link(client, show["id"]) + query, headers=headers, follow_redirects=False)
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    assert "set-cookie" not in r.headers
    assert csp_directives(r).keys() == EXPECTED_DIRECTIVES and r.headers["x-content-type-options"] == "nosniff"
    assert f'<html lang="{lang}">' in r.text
    for word in words:
        assert word in r.text
    assert ".venv/bin/python scripts/login.py --show ID" in r.text


def test_an_unknown_login_link_shows_the_same_page_with_the_show_it_was_for(client: TestClient) -> None:
    r = client.get("/login/not-a-code?next=/shows/s0123abcd/control", headers=BROWSER)
    assert r.status_code == 403 and "text/html" in r.headers["content-type"]
    assert ".venv/bin/python scripts/login.py --show s0123abcd" in r.text
    r = client.get("/login/not-a-code?next=/shows/%3Cscript%3E/control", headers=BROWSER)
    assert "<script>" not in r.text and "--show ID" in r.text
    r = client.get("/login/" + "x" * 500, headers=BROWSER)
    assert r.status_code == 403 and "text/html" in r.headers["content-type"]


def test_an_api_client_asking_for_json_still_gets_the_error(client: TestClient, show: dict[str, Any]) -> None:
    r = client.get(used_link(client, show["id"]), headers={"Accept": "application/json"})
    assert_error(r, 403, "LINK_USED")


# -- a real server's log ---------------------------------------------------------------------------


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def call(base: str, method: str, path: str, body: Any = None, token: str | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, Any]:
    h = {"Content-Type": "application/json", **(headers or {})}
    if token:
        h["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(base + path, data=None if body is None else json.dumps(body).encode(),
                                 method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=CEILING) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def a_session_of_every_kind(base: str, admin: str) -> list[str]:
    """Create, log in, run commands, register, claim, comment and watch over HTTP
    and sockets; returns every secret issued or used on the way."""
    secrets = [admin]
    status, show = call(base, "POST", "/api/shows", {"title": "T", "products": PRODUCTS, "segments": SEGMENTS},
                        token=admin)
    assert status == 201, show
    sid, key = show["id"], show["overlay_key"]
    status, staff = call(base, "POST", f"/api/shows/{sid}/staff", {"name": "Host", "role": "host"}, token=admin)
    assert status == 201, staff
    code = staff["login_url"].rsplit("/", 1)[1]
    secrets += [key, staff["token"], code]
    try:
        urllib.request.build_opener(NoRedirect).open(staff["login_url"], timeout=CEILING)
        raise AssertionError("the login link did not redirect")
    except urllib.error.HTTPError as e:
        assert e.code == 303
        session = e.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    secrets.append(session)
    browser = {"Cookie": f"live_session={session}", "Origin": base}
    assert call(base, "POST", f"/api/shows/{sid}/commands", {"type": "show.start"}, headers=browser)[0] == 200
    assert call(base, "POST", f"/api/shows/{sid}/commands", {"type": "segment.next"}, token=staff["token"])[0] == 200
    assert call(base, "POST", f"/api/shows/{sid}/commands", {"type": "show.start"}, token="st_not_a_real_token_1")[0] == 401
    assert call(base, "GET", f"/api/shows/{sid}/state?key={key}")[0] == 200
    assert call(base, "POST", f"/api/shows/{sid}/commands", {"type": "flash_sale.open", "sku": "A1", "price": "9",
                                                               "stock": 5, "duration_seconds": 60}, token=admin)[0] == 200
    sale = call(base, "GET", f"/api/shows/{sid}/state", token=admin)[1]["flash_sales"][0]["id"]
    status, viewer = call(base, "POST", f"/api/shows/{sid}/viewers", {"nickname": "Bob"})
    assert status == 201, viewer
    secrets.append(viewer["token"])
    status, claim = call(base, "POST", f"/api/shows/{sid}/flash-sales/{sale}/claims", {"qty": 1}, token=viewer["token"],
                         headers={"Idempotency-Key": "k-1"})
    assert status == 200, claim
    ws_url = base.replace("http://", "ws://") + f"/ws/shows/{sid}"
    for hello, headers in [({"token": viewer["token"]}, {}), ({"token": staff["token"]}, {}),
                           ({"overlay_key": key}, {}), ({}, browser), ({"token": "st_bogus_token_123"}, {})]:
        with connect(ws_url, additional_headers=headers, open_timeout=CEILING) as ws:
            ws.send(json.dumps({"type": "hello", **hello}))
            first = json.loads(ws.recv(CEILING))
            if first["type"] == "snapshot" and "token" in hello and hello["token"].startswith("vw_"):
                ws.send(json.dumps({"type": "comment", "text": "hello there", "request_id": "c1"}))
                receive_until(ws, lambda m: m.get("request_id") == "c1")
    with urllib.request.urlopen(f"{base}/shows/{sid}/overlay?key={key}", timeout=CEILING) as r:
        assert r.status == 200
    assert call(base, "POST", "/logout", headers=browser)[0] == 200
    return secrets


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_a_real_server_logs_no_secret_it_issued(tmp_path: Path, level: str) -> None:
    port = free_port()
    admin = "ad_" + "k" * 32
    secret = "live-secret-" + "s" * 20
    env = {**os.environ, "LIVE_HOST": "127.0.0.1", "LIVE_PORT": str(port), "DATABASE_URL": f"sqlite:///{tmp_path}/l.db",
           "LIVE_ADMIN_TOKEN": admin, "LIVE_SECRET": secret, "LIVE_DEMO": "0", "LIVE_LOG_LEVEL": level}
    env.pop("REDIS_URL", None)
    out = tmp_path / "server.log"
    with out.open("w") as sink:
        proc = subprocess.Popen([sys.executable, str(ROOT / "server.py")], env=env, stdout=sink,
                                stderr=subprocess.STDOUT, cwd=tmp_path)
        try:
            def listening() -> bool:
                assert proc.poll() is None, out.read_text()
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=CEILING).close()
                except OSError:
                    return False
                return True

            wait_until(listening, "the server to listen")
            secrets = a_session_of_every_kind(f"http://127.0.0.1:{port}", admin) + [secret]
        finally:
            proc.terminate()
            proc.wait(CEILING)
    log = out.read_text()
    assert "Application startup complete" in log  # the log was captured
    if level == "DEBUG":
        assert " DEBUG " in log or "DEBUG:" in log
    for value in secrets:
        assert value not in log, f"{value[:6]}… is in the {level} log"
    assert "hello there" not in log  # nor what viewers wrote
