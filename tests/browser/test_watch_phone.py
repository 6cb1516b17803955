"""The watch page as a viewer on a phone (390×844) uses it, in both languages:
nickname and Join on screen at once, the result of a tap on Grab beside the
button (which goes off once it cannot win again), the middle of the picture
clear, a winner told so, a banned-word comment seen by its author only, a
link to check the draw, and every error in the page's language."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import urllib.request
from typing import Any

import pytest
from websockets.sync.client import connect

from tests.browser.test_overlay import WAIT_MS, api, command, live_show, open_overlay, overlay_url, register
from tests.browser.test_watch import join
from tests.conftest import LiveServer
from tests.waiting import CEILING, receive_until

pytestmark = pytest.mark.browser

LANGS = ["en", "zh-CN"]
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2}
TABLET = {"viewport": {"width": 1024, "height": 768}, "has_touch": True}
WORDS = {
    "en": {"won": "You won: Lipstick", "limit": "Limit reached", "sold_out": "Sold out", "got": "Got it!",
           "not_live": "The show is not live right now.", "verify": "Verify this draw", "check": "Check this draw",
           "seed_later": "revealed when the draw closes", "ended": "The show has ended."},
    "zh-CN": {"won": "你中奖了! Lipstick", "limit": "已达限购数量", "sold_out": "已抢光", "got": "抢到了!",
              "not_live": "直播当前未在进行。", "verify": "验证抽奖结果", "check": "验证这次抽奖",
              "seed_later": "开奖时公布", "ended": "直播已结束。"},
}


def open_phone(browser: Any, server: LiveServer, sid: str, device: dict[str, Any] = PHONE,
               locale: str = "en-US") -> Any:
    page = browser.new_context(**device, locale=locale).new_page()
    page.goto(f"{server.url}/shows/{sid}/watch")
    page.wait_for_selector("body[data-conn=connected]", state="attached", timeout=WAIT_MS)
    return page


def on_screen(page: Any, selector: str) -> bool:
    """The element is wholly inside the viewport without scrolling."""
    return bool(page.evaluate("""s => { const r = document.querySelector(s).getBoundingClientRect();
        return r.width > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth; }""",
                              selector))


def sale(server: LiveServer, sid: str, sku: str = "A1", stock: int = 5, limit: int = 1) -> str:
    command(server, sid, {"type": "flash_sale.open", "sku": sku, "price": "149", "stock": stock,
                          "per_viewer_limit": limit, "duration_seconds": 300})
    sales = api(server, "GET", f"/api/shows/{sid}/state")["flash_sales"]
    return str(next(s["id"] for s in sales if s["sku"] == sku and s["status"] == "open"))


def http_claim(server: LiveServer, sid: str, sale_id: str, token: str, key: str) -> None:
    api(server, "POST", f"/api/shows/{sid}/flash-sales/{sale_id}/claims", {"qty": 1}, token=token,
        headers={"Idempotency-Key": key})


def say(server: LiveServer, sid: str, token: str, text: str) -> None:
    with connect(f"{server.ws_url}/ws/shows/{sid}", proxy=None, open_timeout=CEILING) as ws:
        ws.send(json.dumps({"type": "hello", "token": token}))
        receive_until(ws, lambda m: m["type"] == "snapshot")
        ws.send(json.dumps({"type": "comment", "text": text, "request_id": "c"}))
        assert receive_until(ws, lambda m: m.get("request_id") == "c")["type"] == "command.result"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("device", [PHONE, TABLET], ids=["390x844", "1024x768"])
def test_nickname_and_join_then_the_controls_are_on_screen_without_scrolling(
    browser: Any, live_server: LiveServer, lang: str, device: dict[str, Any]
) -> None:
    show = live_show(live_server, language=lang)
    sale(live_server, show["id"])
    page = open_phone(browser, live_server, show["id"], device)
    assert page.evaluate("scrollY") == 0
    assert on_screen(page, "#nickname") and on_screen(page, "#join button")
    join(page, "Mia")
    for selector in ("#comment", "#like", "#share", ".sale .claim"):
        assert on_screen(page, selector), selector
    assert page.evaluate("document.documentElement.scrollWidth") <= device["viewport"]["width"]


@pytest.mark.parametrize("lang", LANGS)
def test_the_grab_result_shows_beside_the_button_which_goes_off_when_it_cannot_win_again(
    browser: Any, live_server: LiveServer, lang: str
) -> None:
    show = live_show(live_server, language=lang)
    sid = show["id"]
    page = open_phone(browser, live_server, sid)
    join(page, "Mia")
    token = json.loads(page.evaluate(f"localStorage.getItem('live.viewer.{sid}')"))["token"]
    # the limit: this viewer already bought on another device, then taps here
    first = sale(live_server, sid, "A1", stock=5, limit=1)
    http_claim(live_server, sid, first, token, "other-device")
    page.locator(".sale .claim:not([disabled])").tap()
    result = page.locator(".sale .claim-result[data-code=LIMIT_REACHED]")
    result.wait_for(timeout=WAIT_MS)
    assert result.inner_text() == WORDS[lang]["limit"]
    page.locator(".sale .claim[disabled]").wait_for(timeout=WAIT_MS)
    button, note = page.locator(".sale .claim").bounding_box(), result.bounding_box()
    assert button is not None and note is not None
    assert 0 <= note["y"] - (button["y"] + button["height"]) <= 24 and note["y"] + note["height"] <= 844
    # a win: the result beside the button; sold out (the last unit): the button goes off
    command(live_server, sid, {"type": "flash_sale.close", "sale_id": first})
    second = sale(live_server, sid, "B2", stock=1, limit=1)
    page.locator(f".sale[data-sale='{second}'] .claim:not([disabled])").tap()
    page.locator(".sale .claim-result.ok").wait_for(timeout=WAIT_MS)
    assert page.locator(".sale .claim-result").inner_text().startswith(WORDS[lang]["got"])
    page.locator(".sale.soldout .claim[disabled]").wait_for(timeout=WAIT_MS)
    assert page.locator(".sale.soldout").inner_text().count(WORDS[lang]["sold_out"]) == 1


@pytest.mark.parametrize("lang", LANGS)
def test_cards_leave_the_middle_of_the_video_clear(browser: Any, live_server: LiveServer, lang: str) -> None:
    show = live_show(live_server, language=lang, like_goal=500)
    sid = show["id"]
    command(live_server, sid, {"type": "product.pin", "sku": "B2"})  # a sale of the pinned one would be its one card
    sale(live_server, sid, "A1", stock=50, limit=2)
    command(live_server, sid, {"type": "draw.open", "prize": "Lipstick", "winners": 3, "entry_seconds": 600,
                               "eligibility": {"keyword": "want"}})
    for i, text in enumerate(["I want it! How much is shipping to Chengdu?", "想要想要想要", "dry skin?", "已下单"]):
        say(live_server, sid, register(live_server, sid, f"v{i}")["token"], text)
    comment_id = api(live_server, "GET", f"/api/shows/{sid}/state")["comments"][0]["comment_id"]
    command(live_server, sid, {"type": "comment.pin", "comment_id": comment_id})
    page = open_phone(browser, live_server, sid)
    join(page, "Mia")
    for selector in (".likes", ".draw .entries", ".product", ".sale .claim", ".comments .pinned"):
        page.locator(selector).wait_for(timeout=WAIT_MS)
    covered = page.evaluate("""() => {
        const p = document.querySelector('.player').getBoundingClientRect();
        const cards = [...document.querySelectorAll('#layers .layer')].flatMap(e =>
          e.classList.contains('comments') ? [...e.children] : [e]).map(e => e.getBoundingClientRect());
        const hit = (x, y) => cards.some(r => x >= r.left && x < r.right && y >= r.top && y < r.bottom);
        let n = 0, all = 0, middle = 0;
        for (let x = p.left + 2; x < p.right; x += 4) for (let y = p.top + 2; y < p.bottom; y += 4) {
          all++; if (hit(x, y)) { n++;
            if (x > p.left + p.width * .25 && x < p.left + p.width * .75 && y > p.top + p.height * .3 &&
                y < p.top + p.height * .65) middle++; } }
        return {share: n / all, middle: middle}; }""")
    assert covered["middle"] == 0, covered
    assert covered["share"] < 0.4, covered


@pytest.mark.parametrize("lang", LANGS)
def test_a_winner_is_told_on_their_own_page_and_the_stream_keeps_names_masked(
    browser: Any, live_server: LiveServer, lang: str
) -> None:
    show = live_show(live_server, language=lang)
    sid = show["id"]
    command(live_server, sid, {"type": "draw.open", "prize": "Lipstick", "winners": 1,
                               "eligibility": {"keyword": "want"}})
    winner, other = open_phone(browser, live_server, sid), open_phone(browser, live_server, sid)
    join(winner, "Mia Wong")
    join(other, "Bob")
    winner.locator("#comment").fill("I want it")
    winner.locator("#comment-form button").tap()
    winner.locator(".comments .text", has_text="I want it").wait_for(timeout=WAIT_MS)
    overlay = open_overlay(browser, overlay_url(live_server, show))
    draw_id = api(live_server, "GET", f"/api/shows/{sid}/state")["draws"][0]["id"]
    winner.locator(".draw .entries").wait_for(timeout=WAIT_MS)
    command(live_server, sid, {"type": "draw.close", "draw_id": draw_id})
    told = winner.locator(".draw .you-won")
    told.wait_for(timeout=WAIT_MS)
    assert told.inner_text() == WORDS[lang]["won"]
    assert winner.locator("#prizes li").inner_text().startswith(WORDS[lang]["won"])
    assert winner.locator("#toast").inner_text() == WORDS[lang]["won"]
    other.locator(".draw.drawn").wait_for(timeout=WAIT_MS)
    assert other.locator(".you-won").count() == 0 and other.locator("#prizes-box").is_hidden()
    overlay.locator(".draw.drawn .winners li").wait_for(timeout=WAIT_MS)
    assert overlay.locator(".draw .winners li").all_inner_texts() == ["M**"]
    assert overlay.locator(".you-won").count() == 0
    # still told after a reload (the snapshot's winners and "me")
    winner.reload()
    winner.locator("#prizes li").wait_for(timeout=WAIT_MS)


@pytest.mark.parametrize("lang", LANGS)
def test_a_banned_word_comment_is_shown_to_its_author_only(browser: Any, live_server: LiveServer, lang: str) -> None:
    show = live_show(live_server, language=lang)
    sid = show["id"]
    author, other = open_phone(browser, live_server, sid), open_phone(browser, live_server, sid)
    overlay = open_overlay(browser, overlay_url(live_server, show, "&layers=comments"))
    join(author, "Ann")
    join(other, "Bob")
    author.locator("#comment").fill("加微信 abc123")
    author.locator("#comment-form button").tap()
    author.locator(".comments .text", has_text="加微信 abc123").wait_for(timeout=WAIT_MS)
    author.wait_for_function("document.getElementById('comment').value === ''", timeout=WAIT_MS)
    # a later, clean comment reaches everyone: by then the hidden one would have too
    say(live_server, sid, register(live_server, sid, "Cat")["token"], "hello all")
    for page in (other, overlay):
        page.locator(".comments .text", has_text="hello all").wait_for(timeout=WAIT_MS)
        assert "加微信" not in page.locator(".comments").inner_text()
    flagged = [c for c in api(live_server, "GET", f"/api/shows/{sid}/state")["comments"] if c["hidden"]]
    assert [c["flagged"] for c in flagged] == ["加微信"]
    author.reload()
    author.locator(".comments .text", has_text="加微信 abc123").wait_for(timeout=WAIT_MS)
    other.reload()
    other.locator(".comments .text", has_text="hello all").wait_for(timeout=WAIT_MS)
    assert "加微信" not in other.locator(".comments").inner_text()


@pytest.mark.parametrize("lang", LANGS)
def test_the_verify_link_opens_a_page_that_shows_how_to_check_the_draw(
    browser: Any, live_server: LiveServer, lang: str, tmp_path: Any
) -> None:
    show = live_show(live_server, language=lang)
    sid = show["id"]
    command(live_server, sid, {"type": "draw.open", "prize": "Lipstick", "winners": 1, "eligibility": {}})
    record = api(live_server, "GET", f"/api/shows/{sid}/state")["draws"][0]
    page = open_phone(browser, live_server, sid)
    join(page, "Mia")
    link = page.locator(".draw a.verify")
    assert link.inner_text() == WORDS[lang]["verify"]
    with page.context.expect_page(timeout=WAIT_MS) as opened:  # a new tab: the live room stays open
        link.click()
    check = opened.value
    check.wait_for_load_state()
    assert check.locator("h1").inner_text() == WORDS[lang]["check"]
    assert check.locator("#commitment").inner_text() == record["commitment"]
    assert WORDS[lang]["seed_later"] in check.locator("main").inner_text()
    command(live_server, sid, {"type": "draw.close", "draw_id": record["id"]})
    check.reload()
    seed = check.locator("#seed").inner_text()
    assert hashlib.sha256(bytes.fromhex(seed)).hexdigest() == record["commitment"]
    assert check.locator("#winners li").all_inner_texts() == ["M**"]
    # the commands on the page work: the script it links to checks the record it links to
    shown = check.locator("#command").inner_text()
    assert "verify_draw.py" in shown and f"/api/shows/{sid}/draws/{record['id']}" in shown
    with urllib.request.urlopen(live_server.url + "/draws/verify_draw.py", timeout=CEILING) as r:
        (tmp_path / "verify_draw.py").write_bytes(r.read())
    with urllib.request.urlopen(live_server.url + check.locator("#record").get_attribute("href"), timeout=CEILING) as r:
        body = r.read()
    out = subprocess.run([sys.executable, str(tmp_path / "verify_draw.py"), "-"], input=body, capture_output=True,
                         timeout=CEILING, check=False)
    assert out.returncode == 0 and out.stdout.startswith(b"OK"), out


@pytest.mark.parametrize("lang", LANGS)
def test_errors_are_in_the_pages_language_never_the_servers_text(
    browser: Any, live_server: LiveServer, lang: str
) -> None:
    show = live_show(live_server, language=lang)
    sid = show["id"]
    page = open_phone(browser, live_server, sid)
    join(page, "Mia")
    command(live_server, sid, {"type": "show.end"})
    page.locator("#status-note", has_text=WORDS[lang]["ended"]).wait_for(timeout=WAIT_MS)
    page.locator("#comment").fill("still here?")
    page.locator("#comment-form button").tap()
    toast = page.locator("#toast")
    toast.wait_for(timeout=WAIT_MS)
    assert toast.inner_text() == WORDS[lang]["not_live"]
    # registering on an ended show: the same words, not "WRONG_STATE: the show has ended"
    fresh = open_phone(browser, live_server, sid)
    fresh.locator("#nickname").fill("Late")
    fresh.locator("#join button").tap()
    fresh.locator("#toast").wait_for(timeout=WAIT_MS)
    assert fresh.locator("#toast").inner_text() == WORDS[lang]["not_live"]
