"""The control panel's dashboard in a real browser, on the test's clock: viewers
over real sockets, likes, a comment and a signed shop order move its numbers,
minute by minute, with no reload; the curve gains a point a minute with the
segments as bands; a panel opened later draws the whole show from the review;
English and Chinese; readable at phone width; roles that may not read the
numbers see no dashboard."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.request
from typing import Any

import pytest

from tests.browser.test_control_audience import Viewer
from tests.browser.test_control_panel import api, open_panel, staff_link
from tests.conftest import PRODUCTS, SEGMENTS, FakeClock, LiveServer
from tests.waiting import CEILING, CEILING_MS, wait_until

pytestmark = pytest.mark.browser

STATS = ("viewers", "likes_per_min", "comments_per_min", "orders", "gmv", "conversion_rate")


@pytest.fixture
def show(clocked_server: LiveServer) -> dict[str, Any]:
    created: dict[str, Any] = api(clocked_server, "POST", "/api/shows",
                                  {"title": "Dashboard show", "products": PRODUCTS, "segments": SEGMENTS})
    return created


def order(server: LiveServer, show: dict[str, Any], body: dict[str, Any]) -> Any:
    """A shop order through the signed webhook."""
    raw = json.dumps(body).encode()
    sig = "sha256=" + hmac.new(show["webhook_secret"].encode(), raw, hashlib.sha256).hexdigest()
    req = urllib.request.Request(f"{server.url}/api/shows/{show['id']}/orders", data=raw, method="POST",
                                 headers={"Content-Type": "application/json", "X-Live-Signature": sig})
    with urllib.request.urlopen(req, timeout=CEILING) as r:
        return json.loads(r.read())


def review(server: LiveServer, sid: str) -> dict[str, Any]:
    got: dict[str, Any] = api(server, "GET", f"/api/shows/{sid}/review")
    return got


def settled(server: LiveServer, sid: str, what: str, check: Any) -> None:
    """Wait until the server has counted what the test just did (the review
    says so), so the next tick, after the clock moves, carries it."""
    wait_until(lambda: check(review(server, sid)), what)


def panel(browser: Any, server: LiveServer, sid: str, role: str, lang: str, **context: Any) -> Any:
    page = open_panel(browser, staff_link(server, sid, role, role.title()), **context)
    page.goto(f"{server.url}/shows/{sid}/control?lang={lang}")
    page.wait_for_selector("#conn.connected", timeout=CEILING_MS)
    return page


def shown(page: Any) -> dict[str, str]:
    return {k: page.locator(f'#dashboard [data-stat="{k}"]').inner_text() for k in STATS}


def no_horizontal_overflow(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_the_dashboard_follows_the_show_minute_by_minute_without_a_reload(
        browser: Any, clocked_server: LiveServer, clock: FakeClock, show: dict[str, Any]) -> None:
    from playwright.sync_api import expect  # here: without Playwright the browser fixture skips

    server, sid = clocked_server, show["id"]
    api(server, "POST", f"/api/shows/{sid}/commands", {"type": "show.start"})
    page = panel(browser, server, sid, "assistant", "en", viewport={"width": 1280, "height": 900})
    dash = page.locator("#dashboard")
    curve, bars = page.locator("svg#dash-curve"), page.locator("svg#dash-bars")
    stat = lambda k: dash.locator(f'[data-stat="{k}"]')
    expect(stat("viewers")).to_have_text("0", timeout=CEILING_MS)  # from the review, at once
    expect(curve).to_have_attribute("data-minutes", "1")
    assert dash.locator("dt", has_text="Watching now").count() == 1
    assert page.locator("figcaption", has_text="Orders per minute, last 30 minutes").count() == 1
    assert (stat("orders").inner_text(), stat("conversion_rate").inner_text()) == ("0", "—")
    page.evaluate("window.__same_page = true")

    viewers = []
    try:
        # minute 0: two viewers, five likes, a comment, an order of 2 × A1
        clock.advance(10)
        viewers = [Viewer(server, sid, "小明"), Viewer(server, sid, "Bo")]
        a, b = viewers
        a.ws.send(json.dumps({"type": "like", "count": 5}))
        assert b.ask({"type": "comment", "text": "好看", "request_id": "c1"}, "command.result")["ok"]
        placed = order(server, show, {"order_id": "TB-1", "sku": "A1", "qty": 2, "amount": "398.00",
                                      "viewer_id": b.id})
        assert placed["duplicate"] is False
        settled(server, sid, "the joins, likes, comment and order", lambda r: (
            r["minutes"][-1]["concurrent"], r["metrics"]["likes"], r["metrics"]["comments"],
            r["metrics"]["orders"]) == (2, 5, 1, 1))
        clock.advance(1)
        # the tick of this second (the one of the second before may have come after the joins)
        expect(page.locator("#dash-asof")).to_have_text("As of 0:11 into the show", timeout=CEILING_MS)
        assert shown(page) == {"viewers": "2", "likes_per_min": "5", "comments_per_min": "1", "orders": "1",
                               "gmv": "¥398.00", "conversion_rate": "50.0%"}  # 1 buyer of 2 viewers
        assert curve.get_attribute("data-minutes") == "1"

        # minute 1: the next segment, three likes, a third viewer
        clock.advance(60)
        expect(curve).to_have_attribute("data-minutes", "2", timeout=CEILING_MS)
        expect(bars).to_have_attribute("data-minutes", "2")
        api(server, "POST", f"/api/shows/{sid}/commands", {"type": "segment.next"})
        a.ws.send(json.dumps({"type": "like", "count": 3}))
        clock.advance(20)
        viewers.append(Viewer(server, sid, "Cai"))
        settled(server, sid, "the likes and the join of minute 1",
                lambda r: (r["minutes"][1]["likes"], r["minutes"][1]["joins"]) == (3, 1))

        # minute 2
        clock.advance(40)
        expect(page.locator("#dash-asof")).to_have_text("As of 2:11 into the show", timeout=CEILING_MS)
        assert shown(page) == {"viewers": "3", "likes_per_min": "3", "comments_per_min": "0", "orders": "1",
                               "gmv": "¥398.00", "conversion_rate": "33.3%"}  # 1 buyer of 3 viewers
        assert bars.get_attribute("data-minutes") == "3"
        # one point a minute: 2 viewers at the end of minute 0, 3 at the end of minute 1, 3 now
        dots = curve.locator(".dots circle")
        assert dots.count() == 3
        cys = [float(dots.nth(i).get_attribute("cy")) for i in range(3)]
        assert cys[0] > cys[1] == cys[2]  # higher on screen: more viewers
        assert [bars.locator(f'rect.bar[data-minute="{m}"]').get_attribute("data-value") for m in range(3)] == \
            ["1", "0", "0"]
        bands = curve.locator("g.band")
        assert [bands.nth(i).get_attribute("data-segment") for i in range(bands.count())] == ["0", "1"]
        assert bands.nth(0).locator("text").text_content() == "1. Warm-up"
        assert bands.nth(1).locator("text").text_content() == "2. Serum"
        assert page.evaluate("window.__same_page") is True  # all of it without a reload
        page.screenshot(path="/tmp/dash-laptop-en.png", full_page=True)

        # a panel opened now draws the minutes so far from the review (a tick has
        # only the last two), in Chinese, on a phone
        phone = panel(browser, server, sid, "host", "zh", viewport={"width": 390, "height": 844},
                      has_touch=True, is_mobile=True)
        zh = phone.locator("#dashboard")
        expect(phone.locator("svg#dash-curve")).to_have_attribute("data-minutes", "3", timeout=CEILING_MS)
        expect(zh.locator('[data-stat="gmv"]')).to_have_text("¥398.00", timeout=CEILING_MS)
        assert shown(phone) == shown(page)
        for words in ("实时数据", "当前在线", "每分钟点赞", "每分钟评论", "累计订单", "累计成交额", "转化率",
                      "每分钟在线人数", "近 30 分钟每分钟订单"):
            assert words in zh.inner_text(), words
        assert "Watching now" not in zh.inner_text()
        assert phone.locator("#dash-curve g.band text").nth(1).text_content() == "2. Serum"
        assert no_horizontal_overflow(phone)
        box = zh.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
        for k in STATS:  # each figure whole on screen, big enough to read
            cell = zh.locator(f'[data-stat="{k}"]').bounding_box()
            assert cell["x"] >= 0 and cell["x"] + cell["width"] <= 390, k
        assert phone.evaluate("parseFloat(getComputedStyle(document.querySelector('[data-stat=viewers]')).fontSize)") >= 20
        assert phone.locator("svg#dash-curve").bounding_box()["width"] <= 390
        zh.screenshot(path="/tmp/dash-phone-zh.png")

        # the end: the final numbers, read from the review once more
        api(server, "POST", f"/api/shows/{sid}/commands", {"type": "show.end"})
        expect(page.locator("#dash-asof")).to_have_text("Final numbers", timeout=CEILING_MS)
        expect(phone.locator("#dash-asof")).to_have_text("最终数据", timeout=CEILING_MS)
        assert shown(page)["orders"] == "1" and page.evaluate("window.__same_page") is True
    finally:
        for v in viewers:
            v.close()


def test_a_tablet_shows_the_dashboard_and_the_roles_without_the_numbers_see_none(
        browser: Any, clocked_server: LiveServer, clock: FakeClock, show: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    server, sid = clocked_server, show["id"]
    page = panel(browser, server, sid, "analyst", "en", viewport={"width": 768, "height": 1024}, has_touch=True)
    dash = page.locator("#dashboard")
    expect(dash.locator("#dash-waiting")).to_be_visible()  # a draft: nothing counted yet
    assert dash.locator('[data-stat="viewers"]').inner_text() == "—"
    api(server, "POST", f"/api/shows/{sid}/commands", {"type": "show.start"})
    clock.advance(1)
    expect(dash.locator('[data-stat="viewers"]')).to_have_text("0", timeout=CEILING_MS)  # from the first tick
    expect(dash.locator("#dash-waiting")).to_be_hidden()
    expect(page.locator("svg#dash-curve")).to_have_attribute("data-minutes", "1")
    assert no_horizontal_overflow(page)
    page.screenshot(path="/tmp/dash-tablet-en.png", full_page=True)

    moderator = panel(browser, server, sid, "moderator", "en")
    moderator.locator("#comment-list").wait_for(state="attached", timeout=CEILING_MS)
    assert moderator.locator("#dashboard").count() == 0
    assert moderator.locator("svg#dash-curve, svg#dash-bars, [data-stat]").count() == 0
