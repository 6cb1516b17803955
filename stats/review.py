"""The review so far and the live counters, from one tally (pure).

``review`` is the body of ``GET /api/shows/{id}/review`` (``show``,
``as_of``, ``metrics``, ``minutes``, ``drop_offs``, ``drop_off_baseline``,
``conversion_peaks``, ``products``, ``segments``, ``recommendations``: the
shape docs/stats.md documents), ``minutes_csv`` its ``.csv``, and ``tick``
the ``stats.tick`` message. All read the same ``Series`` and metrics, so the
live numbers are the review's numbers at the same moment. No viewer id
appears in any of them.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from live.core.show import ShowState
from stats.advice import recommendations
from stats.airings import Airings, OnAir, Plan
from stats.dropoffs import drop_offs, exposure
from stats.metrics import metrics
from stats.peaks import conversion_peaks
from stats.series import FIELDS, Series, series
from stats.tables import Tables
from stats.tally import Tally

CSV_FIELDS = ("minute", "at", "time", *FIELDS[2:], "segment_title")
# A cell starting with one of these is a formula to Excel and LibreOffice.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def numbers(tally: Tally, now: int | None) -> tuple[Series, dict[str, Any]]:
    """The minute series and the metrics of a tally at ``now`` (the end of a
    live show). Raises NotStarted before the show started."""
    minutes = series(tally, now)
    return minutes, metrics(tally, now, minutes)


def show_view(state: ShowState) -> dict[str, Any]:
    return {
        "id": state.id,
        "title": state.title,
        "status": state.status,
        "started_at": state.started_at,
        "ended_at": state.ended_at,
        "currency": state.currency,
        "timezone": state.timezone,
        "language": state.language,
    }


def review(state: ShowState, minutes: Series, figures: dict[str, Any]) -> dict[str, Any]:
    """The review so far: ``show``, ``as_of`` (the end the numbers run to: the
    show's end, or now while it is live), ``metrics``, ``minutes``, and the
    analytics of DESIGN.md 6.3 (docs/stats.md: each field and how it is found)."""
    plan = Plan.of(state)
    airings = Airings.of(minutes.tally, minutes.start, minutes.end)
    on_air = OnAir.of(minutes.tally, minutes.end)
    ex = exposure(minutes)
    drops, baseline = drop_offs(minutes, plan, airings, on_air, ex)
    tables = Tables(minutes, plan, airings)
    peaks = conversion_peaks(minutes, plan, airings, on_air, ex, tables.orders.times)
    segments, products = tables.segments(), tables.products()
    return {
        "show": show_view(state),
        "as_of": minutes.end,
        "metrics": figures,
        "minutes": minutes.rows(),
        "drop_offs": drops,
        "drop_off_baseline": baseline,
        "conversion_peaks": peaks,
        "products": products,
        "segments": segments,
        "recommendations": recommendations(plan, state.status, figures, drops, baseline, peaks, segments, products),
    }


def tick(minutes: Series, figures: dict[str, Any]) -> dict[str, Any]:
    """The ``stats.tick`` message at the series' end: ``viewers`` present now
    (the last minute's ``concurrent``); ``likes_per_min`` and
    ``comments_per_min`` of ``minute``, the last complete minute (minute 0 so
    far while it runs); ``orders``, ``units``, ``gmv`` and ``conversion_rate``
    as in the metrics; ``rows``: the review's ``minutes`` rows from ``minute``
    on (the last complete minute, then the one running), so a chart kept from
    the review stays current."""
    last = len(minutes) - 1
    ref = max(0, last - 1)
    return {
        "type": "stats.tick",
        "at": minutes.end,
        "minute": ref,
        "viewers": int(minutes.concurrent[last]),
        "likes_per_min": int(minutes.likes[ref]),
        "comments_per_min": int(minutes.comments[ref]),
        "orders": figures["orders"],
        "units": figures["units"],
        "gmv": figures["gmv"],
        "conversion_rate": figures["conversion_rate"],
        "rows": minutes.rows(ref),
    }


def _zone(name: str) -> Any:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _cell(value: Any) -> Any:
    """Text a spreadsheet shows as text, never runs as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def minutes_csv(state: ShowState, minutes: list[dict[str, Any]]) -> str:
    """The minute series as CSV: one header row (the JSON field names, plus
    ``time``, the minute's start in the show's timezone, and
    ``segment_title``), CRLF line ends, a BOM first so that Excel reads the
    Chinese titles as UTF-8."""
    zone = _zone(state.timezone)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    for row in minutes:
        seg = row["segment"]
        title = state.segments[seg].title if seg is not None and seg < len(state.segments) else ""
        local = datetime.fromtimestamp(row["at"] / 1000, zone).strftime("%Y-%m-%d %H:%M")
        values = {**row, "time": local, "segment": "" if seg is None else seg, "segment_title": _cell(title)}
        writer.writerow([values[f] for f in CSV_FIELDS])
    return out.getvalue()
