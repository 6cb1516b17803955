"""A simulated 60-minute show played live against a running server (real
sockets for viewers, the signed webhook for orders, ``/go`` for clicks, platform
batches for some viewers, staff commands over HTTP), on an injected clock: its
review's minute series is the simulator's ground truth, minute by minute and
field by field, and the same recording imported gives the same series and the
same metrics.

The show is the simulator's default 60 minutes with fewer viewers than its
default 500 (VIEWERS), so it plays in well under a minute on a busy machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest

from scripts.simulate import GRACE_MS, ndjson, simulate
from server import create_app
from tests.conftest import ADMIN, FakeClock, LiveServer, admin_headers, make_settings
from tests.e2e.player import play
from tests.live.http.sockets import hub_of
from tests.waiting import CEILING, eventually

pytestmark = pytest.mark.e2e

SEED, MINUTES, VIEWERS = 2, 60, 80
ROOMY = {"hellos_per_minute": 100_000, "registrations_per_minute": 100_000, "clicks_per_minute": 100_000,
         "interactions_per_minute": 100_000}  # one address plays every viewer


@pytest.fixture
def server(sqlite_url: str, clock: FakeClock) -> Iterator[LiveServer]:
    """``clocked_server`` with rate limits for one address playing a whole audience."""
    live = LiveServer(create_app(make_settings(sqlite_url, **ROOMY), clock=clock)).start()
    yield live
    live.stop()


class InProcess:
    """What the player cannot see from outside: the server's view of sockets and ticks."""

    def __init__(self, server: LiveServer) -> None:
        self.hub = hub_of(server)

    def engine(self, show_id: str) -> Any:
        return self.hub.shows._engines[show_id]

    async def closed(self, show_id: str, viewer_id: str, still_open: int) -> None:
        presence = self.engine(show_id).presence

        async def seen() -> bool:
            sockets = presence.sockets.get(viewer_id, 0)
            return bool(sockets == still_open and (still_open or viewer_id in presence.leaving))

        await eventually(seen, f"the server to see {viewer_id}'s socket close")

    async def settled(self, show_id: str) -> None:
        engine = self.engine(show_id)

        async def idle() -> bool:
            return bool(engine.presence.idle)

        await eventually(idle, f"show {show_id} to journal its last likes and leaves")


async def test_a_simulated_show_played_live_matches_its_ground_truth_and_its_import(
        server: LiveServer, clock: FakeClock) -> None:
    lines, truth = simulate(SEED, MINUTES, VIEWERS, platform=0.4, anonymous_clicks=0.3)
    async with httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=CEILING) as http:
        sid, sent = await play(http, server.ws_url, clock, ADMIN, InProcess(server), lines, truth["channels"])
        live = (await http.get(f"/api/shows/{sid}/review", headers=admin_headers())).json()
        r = await http.post("/api/shows/import", content=ndjson(lines),
                            headers={**admin_headers(), "Content-Type": "application/x-ndjson"})
        assert r.status_code == 201, r.text
        imported = (await http.get(f"/api/shows/{r.json()['id']}/review", headers=admin_headers())).json()
    assert live["show"]["status"] == "ended"
    for got, want in zip(live["minutes"], truth["series"], strict=True):
        assert got == want, f"minute {want['minute']}"
    for got, want in zip(imported["minutes"], truth["series"], strict=True):
        assert got == want, f"minute {want['minute']} (imported)"
    assert live["metrics"] == imported["metrics"]
    # what the show went through
    seen = exercised(lines, truth)
    assert seen["second_tabs"] and seen["back_in_time"] and seen["second_visits"] and seen["order_retries"], seen
    assert seen["claims_lost"] and seen["peak_above_concurrent"] > 5 and truth["totals"]["leaves"] > 50, seen
    assert sent["batches"] > 50 and sent["duplicates"] > 100 and sent["refused_webhooks"] > 2, sent


def exercised(lines: list[dict[str, Any]], truth: dict[str, Any]) -> dict[str, int]:
    """How often the recording does what is hard to count right."""
    sockets: dict[str, int] = {}
    left: dict[str, int] = {}
    seen = {"second_tabs": 0, "back_in_time": 0, "second_visits": 0}
    for x in lines[1:]:
        vid, action = x.get("viewer"), x.get("action")
        if action == "join" and vid is not None:
            sockets[vid] = sockets.get(vid, 0) + 1
            if sockets[vid] > 1:
                seen["second_tabs"] += 1
            elif vid in left:
                seen["back_in_time" if x["at"] - left.pop(vid) < GRACE_MS else "second_visits"] += 1
        elif action == "leave" and vid is not None:
            sockets[vid] -= 1
            if not sockets[vid]:
                left[vid] = x["at"]
    orders = [x["order"]["order_id"] for x in lines if "order" in x]
    claims = sum(1 for x in lines if x.get("action") == "claim")
    won = truth["totals"]["orders"] - len(set(orders))
    return {**seen, "order_retries": len(orders) - len(set(orders)), "claims_lost": claims - won,
            "peak_above_concurrent": sum(row["peak"] > row["concurrent"] for row in truth["series"])}
