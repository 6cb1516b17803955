"""The review's comparisons (pure): each metric beside a benchmark, and beside
the same host's previous shows.

``benchmark(b, metrics)`` is the review's ``benchmark``: the benchmark's
header and, for each metric it gives, ``value`` (the show's), ``median``,
``top_quartile``, ``vs_median`` ((value − median) ÷ median) and ``level``
(``top_quartile``, ``above_median`` or ``below_median``, which way is better
taken into account: a lower return rate is better).

``previous(metrics, earlier, …)`` is the review's ``previous``: how many
earlier shows, which, and for each metric ``value``, ``median_previous``,
``best_previous`` and ``vs_median``. Money compares only within one
currency: a benchmark's money figures only with a show of its currency, a
previous show's only when it had the show's currency.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from stats import money
from stats.benchmarks import HIGHER, METRICS, Benchmark

RATIO_PLACES = 4


def _number(value: Any) -> float | None:
    """A metric's value as a number (money is a decimal string), or None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            return float(Decimal(value))
        except ArithmeticError:
            return None
    if isinstance(value, (int, float)):
        return float(value)
    return None


def _vs(value: float | None, reference: float | None) -> float | None:
    if value is None or reference is None or reference == 0:
        return None
    return round((value - reference) / reference, RATIO_PLACES)


def _better_or_equal(a: float, b: float, better: str) -> bool:
    return a >= b if better == HIGHER else a <= b


def level(value: float | None, median: float | None, top: float | None, better: str) -> str | None:
    """Where a value stands: ``top_quartile``, ``above_median`` (at or beyond the
    median), ``below_median``, or None when there is nothing to tell."""
    if value is None:
        return None
    if top is not None and _better_or_equal(value, top, better):
        return "top_quartile"
    if median is None:
        return None
    return "above_median" if _better_or_equal(value, median, better) else "below_median"


def _shown(number: float | Decimal | None, kind: str, currency: str) -> Any:
    """A reference figure as the review writes the metric: money as decimal text."""
    if number is None:
        return None
    if kind == "money":
        return money.text(money.hundredths(number if isinstance(number, Decimal) else repr(number)), currency)
    if kind == "count" and float(number).is_integer():
        return int(number)
    return number


def benchmark(b: Benchmark | None, metrics: dict[str, Any], requested: str | None = None) -> dict[str, Any] | None:
    """The review's ``benchmark`` (see the module's docstring); None without one."""
    if b is None:
        return None
    currency = str(metrics.get("currency") or "CNY")
    out: dict[str, Any] = {}
    for name, fig in b.metrics.items():
        kind, better = METRICS[name]
        if kind == "money" and b.currency != currency:
            continue  # a benchmark in yuan says nothing of a show in yen
        value = metrics.get(name)
        number = _number(value)
        entry: dict[str, Any] = {
            "value": value,
            "median": _shown(fig.median, kind, currency),
            "top_quartile": _shown(fig.top_quartile, kind, currency),
            "vs_median": _vs(number, fig.median),
            "level": level(number, fig.median, fig.top_quartile, better),
            "better": better,
        }
        if fig.note is not None:
            entry["note"] = fig.note
        if fig.source is not None:
            entry["source"] = fig.source
        out[name] = entry
    return {**b.header(), "requested": requested, "metrics": out}


def median(numbers: list[Any]) -> Any:
    """The median of floats or Decimals (the mean of the middle two for an even
    count); ``numbers`` not empty."""
    s = sorted(numbers)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def previous(metrics: dict[str, Any], earlier: list[dict[str, Any]], basis: str, hosts: list[str]) -> dict[str, Any]:
    """The review's ``previous``: the show's metrics beside those of ``earlier``
    shows (each ``{"id", "title", "started_at", "metrics"}``, newest first)."""
    currency = str(metrics.get("currency") or "CNY")
    out: dict[str, Any] = {}
    for name, (kind, better) in METRICS.items():
        if name not in metrics:
            continue  # a metric this review does not have (yet)
        pool = [m["metrics"] for m in earlier]
        if kind == "money":
            pool = [p for p in pool if (p.get("currency") or "CNY") == currency]
        found = [p.get(name) for p in pool]
        # money exactly (Decimal, from its text), the rest as floats
        numbers: list[Any] = ([Decimal(x) for x in found if isinstance(x, str)] if kind == "money"
                              else [n for n in map(_number, found) if n is not None])
        if not numbers:
            continue
        mid = median(numbers)
        best = max(numbers) if better == HIGHER else min(numbers)
        if kind in ("ratio", "seconds"):
            mid, best = round(mid, 6), round(best, 6)
        out[name] = {
            "value": metrics[name],
            "median_previous": _shown(mid, kind, currency),
            "best_previous": _shown(best, kind, currency),
            "vs_median": _vs(_number(metrics[name]), float(mid)),
            "shows": len(numbers),
        }
    return {
        "basis": basis,
        "hosts": hosts,
        "shows": len(earlier),
        "show_ids": [m["id"] for m in earlier],
        "list": [{"id": m["id"], "title": m.get("title"), "started_at": m.get("started_at")} for m in earlier],
        "metrics": out,
    }
