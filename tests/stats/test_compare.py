"""Each metric beside the benchmark and beside the previous shows, with the
arithmetic written out."""

from __future__ import annotations

from typing import Any

import pytest

from stats.benchmarks import parse
from stats.compare import benchmark, level, median, previous

BENCH = parse({
    "name": "beauty", "version": "3", "source": "our 罗盘", "date": "2026-10-01", "category": "beauty",
    "confidence": "medium", "currency": "CNY",
    "metrics": {"conversion_rate": {"median": 0.02, "top_quartile": 0.05, "note": {"en": "n", "zh-CN": "注"}},
                "return_rate": {"median": 0.2, "top_quartile": 0.1},
                "gpm": {"median": 400, "top_quartile": 1250.5},
                "avg_dwell_seconds": {"top_quartile": 60}},
})


def test_each_benchmark_metric_beside_the_shows() -> None:
    got = benchmark(BENCH, {"conversion_rate": 0.03, "return_rate": 0.25, "gpm": "500.00",
                            "avg_dwell_seconds": 42.5, "currency": "CNY"}, requested="beauty")
    assert got is not None
    assert (got["name"], got["version"], got["source"], got["date"], got["category"], got["confidence"],
            got["requested"]) == ("beauty", "3", "our 罗盘", "2026-10-01", "beauty", "medium", "beauty")
    m = got["metrics"]
    # (0.03 - 0.02) / 0.02 = +0.5, between the median and the top quartile
    assert m["conversion_rate"] | {"note": None} == {"value": 0.03, "median": 0.02, "top_quartile": 0.05,
                                                     "vs_median": 0.5, "level": "above_median", "better": "higher",
                                                     "note": None}
    assert m["conversion_rate"]["note"] == {"en": "n", "zh-CN": "注"}
    # lower is better: 0.25 is (0.25 - 0.2) / 0.2 = +25 % more returns than the median, below it
    assert (m["return_rate"]["vs_median"], m["return_rate"]["level"]) == (0.25, "below_median")
    # money as the review writes it; (500 - 400) / 400 = +0.25
    assert (m["gpm"]["value"], m["gpm"]["median"], m["gpm"]["top_quartile"], m["gpm"]["vs_median"]) == (
        "500.00", "400.00", "1250.50", 0.25)
    # only a top quartile known: 42.5 s is not there, and nothing more can be said
    assert (m["avg_dwell_seconds"]["median"], m["avg_dwell_seconds"]["vs_median"],
            m["avg_dwell_seconds"]["level"]) == (None, None, None)


@pytest.mark.parametrize(("value", "better", "expected"), [
    (0.06, "higher", "top_quartile"), (0.05, "higher", "top_quartile"), (0.02, "higher", "above_median"),
    (0.019, "higher", "below_median"), (0.05, "lower", "top_quartile"), (0.3, "lower", "below_median"),
    (None, "higher", None),
])
def test_the_level_knows_which_way_is_better(value: float | None, better: str, expected: str | None) -> None:
    median_, top = (0.02, 0.05) if better == "higher" else (0.2, 0.1)
    assert level(value, median_, top, better) == expected


def test_a_metric_the_show_cannot_compute_is_compared_with_nothing() -> None:
    got = benchmark(BENCH, {"conversion_rate": None, "return_rate": None, "currency": "CNY"})
    assert got is not None
    c = got["metrics"]["conversion_rate"]
    assert (c["value"], c["vs_median"], c["level"], c["median"]) == (None, None, None, 0.02)


def test_money_in_another_currency_is_not_compared() -> None:
    got = benchmark(BENCH, {"gpm": "50000", "conversion_rate": 0.03, "currency": "JPY"})
    assert got is not None
    assert "gpm" not in got["metrics"] and "conversion_rate" in got["metrics"]


def test_no_benchmark_is_none() -> None:
    assert benchmark(None, {"conversion_rate": 0.1}) is None


def shows(*metrics: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"id": f"s{i}", "title": f"show {i}", "started_at": 1000 - i, "metrics": m} for i, m in enumerate(metrics)]


def test_previous_shows_give_the_median_and_the_best() -> None:
    earlier = shows(
        {"unique_viewers": 100, "conversion_rate": 0.02, "return_rate": 0.3, "gmv": "1000.00", "currency": "CNY"},
        {"unique_viewers": 300, "conversion_rate": 0.04, "return_rate": 0.1, "gmv": "3000.01", "currency": "CNY"},
        {"unique_viewers": 250, "conversion_rate": None, "return_rate": 0.2, "gmv": "2000.00", "currency": "CNY"},
        {"unique_viewers": 50, "gmv": "99999", "currency": "JPY"},
    )
    now = {"unique_viewers": 220, "conversion_rate": 0.045, "return_rate": 0.15, "gmv": "2500.00", "currency": "CNY"}
    got = previous(now, earlier, "host", ["Ann"])
    assert (got["basis"], got["hosts"], got["shows"], got["show_ids"]) == ("host", ["Ann"], 4, ["s0", "s1", "s2", "s3"])
    assert got["list"][1] == {"id": "s1", "title": "show 1", "started_at": 999}
    m = got["metrics"]
    # viewers 50, 100, 250, 300: the median is (100 + 250) / 2 = 175; (220 - 175) / 175 = 0.2571
    assert m["unique_viewers"] == {"value": 220, "median_previous": 175, "best_previous": 300, "vs_median": 0.2571,
                                   "shows": 4}
    # conversion 0.02, 0.04 (the null left out): median 0.03; (0.045 - 0.03) / 0.03 = 0.5
    assert (m["conversion_rate"]["median_previous"], m["conversion_rate"]["vs_median"],
            m["conversion_rate"]["shows"]) == (0.03, 0.5, 2)
    # lower is better: the best return rate is the least
    assert (m["return_rate"]["median_previous"], m["return_rate"]["best_previous"]) == (0.2, 0.1)
    # money: the yen show left out; 1000.00, 2000.00, 3000.01 → median 2000.00 exactly
    assert (m["gmv"]["median_previous"], m["gmv"]["best_previous"], m["gmv"]["vs_median"], m["gmv"]["shows"]) == (
        "2000.00", "3000.01", 0.25, 3)
    assert "likes" not in m  # not in this show's metrics


def test_money_medians_of_an_even_count_round_half_up() -> None:
    got = previous({"gmv": "1.00", "currency": "CNY"},
                   shows({"gmv": "0.01", "currency": "CNY"}, {"gmv": "0.02", "currency": "CNY"}), "account", [])
    assert got["metrics"]["gmv"]["median_previous"] == "0.02"  # 0.015 → 0.02


def test_no_previous_show_compares_nothing() -> None:
    got = previous({"unique_viewers": 5}, [], "account", [])
    assert (got["shows"], got["metrics"], got["basis"]) == (0, {}, "account")


def test_median_of_odd_and_even_counts() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5
