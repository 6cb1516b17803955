"""Conversion peaks: the minutes where orders per viewer stood out (pure, numpy).

The same noise model as the drop-offs (``stats.poisson``): a minute's orders
are compared with the show's own rate of ordering per viewer-minute times the
minute's viewer-minutes (one rate for the minutes with a product's segment on
air, another for the rest: viewers order what is on air), the rate fitted on
the ordinary minutes (those that
stand out even leniently are left out and the rate fitted again), the
dispersion from them, and the minutes scanned alone and in runs of up to six
with a Bonferroni threshold. A peak is a minute inside a run that stands out,
with at least MIN_ORDERS orders and MIN_RATIO times what it expects. A show
whose viewers order at a steady rate has none, however many orders it takes.
Best (highest conversion) first.

``conversion`` is the minute's orders over its viewers (the visits present at
some instant of it); ``flash_sale`` and ``draw`` name the sale and the draw
open during the minute, if any.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from stats import poisson
from stats.airings import Airings, OnAir, Plan
from stats.dropoffs import Exposure
from stats.series import MINUTE_MS, Series

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
ALPHA = 0.001
LENIENT = 0.01
MIN_ORDERS = 3
MIN_RATIO = 2.0
ROUNDS = 5
EM_ROUNDS = 30


def _selling_share(minutes: Series, plan: Plan, airings: Airings) -> F64:
    """The share of each minute with a product's segment on air."""
    n = len(minutes)
    edges = np.append(minutes.at, minutes.end).astype(np.int64)
    edges[-1] = max(edges[-1], edges[-2] + 1)
    on = np.zeros(n + 1)
    for seg, b, u in zip(airings.segment.tolist(), airings.begin.tolist(), airings.until.tolist(), strict=True):
        if 0 <= seg < len(plan) and plan.skus[seg] is not None:
            on += np.clip(edges - b, 0, u - b)
    share: F64 = np.clip(np.diff(on) / np.diff(edges), 0, 1)
    return share


def _rates(orders: F64, parts: F64, use: npt.NDArray[np.bool_]) -> F64:
    """The two rates (orders per viewer-ms with a product on air, and without) that
    best explain the ``use`` minutes' orders: the Poisson maximum likelihood, by EM."""
    x, k = parts[use], orders[use]
    exposed = x.sum(axis=0)
    rates = np.full(2, k.sum() / max(exposed.sum(), 1e-9))
    for _ in range(EM_ROUNDS):
        mean = x * rates
        total = mean.sum(axis=1, keepdims=True)
        share = np.divide(mean, total, out=np.full_like(mean, 0.5), where=total > 0)
        new = np.divide((share * k[:, None]).sum(axis=0), exposed, out=np.zeros(2), where=exposed > 0)
        done = bool(np.allclose(new, rates, rtol=1e-6, atol=0))
        rates = new
        if done:
            break
    out: F64 = rates
    return out


def conversion_peaks(minutes: Series, plan: Plan, airings: Airings, on_air: OnAir, ex: Exposure,
                     order_times: I64, limit: int = 10) -> list[dict[str, Any]]:
    """The review's ``conversion_peaks``, best first (at most ``limit``); ``order_times``:
    the orders' times, sorted."""
    n = len(minutes)
    orders = minutes.orders.astype(np.float64)
    exposure = ex.viewer_ms
    tested = (exposure > 0) & (ex.audience > 0)
    if not tested.any() or orders[tested].sum() == 0:
        return []
    # viewers order what is on air: one rate while a product's segment is on air, one while none is
    selling = exposure * _selling_share(minutes, plan, airings)
    parts = np.stack([selling, exposure - selling], axis=1)
    use = tested.copy()
    phi = 1.0
    expected = np.zeros(n)
    for _ in range(ROUNDS):
        expected = parts @ _rates(orders, parts, use)
        t = poisson.test(orders, expected, phi, tested, ALPHA)
        new = tested & ~((t.log_p < math.log(LENIENT)) & (orders > 1.5 * expected))
        if not new.any():
            break
        new_phi = poisson.dispersion(orders, expected, new, unknown=1.0)
        if (new == use).all() and abs(new_phi - phi) < 0.01:
            break
        use, phi = new, new_phi
    runs, _ = poisson.scan(orders, expected, phi, tested, ALPHA, MIN_RATIO, MIN_ORDERS)
    peaks = np.flatnonzero(runs & tested & (orders >= MIN_ORDERS) & (orders >= MIN_RATIO * expected))
    if not len(peaks):
        return []
    conversion = orders[peaks] / ex.audience[peaks]
    peaks = peaks[np.lexsort((peaks, -orders[peaks], -conversion))][:limit]
    # when in the minute they ordered: the median order time names the segment on air
    at = order_times
    lo = np.searchsorted(at, minutes.at[peaks], side="left")
    hi = np.searchsorted(at, minutes.at[peaks] + MINUTE_MS, side="left")
    when = np.array([at[(a + b - 1) // 2] if b > a else m for a, b, m in zip(lo, hi, minutes.at[peaks],
                                                                              strict=True)], np.int64)
    seg = airings.on_air(when)
    out: list[dict[str, Any]] = []
    for i, m in enumerate(peaks.tolist()):
        a, b = int(minutes.at[m]), min(int(minutes.at[m]) + MINUTE_MS, minutes.end + 1)
        sale, draw = on_air.sale_during(a, b), on_air.draw_during(a, b)
        out.append({
            "minute": m,
            "at": a,
            "orders": int(orders[m]),
            "units": int(minutes.units[m]),
            "viewers": int(ex.audience[m]),
            "conversion": round(float(orders[m]) / int(ex.audience[m]), 4),
            "expected_orders": round(float(expected[m]), 1),
            "times_usual": None if expected[m] <= 0 else round(float(orders[m] / expected[m]), 1),
            "segment": plan.segment(int(seg[i])),
            "flash_sale": None if sale is None else sale.id,
            "flash_sale_sku": None if sale is None else sale.sku,
            "draw": None if draw is None else draw.id,
        })
    return out
