"""The control panel as the host uses it on air (issue 10), in both languages at
1920×1080, 1080×1920, 1024×768 and 390×844, one page load each: the live lists
of sales and draws shown, the forms the host may not use hidden; errors in the
page's words; − stops where the server would refuse; the projected end moves
with +; drift in the language's word order; a countdown readable from 2 m; the
prompter; the overlay set-up with a preview, copy and test buttons; and the
flash-sale controls (add stock, extend, close early, also when sold out)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.panel_pages import (
    LANGS,
    SEGMENTS,
    SIZES,
    WINNERS,
    busy_show,
    open_page,
    server,
    shot,
    staff_link,
    too_wide,
)
from tests.browser.test_overlay import api, register
from tests.conftest import LiveServer
from tests.waiting import CEILING_MS

pytestmark = pytest.mark.browser
__all__ = ["server"]  # the module's server fixture

WORDS = {
    "en": {"forbidden": "Your role may not do that", "ahead": re.compile(r"^\d+:\d\d ahead$"),
           "left": "4 of 5 left", "restocked": "14 of 15 left", "closed": "Closed", "sold": "20% sold",
           "test": "TEST", "overrun": "Over-run", "minus_why": "Cannot take a minute", "next": "Next"},
    "zh-CN": {"forbidden": "你的角色不能进行此操作", "ahead": re.compile(r"^提前 \d+:\d\d$"),
              "left": "剩 4 / 共 5", "restocked": "剩 14 / 共 15", "closed": "已结束", "sold": "已售 20%",
              "test": "测试", "overrun": "已超时", "minus_why": "不能再减", "next": "下一个"},
}


def show_started(server: LiveServer, sid: str) -> int:
    started: int = api(server, "GET", f"/api/shows/{sid}/state")["show"]["started_at"]
    return started


def font_px(page: Any, selector: str) -> float:
    return float(page.locator(selector).evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("size", list(SIZES))
def test_the_host_runs_sales_timing_prompter_and_overlay_from_the_panel(
    browser: Any, server: LiveServer, size: str, lang: str
) -> None:
    w = WORDS[lang]
    show = busy_show(server, lang)
    sid = show["id"]
    # one claim on the open sale: 4 of 5 left, 20 % sold
    sale = next(s for s in api(server, "GET", f"/api/shows/{sid}/state")["flash_sales"] if s["sku"] == "A1")
    api(server, "POST", f"/api/shows/{sid}/flash-sales/{sale['id']}/claims", {"qty": 1},
        token=register(server, sid, "b2")["token"], headers={"Idempotency-Key": "k2"})
    page = open_page(browser, staff_link(server, sid, "host", "Hui"), size)
    width = SIZES[size][0]

    # the show's language, with no ?lang= (the browser says en-US)
    assert page.locator("html").get_attribute("lang") == lang

    # sales and draws: the lists show, the forms the host may not use do not
    row = page.locator(f"#sale-list li[data-sale='{sale['id']}']")
    row.filter(has_text=w["left"]).wait_for(timeout=CEILING_MS)
    assert page.locator("#sale-list li").count() == 2
    draw = page.locator("#draw-list li").first
    draw.filter(has_text="Lipstick").wait_for(timeout=CEILING_MS)
    for form in ("#sale-form", "#draw-form", "#goal-form"):
        assert page.locator(form).is_hidden(), form
    assert page.locator("#sale-list").is_visible() and page.locator("#draw-list").is_visible()
    # staff rows: no internal ids, labelled numbers, one money format, a sell-through bar
    info = row.locator(".grow").inner_text()
    assert not re.search(r"\bfs\d+\b", info) and "¥149" in info and "CNY" not in info, info
    assert not re.search(r"\bd\d+\b", draw.inner_text()), draw.inner_text()
    assert row.locator(".sold").inner_text() == w["sold"]
    assert row.locator(".stockbar div").evaluate("e => e.style.width") == "20%"
    # one viewer count: the dashboard's (no "4 (4)")
    assert page.locator("#n-viewers").count() == 0
    assert page.locator("#dashboard [data-stat=viewers]").count() == 1

    # an error in the page's words, never "FORBIDDEN: …"
    page.evaluate("window.__panel.command({type: 'likes.goal', target: 5})")
    toast = page.locator("#toast")
    toast.filter(has_text=w["forbidden"]).wait_for(timeout=CEILING_MS)
    assert "FORBIDDEN" not in toast.inner_text()

    # timing: ~10 min ahead, in the language's word order; − stops at 55 s, saying why
    page.locator("#drift").filter(has_text=w["ahead"]).wait_for(timeout=CEILING_MS)
    assert page.locator("#btn-minus").is_disabled()
    assert w["minus_why"] in page.locator("#minus-why").inner_text()
    end = page.locator("#projected-end")
    before = int(end.get_attribute("data-ms") or 0)
    assert re.fullmatch(r"\d\d:\d\d", end.inner_text())
    page.keyboard.press("+")
    page.wait_for_function("b => Number(document.querySelector('#projected-end').dataset.ms) >= b",
                           arg=before + 59000, timeout=CEILING_MS)
    after = int(end.get_attribute("data-ms") or 0)
    assert 59000 <= after - before <= 61000  # exactly one minute later (the page's clock rounds to seconds)
    # the drift is the projected end against the planned one: the two never disagree
    planned_end = show_started(server, sid) + sum(seg["planned_seconds"] for seg in SEGMENTS) * 1000
    drift = page.evaluate("() => [document.querySelector('#drift').textContent, "
                          "Number(document.querySelector('#projected-end').dataset.ms)]")
    minutes, seconds = re.search(r"(\d+):(\d\d)", drift[0]).groups()  # type: ignore[union-attr]
    assert abs((planned_end - drift[1]) / 1000 - (int(minutes) * 60 + int(seconds))) <= 2, (drift, planned_end)
    page.locator("#btn-minus:not([disabled])").wait_for(timeout=CEILING_MS)
    assert page.locator("#minus-why").is_hidden()
    # readable from across the room on a tablet: digits a quarter of the card's width at least
    big = font_px(page, "#time-left")
    assert big >= (96 if width >= 1024 else 64), big

    # flash-sale controls: more stock, more time, close early; a sold-out sale can be taken off
    deadline = api(server, "GET", f"/api/shows/{sid}/state")["flash_sales"][1]["deadline"]
    row.locator("button.restock").click()
    row.filter(has_text=w["restocked"]).wait_for(timeout=CEILING_MS)
    row.locator("button.extend").click()
    page.wait_for_function(
        "([id, d]) => window.__panel.state().flash_sales.find(s => s.id === id).deadline === d",
        arg=[sale["id"], deadline + 60000], timeout=CEILING_MS)
    sold = page.locator(f"#sale-list li[data-sale='{show['sold_out_sale']}']")
    assert sold.locator("button.extend").count() == 0  # sold out: restock first
    sold.locator("button.close").click()
    sold.filter(has_text=w["closed"]).wait_for(timeout=CEILING_MS)
    assert sold.locator("button").count() == 0

    # overlay set-up: a preview, the per-layer URLs with copy buttons, a test per layer
    frame = page.locator("#ov-frame")
    page.locator("#ov-list li[data-layer=all]").wait_for(timeout=CEILING_MS)
    assert "stage=16x9" in (frame.get_attribute("src") or "")
    assert page.locator("#ov-list li").count() == 6
    assert page.locator("#ov-list li button.copy").count() == 6
    assert page.locator("#ov-list li button.test").count() == 5
    box = page.locator("#ov-preview").bounding_box()
    assert box and abs(box["width"] / box["height"] - 16 / 9) < 0.05
    page.locator(".ov-stages button[data-stage='9x16']").click()
    page.wait_for_function("() => document.querySelector('#ov-frame').getAttribute('src').includes('stage=9x16')",
                           timeout=CEILING_MS)
    box = page.locator("#ov-preview").bounding_box()
    assert box and abs(box["width"] / box["height"] - 9 / 16) < 0.05
    assert all("stage=9x16" in v for v in page.locator("#ov-list input").evaluate_all("l => l.map(e => e.value)"))
    page.locator("#ov-list li[data-layer=likes] button.copy").click()
    page.locator("#ov-status").filter(has_text="layers=likes").wait_for(timeout=CEILING_MS)  # "Copied: <url>"
    assert not too_wide(page), too_wide(page)
    shot(page, f"control-host-{size}-{lang}")

    # the prompter: V opens it; big clock, large points, next up; one tap to next; red over-run
    page.keyboard.press("v")
    prompter = page.locator("#prompter")
    prompter.wait_for(timeout=CEILING_MS)
    assert "view=prompter" in page.url
    assert page.locator("#pr-title").inner_text() == "Serum time"
    assert "Niacinamide 5%" in page.locator("#pr-points").inner_text()
    assert "Goodbye" in page.locator("#pr-next").inner_text()
    height = SIZES[size][1]
    assert font_px(page, "#pr-left") >= min(width, height) * 0.15
    assert font_px(page, "#pr-points li:not(.pr-price) >> nth=0") >= 22
    pbox = page.locator("#pr-go-next").bounding_box()
    assert pbox and pbox["height"] >= 64 and pbox["y"] + pbox["height"] <= height
    shot(page, f"prompter-{size}-{lang}", full=False)
    page.locator("#pr-go-next").click()
    page.locator("#pr-title", has_text="Goodbye").wait_for(timeout=CEILING_MS)
    page.locator("#pr-left.overrun").wait_for(timeout=CEILING_MS)  # 1 s planned: over-runs by itself
    assert page.locator("#pr-left-label").text_content() == w["overrun"]
    assert page.locator("#pr-left").evaluate("e => getComputedStyle(e).color") == "rgb(255, 59, 92)"
    shot(page, f"prompter-over-{size}-{lang}", full=False)
    page.keyboard.press("Escape")
    prompter.wait_for(state="hidden", timeout=CEILING_MS)
    assert "view=prompter" not in page.url

    # staff see the winners' names in full, and their list to download (CSV)
    draw.filter(has_text=WINNERS[1]).wait_for(timeout=CEILING_MS)
    for nick in WINNERS:
        assert nick in draw.inner_text()
    csv = draw.locator("a.csv").get_attribute("href") or ""
    assert csv.endswith(f"/winners.csv?lang={lang}")
    rows = page.evaluate("u => fetch(u).then(r => r.text())", csv)
    assert all(nick in rows for nick in WINNERS), rows

    # a test card on the overlay, from the panel
    page.locator("#ov-list li[data-layer=sale] button.test").click()
    page.frame_locator("#ov-frame").locator(".test-card[data-test=sale]", has_text=w["test"]).wait_for(
        timeout=CEILING_MS)
    page.locator("#ov-preview").screenshot(path=f"/tmp/shots/overlay-test-card-{size}-{lang}.png")
