"""Shared by the control panel's issue-10 tests: one server for the module, a
show in a given language with a sale, a sold-out sale and a drawn draw, staff
login links, and the four screen sizes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from server import create_app
from tests.browser.test_overlay import api, command, register, viewer_comment
from tests.conftest import PRODUCTS, LiveServer, make_settings
from tests.waiting import CEILING_MS

SIZES = {"1080p": (1920, 1080), "vertical": (1080, 1920), "tablet": (1024, 768), "phone": (390, 844)}
LANGS = ["en", "zh-CN"]
SHOTS = "/tmp/shots"
# the current segment is shorter than a minute: − must stop there
SEGMENTS = [
    {"kind": "warmup", "title": "Warm-up", "planned_seconds": 600, "talking_points": ["Say hello"]},
    {"kind": "product", "title": "Serum time", "sku": "A1", "planned_seconds": 55,
     "talking_points": ["Niacinamide 5%", "买二送一 today only"]},
    {"kind": "closing", "title": "Goodbye", "planned_seconds": 1, "talking_points": ["Thank you"]},
]
WINNERS = ["Lily Anne", "王小明"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server for the module's page loads (each test makes its own show)."""
    db = tmp_path_factory.mktemp("panel") / "live.db"
    s = LiveServer(create_app(make_settings(f"sqlite:///{db}"))).start()
    yield s
    s.stop()


def busy_show(server: LiveServer, lang: str) -> dict[str, Any]:
    """A live show in ``lang`` on its 55 s product segment, the show already ahead
    of plan (the warm-up skipped), with an open sale on A1 (stock 5), a sold-out
    sale on B2, a drawn draw with two winners, and a like goal of 500."""
    show: dict[str, Any] = api(server, "POST", "/api/shows", {
        "title": "Panel show", "products": PRODUCTS, "segments": SEGMENTS, "language": lang, "like_goal": 500})
    sid = show["id"]
    command(server, sid, {"type": "show.start"})
    command(server, sid, {"type": "flash_sale.open", "sku": "B2", "price": "79", "stock": 1, "duration_seconds": 600})
    sold = api(server, "GET", f"/api/shows/{sid}/state")["flash_sales"][0]["id"]
    buyer = register(server, sid, "buyer")
    api(server, "POST", f"/api/shows/{sid}/flash-sales/{sold}/claims", {"qty": 1}, token=buyer["token"],
        headers={"Idempotency-Key": "k1"})
    command(server, sid, {"type": "flash_sale.open", "sku": "A1", "price": "149", "stock": 5, "duration_seconds": 300})
    command(server, sid, {"type": "draw.open", "prize": "Lipstick 口红", "winners": 2, "entry_seconds": 600,
                          "eligibility": {"keyword": "want"}})
    for nick in WINNERS:
        viewer_comment(server, sid, register(server, sid, nick)["token"], "I want it")
    state = api(server, "GET", f"/api/shows/{sid}/state")
    command(server, sid, {"type": "draw.close", "draw_id": state["draws"][0]["id"]})
    command(server, sid, {"type": "segment.next"})  # on the 55 s segment, ~10 min ahead of plan
    show["sold_out_sale"] = sold
    return show


def staff_link(server: LiveServer, show_id: str, role: str, name: str) -> str:
    link: str = api(server, "POST", f"/api/shows/{show_id}/staff", {"name": name, "role": role})["login_url"]
    return server.url + link[link.index("/login/"):]


def open_page(browser: Any, url: str, size: str, **context: Any) -> Any:
    """A page at one of SIZES (touch on the tablet and the phone), dialogs accepted,
    once its socket is connected."""
    width, height = SIZES[size]
    touch = size in ("tablet", "phone")
    ctx = browser.new_context(viewport={"width": width, "height": height}, has_touch=touch, **context)
    page = ctx.new_page()
    page.on("dialog", lambda d: d.accept())
    page.goto(url)
    page.wait_for_selector("#conn.connected", timeout=CEILING_MS)
    return page


def shot(page: Any, name: str, full: bool = True) -> None:
    """A screenshot into /tmp/shots/ for a person to look at."""
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=f"{SHOTS}/{name}.png", full_page=full)


def too_wide(page: Any) -> list[str]:
    """What sticks out past the window's width on the right (empty when the page fits)."""
    found: list[str] = page.evaluate("""() => {
        const width = document.documentElement.clientWidth, out = [];
        // inside a box that scrolls or clips sideways (a wide table on a phone): the box is what counts
        const inScroller = e => {
            for (let a = e.parentElement; a && a !== document.body; a = a.parentElement)
                if (getComputedStyle(a).overflowX !== 'visible') return true;
            return false;
        };
        for (const e of document.querySelectorAll('body *')) {
            const r = e.getBoundingClientRect();
            if (e.closest('.toast, .prompter') || !r.width || inScroller(e)) continue;
            // text running out of its box (a long URL) widens the page too
            const spill = e.clientWidth > 0 && getComputedStyle(e).overflowX === 'visible' && e.scrollWidth > e.clientWidth + 1;
            if (r.right > width + 1 || (spill && r.left + e.scrollWidth > width + 1))
                out.push(`${e.tagName.toLowerCase()}#${e.id}.${e.className}: ${Math.round(r.left + e.scrollWidth)}`);
        }
        if (document.documentElement.scrollWidth > width) out.push(`page: ${document.documentElement.scrollWidth}`);
        return out.slice(0, 8);
    }""")
    return found
