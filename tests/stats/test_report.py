"""The review page from a review body (pure): self-contained, both languages,
every part of the review shown when it is there and an empty note when not,
text always text."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import pytest

from stats import report
from stats.i18n_page import EN, ZH
from tests.stats.reviews import TITLES, analysed, base, minutes

ROWS = minutes([10, 30, 50, 48, 20, 22, 21], orders=[0, 0, 1, 4, 0, 1, 0], segments=[0, 0, 1, 1, 1, 2, 3])


def full(**over: Any) -> dict[str, Any]:
    body = analysed(base(ROWS, **over))
    body["benchmark"] = {"name": "default", "version": "1", "source": "a blog", "date": "2026-12-01",
                         "category": "general", "confidence": "low", "currency": None, "notes": {"en": "rules of thumb",
                                                                                                 "zh-CN": "经验值"},
                         "requested": "default",
                         "metrics": {"conversion_rate": {"value": 0.0417, "median": 0.03, "top_quartile": 0.05,
                                                         "vs_median": 0.39, "level": "above_median", "better": "higher",
                                                         "source": "planning guides", "note": {"en": "3–5 %"}}}}
    body["previous"] = {"basis": "host", "hosts": ["Ann"], "shows": 2, "show_ids": ["a", "b"], "list": [],
                        "metrics": {"return_rate": {"value": 0.1429, "median_previous": 0.1, "best_previous": 0.05,
                                                    "vs_median": 0.429, "shows": 2}}}
    return body


def test_the_page_loads_nothing_from_anywhere() -> None:
    html = report.page(full(), "en")
    assert "<script" not in html.lower()
    assert not re.search(r"<link[^>]+stylesheet", html, re.IGNORECASE)
    assert "url(" not in html and "@import" not in html and "<img" not in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    # its one style sheet is the one the CSP allows by hash
    (css,) = re.findall(r"<style>(.*?)</style>", html, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in report.csp()
    assert "default-src 'none'" in report.csp() and "script-src" not in report.csp()
    assert "@page { size: A4" in css and "break-inside: avoid" in css
    assert '"Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif' in css
    assert " style=" not in html  # no inline style the CSP would refuse


def test_every_part_of_the_review_is_on_the_page_in_english() -> None:
    html = report.page(full(), "en", titles=TITLES)
    for heading in ("Key numbers", "Minute by minute", "Where viewers left", "Where orders peaked", "Products",
                    "Segments", "What to change next time", "About these numbers"):
        assert f">{heading}</h2>" in html
    assert html.count('class="chart"') == 4
    assert all(f'data-chart="{c}"' in html for c in ("viewers", "interactions", "orders", "retention"))
    # the metric beside the benchmark (median 3.0 %, +39 %) and previous shows (10.0 %, +43 % returns: bad)
    row = re.search(r'<tr data-metric="conversion_rate">(.*?)</tr>', html, re.DOTALL)
    assert row and "4.2 %" in row[1] and "3.0 %" in row[1] and "5.0 %" in row[1] and "+39 %" in row[1]
    assert "above median" in row[1]
    ret = re.search(r'<tr data-metric="return_rate">(.*?)</tr>', html, re.DOTALL)
    assert ret and '10.0 %' in ret[1] and '<td class="bad">+43 %</td>' in ret[1]
    assert '<tr data-metric="gpm">' in html and "¥11.61" in html
    # the drop-off at minute 4 (50 → 20 viewers... lost 28 at 48 → 20), in Serum's segment, with its note
    drops = re.search(r'data-testid="drop-offs">(.*?)</table>', html, re.DOTALL)
    assert drops and ">28<" in drops[1] and "#2 Serum &lt;b&gt;精华&lt;/b&gt;" in drops[1]
    assert "58.3 %" in drops[1] and "2 min 00 s" in drops[1] and "price reveal &lt;i&gt;¥199&lt;/i&gt;" in drops[1]
    assert "06:17" in drops[1]  # its time in the show's timezone (Asia/Shanghai)
    assert "fs7" in html and "Serum 30ml" in html and "¥1,194.00" in html
    assert "Serum lost 18 % of viewers in its first 4 minutes" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; stays text." in html
    assert "Previous shows: the 2 earlier ended shows in this database hosted by Ann." in html
    assert "confidence low" in html and "rules of thumb" in html and "planning guides" in html


def test_the_chinese_page_says_it_in_chinese() -> None:
    html = report.page(full(language="zh-CN"), "zh-CN", titles=TITLES)
    assert '<html lang="zh-CN">' in html
    for heading in ("核心数据", "分钟走势", "观众流失点", "转化高峰", "商品", "环节", "下次可以改进的地方"):
        assert f">{heading}</h2>" in html
    assert "成交转化率" in html and "经验值" in html and "可信度：低" in html
    assert "2 分 00 秒" in html
    assert "往期：本数据库中主播 Ann 此前已结束的 2 场直播。" in html
    assert "Key numbers" not in html


def test_a_live_show_says_it_is_the_review_so_far() -> None:
    live = base(ROWS, status="live")
    html = report.page(live, "en")
    assert 'data-testid="so-far"' in html and "The review so far: the show is still live." in html
    assert "LIVE" in html
    assert 'data-testid="so-far"' not in report.page(base(ROWS), "en")


def test_a_review_without_the_analysis_shows_empty_parts_not_an_error() -> None:
    html = report.page(base(ROWS), "en")
    assert 'data-testid="drop-offs-empty">No drop-off beyond the show&#39;s usual churn.' in html
    assert "No conversion peak." in html and "No recommendation from these numbers." in html
    assert html.count("Nothing yet.") == 2  # products, segments
    assert "No benchmark is set up for this show." in html and "There is no earlier ended show" in html
    assert 'data-chart="retention"' in html and "No data yet" in html  # no segments: an empty retention chart
    assert html.count("<polyline") == 3  # viewers, likes, comments


def test_a_show_with_no_minutes_and_no_metrics_renders() -> None:
    body = base([])
    body["metrics"] = {"unique_viewers": 0, "avg_dwell_seconds": None, "conversion_rate": None, "currency": "CNY"}
    html = report.page(body, "zh-CN")
    assert html.count("暂无数据") == 4 and "<polyline" not in html


@pytest.mark.parametrize(("seconds", "en", "zh"), [
    (5, "5 s", "5 秒"), (42.25, "42 s", "42 秒"), (75.5, "1 min 16 s", "1 分 16 秒"), (3725, "1 h 02 min", "1 小时 02 分"),
    (-120, "−2 min 00 s", "−2 分 00 秒"), (None, "—", "—"),
])
def test_durations_read_in_each_language(seconds: float | None, en: str, zh: str) -> None:
    assert report.duration(seconds, EN) == en and report.duration(seconds, ZH) == zh


def test_values_are_shown_by_kind() -> None:
    assert report.fmt(0.0417, "ratio", EN, "CNY") == "4.2 %"
    assert report.fmt("1393.00", "money", EN, "CNY") == "¥1,393.00"
    assert report.fmt("1393", "money", EN, "JPY") == "1,393 JPY"
    assert report.fmt(12345, "count", EN, "CNY") == "12,345"
    assert report.fmt(None, "count", EN, "CNY") == "—"


def test_every_page_string_exists_in_english_and_chinese() -> None:
    assert set(EN) ^ set(ZH) == set()
    assert [k for k in EN if not EN[k].strip() or not ZH[k].strip()] == []
    for k in EN:  # the same placeholders in both
        assert set(re.findall(r"{\w+}", EN[k])) == set(re.findall(r"{\w+}", ZH[k])), k
