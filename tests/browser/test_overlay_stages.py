"""The overlay as a stream shows it: in the show's language, on a 16:9 or a 9:16
stage with the cards where the platform's own UI is not, one URL per layer,
one price for one product, a sold-out sale that says so once and leaves when
closed, a pinned comment shown once, icons that need no emoji font, and one
money format. Each test runs in both languages."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from websockets.sync.client import connect

from tests.browser.test_overlay import WAIT_MS, api, command, live_show, register, viewer_comment
from tests.conftest import LiveServer
from tests.waiting import CEILING, receive_until

pytestmark = pytest.mark.browser

LANGS = ["en", "zh-CN"]
WORDS = {  # what each language prints, to tell the two apart
    "en": {"sale": "FLASH SALE", "draw": "LUCKY DRAW", "sold_out": "Sold out", "ends": "Ends in", "pinned": "Pinned"},
    "zh-CN": {"sale": "限时秒杀", "draw": "幸运抽奖", "sold_out": "已抢光", "ends": "距结束", "pinned": "置顶"},
}
OTHER = {"en": "zh-CN", "zh-CN": "en"}
STAGE = {"16x9": (1920, 1080), "9x16": (1080, 1920)}
# Where the cards may go (docs: README "Overlay for OBS"): 16:9 inside the
# title-safe margins with the middle kept for the host; 9:16 clear of Douyin's
# header (top 300), its comments and bar (bottom 680) and its buttons (right 150).
SAFE = {"16x9": (96, 54, 1920 - 96, 1080 - 54), "9x16": (48, 300, 1080 - 150, 1920 - 680)}
# the middle of the picture, where the host is: 16:9 the middle 40 % × 50 %; 9:16 a
# band across the frame at face height, between the top row and the bottom cards
MIDDLE = {"16x9": (576, 270, 1344, 810), "9x16": (300, 700, 780, 800)}


def here(server: LiveServer, url: str) -> str:
    """A link the server printed (with its public URL, ``http://testserver`` in tests)
    on the test server's real address."""
    assert url.startswith("http://testserver/"), url
    return server.url + url[len("http://testserver"):]


def overlay_link(server: LiveServer, show: dict[str, Any]) -> str:
    """The overlay link ``POST /api/shows`` answered (the one printed at start)."""
    return here(server, show["links"]["overlay"])


def open_stage(browser: Any, url: str, stage: str = "16x9", locale: str = "en-US") -> Any:
    width, height = STAGE[stage]
    page = browser.new_context(viewport={"width": width, "height": height}, locale=locale).new_page()
    page.goto(url)
    page.wait_for_selector("body[data-conn=connected]", state="attached", timeout=WAIT_MS)
    return page


def card_boxes(page: Any) -> dict[str, dict[str, float]]:
    """Each card's box in stage pixels (the page is the stage's own size: scale 1)."""
    boxes: dict[str, dict[str, float]] = page.evaluate("""() => {
        const out = {};
        for (const e of document.querySelectorAll('#stage .layer')) {
          const r = e.getBoundingClientRect(); out[e.dataset.layer] = {x: r.x, y: r.y, r: r.right, b: r.bottom}; }
        return out; }""")
    return boxes


def overlaps(a: dict[str, float], b: tuple[float, float, float, float]) -> bool:
    return a["x"] < b[2] and b[0] < a["r"] and a["y"] < b[3] and b[1] < a["b"]


def busy_show(server: LiveServer, lang: str, **extra: Any) -> dict[str, Any]:
    """A live show with everything on screen: a pinned product, a flash sale on another
    (a sale of the pinned one would be its one card), an open draw, likes, comments
    and a pinned comment."""
    show = live_show(server, like_goal=500, language=lang, **extra)
    sid = show["id"]
    command(server, sid, {"type": "product.pin", "sku": "B2"})
    command(server, sid, {"type": "flash_sale.open", "sku": "A1", "price": "149", "stock": 50, "per_viewer_limit": 2,
                          "duration_seconds": 300})
    command(server, sid, {"type": "draw.open", "prize": "Lipstick 口红", "winners": 3, "entry_seconds": 600,
                          "eligibility": {"keyword": "want"}})
    for i, text in enumerate(["I want it, how much is shipping to Chengdu?", "想要想要", "Is it for dry skin?",
                              "已下单", "好用吗"]):
        viewer_comment(server, sid, register(server, sid, f"viewer{i}")["token"], text)
    comments = api(server, "GET", f"/api/shows/{sid}/state")["comments"]
    command(server, sid, {"type": "comment.pin", "comment_id": comments[0]["comment_id"]})
    show["pinned_comment"] = comments[0]
    return show


def wait_everything(page: Any) -> None:
    for selector in (".sale .countdown[data-ms]", ".draw .entries", ".product", ".comments .pinned", ".likes"):
        page.locator(selector).wait_for(timeout=WAIT_MS)


@pytest.mark.parametrize("lang", LANGS)
def test_the_overlay_speaks_the_shows_language_whatever_the_browser_and_lang_overrides(
    browser: Any, live_server: LiveServer, lang: str
) -> None:
    show = busy_show(live_server, lang)
    # OBS's browser asks for the other language; the printed link has no lang
    link = overlay_link(live_server, show)
    assert "lang=" not in link
    browser_locale = "zh-CN" if lang == "en" else "en-US"
    page = open_stage(browser, link, locale=browser_locale)
    wait_everything(page)
    assert page.locator("html").get_attribute("lang") == lang
    assert page.locator(".sale .tag").inner_text() == WORDS[lang]["sale"]
    assert page.locator(".draw .tag").inner_text() == WORDS[lang]["draw"]
    assert page.locator(".sale .countdown").inner_text().startswith(WORDS[lang]["ends"])
    # ?lang= overrides the show
    other = open_stage(browser, link + f"&lang={OTHER[lang]}", locale=browser_locale)
    other.locator(".sale .tag").wait_for(timeout=WAIT_MS)
    assert other.locator(".sale .tag").inner_text() == WORDS[OTHER[lang]]["sale"]
    # so do the pages that refuse: a wrong key, an unknown stage, in the show's language
    for query, status in (("?key=wrong", 401), (f"?key={show['overlay_key']}&stage=4x3", 400)):
        bad = browser.new_context(locale=browser_locale).new_page()
        response = bad.goto(f"{live_server.url}/shows/{show['id']}/overlay{query}")
        assert response is not None and response.status == status
        assert bad.locator("html").get_attribute("lang") == lang


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("stage", ["16x9", "9x16"])
def test_cards_stay_in_the_safe_area_apart_and_off_the_middle_of_the_picture(
    browser: Any, live_server: LiveServer, lang: str, stage: str
) -> None:
    show = busy_show(live_server, lang)
    urls = api(live_server, "GET", f"/api/shows/{show['id']}/overlay-urls")["overlays"]
    url = next(u["url"] for u in urls if u["stage"] == stage and u["layers"] == "all")
    page = open_stage(browser, here(live_server, url), stage)
    wait_everything(page)
    width, height = STAGE[stage]
    stage_box = page.locator("#stage").bounding_box()
    assert stage_box == {"x": 0, "y": 0, "width": width, "height": height}
    boxes = card_boxes(page)
    assert set(boxes) == {"likes", "draw", "sale", "product", "comments"}
    left, top, right, bottom = SAFE[stage]
    for name, box in boxes.items():
        assert left <= box["x"] and box["r"] <= right and top <= box["y"] and box["b"] <= bottom, (name, box)
        assert not overlaps(box, MIDDLE[stage]), (name, box)
    names = sorted(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            other = boxes[b]
            assert not overlaps(boxes[a], (other["x"], other["y"], other["r"], other["b"])), (a, b, boxes)


@pytest.mark.parametrize("lang", LANGS)
def test_each_layer_has_its_own_url_for_each_stage(browser: Any, live_server: LiveServer, lang: str) -> None:
    show = busy_show(live_server, lang)
    urls = api(live_server, "GET", f"/api/shows/{show['id']}/overlay-urls")["overlays"]
    assert {(u["stage"], u["layers"]) for u in urls} == {
        (s, n) for s in STAGE for n in ("all", "product", "sale", "draw", "likes", "comments")}
    for u in urls:
        assert (u["width"], u["height"]) == STAGE[u["stage"]] and "lang=" not in u["url"]
    for stage, name in (("9x16", "sale"), ("16x9", "likes"), ("9x16", "comments")):
        url = next(u["url"] for u in urls if u["stage"] == stage and u["layers"] == name)
        page = open_stage(browser, here(live_server, url), stage)
        page.locator(f".layer.{name}").wait_for(timeout=WAIT_MS)
        assert set(card_boxes(page)) == {name}
        # where it sits in the combined overlay: the sources stack exactly
        combined = open_stage(browser, here(live_server, next(u["url"] for u in urls
                                                              if u["stage"] == stage and u["layers"] == "all")), stage)
        wait_everything(combined)
        assert card_boxes(combined)[name]["x"] == card_boxes(page)[name]["x"]


@pytest.mark.parametrize("lang", LANGS)
def test_one_card_and_one_price_for_the_pinned_product_while_a_sale_sells_it(
    browser: Any, live_server: LiveServer, lang: str
) -> None:
    show = live_show(live_server, language=lang)
    sid = show["id"]
    command(live_server, sid, {"type": "product.pin", "sku": "A1"})
    page = open_stage(browser, overlay_link(live_server, show))
    alone = open_stage(browser, overlay_link(live_server, show) + "&layers=product")  # the product layer's own URL
    for p in (page, alone):
        card = p.locator(".product")
        card.locator(".price", has_text="¥199.00").wait_for(timeout=WAIT_MS)
        assert card.locator(".was").inner_text() == "¥299.00"
    command(live_server, sid, {"type": "flash_sale.open", "sku": "A1", "price": "149", "stock": 5,
                               "duration_seconds": 120})
    # the combined overlay: the sale card is the product's one card, at the sale price
    page.locator(".sale .price", has_text="¥149.00").wait_for(timeout=WAIT_MS)
    page.locator(".product").wait_for(state="detached", timeout=WAIT_MS)
    assert "199" not in page.locator("#stage").inner_text()  # one price on screen
    # the product layer alone shows the sale price, tagged
    card = alone.locator(".product")
    card.locator(".price", has_text="¥149.00").wait_for(timeout=WAIT_MS)
    assert card.locator(".was").inner_text() == "¥299.00"
    assert card.locator(".tag").inner_text() == WORDS[lang]["sale"]
    assert "199" not in alone.locator("#stage").inner_text()
    sale_id = api(live_server, "GET", f"/api/shows/{sid}/state")["flash_sales"][0]["id"]
    command(live_server, sid, {"type": "flash_sale.close", "sale_id": sale_id})
    for p in (page, alone):  # the sale over: the pinned card is back at the live price
        card = p.locator(".product")
        card.locator(".price", has_text="¥199.00").wait_for(timeout=WAIT_MS)
        assert card.locator(".tag").count() == 0


@pytest.mark.parametrize("lang", LANGS)
def test_a_sold_out_sale_says_so_once_and_leaves_the_stream_when_closed(
    browser: Any, live_server: LiveServer, lang: str
) -> None:
    show = live_show(live_server, language=lang)
    sid = show["id"]
    command(live_server, sid, {"type": "flash_sale.open", "sku": "B2", "price": "59", "stock": 1,
                               "duration_seconds": 600})
    sale_id = api(live_server, "GET", f"/api/shows/{sid}/state")["flash_sales"][0]["id"]
    page = open_stage(browser, overlay_link(live_server, show), "9x16")
    page.locator(".sale .countdown[data-phase=ends]").wait_for(timeout=WAIT_MS)
    buyer = register(live_server, sid, "Fast")
    api(live_server, "POST", f"/api/shows/{sid}/flash-sales/{sale_id}/claims", {"qty": 1}, token=buyer["token"],
        headers={"Idempotency-Key": "k1"})
    card = page.locator(".sale.soldout")
    card.wait_for(timeout=WAIT_MS)
    assert card.inner_text().count(WORDS[lang]["sold_out"]) == 1
    assert card.locator(".stock").is_hidden()
    # a minute after it sold out it leaves by itself (the page's clock moved by hand)
    closed_at = api(live_server, "GET", f"/api/shows/{sid}/state")["flash_sales"][0]["closed_at"]
    assert page.evaluate("""t => { const l = window.__overlay.layers, real = l.clock;
        l.clock = {now: () => t}; l.render(); const gone = !document.querySelector('.sale');
        l.clock = real; l.render(); return gone && !!document.querySelector('.sale'); }""", closed_at + 60_000)
    # closed by staff (before its deadline and that minute), it leaves at once
    command(live_server, sid, {"type": "flash_sale.close", "sale_id": sale_id})
    page.locator(".sale").wait_for(state="detached", timeout=WAIT_MS)


@pytest.mark.parametrize("lang", LANGS)
def test_a_pinned_comment_is_not_also_in_the_ticker(browser: Any, live_server: LiveServer, lang: str) -> None:
    show = busy_show(live_server, lang)
    for stage in STAGE:
        page = open_stage(browser, overlay_link(live_server, show) + f"&stage={stage}&layers=comments", stage)
        pinned = page.locator(".comments .pinned")
        pinned.wait_for(timeout=WAIT_MS)
        text = show["pinned_comment"]["text"]
        assert pinned.locator(".text").inner_text() == text
        assert pinned.locator(".pin-label").inner_text().strip() == WORDS[lang]["pinned"]
        assert page.locator(".comments .comment .text").count() >= 3
        assert text not in page.locator(".comments .comment .text").all_inner_texts()


EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F]")


@pytest.mark.parametrize("lang", LANGS)
def test_icons_are_svg_and_no_emoji_is_printed(browser: Any, live_server: LiveServer, lang: str) -> None:
    show = busy_show(live_server, lang)
    page = open_stage(browser, overlay_link(live_server, show))
    wait_everything(page)
    command(live_server, show["id"], {"type": "likes.goal", "target": 501})
    viewer = register(live_server, show["id"], "Liker")
    with connect(f"{live_server.ws_url}/ws/shows/{show['id']}", proxy=None, open_timeout=CEILING) as ws:
        ws.send(json.dumps({"type": "hello", "token": viewer["token"]}))
        receive_until(ws, lambda m: m["type"] == "snapshot")
        ws.send(json.dumps({"type": "like", "count": 3}))
        page.locator(".likes[data-total='3']").wait_for(timeout=WAIT_MS)
    draw_id = api(live_server, "GET", f"/api/shows/{show['id']}/state")["draws"][0]["id"]
    command(live_server, show["id"], {"type": "draw.close", "draw_id": draw_id})
    page.locator(".draw.drawn").wait_for(timeout=WAIT_MS)
    for name in ("heart", "pin", "gift"):
        assert page.locator(f"svg[data-icon={name}]").count() >= 1, name
    assert EMOJI.findall(page.locator("#stage").inner_text()) == []


@pytest.mark.parametrize("lang", LANGS)
def test_money_has_one_format_on_the_stream(browser: Any, live_server: LiveServer, lang: str) -> None:
    products = [{"sku": "TV", "title": "TV 55", "list_price": "12999", "live_price": "9999.5", "stock": 3},
                {"sku": "A1", "title": "Serum", "list_price": "299", "live_price": "199", "stock": 9}]
    show = api(live_server, "POST", "/api/shows", {"title": "Money", "products": products, "language": lang})
    command(live_server, show["id"], {"type": "show.start"})
    command(live_server, show["id"], {"type": "product.pin", "sku": "TV"})
    command(live_server, show["id"], {"type": "flash_sale.open", "sku": "A1", "price": "99.5", "stock": 5,
                                      "duration_seconds": 60})
    page = open_stage(browser, overlay_link(live_server, show))
    page.locator(".sale .price").wait_for(timeout=WAIT_MS)
    page.locator(".product .price").wait_for(timeout=WAIT_MS)
    assert page.locator(".product .price").inner_text() == "¥9,999.50"
    assert page.locator(".product .was").inner_text() == "¥12,999.00"
    assert page.locator(".sale .price").inner_text() == "¥99.50"
    for text in page.locator(".price, .was").all_inner_texts():
        assert re.fullmatch(r"¥\d{1,3}(,\d{3})*\.\d\d", text), text
