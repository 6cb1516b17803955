"""The control panel in a real browser: two panels follow each other, the
keyboard runs the show, a reload shows the same state, both languages."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from tests.conftest import ADMIN, PRODUCTS, LiveServer
from tests.waiting import CEILING, CEILING_MS

pytestmark = pytest.mark.browser

SEGMENTS = [
    {"kind": "warmup", "title": "Warm-up", "planned_seconds": 600, "talking_points": ["Say hello"]},
    {"kind": "product", "title": "Serum time", "sku": "A1", "planned_seconds": 900,
     "talking_points": ["全网最低 price today", "Niacinamide 5%"]},
    {"kind": "product", "title": "Cream time", "sku": "B2", "planned_seconds": 2},
    {"kind": "closing", "title": "Goodbye", "planned_seconds": 300},
]


def api(server: LiveServer, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(server.url + path, data=data, method=method,
                                 headers={"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=CEILING) as r:
        return json.loads(r.read())


def staff_link(server: LiveServer, show_id: str, role: str, name: str) -> str:
    link: str = api(server, "POST", f"/api/shows/{show_id}/staff", {"name": name, "role": role})["login_url"]
    # links carry the public URL; the test server listens on its own port
    return server.url + link[link.index("/login/"):]


@pytest.fixture
def show(live_server: LiveServer) -> dict[str, Any]:
    created: dict[str, Any] = api(live_server, "POST", "/api/shows",
                                  {"title": "Browser show", "products": PRODUCTS, "segments": SEGMENTS,
                                   "language": "en"})
    return created


def open_panel(browser: Any, url: str, **context: Any) -> Any:
    ctx = browser.new_context(**context)
    page = ctx.new_page()
    page.on("dialog", lambda d: d.accept())
    page.goto(url)
    page.wait_for_selector("#conn.connected", timeout=CEILING_MS)
    return page


def test_keyboard_in_one_panel_moves_the_other(browser: Any, live_server: LiveServer, show: dict[str, Any]) -> None:
    sid = show["id"]
    assistant = open_panel(browser, staff_link(live_server, sid, "assistant", "Ann"))
    host = open_panel(browser, staff_link(live_server, sid, "host", "Hui"))
    assert assistant.url.endswith(f"/shows/{sid}/control")
    host_title = host.locator("[data-testid=current-title]")

    assistant.keyboard.press("s")  # start (confirm dialog accepted)
    host_title.filter(has_text="Warm-up").wait_for(timeout=CEILING_MS)

    assistant.keyboard.press("n")
    host_title.filter(has_text="Serum time").wait_for(timeout=CEILING_MS)
    # talking points and the product reach the host's panel
    host.locator("#points li", has_text="Niacinamide 5%").wait_for(timeout=CEILING_MS)
    host.locator("[data-testid=pinned]", has_text="Serum 30ml").wait_for(timeout=CEILING_MS)  # its own event

    host.keyboard.press("ArrowRight")
    assistant.locator("[data-testid=current-title]").filter(has_text="Cream time").wait_for(timeout=CEILING_MS)
    # the host too, or its "Serum time" below could still be the old one
    host_title.filter(has_text="Cream time").wait_for(timeout=CEILING_MS)
    assistant.keyboard.press("b")
    host_title.filter(has_text="Serum time").wait_for(timeout=CEILING_MS)

    # +1 min in one panel moves the time left in the other
    before = api(live_server, "GET", f"/api/shows/{sid}/state")["rundown"]["segments"][1]["extended_seconds"]
    host.keyboard.press("+")
    host.locator("#rundown tr.current td", has_text="(+1:00)").wait_for(timeout=CEILING_MS)
    assistant.locator("#rundown tr.current td", has_text="(+1:00)").wait_for(timeout=CEILING_MS)
    after = api(live_server, "GET", f"/api/shows/{sid}/state")["rundown"]["segments"][1]["extended_seconds"]
    assert (before, after) == (0, 60)


def test_reload_shows_the_same_state(browser: Any, live_server: LiveServer, show: dict[str, Any]) -> None:
    sid = show["id"]
    page = open_panel(browser, staff_link(live_server, sid, "assistant", "Ann"))
    page.keyboard.press("s")
    page.locator("[data-testid=current-title]").filter(has_text="Warm-up").wait_for(timeout=CEILING_MS)
    page.keyboard.press("n")
    page.locator("[data-testid=current-title]").filter(has_text="Serum time").wait_for(timeout=CEILING_MS)
    page.reload()
    page.wait_for_selector("#conn.connected", timeout=CEILING_MS)
    assert "Serum time" in page.locator("[data-testid=current-title]").inner_text()
    assert page.locator("#rundown tr.current").count() == 1
    assert "Serum time" in page.locator("#rundown tr.current").inner_text()
    assert page.locator("#rundown tr.done").count() == 1


def test_overrun_turns_red_and_drift_shows(browser: Any, live_server: LiveServer, show: dict[str, Any]) -> None:
    sid = show["id"]
    page = open_panel(browser, staff_link(live_server, sid, "assistant", "Ann"))
    api(live_server, "POST", f"/api/shows/{sid}/commands", {"type": "show.start"})
    api(live_server, "POST", f"/api/shows/{sid}/commands", {"type": "segment.goto", "index": 2})
    page.locator("[data-testid=current-title]").filter(has_text="Cream time").wait_for(timeout=CEILING_MS)
    # the Cream segment is planned for 2 s: it over-runs and the clock says so, by
    # itself (no event arrives); 2 s of real time, whatever the machine's speed
    page.locator("[data-testid=time-left].overrun").wait_for(timeout=CEILING_MS)
    assert page.locator("[data-testid=time-left]").inner_text().startswith("+")


def test_compliance_warnings_and_chinese(browser: Any, live_server: LiveServer, show: dict[str, Any]) -> None:
    sid = show["id"]
    page = open_panel(browser, staff_link(live_server, sid, "host", "Hui") + "?lang=zh-CN")
    page.goto(f"{live_server.url}/shows/{sid}/control?lang=zh-CN")
    page.wait_for_selector("#conn.connected", timeout=CEILING_MS)
    assert page.locator("#btn-next").inner_text().startswith("下一个")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    warnings = page.locator("#compliance-list li")
    warnings.first.wait_for(timeout=CEILING_MS)
    assert "全网最低" in page.locator("#compliance").inner_text()
    page.goto(f"{live_server.url}/shows/{sid}/control?lang=en")
    page.wait_for_selector("#conn.connected", timeout=CEILING_MS)
    assert page.locator("#btn-next").inner_text().startswith("Next")


def test_tablet_layout_fits_and_buttons_are_touch_sized(browser: Any, live_server: LiveServer, show: dict[str, Any]) -> None:
    sid = show["id"]
    page = open_panel(browser, staff_link(live_server, sid, "host", "Hui"),
                      viewport={"width": 768, "height": 1024}, has_touch=True, is_mobile=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 768
    for box in [page.locator(f"#{b}").bounding_box() for b in ("btn-next", "btn-back", "btn-plus", "btn-pin")]:
        assert box is not None and box["height"] >= 44
    page.locator("#btn-start").tap()
    page.locator("[data-testid=current-title]").filter(has_text="Warm-up").wait_for(timeout=CEILING_MS)


def test_analyst_panel_cannot_run_the_show(browser: Any, live_server: LiveServer, show: dict[str, Any]) -> None:
    sid = show["id"]
    page = open_panel(browser, staff_link(live_server, sid, "analyst", "Ana"))
    assert page.locator("#btn-start").is_disabled()
    # record what the page sends: the key's handler runs (and would send) within the press
    page.evaluate("""() => { window.__sent = []; const send = WebSocket.prototype.send;
        WebSocket.prototype.send = function (data) { window.__sent.push(String(data)); return send.call(this, data); };
    }""")
    page.keyboard.press("s")
    assert not [m for m in page.evaluate("window.__sent") if '"command"' in m]
    state = api(live_server, "GET", f"/api/shows/{sid}/state")
    assert state["show"]["status"] == "draft"


def test_panel_without_login_says_how_to_log_in(browser: Any, live_server: LiveServer, show: dict[str, Any]) -> None:
    ctx = browser.new_context()
    page = ctx.new_page()
    response = page.goto(f"{live_server.url}/shows/{show['id']}/control")
    assert response is not None and response.status == 401
    assert "login" in page.content().lower()
