"""The review page in a real browser, in both languages: a simulated show
imported and opened with an analyst's login, its charts drawn with its data,
nothing fetched but the page, no policy violation, and printed to PDF on A4.
Screenshots: /tmp/review-en.png, /tmp/review-zh.png (and /tmp/review-full.png,
a review with every analysis field)."""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any

import pytest

from scripts.simulate import ndjson, simulate
from stats import report
from tests.browser.test_control_panel import api, staff_link
from tests.conftest import ADMIN, LiveServer
from tests.stats.reviews import TITLES, analysed, base, minutes
from tests.waiting import CEILING, CEILING_MS

pytestmark = pytest.mark.browser

A4_POINTS = (595.3, 841.9)


def imported(server: LiveServer) -> str:
    lines, _ = simulate(seed=11, minutes=30, viewers=150)
    req = urllib.request.Request(server.url + "/api/shows/import", data=ndjson(lines), method="POST",
                                 headers={"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/x-ndjson"})
    with urllib.request.urlopen(req, timeout=CEILING) as r:
        return str(json.loads(r.read())["id"])


def pdf_pages(pdf: bytes) -> list[tuple[float, float]]:
    """Each page's size in points, from its MediaBox."""
    assert pdf.startswith(b"%PDF-")
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    return [(float(w), float(h)) for w, h in boxes]


def watched(page: Any, requests: list[str], problems: list[str]) -> None:
    page.on("request", lambda r: requests.append(r.url))
    def console(m: Any) -> None:
        # the control panel opened before has no icon: Chromium asks /favicon.ico for it (the review has one)
        if m.type in ("error", "warning") and not m.location.get("url", "").endswith("/favicon.ico"):
            problems.append(f"{m.text} {m.location}")

    page.on("console", console)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)


@pytest.mark.parametrize(("lang", "heading", "shot"), [("en", "Key numbers", "/tmp/review-en.png"),
                                                       ("zh-CN", "核心数据", "/tmp/review-zh.png")])
def test_the_review_opens_draws_its_charts_and_prints_on_a4(browser: Any, live_server: LiveServer, lang: str,
                                                            heading: str, shot: str) -> None:
    sid = imported(live_server)
    n_minutes = len(api(live_server, "GET", f"/api/shows/{sid}/review")["minutes"])
    ctx = browser.new_context(viewport={"width": 1000, "height": 1300})
    page = ctx.new_page()
    page.goto(staff_link(live_server, sid, "analyst", "Lin"))  # the session cookie, as for the control panel
    # the panel's dashboard reads the review API once: let it, before watching what the review page asks for
    page.wait_for_load_state("networkidle", timeout=CEILING_MS)
    requests: list[str] = []
    problems: list[str] = []
    watched(page, requests, problems)
    url = f"{live_server.url}/shows/{sid}/review?lang={lang}"
    response = page.goto(url)
    assert response is not None and response.status == 200
    page.get_by_role("heading", name=heading).wait_for(timeout=CEILING_MS)
    assert requests == [url]  # no script, style sheet, font or image fetched
    charts = page.locator("svg.chart")
    assert charts.count() == 4
    viewers = page.locator('svg[data-chart="viewers"] polyline')
    assert viewers.get_attribute("data-points") == str(n_minutes)
    box = viewers.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 20  # drawn, not collapsed
    assert page.locator('svg[data-chart="viewers"] g.band').count() >= 5  # the rundown's segments
    assert page.locator('svg[data-chart="interactions"] polyline').count() == 2
    assert page.locator('svg[data-chart="orders"] rect.bar').count() > 0
    assert page.locator('[data-testid="metrics"] tr[data-metric="unique_viewers"]').count() == 1
    page.screenshot(path=shot, full_page=True)
    pages = pdf_pages(page.pdf(format="A4", print_background=True))
    assert 1 <= len(pages) <= 8
    for w, h in pages:
        assert abs(w - A4_POINTS[0]) < 2 and abs(h - A4_POINTS[1]) < 2
    assert problems == []  # no Content-Security-Policy refusal or script error


def test_the_control_panel_opens_it(browser: Any, live_server: LiveServer) -> None:
    created = api(live_server, "POST", "/api/shows", {"title": "Panel show", "language": "en"})
    sid = created["id"]
    api(live_server, "POST", f"/api/shows/{sid}/commands", {"type": "show.start"})
    ctx = browser.new_context()
    page = ctx.new_page()
    page.goto(staff_link(live_server, sid, "analyst", "Lin"))
    link = page.locator('[data-testid="review-link"]')
    link.wait_for(timeout=CEILING_MS)
    with ctx.expect_page(timeout=CEILING_MS) as opened:
        link.click()
    review = opened.value
    review.locator('[data-testid="so-far"]').wait_for(timeout=CEILING_MS)  # live: the review so far
    assert review.url.endswith(f"/shows/{sid}/review")


def test_a_full_review_draws_its_drop_offs_and_peaks(browser: Any) -> None:
    rows = minutes([12, 40, 65, 70, 38, 36, 41, 45, 44, 30], orders=[0, 0, 1, 2, 0, 0, 7, 3, 1, 0],
                   segments=[0, 0, 1, 1, 1, 2, 2, 2, 3, 3])
    body = analysed(base(rows, language="zh-CN"))
    page = browser.new_context(viewport={"width": 1000, "height": 1300}).new_page()
    page.set_content(report.page(body, "zh-CN", titles=TITLES))
    drop = page.locator('svg[data-chart="viewers"] g.mark')
    assert drop.count() == 1 and drop.get_attribute("data-slot") == "4"  # 70 → 38
    assert page.locator('svg[data-chart="orders"] g.mark').get_attribute("data-slot") == "6"
    bars = page.locator('svg[data-chart="retention"] rect.bar')
    assert bars.count() == 4 and (bars.nth(0).bounding_box() or {}).get("height", 0) > 1
    assert page.locator('[data-testid="drop-offs"] tbody tr').count() == 1
    assert page.locator('[data-testid="recommendations"] li').nth(1).inner_text() == \
        "<script>alert(1)</script> stays text."
    page.screenshot(path="/tmp/review-full.png", full_page=True)
    assert all(abs(w - A4_POINTS[0]) < 2 for w, _ in pdf_pages(page.pdf(format="A4")))
