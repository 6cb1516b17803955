"""The watch page in a real browser, on a phone: register once, like (taps
batched), comment, claim (ok with the order, the per-viewer limit, sold out),
both languages, and a layout that fits a 375 px screen."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from tests.browser.test_overlay import WAIT_MS, api, command, live_show, open_overlay, overlay_url, register
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 375, "height": 812}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2}


def open_watch(browser: Any, server: LiveServer, sid: str, query: str = "", **context: Any) -> Any:
    ctx = browser.new_context(**(context or PHONE))
    page = ctx.new_page()
    page.goto(f"{server.url}/shows/{sid}/watch{query}")
    page.wait_for_selector("body[data-conn=connected]", state="attached", timeout=WAIT_MS)
    return page


def join(page: Any, nickname: str) -> None:
    """Join as ``nickname``; returns once the page's socket has its snapshot as this
    viewer (the controls show first; a snapshot landing after a later step would
    already hold what that step did)."""
    page.locator("#nickname").fill(nickname)
    page.locator("#join button").tap()
    page.locator("#controls").wait_for(timeout=WAIT_MS)
    page.wait_for_function("() => window.__watch.sock.opts.hello.token && window.__watch.sock.lastSeq !== null",
                           timeout=WAIT_MS)


def open_sale(server: LiveServer, sid: str, sku: str, stock: int, limit: int = 1) -> str:
    command(server, sid, {"type": "flash_sale.open", "sku": sku, "price": "99", "stock": stock,
                          "per_viewer_limit": limit, "duration_seconds": 120})
    sales = api(server, "GET", f"/api/shows/{sid}/state")["flash_sales"]
    return str(next(s["id"] for s in sales if s["sku"] == sku and s["status"] == "open"))


@pytest.fixture
def show(live_server: LiveServer) -> dict[str, Any]:
    return live_show(live_server, like_goal=1000, language="en")


def test_viewer_registers_once_likes_and_comments_reach_the_overlay(
    browser: Any, live_server: LiveServer, show: dict[str, Any]
) -> None:
    sid = show["id"]
    overlay = open_overlay(browser, overlay_url(live_server, show))
    page = open_watch(browser, live_server, sid)
    assert page.locator("#controls").is_hidden()
    join(page, "小红")
    stored = page.evaluate(f"JSON.parse(localStorage.getItem('live.viewer.{sid}'))")
    assert stored["token"].startswith("vw_")

    # record, in the page, when each like message leaves it
    page.add_init_script("""(() => { window.__likes = []; const send = WebSocket.prototype.send;
        WebSocket.prototype.send = function (data) {
          try { const m = JSON.parse(data); if (m.type === "like") window.__likes.push([performance.now(), m.count]); }
          catch (e) {}
          return send.call(this, data); }; })()""")
    page.reload()  # registered once: the token is kept, no second join
    page.wait_for_selector("body[data-conn=connected]", state="attached", timeout=WAIT_MS)
    assert page.locator("#join").is_hidden() and page.locator("#controls").is_visible()

    # One tap, then eleven more within one task of the page: at any machine speed
    # they come faster than one message per 250 ms can carry them.
    page.locator("#like").tap()
    page.evaluate("() => { for (let i = 0; i < 11; i++) document.getElementById('like').click(); }")
    assert page.locator("#like-count").inner_text() == "12"
    overlay.locator(".likes[data-total='12']").wait_for(timeout=WAIT_MS)
    assert overlay.locator(".likes-label").inner_text() == "12 / 1000"
    assert overlay.locator(".likes-label svg[data-icon=heart]").count() == 1
    # taps are batched: at most one like message per 250 ms, none lost
    likes_sent = page.evaluate("window.__likes")
    assert sum(n for _, n in likes_sent) == 12
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(likes_sent)]
    assert len(likes_sent) < 12 and all(g >= 249 for g in gaps), likes_sent

    page.locator("#comment").fill("好看! <b>nice</b>")
    page.locator("#comment-form button").tap()
    overlay.locator(".comments .comment", has_text="小红: 好看! <b>nice</b>").wait_for(timeout=WAIT_MS)
    page.locator("#layers .comments .text", has_text="好看! <b>nice</b>").wait_for(timeout=WAIT_MS)
    # cleared once the server said yes (its answer may come after the comment's own event)
    page.wait_for_function("document.getElementById('comment').value === ''", timeout=WAIT_MS)


def test_claims_show_the_order_then_the_limit_then_sold_out(
    browser: Any, live_server: LiveServer, show: dict[str, Any]
) -> None:
    sid = show["id"]
    open_sale(live_server, sid, "A1", stock=5, limit=1)
    page = open_watch(browser, live_server, sid)
    join(page, "Mia")
    claim = page.locator(".sale .claim")
    claim.tap()
    won = page.locator("#claims li.ok")
    won.wait_for(timeout=WAIT_MS)
    order_id = won.get_attribute("data-order")
    assert order_id and order_id.startswith(f"o-{sid}-")
    assert f"Got it! Order {order_id}" in won.inner_text()
    assert "Serum 30ml · ¥99" in won.inner_text()
    # the one unit this viewer may have: the button goes off, beside what happened
    page.locator(".sale .claim[disabled]").wait_for(timeout=WAIT_MS)
    assert page.locator(".sale .claim-result.ok").inner_text() == "Got it! It is in My orders."

    # my orders survive a reload (they come back in the snapshot), and so does the limit
    page.reload()
    page.locator(f"#claims li.ok[data-order='{order_id}']").wait_for(timeout=WAIT_MS)
    page.locator(".sale .claim[disabled]").wait_for(timeout=WAIT_MS)

    # Sold out: others take the last unit while this page has not heard yet (its
    # stock events are held back, as if still in flight), then it claims.
    sale_id = open_sale(live_server, sid, "B2", stock=1, limit=1)
    held: list[str] = []

    def route(ws: Any) -> None:
        server = ws.connect_to_server()

        def from_server(message: Any) -> None:
            kind = json.loads(message).get("type")
            if kind in ("flash_sale.stock", "flash_sale.closed"):
                held.append(kind)
                return
            ws.send(message)

        server.on_message(from_server)

    page.route_web_socket("**/ws/shows/**", route)
    page.reload()
    page.wait_for_selector("body[data-conn=connected]", state="attached", timeout=WAIT_MS)
    page.locator(".sale[data-remaining='1'] .claim:not([disabled])").wait_for(timeout=WAIT_MS)
    other = register(live_server, sid, "Fast")
    api(live_server, "POST", f"/api/shows/{sid}/flash-sales/{sale_id}/claims", {"qty": 1}, token=other["token"],
        headers={"Idempotency-Key": "fast-1"})
    page.locator(".sale .claim").tap()
    sold = page.locator("#claims li.lost[data-code=SOLD_OUT]")
    sold.wait_for(timeout=WAIT_MS)
    assert "Sold out" in sold.inner_text()
    assert held  # the events were really held back


def test_phone_layout_has_no_horizontal_scroll_and_touch_sized_targets(
    browser: Any, live_server: LiveServer, show: dict[str, Any]
) -> None:
    sid = show["id"]
    command(live_server, sid, {"type": "product.pin", "sku": "A1"})
    open_sale(live_server, sid, "A1", stock=5)
    command(live_server, sid, {"type": "draw.open", "prize": "A very long prize name for the lucky draw", "winners": 1})
    page = open_watch(browser, live_server, sid)
    for selector in ("#join button", "#nickname", ".wbar .lang"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["height"] >= 44 and box["width"] >= 44, selector
    join(page, "Phone")
    page.locator(".sale .claim").wait_for(timeout=WAIT_MS)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    for selector in ("#like", "#share", "#comment", "#comment-form button", ".sale .claim"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["height"] >= 44 and box["width"] >= 44, selector
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375, selector


def test_watch_page_in_chinese(browser: Any, live_server: LiveServer, show: dict[str, Any]) -> None:
    sid = show["id"]
    open_sale(live_server, sid, "A1", stock=5)
    page = open_watch(browser, live_server, sid, "?lang=zh-CN")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("#join button").inner_text() == "进入直播间"
    join(page, "李雷")
    assert page.locator(".sale .tag").inner_text() == "限时秒杀"
    assert page.locator(".sale .claim").inner_text() == "马上抢"
    assert page.locator("#comment-form button").inner_text() == "发送"
    assert page.locator("#orders-box h2").inner_text() == "我的订单"
    page.locator(".sale .claim").tap()
    page.locator("#claims li.ok", has_text="抢到了").wait_for(timeout=WAIT_MS)


def test_stale_token_asks_to_register_again(browser: Any, live_server: LiveServer, show: dict[str, Any]) -> None:
    sid = show["id"]
    page = open_watch(browser, live_server, sid)
    page.evaluate(f"localStorage.setItem('live.viewer.{sid}', JSON.stringify({{token: 'vw_forged.token'}}))")
    page.reload()
    page.locator("#join").wait_for(timeout=WAIT_MS)
    page.wait_for_selector("body[data-conn=connected]", state="attached", timeout=WAIT_MS)
    assert page.evaluate(f"localStorage.getItem('live.viewer.{sid}')") is None
