"""The simulator's recording imports, and the journal it gives holds exactly the
simulator's own ground truth, minute by minute (counted here from the journal
by DESIGN.md 6.1's definitions, without stats/)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from live.adapters.journal import Journal
from live.core.recording import parse_recording
from live.runtime.replay import replay
from scripts.simulate import SERIES, ndjson, simulate


def minutes_of(events: list[dict[str, Any]], minutes: int) -> list[dict[str, int]]:
    start = next(e["at"] for e in events if e["type"] == "show.started")
    end = next(e["at"] for e in events if e["type"] == "show.ended")
    out = {k: [0] * (minutes + 1) for k in SERIES}

    def count(name: str, at: int, n: int = 1) -> None:
        if at <= end:
            out[name][(max(at, start) - start) // 60_000] += n

    for e in events:
        kind = e["type"]
        if kind == "viewer.joined":
            count("joins", e["at"])
        elif kind == "viewer.left":
            count("leaves", e["left_at"])
        elif kind == "likes.tick":
            count("likes", e["at"], e["added"])
        elif kind == "comment.new":
            count("comments", e["at"])
        elif kind == "viewer.shared":
            count("shares", e["at"])
        elif kind == "link.clicked":
            count("clicks", e["at"])
        elif kind == "flash_sale.claimed":
            count("orders", e["at"])
            count("units", e["at"], e["qty"])
        elif kind == "order.placed":
            count("orders", e["placed_at"])
            count("units", e["placed_at"], e["qty"])
    return [{"minute": m, **{k: out[k][m] for k in SERIES}} for m in range(minutes + 1)]


def test_the_simulator_is_deterministic() -> None:
    assert simulate(5, 10, 50) == simulate(5, 10, 50)
    assert simulate(5, 10, 50) != simulate(6, 10, 50)


async def test_an_imported_simulated_show_matches_its_ground_truth(db: AsyncEngine) -> None:
    lines, truth = simulate(11, 20, 150)
    journal = Journal(db)
    await replay(journal, parse_recording(ndjson(lines)), "sim1", "ov_s", "wh_s", secret=b"k")
    events = await journal.load("sim1")
    assert events[-1]["type"] in ("order.returned", "viewer.left", "viewers.tick")
    assert minutes_of(events, 20) == truth["series"]
    assert truth["totals"]["joins"] > 50 and truth["totals"]["orders"] > 5 and truth["totals"]["leaves"] > 10
