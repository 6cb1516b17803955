"""Every page of a busy show at 1920×1080, 1080×1920, 1024×768 and 390×844 in both
languages: the overlay on both stages, the watch page, the review and the draw's
check page each speak the show's language and fit the window (nothing sticks out
on the right); a screenshot of each goes to /tmp/shots/ for a person to look at."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.panel_pages import LANGS, SIZES, busy_show, open_page, server, shot, staff_link, too_wide
from tests.browser.test_overlay import api
from tests.conftest import LiveServer
from tests.waiting import CEILING_MS

pytestmark = pytest.mark.browser
__all__ = ["server"]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("size", list(SIZES))
def test_every_page_fits_and_speaks_the_shows_language(browser: Any, server: LiveServer, size: str,
                                                        lang: str) -> None:
    show = busy_show(server, lang)
    sid = show["id"]
    # logged in as the host (the review needs it); the panel is the first page
    page = open_page(browser, staff_link(server, sid, "host", "Hui"), size)
    draw_id = api(server, "GET", f"/api/shows/{sid}/state")["draws"][0]["id"]
    key = show["overlay_key"]

    for stage in ("16x9", "9x16"):
        page.goto(f"{server.url}/shows/{sid}/overlay?key={key}&stage={stage}")
        page.wait_for_selector("body[data-conn=connected]", state="attached", timeout=CEILING_MS)
        page.locator("#stage .sale").wait_for(timeout=CEILING_MS)
        assert page.locator("html").get_attribute("lang") == lang
        shot(page, f"overlay-{stage}-{size}-{lang}", full=False)

    page.goto(f"{server.url}/shows/{sid}/watch")
    page.locator("#stage .sale, .sale").first.wait_for(timeout=CEILING_MS)
    assert page.locator("html").get_attribute("lang") == lang
    assert not too_wide(page), ("watch", too_wide(page))
    # a staff test card is for the overlay only: the watch page ignores it (the goal
    # change sent after it shows that both events arrived)
    api(server, "POST", f"/api/shows/{sid}/commands", {"type": "overlay.test", "layer": "sale"})
    api(server, "POST", f"/api/shows/{sid}/commands", {"type": "likes.goal", "target": 600})
    page.locator(".likes", has_text="600").wait_for(timeout=CEILING_MS)
    assert page.locator(".test-card").count() == 0
    shot(page, f"watch-{size}-{lang}")

    page.goto(f"{server.url}/shows/{sid}/review")
    page.locator("svg").first.wait_for(timeout=CEILING_MS)
    assert page.locator("html").get_attribute("lang") == lang
    assert not too_wide(page), ("review", too_wide(page))  # on a phone its wide tables scroll in their boxes
    shot(page, f"review-{size}-{lang}")

    page.goto(f"{server.url}/shows/{sid}/draws/{draw_id}")
    assert page.locator("html").get_attribute("lang") == lang
    assert not too_wide(page), ("draw", too_wide(page))
    shot(page, f"verify-{size}-{lang}")
