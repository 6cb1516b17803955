"""The control panel's live audience tools in a real browser: flash sales, draws,
the like goal, and the comment feed with moderation."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from websockets.sync.client import connect

from tests.browser.test_control_panel import SEGMENTS, api, open_panel, staff_link
from tests.conftest import PRODUCTS, LiveServer
from tests.waiting import CEILING, CEILING_MS, receive_until

pytestmark = pytest.mark.browser


@pytest.fixture
def show(live_server: LiveServer) -> dict[str, Any]:
    created: dict[str, Any] = api(live_server, "POST", "/api/shows",
                                  {"title": "Audience show", "products": PRODUCTS, "segments": SEGMENTS,
                                   "language": "en"})
    api(live_server, "POST", f"/api/shows/{created['id']}/commands", {"type": "show.start"})
    return created


class Viewer:
    """A viewer on a real socket (the watch page's protocol, without the page)."""

    def __init__(self, server: LiveServer, show_id: str, nickname: str) -> None:
        # no staff credentials: staff who register are excluded from draws
        req = urllib.request.Request(f"{server.url}/api/shows/{show_id}/viewers", method="POST",
                                     data=json.dumps({"nickname": nickname}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=CEILING) as r:
            reg = json.loads(r.read())
        self.id = reg["viewer_id"]
        self.ws = connect(f"{server.ws_url}/ws/shows/{show_id}", proxy=None, open_timeout=CEILING).__enter__()
        self.ws.send(json.dumps({"type": "hello", "token": reg["token"]}))
        assert json.loads(self.ws.recv(timeout=CEILING))["type"] == "snapshot"

    def ask(self, msg: dict[str, Any], answer: str) -> dict[str, Any]:
        self.ws.send(json.dumps(msg))
        return receive_until(self.ws, lambda m: m["type"] in (answer, "error")
                             and m.get("request_id") == msg.get("request_id"))

    def close(self) -> None:
        self.ws.close()


def test_open_a_flash_sale_from_the_panel_and_watch_its_stock(browser: Any, live_server: LiveServer,
                                                               show: dict[str, Any]) -> None:
    sid = show["id"]
    page = open_panel(browser, staff_link(live_server, sid, "assistant", "Ann"))
    page.select_option("#sale-sku", "B2")
    page.fill("#sale-price", "49.90")
    page.fill("#sale-stock", "3")
    page.fill("#sale-minutes", "2")
    page.click("#sale-form button[type=submit]")
    sales = page.locator("[data-testid=sales] li")
    sales.filter(has_text="3 of 3 left").wait_for(timeout=CEILING_MS)
    sale = api(live_server, "GET", f"/api/shows/{sid}/state")["flash_sales"][0]
    assert (sale["sku"], sale["price"], sale["stock"]) == ("B2", "49.90", 3)
    viewer = Viewer(live_server, sid, "Bo")
    try:
        result = viewer.ask({"type": "claim", "sale_id": sale["id"], "qty": 1, "request_id": "k1"}, "claim.result")
        assert result["ok"] is True
        sales.filter(has_text="2 of 3 left").wait_for(timeout=CEILING_MS)  # coalesced flash_sale.stock reaches the panel
    finally:
        viewer.close()
    page.locator("[data-testid=sales] li button", has_text="Close").click()
    # a running sale has three buttons (+stock, +time, close): all go once it is closed
    page.wait_for_function("() => !document.querySelector('[data-testid=sales] li button')", timeout=CEILING_MS)
    assert api(live_server, "GET", f"/api/shows/{sid}/state")["flash_sales"][0]["status"] == "closed"


def test_draw_from_the_panel_shows_staff_the_full_winner_names(browser: Any, live_server: LiveServer,
                                                   show: dict[str, Any]) -> None:
    sid = show["id"]
    page = open_panel(browser, staff_link(live_server, sid, "assistant", "Ann"))
    viewers = [Viewer(live_server, sid, name) for name in ("王小明", "李雷")]
    try:
        page.fill("#draw-prize", "Lucky bag")
        page.fill("#draw-winners", "1")
        page.fill("#draw-minutes", "0")
        page.click("#draw-form button[type=submit]")
        page.locator("[data-testid=draws] li", has_text="Lucky bag").wait_for(timeout=CEILING_MS)
        page.locator("[data-testid=draws] li", has_text="2 entered").wait_for(timeout=CEILING_MS)
        page.locator("[data-testid=draws] li button", has_text="Draw now").click()
        row = page.locator("[data-testid=draws] li", has_text="Winners")
        row.wait_for(timeout=CEILING_MS)
        # staff read the name out on air: in full (the stream and viewers see 王**)
        assert ("王小明" in row.inner_text()) != ("李雷" in row.inner_text())
        assert "**" not in row.inner_text()
    finally:
        for viewer in viewers:
            viewer.close()


def test_moderator_sees_flagged_comments_and_deletes_one(browser: Any, live_server: LiveServer,
                                                        show: dict[str, Any]) -> None:
    sid = show["id"]
    page = open_panel(browser, staff_link(live_server, sid, "moderator", "Mo"))
    assert page.locator("#sale-form").is_hidden()  # moderators do not run sales
    viewer = Viewer(live_server, sid, "Cat")
    try:
        assert viewer.ask({"type": "comment", "text": "<b>hello</b> 加微信 aaa", "request_id": "c1"},
                          "command.result")["ok"]
        # no dashboard for a moderator: the one viewer count, its peak labelled (not "1 (1)")
        page.locator("[data-testid=viewers]", has_text="1 · peak 1").wait_for(timeout=CEILING_MS)
        feed = page.locator("[data-testid=comments] li")
        feed.filter(has_text="加微信").wait_for(timeout=CEILING_MS)
        flagged = page.locator("[data-testid=comments] li.flagged")
        assert flagged.count() == 1
        assert page.locator("[data-testid=comments] b", has_text="hello").count() == 0  # text, never HTML
        flagged.locator("button", has_text="Delete").click()
        page.locator("[data-testid=comments] li.deleted").wait_for(timeout=CEILING_MS)
        state = api(live_server, "GET", f"/api/shows/{sid}/state")
        assert state["comments"][-1]["deleted"] is True
    finally:
        viewer.close()


def test_like_goal_set_in_the_panel_counts_likes(browser: Any, live_server: LiveServer,
                                                 show: dict[str, Any]) -> None:
    sid = show["id"]
    page = open_panel(browser, staff_link(live_server, sid, "assistant", "Ann"))
    page.fill("#goal-target", "5")
    page.click("#goal-form button[type=submit]")
    page.locator("[data-testid=likes]", has_text="/ 5").wait_for(timeout=CEILING_MS)
    viewer = Viewer(live_server, sid, "Dee")
    try:
        viewer.ws.send(json.dumps({"type": "like", "count": 6}))
        page.locator("[data-testid=likes]", has_text="6 / 5 (goal reached)").wait_for(timeout=CEILING_MS)
    finally:
        viewer.close()
