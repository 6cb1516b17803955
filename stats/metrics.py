"""The review's metrics (pure, numpy), from the same tally as the minute series.

As implemented (docs/stats.md):

- ``unique_viewers``: audience viewers with at least one counted visit
  (``stats.series``: present at some instant of ``[start, end]``);
  ``peak_concurrent``: the most present at any instant.
- A viewer's watch time is the sum of their clipped visits;
  ``avg_dwell_seconds`` / ``median_dwell_seconds`` are the mean and median
  over unique viewers (the mean of the middle two for an even count), in
  seconds with the journal's millisecond precision.
- ``likes``, ``comments``, ``shares``, ``clicks``: totals (each the sum of its
  minutes, plus clicks after ``end``).
- ``interaction_rate``: unique viewers who liked, commented, shared or
  claimed ÷ unique viewers.
- ``orders`` (won claims + shop orders, each ``order_id`` once), ``units``,
  ``gmv`` (gross of returns), ``buyers`` (distinct viewers with an order; an
  order without a viewer is a buyer of its own), ``conversion_rate`` (buyers
  ÷ unique viewers), ``gmv_per_buyer`` (客单价), ``avg_order_value``,
  ``returned_units`` and ``return_rate`` (returned ÷ ordered units). Orders
  count wherever their own time falls, also after ``end``.
- ``visits``: the counted visits (a viewer who comes back twice makes three),
  the "views" of 观看次数; ``gpm`` (千次观看成交额) = gmv ÷ visits × 1,000 and
  ``uv_value`` (UV 价值) = gmv ÷ unique viewers, money like gmv.
- Money is a decimal string with the currency's places; ratios are plain
  numbers; a ratio whose denominator is 0 is None.
- Staff viewers are not audience (``stats.tally``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from stats import money
from stats.series import Series, series
from stats.tally import NO_VIEWER, Event, Tally


def ratio(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else numerator / denominator


def metrics(events: Iterable[Event] | Tally, now: int | None = None, minutes: Series | None = None) -> dict[str, Any]:
    """The metrics of a show from its journal events or their ``Tally`` (``now``:
    the end of a live show; ``minutes``: its series at the same ``now``, when
    already computed).
    Raises NotStarted before ``show.started``."""
    tally = events if isinstance(events, Tally) else Tally().add(events)
    minutes = minutes if minutes is not None else series(tally, now)
    interacted_ix = tally.interacted()  # first: it may index viewers met only in likes
    v = minutes.visits
    watched = np.bincount(v.viewer, weights=(v.until - v.join).astype(np.float64), minlength=len(tally.viewers))
    seen = np.bincount(v.viewer, minlength=len(tally.viewers)) > 0
    dwell_ms = np.sort(watched[seen].astype(np.int64))  # whole ms: the float sums are exact below 2**53
    unique = int(seen.sum())
    visits = len(v.join)
    interacted = int(seen[interacted_ix].sum())

    order_viewer = tally.order_viewer.array()
    orders = len(order_viewer)
    units = int(tally.order_qty.array().sum())
    gmv = int(tally.order_cents.array().sum())
    known = order_viewer != NO_VIEWER
    buyers = int(np.count_nonzero(np.bincount(order_viewer[known], minlength=1)) + np.count_nonzero(~known))
    returned = sum(tally.returned.values())
    currency = tally.currency

    def median() -> float | None:
        if unique == 0:
            return None
        mid = unique // 2
        middle = dwell_ms[mid] if unique % 2 else (int(dwell_ms[mid - 1]) + int(dwell_ms[mid])) / 2
        return round(float(middle) / 1000, 3)

    return {
        "unique_viewers": unique,
        "peak_concurrent": int(minutes.peak.max()) if len(minutes) else 0,
        "avg_dwell_seconds": None if unique == 0 else round(int(dwell_ms.sum()) / unique / 1000, 3),
        "median_dwell_seconds": median(),
        "likes": int(tally.like_n.array().sum()),
        "comments": len(tally.comment_at),
        "shares": len(tally.share_at),
        "clicks": len(tally.click_at),
        "interaction_rate": ratio(interacted, unique),
        "orders": orders,
        "units": units,
        "gmv": money.text(gmv, currency),
        "buyers": buyers,
        "conversion_rate": ratio(buyers, unique),
        "gmv_per_buyer": None if buyers == 0 else money.text(gmv, currency, buyers),
        "avg_order_value": None if orders == 0 else money.text(gmv, currency, orders),
        "returned_units": returned,
        "return_rate": ratio(returned, units),
        "visits": visits,
        "gpm": None if visits == 0 else money.text(gmv * 1000, currency, visits),
        "uv_value": None if unique == 0 else money.text(gmv, currency, unique),
        "currency": currency,
    }
