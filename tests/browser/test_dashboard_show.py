"""The dashboard in a real browser during a simulated show played live (issue 7's
done-when): the e2e player (tests/e2e/player.py) plays a simulator's recording
against a running server on the test's clock, in a thread of its own, while the
control panel, opened once, follows it. During the show its numbers and its
curve move with the ticks, never reloading; once the show ends they are the
review's, point by point."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest

from scripts.simulate import simulate
from server import create_app
from tests.browser.test_control_panel import api, open_panel, staff_link
from tests.conftest import ADMIN, FakeClock, LiveServer, make_settings
from tests.e2e.player import Player
from tests.e2e.test_live_show import ROOMY, InProcess
from tests.waiting import CEILING, CEILING_MS, wait_until

pytestmark = pytest.mark.browser

SEED, MINUTES, VIEWERS = 5, 12, 40


@pytest.fixture
def server(sqlite_url: str, clock: FakeClock) -> Iterator[LiveServer]:
    live = LiveServer(create_app(make_settings(sqlite_url, **ROOMY), clock=clock)).start()
    yield live
    live.stop()


class GatedPlayer(Player):
    """The player, held once right after the show starts until the panel is open
    (so that it follows the show from its first minute)."""

    def __init__(self, *args: Any, opened: threading.Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.opened = opened
        self.started = threading.Event()

    async def advance(self, at: int) -> None:
        if self.live and not self.started.is_set():
            self.started.set()
            await asyncio.to_thread(self.opened.wait, CEILING)
        await super().advance(at)


class PlayerThread(threading.Thread):
    def __init__(self, server: LiveServer, clock: FakeClock, lines: list[dict[str, Any]],
                 channels: dict[str, list[str]]) -> None:
        super().__init__(daemon=True)
        self.server, self.clock, self.lines, self.channels = server, clock, lines, channels
        self.opened = threading.Event()
        self.player: GatedPlayer | None = None
        self.ready = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            asyncio.run(self.play())
        except BaseException as exc:  # noqa: BLE001 - reported to the test's thread
            self.error = exc
        finally:
            self.ready.set()

    async def play(self) -> None:
        async with httpx.AsyncClient(base_url=self.server.url, trust_env=False, timeout=CEILING) as http:
            self.player = GatedPlayer(http, self.server.ws_url, self.clock, ADMIN, InProcess(self.server),
                                      self.channels, opened=self.opened)
            self.ready.set()
            await self.player.play(self.lines)


def seen(page: Any) -> tuple[str, int, int, int]:
    """What the dashboard shows now: its as-of line, viewers, orders, minutes drawn."""
    state: list[Any] = page.evaluate(f"({SEEN})()")
    return state[0], state[1], state[2], state[3]


# The same read in the page: what the dashboard shows.
SEEN = """function () {
  var d = document.getElementById("dashboard");
  var n = function (k) { return parseInt(d.querySelector('[data-stat="' + k + '"]').textContent.replace(/,/g, ""), 10) || 0; };
  return [document.getElementById("dash-asof").textContent, n("viewers"), n("orders"),
          parseInt(document.getElementById("dash-curve").getAttribute("data-minutes") || "0", 10)];
}"""

# Records what the dashboard shows each time it changes (a MutationObserver: no polling).
RECORD = """() => {
  window.__seen = [];
  var read = """ + SEEN + """;
  new MutationObserver(function () { window.__seen.push(read()); })
    .observe(document.getElementById("dashboard"), {subtree: true, childList: true, characterData: true,
                                                    attributes: true});
}"""


def test_the_dashboard_follows_a_simulated_show_played_live(
        browser: Any, server: LiveServer, clock: FakeClock) -> None:
    lines, truth = simulate(SEED, MINUTES, VIEWERS, platform=0.3, anonymous_clicks=0.3)
    playing = PlayerThread(server, clock, lines, truth["channels"])
    playing.start()
    assert playing.ready.wait(CEILING) and playing.player is not None, playing.error
    player = playing.player
    assert playing.player.started.wait(CEILING), f"the show never started: {playing.error}"
    sid = player.sid

    page = open_panel(browser, staff_link(server, sid, "assistant", "Ann"), viewport={"width": 1280, "height": 900})
    page.goto(f"{server.url}/shows/{sid}/control?lang=en")
    page.wait_for_selector("#conn.connected", timeout=CEILING_MS)
    page.evaluate("window.__same_page = true")
    page.evaluate(RECORD)
    playing.opened.set()
    playing.join(10 * CEILING)
    assert not playing.is_alive(), "the show did not finish playing"
    assert playing.error is None, playing.error
    states = [tuple(s) for s in page.evaluate("window.__seen")]

    # During the show: the as-of line moved on with the ticks, the curve gained
    # points, the numbers changed, all in the one page.
    during = [s for s in states if s[0].startswith("As of")]
    assert len({s[0] for s in during}) >= 5, during[-5:]
    assert len({s[3] for s in during}) >= 3, "the curve gained no points during the show"
    assert len({s[1] for s in during}) >= 3, "the viewers figure never moved"
    orders = [s[2] for s in during]
    assert orders == sorted(orders), "orders so far went down"
    minutes = [s[3] for s in during]
    assert minutes == sorted(minutes)

    # After the end: the final numbers, the review's, one point a minute.
    final = api(server, "GET", f"/api/shows/{sid}/review")
    assert final["show"]["status"] == "ended"
    wait_until(lambda: page.locator("#dash-asof").inner_text() == "Final numbers", "the final numbers")
    want = (final["minutes"][-1]["concurrent"], final["metrics"]["orders"], len(final["minutes"]))
    wait_until(lambda: seen(page)[1:] == want,
               "the dashboard to show the review's numbers")
    dots = page.locator("svg#dash-curve .dots circle")
    assert dots.count() == len(final["minutes"])
    heights = [float(dots.nth(i).get_attribute("cy")) for i in range(dots.count())]
    viewers = [row["concurrent"] for row in final["minutes"]]
    for i in range(1, len(viewers)):  # higher on screen where more were watching
        assert (heights[i] < heights[i - 1]) == (viewers[i] > viewers[i - 1]), (i, viewers, heights)
    assert page.evaluate("window.__same_page") is True
    page.screenshot(path="/tmp/dash-simulated.png", full_page=True)
