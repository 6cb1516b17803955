"""The control panel as the assistant sets a show up (issue 10), in both languages
at 1920×1080, 1080×1920, 1024×768 and 390×844, one page load each: the show's
language unless ?lang= says otherwise, the like goal shown in its field, a
product picker as wide as its form, the price placeholder from the chosen
product, and an error toast by code and field in the page's words."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.panel_pages import LANGS, SIZES, busy_show, open_page, server, shot, staff_link, too_wide
from tests.conftest import LiveServer
from tests.waiting import CEILING_MS

pytestmark = pytest.mark.browser
__all__ = ["server"]

WORDS = {
    "en": {"short": "A segment cannot be made shorter than 0 s.", "other": "zh-CN", "next": "Next"},
    "zh-CN": {"short": "一段时长不能短于 0 秒。", "other": "en", "next": "下一个"},
}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("size", list(SIZES))
def test_the_assistant_sets_up_sales_and_goals_in_the_shows_language(
    browser: Any, server: LiveServer, size: str, lang: str
) -> None:
    w = WORDS[lang]
    show = busy_show(server, lang)
    sid = show["id"]
    # the browser asks for the other language: the show's wins
    page = open_page(browser, staff_link(server, sid, "assistant", "Ann"), size,
                     locale="zh-CN" if lang == "en" else "en-US")
    assert page.locator("html").get_attribute("lang") == lang
    assert page.locator("#btn-next").inner_text().startswith(w["next"])

    # the like goal is in its field; a new one replaces it there
    goal = page.locator("#goal-target")
    page.wait_for_function("() => document.querySelector('#goal-target').value === '500'", timeout=CEILING_MS)
    goal.fill("800")
    page.locator("#goal-form button[type=submit]").click()
    page.locator("#n-likes", has_text="800").wait_for(timeout=CEILING_MS)
    page.wait_for_function("() => document.querySelector('#goal-target').value === '800'", timeout=CEILING_MS)

    # the product picker is not cut off: as wide as the form, every title in full
    form = page.locator("#sale-form").bounding_box()
    picker = page.locator("#sale-sku")
    box = picker.bounding_box()
    assert form and box and box["width"] >= form["width"] * 0.9, (box, form)
    fits = page.evaluate("""() => { const s = document.querySelector('#sale-sku');
        const c = document.createElement('canvas').getContext('2d'); c.font = getComputedStyle(s).font;
        return [...s.options].every(o => c.measureText(o.textContent).width + 40 <= s.clientWidth); }""")
    assert fits
    assert "¥199.00" in picker.locator("option").first.inner_text()
    # the price placeholder is the chosen product's live price
    price = page.locator("#sale-price")
    assert price.get_attribute("placeholder") == "199.00"
    picker.select_option("B2")
    assert price.get_attribute("placeholder") == "99.50"

    # an error by its code and field, in the page's words
    page.evaluate("window.__panel.command({type: 'segment.extend', seconds: -6000})")
    toast = page.locator("#toast")
    toast.filter(has_text=w["short"]).wait_for(timeout=CEILING_MS)
    assert "INVALID" not in toast.inner_text()
    assert not too_wide(page), too_wide(page)
    shot(page, f"control-assistant-{size}-{lang}")

    # ?lang= overrides the show's language; ?view=prompter opens the prompter
    page.goto(page.url.split("?")[0] + f"?lang={w['other']}&view=prompter")
    page.wait_for_selector("#conn.connected", timeout=CEILING_MS)
    assert page.locator("html").get_attribute("lang") == w["other"]
    page.locator("#prompter").wait_for(timeout=CEILING_MS)
    page.locator("#pr-title", has_text="Serum time").wait_for(timeout=CEILING_MS)
