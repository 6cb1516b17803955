"""The OBS overlay in a real browser: countdowns right whatever the browser's
clock says, viewer text shown as text and never run, layers chosen by the
URL, the draw revealed with masked names, and an overlay that comes back by
itself when its server restarts."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.sync.client import connect

from server import create_app
from tests.conftest import ADMIN, PRODUCTS, LiveServer, make_settings
from tests.waiting import CEILING, CEILING_MS, receive_until

pytestmark = pytest.mark.browser

WAIT_MS = CEILING_MS  # what a page gets to show something the server already did


# -- helpers (also used by test_watch.py) ------------------------------------------------


def api(server: LiveServer, method: str, path: str, body: Any = None, token: str | None = ADMIN,
        headers: dict[str, str] | None = None) -> Any:
    """The JSON answer of an API call; raises urllib.error.HTTPError on an error status."""
    data = None if body is None else json.dumps(body).encode()
    h = {"Content-Type": "application/json", **(headers or {})}
    if token is not None:
        h["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(server.url + path, data=data, method=method, headers=h)
    with urllib.request.urlopen(req, timeout=CEILING) as r:
        return json.loads(r.read())


def command(server: LiveServer, sid: str, body: dict[str, Any]) -> Any:
    return api(server, "POST", f"/api/shows/{sid}/commands", body)


def live_show(server: LiveServer, **extra: Any) -> dict[str, Any]:
    """A started show with the test products (no rundown); returns the create answer."""
    created: dict[str, Any] = api(server, "POST", "/api/shows",
                                  {"title": "Overlay show", "products": PRODUCTS, **extra})
    command(server, created["id"], {"type": "show.start"})
    return created


def register(server: LiveServer, sid: str, nickname: str) -> dict[str, Any]:
    viewer: dict[str, Any] = api(server, "POST", f"/api/shows/{sid}/viewers", {"nickname": nickname}, token=None)
    return viewer


def viewer_comment(server: LiveServer, sid: str, token: str, text: str) -> None:
    """Post a comment as a viewer over a real socket; returns once it is accepted."""
    with connect(f"{server.ws_url}/ws/shows/{sid}", proxy=None, open_timeout=CEILING) as ws:
        ws.send(json.dumps({"type": "hello", "token": token}))
        assert json.loads(ws.recv(CEILING))["type"] == "snapshot"
        ws.send(json.dumps({"type": "comment", "text": text, "request_id": "c1"}))
        msg = receive_until(ws, lambda m: m.get("request_id") == "c1")
        assert msg["type"] == "command.result", msg


def overlay_url(server: LiveServer, show: dict[str, Any], query: str = "") -> str:
    return f"{server.url}/shows/{show['id']}/overlay?key={show['overlay_key']}{query}"


def open_overlay(browser: Any, url: str, **context: Any) -> Any:
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, **context)
    page = ctx.new_page()
    page.goto(url)
    page.wait_for_selector("body[data-conn=connected]", state="attached", timeout=WAIT_MS)
    return page


@pytest.fixture
def show(live_server: LiveServer) -> dict[str, Any]:
    return live_show(live_server, like_goal=500, language="en")


# -- countdowns ------------------------------------------------------------------------------


def render_countdown(page: Any, selector: str) -> tuple[float, dict[str, Any], float]:
    """Render the overlay now and read the countdown at ``selector``: ``(before,
    shown, after)``, with the wall clock in ms just before and after, and
    ``shown`` = ``{ms, text, rtt}``, ``rtt`` the page's best ping round trip."""
    page.wait_for_function("window.__overlay.sock.clock.bestRtt < 1e9", timeout=WAIT_MS)  # a ping sample
    before = time.time() * 1000
    shown: dict[str, Any] = page.evaluate("""s => { const o = window.__overlay; o.layers.render();
        const c = document.querySelector(s);
        return {ms: Number(c.dataset.ms), text: c.textContent, rtt: o.sock.clock.bestRtt}; }""", selector)
    after = time.time() * 1000
    return before, shown, after


def assert_counts_down_to(target: int, before: float, shown: dict[str, Any], after: float) -> None:
    """``shown`` is ``target`` minus the server's time while the page rendered, which
    lies in [before, after]; the page's estimate of that time is off by at most
    half its best round trip (a slow machine widens the bracket, never the error)."""
    slack = shown["rtt"] / 2 + 50
    assert target - after - slack <= shown["ms"] <= target - before + slack, (shown, target - after, target - before)


