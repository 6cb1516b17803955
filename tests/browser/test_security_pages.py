"""What staff type is shown as text too: show, product and segment titles,
talking points and a draw's prize carrying HTML and script payloads appear
character for character on the control panel, the OBS overlay and the watch
page, and nothing in them ever runs (the comment corpus lives in
test_overlay.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_control_panel import staff_link
from tests.browser.test_overlay import WAIT_MS, api, command, open_overlay, overlay_url
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser

P = [
    "<img src=x onerror=window.__xss=1>",
    "<script>window.__xss=2</script>",
    "<svg onload=window.__xss=3>",
    '"><b>bold</b><img src=x onerror=window.__xss=4>',
    "'><iframe src=javascript:window.__xss=5></iframe>",
    "</title><script>window.__xss=6</script>",
    "{{constructor.constructor('window.__xss=7')()}}",
    "</script><script>window.__xss=8</script>",
]
SHOW_TITLE = P[5]
PRODUCTS: list[dict[str, Any]] = [
    {"sku": "A1", "title": P[0], "list_price": "299.00", "live_price": "199.00", "stock": 100},
    {"sku": "B2", "title": P[7], "list_price": "159", "live_price": "99.5", "stock": 50},
]
SEGMENTS: list[dict[str, Any]] = [
    {"kind": "warmup", "title": P[2], "planned_seconds": 600, "talking_points": [P[3], P[4], P[1]]},
    {"kind": "product", "title": P[3], "sku": "A1", "planned_seconds": 900, "talking_points": [P[6]]},
    {"kind": "closing", "title": P[6], "planned_seconds": 300},
]
PRIZE = P[4]
# elements that only a payload could have made (the pages have no images, svg or frames
# but our own icons, the control panel dashboard's two charts, whose own children are never svg,
# and the panel's overlay preview)
MADE_BY_PAYLOAD = "img, svg:not([data-icon]):not(#dash-curve):not(#dash-bars), iframe:not(#ov-frame), script:not([src]):not([type])"


@pytest.fixture
def show(live_server: LiveServer) -> dict[str, Any]:
    created: dict[str, Any] = api(live_server, "POST", "/api/shows",
                                  {"title": SHOW_TITLE, "products": PRODUCTS, "segments": SEGMENTS})
    sid = created["id"]
    command(live_server, sid, {"type": "show.start"})
    command(live_server, sid, {"type": "product.pin", "sku": "A1"})
    command(live_server, sid, {"type": "draw.open", "prize": PRIZE, "winners": 1, "eligibility": {},
                               "entry_seconds": 600})
    return created


def watch_for_dialogs(page: Any) -> list[str]:
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return dialogs


def assert_nothing_ran(page: Any, dialogs: list[str]) -> None:
    assert page.locator("body").locator(MADE_BY_PAYLOAD).count() == 0
    assert page.locator("b", has_text="bold").count() == 0
    assert page.evaluate("window.__xss") is None
    assert dialogs == []


def test_control_panel_shows_titles_talking_points_and_prize_as_text(
    browser: Any, live_server: LiveServer, show: dict[str, Any]
) -> None:
    page = browser.new_context().new_page()
    dialogs = watch_for_dialogs(page)
    page.goto(staff_link(live_server, show["id"], "assistant", "Ann"))
    page.wait_for_selector("#conn.connected", timeout=WAIT_MS)
    assert page.title().endswith(SHOW_TITLE)
    assert page.locator("#show-title").text_content() == SHOW_TITLE
    page.locator("#now-title", has_text=SEGMENTS[0]["title"]).wait_for(timeout=WAIT_MS)
    assert page.locator("#now-title").text_content() == "1. " + SEGMENTS[0]["title"]
    assert page.locator("#points li").all_text_contents() == SEGMENTS[0]["talking_points"]
    assert page.locator("#next-title").text_content() == f"2. {SEGMENTS[1]['title']} · 15:00"
    rundown = page.locator("#rundown").text_content() or ""
    for seg in SEGMENTS:
        assert seg["title"] in rundown
    options = page.locator("#sale-sku option").all_text_contents()
    for product in PRODUCTS:
        assert any(product["title"] in o for o in options), options
    page.locator("#draw-list", has_text=PRIZE).wait_for(timeout=WAIT_MS)
    # the next segment's talking points are markup-free too
    page.keyboard.press("n")
    page.locator("#points li", has_text=SEGMENTS[1]["talking_points"][0]).wait_for(timeout=WAIT_MS)
    assert page.locator("#points li").all_text_contents() == SEGMENTS[1]["talking_points"]
    # the dashboard's band for the minute (the segment on air at its end) names it as text
    band = page.locator('#dash-curve g.band[data-segment="1"] text')
    band.wait_for(state="attached", timeout=WAIT_MS)
    assert band.text_content() == "2. " + SEGMENTS[1]["title"]
    assert_nothing_ran(page, dialogs)


def test_overlay_shows_product_title_and_prize_as_text(
    browser: Any, live_server: LiveServer, show: dict[str, Any]
) -> None:
    page = open_overlay(browser, overlay_url(live_server, show))
    dialogs = watch_for_dialogs(page)
    assert page.title().endswith(SHOW_TITLE)
    page.locator(".product .title").wait_for(timeout=WAIT_MS)
    assert page.locator(".product .title").text_content() == PRODUCTS[0]["title"]
    page.locator(".draw .title").wait_for(timeout=WAIT_MS)
    assert page.locator(".draw .title").text_content() == PRIZE
    # a newly pinned product arrives as an event, not in the snapshot: text as well
    command(live_server, show["id"], {"type": "product.pin", "sku": "B2"})
    page.locator(".product .title", has_text=PRODUCTS[1]["title"]).wait_for(timeout=WAIT_MS)
    assert page.locator(".product .title").text_content() == PRODUCTS[1]["title"]
    assert_nothing_ran(page, dialogs)


def test_watch_page_shows_show_and_product_titles_as_text(
    browser: Any, live_server: LiveServer, show: dict[str, Any]
) -> None:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    dialogs = watch_for_dialogs(page)
    page.goto(f"{live_server.url}/shows/{show['id']}/watch")
    page.wait_for_selector("body[data-conn=connected]", state="attached", timeout=WAIT_MS)
    assert page.title() == SHOW_TITLE
    assert page.locator(".wtitle").text_content() == SHOW_TITLE
    page.locator("#layers .product .title").wait_for(timeout=WAIT_MS)
    assert page.locator("#layers .product .title").text_content() == PRODUCTS[0]["title"]
    assert page.locator("#layers .draw .title").text_content() == PRIZE
    assert_nothing_ran(page, dialogs)
