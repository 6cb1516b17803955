"""The simulator's recording imports, and the journal it gives holds exactly the
simulator's own ground truth, minute by minute and field by field: counted here
from the journal by DESIGN.md 6.1's definitions (without stats/), and by the
product's own minute series (stats/)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from live.adapters.journal import Journal
from live.core.recording import parse_recording
from live.runtime.replay import replay
from scripts.simulate import FIELDS, GRACE_MS, SERIES, Viewer, ndjson, presence_by_minute, simulate, visits_of
from stats.series import minute_series

MINUTE = 60_000


def minutes_of(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The minute series of a journal, every field, by the definitions and by brute force."""
    start = next(e["at"] for e in events if e["type"] == "show.started")
    end = next(e["at"] for e in events if e["type"] == "show.ended")
    n = (end - start) // MINUTE + 1
    out: dict[str, list[Any]] = {k: [0] * n for k in SERIES}
    gmv = [Decimal(0)] * n

    def minute(at: int) -> int | None:
        return (max(at, start) - start) // MINUTE if at <= end else None

    def count(name: str, at: int, k: int = 1) -> None:
        if (m := minute(at)) is not None:
            out[name][m] += k

    joined: dict[str, int] = {}
    visits: list[tuple[int, int, bool]] = []  # (from, to, left), clipped to the show
    segments: list[tuple[int, int]] = []
    for e in events:
        kind = e["type"]
        if kind == "viewer.joined" and e["viewer_id"] not in joined:
            joined[e["viewer_id"]] = e.get("joined_at", e["at"])
        elif kind == "viewer.left" and e["viewer_id"] in joined:
            a, b = max(joined.pop(e["viewer_id"]), start), e["left_at"]
            if b > end:
                visits.append((a, end, False))
            elif a < b:
                visits.append((a, b, True))
        elif kind == "likes.tick":
            count("likes", e.get("liked_at", e["at"]), e["added"])
        elif kind == "comment.new":
            count("comments", e.get("commented_at", e["at"]))
        elif kind == "viewer.shared":
            count("shares", e.get("shared_at", e["at"]))
        elif kind == "link.clicked":
            count("clicks", e["at"])
        elif kind in ("flash_sale.claimed", "order.placed"):
            at = e["at"] if kind == "flash_sale.claimed" else e["placed_at"]
            amount = Decimal(e["price"]) * e["qty"] if kind == "flash_sale.claimed" else Decimal(e["amount"])
            count("orders", at)
            count("units", at, e["qty"])
            if (m := minute(at)) is not None:
                gmv[m] += amount
        elif kind == "segment.changed":
            segments.append((e["at"], e["to"]))
    visits += [(max(a, start), end, False) for a in joined.values() if a <= end]
    for a, b, left in visits:
        count("joins", a)
        if left:
            count("leaves", b)

    def present(t: int) -> int:
        return sum(1 for a, b, left in visits if a <= t and (t < b if left else t <= b))

    rows = []
    for m in range(n):
        first = start + m * MINUTE
        last = end if m == n - 1 else first + MINUTE - 1
        instant = min(first + MINUTE, end)
        # presence only rises at a join: the minute's peak is at its first instant or at a join in it
        peak = max(present(t) for t in [first] + [a for a, _, _ in visits if first <= a <= last])
        on_air = [to for at, to in segments if at <= instant]
        rows.append({"minute": m, "at": first, "concurrent": present(instant), "peak": peak,
                     **{k: out[k][m] for k in SERIES}, "gmv": f"{gmv[m]:.2f}",
                     "segment": on_air[-1] if on_air else None})
    return rows


def test_the_simulator_is_deterministic() -> None:
    assert simulate(5, 10, 50) == simulate(5, 10, 50)
    assert simulate(5, 10, 50) != simulate(6, 10, 50)
    assert simulate(5, 10, 50, platform=0.5) != simulate(5, 10, 50, platform=0.0)


def test_a_socket_back_within_the_grace_period_or_a_second_tab_is_one_visit_and_a_platform_viewer_two() -> None:
    start, end = 0, 10 * MINUTE
    spans: list[tuple[int, int | None]] = [(1_000, 60_000), (60_000 + GRACE_MS - 1, 120_000),
                                           (120_000 + GRACE_MS, None)]
    assert visits_of(Viewer("a", False, False, spans), start, end) == [(1_000, 120_000, True), (135_000, end, False)]
    assert len(visits_of(Viewer("a", True, True, spans), start, end)) == 3
    tabs: list[tuple[int, int | None]] = [(1_000, 60_000), (30_000, 90_000), (40_000, 50_000)]
    assert visits_of(Viewer("a", False, False, tabs), start, end) == [(1_000, 90_000, True)]  # a second tab


def test_concurrent_counts_a_join_at_the_minutes_end_and_peak_the_most_at_any_instant() -> None:
    start, end = 0, 2 * MINUTE + 30_000
    visits = [(0, MINUTE, True),  # leaves at the end of minute 0: not in its concurrent
              (MINUTE, end, False), (MINUTE, 90_000, True),  # join then: in minute 0's concurrent, not its peak
              (10_000, 20_000, True), (15_000, 16_000, True),  # three at once in minute 0
              (2 * MINUTE + 5_000, end, True)]  # leaves exactly at the end: a leave
    concurrent, peak = presence_by_minute(visits, start, end)
    assert concurrent == [2, 1, 1]
    assert peak == [3, 2, 2]


def test_the_truth_has_every_field_of_a_reviewed_minute() -> None:
    _, truth = simulate(3, 12, 80)
    assert [tuple(row) for row in truth["series"]] == [FIELDS] * 13
    assert truth["series"][-1]["at"] == truth["end"]
    on_air = [row["segment"] for row in truth["series"]]
    assert on_air == sorted(on_air) and on_air[0] == 0 and on_air[-1] == 6  # the rundown, in order
    socket = set(truth["channels"]["anonymous_clicks"])
    assert truth["channels"]["platform"] and socket and not socket & set(truth["channels"]["platform"])


async def test_an_imported_simulated_show_matches_its_ground_truth(db: AsyncEngine) -> None:
    lines, truth = simulate(11, 20, 150)
    journal = Journal(db)
    await replay(journal, parse_recording(ndjson(lines)), "sim1", "ov_s", "wh_s", secret=b"k")
    events = await journal.load("sim1")
    assert events[-1]["type"] in ("order.returned", "viewer.left", "viewers.tick")
    assert minutes_of(events) == truth["series"]
    assert minute_series(events).rows() == truth["series"]
    totals = truth["totals"]
    assert totals["joins"] > 50 and totals["orders"] > 5 and totals["leaves"] > 10
    assert max(row["peak"] - row["concurrent"] for row in truth["series"]) > 0
    sent = [x["order"]["order_id"] for x in lines if "order" in x]
    assert len(sent) > len(set(sent)) == sum(1 for e in events if e["type"] == "order.placed")  # retries: once
