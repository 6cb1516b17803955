"""Tracked links in a real browser: the control panel lists each product's link
(absolute, from the public URL) with a copy button that works from the
keyboard; the watch page's buy button goes through the link, and the click is
the viewer's (their click cookie), both languages."""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import closing
from typing import Any

import pytest

from tests.browser.test_control_panel import open_panel, staff_link
from tests.browser.test_overlay import WAIT_MS, api, command
from tests.browser.test_watch import join, open_watch
from tests.conftest import PRODUCTS, LiveServer
from tests.waiting import wait_until

pytestmark = pytest.mark.browser

PUBLIC = "http://testserver"  # make_settings' LIVE_PUBLIC_URL


@pytest.fixture
def show(live_server: LiveServer) -> dict[str, Any]:
    created: dict[str, Any] = api(live_server, "POST", "/api/shows", {"title": "Links show", "products": PRODUCTS,
                                                                          "language": "en"})
    return created


def clicks_in(sqlite_url: str, sid: str) -> list[dict[str, Any]]:
    """The show's link.clicked events, read from the server's SQLite file (Playwright's
    event loop runs in this thread, so no async driver here)."""
    with closing(sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))) as db:
        rows = db.execute("SELECT data FROM events WHERE show_id = ? AND type = 'link.clicked' ORDER BY seq",
                          (sid,)).fetchall()
    return [json.loads(data) for (data,) in rows]


def test_the_panel_lists_each_link_and_the_keyboard_copies_it(
    browser: Any, live_server: LiveServer, show: dict[str, Any]
) -> None:
    sid = show["id"]
    page = open_panel(browser, staff_link(live_server, sid, "host", "Hui"), permissions=["clipboard-read",
                                                                                        "clipboard-write"])
    rows = page.locator("[data-testid=links] li")
    rows.nth(1).wait_for(timeout=WAIT_MS)
    values = [rows.nth(i).locator("input.link").input_value() for i in range(2)]
    assert values == [f"{PUBLIC}/go/{sid}/A1", f"{PUBLIC}/go/{sid}/B2"]
    assert "no product url" in rows.nth(1).inner_text()  # B2 has none
    assert "no product url" not in rows.nth(0).inner_text()
    button = rows.nth(0).locator("button.copy")
    assert button.get_attribute("aria-label") == "Copy the tracked link of A1"
    from playwright.sync_api import expect  # here: without Playwright the browser fixture skips

    button.focus()
    page.keyboard.press("Enter")
    # expect() polls the element; wait_for_function would eval a string, which the page's CSP refuses
    expect(page.locator("#copy-status")).to_have_text(re.compile("^Copied: "), timeout=WAIT_MS)
    assert page.evaluate("navigator.clipboard.readText()") == values[0]
    assert button.inner_text() == "Copied"


def test_without_the_clipboard_api_the_link_is_selected_to_copy(
    browser: Any, live_server: LiveServer, show: dict[str, Any]
) -> None:
    sid = show["id"]
    page = open_panel(browser, staff_link(live_server, sid, "analyst", "Ana"))
    page.goto(page.url + "?lang=zh-CN")  # the show speaks English; ?lang= overrides it
    page.wait_for_selector("#conn.connected", timeout=WAIT_MS)
    page.evaluate("Object.defineProperty(navigator, 'clipboard', {value: undefined, configurable: true});"
                  "document.execCommand = function () { return false; };")
    row = page.locator("[data-testid=links] li").nth(0)
    row.wait_for(timeout=WAIT_MS)
    assert "直播专属链接" in page.locator(".links").inner_text()
    from playwright.sync_api import expect

    row.locator("button.copy").click()
    expect(page.locator("#copy-status")).to_contain_text("按 Ctrl+C", timeout=WAIT_MS)
    selected = page.evaluate("(() => { const i = document.activeElement; "
                             "return i.value.substring(i.selectionStart, i.selectionEnd); })()")
    assert selected == f"{PUBLIC}/go/{sid}/A1"


def test_a_replaced_product_list_replaces_the_links(browser: Any, live_server: LiveServer,
                                                     show: dict[str, Any]) -> None:
    sid = show["id"]
    page = open_panel(browser, staff_link(live_server, sid, "assistant", "Ann"))
    page.locator("[data-testid=links] li").nth(1).wait_for(timeout=WAIT_MS)
    api(live_server, "PUT", f"/api/shows/{sid}/products",
        {"products": [*PRODUCTS, {"sku": "C3", "title": "Mask", "list_price": "9", "url": "https://shop.example/c3"}]})
    page.locator("[data-testid=links] li").nth(2).wait_for(timeout=WAIT_MS)
    assert page.locator("[data-testid=links] li").nth(2).locator("input").input_value() == f"{PUBLIC}/go/{sid}/C3"


def test_the_watch_pages_buy_button_clicks_through_the_tracked_link_as_the_viewer(
    browser: Any, live_server: LiveServer, show: dict[str, Any], sqlite_url: str
) -> None:
    sid = show["id"]
    command(live_server, sid, {"type": "product.pin", "sku": "A1"})
    page = open_watch(browser, live_server, sid)
    join(page, "小红")
    buy = page.locator(".layer.product a.buy")
    buy.wait_for(timeout=WAIT_MS)
    assert buy.get_attribute("href") == f"/go/{sid}/A1"
    viewer_id = page.evaluate(f"JSON.parse(localStorage.getItem('live.viewer.{sid}')).viewer_id")
    # what the browser would do on a tap (the shop itself is not reachable from the test)
    answer = page.request.get(f"{live_server.url}/go/{sid}/A1", max_redirects=0)
    assert (answer.status, answer.headers["location"]) == (302, PRODUCTS[0]["url"])
    clicks = wait_until(lambda: clicks_in(sqlite_url, sid), "the click in the journal")
    assert [(c["sku"], c["viewer_id"]) for c in clicks] == [("A1", viewer_id)]
    assert clicks[0]["pseudonym"]