@pytest.mark.parametrize("shift_ms", [5 * 60_000, -7 * 60_000], ids=["clock+5min", "clock-7min"])
def test_flash_sale_countdown_is_right_with_the_browser_clock_off_by_minutes(
    browser: Any, live_server: LiveServer, show: dict[str, Any], shift_ms: int
) -> None:
    sid = show["id"]
    command(live_server, sid, {"type": "flash_sale.open", "sku": "A1", "price": "99", "stock": 10,
                               "duration_seconds": 600})
    deadline = api(live_server, "GET", f"/api/shows/{sid}/state")["flash_sales"][0]["deadline"]
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    # The browser's clock is minutes off the real one (the server's), and keeps running.
    ctx.clock.install(time=time.time() + shift_ms / 1000)
    page = ctx.new_page()
    page.goto(overlay_url(live_server, show))
    page.wait_for_selector(".sale .countdown[data-ms]", timeout=WAIT_MS)
    browser_off = page.evaluate("Date.now()") - time.time() * 1000
    assert abs(browser_off - shift_ms) < 60_000, "the browser's clock was not shifted by minutes"
    countdown = page.locator(".sale .countdown")
    for _ in range(5):
        before, shown, after = render_countdown(page, ".sale .countdown")
        assert_counts_down_to(deadline, before, shown, after)
        seconds = -(-shown["ms"] // 1000)
        assert shown["text"] == f"Ends in {seconds // 60}:{seconds % 60:02d}"
    assert countdown.get_attribute("data-phase") == "ends"


def test_draw_shows_entries_countdown_then_masked_winners_and_no_commitment(
    browser: Any, live_server: LiveServer, show: dict[str, Any]
) -> None:
    sid = show["id"]
    page = open_overlay(browser, overlay_url(live_server, show))
    command(live_server, sid, {"type": "draw.open", "prize": "Lipstick", "winners": 2, "entry_seconds": 600,
                               "eligibility": {"keyword": "want"}})
    draw = api(live_server, "GET", f"/api/shows/{sid}/state")["draws"][0]
    card = page.locator(".draw")
    card.locator(".entries", has_text="0 entered").wait_for(timeout=WAIT_MS)
    countdown = card.locator(".draw-countdown")
    countdown.filter(has_text=re.compile(r"^Draw in \d+:\d\d$")).wait_for(timeout=WAIT_MS)
    assert_counts_down_to(draw["deadline"], *render_countdown(page, ".draw .draw-countdown"))  # to the entry deadline
    for nickname in ("王小明", "Lily"):
        viewer = register(live_server, sid, nickname)
        viewer_comment(live_server, sid, viewer["token"], "I want it")
    card.locator(".entries", has_text="2 entered").wait_for(timeout=WAIT_MS)
    command(live_server, sid, {"type": "draw.close", "draw_id": draw["id"]})
    page.locator(".draw.drawn .winners li").nth(1).wait_for(timeout=WAIT_MS)
    assert sorted(page.locator(".draw .winners li").all_inner_texts()) == ["L**", "王**"]
    assert page.locator(".draw .drum svg[data-icon=gift]").count() == 1  # revealed live: the roll plays
    # the commitment means nothing to viewers on the stream (the watch page links to it)
    assert draw["commitment"][:8] not in page.locator("#stage").inner_text()
    assert page.locator(".commitment, .verify").count() == 0


# -- comments are text -------------------------------------------------------------------------

XSS = [
    "<img src=x onerror=window.__xss=1>",
    "<script>window.__xss=2</script>",
    "<svg onload=window.__xss=3>",
    '<a href="javascript:window.__xss=4">tap</a>',
    '"><b>bold</b><img src=x onerror=window.__xss=5>',
    "'><iframe src=javascript:window.__xss=6></iframe>",
    "<style>body{display:none}</style>",
    "{{constructor.constructor('window.__xss=7')()}}",
]
NICKS = ["<b>b</b>", "<svg/onload=x()>", "王小明"]
CREATED_FROM_TEXT = "img, script, svg, a, iframe, style"


def assert_shown_as_text(page: Any, container: str) -> None:
    """Every XSS comment is in ``container`` character for character; nothing ran."""
    texts = page.locator(f"{container} .comment .text")
    for payload in XSS:
        page.locator(f"{container} .comment .text", has_text=payload).first.wait_for(timeout=WAIT_MS)
    assert set(XSS) <= set(texts.all_text_contents())
    nicks = page.locator(f"{container} .comment .nick").all_text_contents()
    assert {f"{n}: " for n in NICKS} <= set(nicks)
    assert page.locator(f"{container} .comment").locator(CREATED_FROM_TEXT).count() == 0
    assert page.locator("body").locator("img, script:not([src]):not([type]), svg:not([data-icon]), iframe").count() == 0
    assert page.evaluate("window.__xss") is None


def test_viewer_comments_with_markup_are_shown_as_text_and_run_nothing(
    browser: Any, live_server: LiveServer, show: dict[str, Any]
) -> None:
    sid = show["id"]
    overlay = open_overlay(browser, overlay_url(live_server, show, "&layers=comments"))
    watcher = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    watcher.goto(f"{live_server.url}/shows/{sid}/watch")
    watcher.wait_for_selector("body[data-conn=connected]", state="attached", timeout=WAIT_MS)
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    for page in (overlay, watcher):
        page.on("dialog", on_dialog)
        # the ticker shows the newest few: show them all for this test
        page.evaluate("n => { const l = window.__overlay ? window.__overlay.layers : window.__watch.layers;"
                      " l.opts.comments = n; }", len(XSS))
    viewers = [register(live_server, sid, NICKS[i % len(NICKS)]) for i in range(len(XSS))]
    for viewer, payload in zip(viewers, XSS, strict=True):
        viewer_comment(live_server, sid, viewer["token"], payload)
    assert_shown_as_text(overlay, ".stage")
    assert_shown_as_text(watcher, "#layers")
    # pinned, the comment is still text
    state = api(live_server, "GET", f"/api/shows/{sid}/state")
    first = next(c for c in state["comments"] if c["text"] == XSS[0])
    command(live_server, sid, {"type": "comment.pin", "comment_id": first["comment_id"]})
    overlay.locator(".comments .pinned .text", has_text=XSS[0]).wait_for(timeout=WAIT_MS)
    assert overlay.locator(".comments .pinned").locator(".nick, .text").locator(CREATED_FROM_TEXT).count() == 0
    assert overlay.locator(".comments .pinned svg:not([data-icon=pin])").count() == 0
    assert overlay.evaluate("window.__xss") is None and watcher.evaluate("window.__xss") is None
    assert dialogs == []


# -- the page and its layers -----------------------------------------------------------------------


def test_wrong_overlay_key_gets_a_401_page(browser: Any, live_server: LiveServer, show: dict[str, Any]) -> None:
    page = browser.new_page()
    response = page.goto(f"{live_server.url}/shows/{show['id']}/overlay?key=wrong")
    assert response is not None and response.status == 401
    assert page.locator("#stage").count() == 0
    response = page.goto(f"{live_server.url}/shows/{show['id']}/overlay")
    assert response is not None and response.status == 401


def test_layers_parameter_selects_what_the_overlay_shows(
    browser: Any, live_server: LiveServer, show: dict[str, Any]
) -> None:
    sid = show["id"]
    command(live_server, sid, {"type": "product.pin", "sku": "B2"})
    command(live_server, sid, {"type": "flash_sale.open", "sku": "A1", "price": "99", "stock": 4,
                               "duration_seconds": 60})
    both = open_overlay(browser, overlay_url(live_server, show))
    both.locator(".product", has_text="Cream 50g").wait_for(timeout=WAIT_MS)
    both.locator(".sale", has_text="Serum 30ml").wait_for(timeout=WAIT_MS)
    only_sale = open_overlay(browser, overlay_url(live_server, show, "&layers=sale,bogus"))
    only_sale.locator(".sale .countdown[data-ms]").wait_for(timeout=WAIT_MS)
    assert only_sale.locator(".product, .likes, .comments, .draw").count() == 0
    assert only_sale.locator(".sale .was").inner_text() == "¥299.00"
    assert only_sale.locator(".sale .price").inner_text() == "¥99.00"
    assert only_sale.locator(".sale .stock-label").inner_text() == "4 left"
    # the overlay's page itself is transparent for OBS
    assert only_sale.evaluate("getComputedStyle(document.body).backgroundColor") == "rgba(0, 0, 0, 0)"
    # the 1920×1080 stage is scaled to the browser source
    small = browser.new_context(viewport={"width": 960, "height": 540}).new_page()
    small.goto(overlay_url(live_server, show, "&layers=sale"))
    small.wait_for_selector(".sale .countdown[data-ms]", timeout=WAIT_MS)
    box = small.locator(".sale").bounding_box()
    assert box is not None and box["x"] + box["width"] <= 960 - 96 / 2 + 1 and box["width"] == pytest.approx(240, abs=1)


def test_stock_bar_and_sold_out_follow_claims(browser: Any, live_server: LiveServer, show: dict[str, Any]) -> None:
    sid = show["id"]
    command(live_server, sid, {"type": "flash_sale.open", "sku": "A1", "price": "99", "stock": 2,
                               "duration_seconds": 60})
    sale_id = api(live_server, "GET", f"/api/shows/{sid}/state")["flash_sales"][0]["id"]
    page = open_overlay(browser, overlay_url(live_server, show, "&layers=sale"))
    page.locator(".sale .stock-label", has_text="2 left").wait_for(timeout=WAIT_MS)
    for i in range(2):
        viewer = register(live_server, sid, f"buyer{i}")
        api(live_server, "POST", f"/api/shows/{sid}/flash-sales/{sale_id}/claims", {"qty": 1},
            token=viewer["token"], headers={"Idempotency-Key": f"k{i}"})
        page.locator(".sale").and_(page.locator(f"[data-remaining='{1 - i}']")).wait_for(timeout=WAIT_MS)
    page.locator(".sale.soldout .countdown", has_text="Sold out").wait_for(timeout=WAIT_MS)
    assert page.locator(".sale .fill").evaluate("e => e.style.width") == "0%"


def test_overlay_in_chinese(browser: Any, live_server: LiveServer, show: dict[str, Any]) -> None:
    sid = show["id"]
    command(live_server, sid, {"type": "flash_sale.open", "sku": "A1", "price": "99", "stock": 5,
                               "duration_seconds": 60})
    command(live_server, sid, {"type": "draw.open", "prize": "口红", "winners": 1})
    page = open_overlay(browser, overlay_url(live_server, show, "&lang=zh-CN"))
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.locator(".sale .tag", has_text="限时秒杀").wait_for(timeout=WAIT_MS)
    assert page.locator(".sale .countdown").inner_text().startswith("距结束")
    assert page.locator(".sale .stock-label").inner_text() == "仅剩 5 件"
    assert page.locator(".draw .tag").inner_text() == "幸运抽奖"
    assert page.locator(".draw .entries").inner_text().endswith("人参与")


# -- reconnecting by itself ------------------------------------------------------------------------------


def server_on(database_url: str, port: int) -> LiveServer:
    """A LiveServer on a given port (the restarted server must answer where the old one did)."""
    return LiveServer(create_app(make_settings(database_url)), port=port).start()


@pytest.fixture
def restartable(sqlite_url: str) -> Iterator[list[LiveServer]]:
    servers: list[LiveServer] = [LiveServer(create_app(make_settings(sqlite_url))).start()]
    yield servers
    for s in servers:
        s.stop()


def test_overlay_comes_back_by_itself_after_its_server_restarts(
    browser: Any, restartable: list[LiveServer], sqlite_url: str
) -> None:
    first = restartable[0]
    show = live_show(first, like_goal=100)
    sid = show["id"]
    command(first, sid, {"type": "product.pin", "sku": "A1"})
    page = open_overlay(browser, overlay_url(first, show))
    page.locator(".product", has_text="Serum 30ml").wait_for(timeout=WAIT_MS)
    page.evaluate("window.__same_page = true")
    seq_before = page.evaluate("window.__overlay.sock.lastSeq")

    first.stop()
    page.wait_for_selector("body[data-conn=disconnected]", state="attached", timeout=WAIT_MS)
    second = server_on(sqlite_url, first.port)
    restartable.append(second)
    command(second, sid, {"type": "product.pin", "sku": "B2"})
    command(second, sid, {"type": "flash_sale.open", "sku": "A1", "price": "88", "stock": 3,
                          "duration_seconds": 120})

    # by itself: the page retries with a backoff of at most 10 s, and is never reloaded
    page.locator(".product", has_text="Cream 50g").wait_for(timeout=WAIT_MS)
    page.locator(".sale .price", has_text="¥88").wait_for(timeout=WAIT_MS)
    assert page.evaluate("window.__same_page") is True  # no reload
    assert page.evaluate("window.__overlay.sock.lastSeq") > seq_before
    page.wait_for_selector("body[data-conn=connected]", state="attached", timeout=WAIT_MS)
