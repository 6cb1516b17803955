"""The review page from a review body (pure): self-contained, both languages,
every part of the review shown when it is there and an empty note when not,
text always text; tables of labelled columns written for people (no raw key,
no epoch number), the review's sentences in the page's language, drop-offs
and peaks marked on their charts, retention on a scale no segment can flatten."""

from __future__ import annotations

import base64
import hashlib
import html as htmllib
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from stats import report
from stats.charts import BOTTOM, HEIGHT, TOP
from stats.i18n_page import EN, ZH, strings
from stats.review import in_language
from tests.stats.reviews import base, minutes, planted

ROWS = minutes([10, 30, 50, 48, 20, 22, 21], orders=[0, 0, 1, 4, 0, 1, 0], segments=[0, 0, 1, 1, 1, 2, 3])
CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
TABLES = ("drop-offs", "peaks", "products", "segments")


def compared(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with a benchmark and previous shows, as ``stats.previous.compared`` adds them."""
    return {**body, "benchmark": {
        "name": "default", "version": "1", "source": "a blog", "date": "2026-12-01", "category": "general",
        "confidence": "low", "currency": None, "notes": {"en": "rules of thumb", "zh-CN": "经验值"},
        "requested": "default",
        "metrics": {"conversion_rate": {"value": body["metrics"]["conversion_rate"], "median": 0.03,
                                        "top_quartile": 0.05, "vs_median": 1.97, "level": "top_quartile",
                                        "better": "higher", "source": "planning guides", "note": {"en": "3–5 %"}}}},
        "previous": {"basis": "host", "hosts": ["Ann"], "shows": 2, "show_ids": ["a", "b"], "list": [],
                     "metrics": {"return_rate": {"value": 0.0374, "median_previous": 0.02, "best_previous": 0.01,
                                                 "vs_median": 0.87, "shows": 2}}}}


@pytest.fixture(scope="module")
def zh_show() -> dict[str, Any]:
    return compared(planted("zh-CN"))


@pytest.fixture(scope="module")
def en_show() -> dict[str, Any]:
    return compared(planted("en"))


def text(fragment: str) -> str:
    """What a reader sees of an HTML fragment."""
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", fragment)).strip()


def visible(page: str) -> str:
    return text(re.sub(r"<(style|title)>.*?</\1>", "", page, flags=re.DOTALL))


def table_of(page: str, name: str) -> tuple[list[str], list[list[str]]]:
    """A table's header labels (footnote marks left out) and its cells' first lines."""
    found = re.search(rf'<table data-testid="{name}"[^>]*>(.*?)</table>', page, re.DOTALL)
    assert found, name
    heads = [text(re.sub(r"<sup>.*?</sup>", "", h)) for h in re.findall(r"<th[^>]*>(.*?)</th>", found[1])]
    rows = [[text(re.sub(r'<span class="sub">.*?</span>', "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", found[1].split("</thead>")[1], re.DOTALL)]
    return heads, rows


def column(page: str, name: str, label: str) -> list[str]:
    heads, rows = table_of(page, name)
    return [r[heads.index(label)] for r in rows]


def svg_of(page: str, chart: str) -> str:
    found = re.search(rf'<svg [^>]*data-chart="{chart}".*?</svg>', page, re.DOTALL)
    assert found, chart
    return found[0]


def test_the_page_loads_nothing_from_anywhere(zh_show: dict[str, Any]) -> None:
    html = report.page(zh_show, "en")
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


def test_every_part_of_the_review_is_on_the_page_in_english(zh_show: dict[str, Any]) -> None:
    html = report.page(zh_show, "en")
    for heading in ("Key numbers", "Minute by minute", "Where viewers left", "Where orders peaked", "Products",
                    "Segments", "What to change next time", "About these numbers"):
        assert f">{heading}</h2>" in html
    assert html.count('class="chart"') == 4
    assert all(f'data-chart="{c}"' in html for c in ("viewers", "interactions", "orders", "retention"))
    # the metric beside the benchmark (median 3.0 %, +197 %) and previous shows (2.0 %, +87 % returns: bad)
    row = re.search(r'<tr data-metric="conversion_rate">(.*?)</tr>', html, re.DOTALL)
    assert row and "8.7 %" in row[1] and "3.0 %" in row[1] and "5.0 %" in row[1] and "+197 %" in row[1]
    assert "top quartile" in row[1]
    ret = re.search(r'<tr data-metric="return_rate">(.*?)</tr>', html, re.DOTALL)
    assert ret and "2.0 %" in ret[1] and '<td class="bad">+87 %</td>' in ret[1]
    assert '<tr data-metric="gpm">' in html and "¥23,785.56" in html  # gpm "23785.56"
    assert len(table_of(html, "drop-offs")[1]) == len(zh_show["drop_offs"]) == 4
    assert len(table_of(html, "peaks")[1]) == len(zh_show["conversion_peaks"]) >= 2
    assert len(table_of(html, "segments")[1]) == len(zh_show["segments"])
    assert len(table_of(html, "products")[1]) == len(zh_show["products"])
    assert "Serum &lt;b&gt;30ml&lt;/b&gt;" in html and "<b>30ml" not in html  # a title is text
    assert "Previous shows: the 2 earlier ended shows in this database hosted by Ann." in html
    assert "confidence low" in html and "rules of thumb" in html and "planning guides" in html


def test_the_chinese_page_says_it_in_chinese(en_show: dict[str, Any]) -> None:
    html = report.page(en_show, "zh-CN")
    assert '<html lang="zh-CN">' in html
    for heading in ("核心数据", "分钟走势", "观众流失点", "转化高峰", "商品", "环节", "下次可以改进的地方"):
        assert f">{heading}</h2>" in html
    assert "成交转化率" in html and "经验值" in html and "可信度：低" in html
    assert "6 分 45 秒" in html  # the average watch time
    assert "往期：本数据库中主播 Ann 此前已结束的 2 场直播。" in html
    assert "Key numbers" not in html and "Where viewers left" not in html


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_no_moment_is_shown_as_an_epoch_number(zh_show: dict[str, Any], lang: str) -> None:
    seen = visible(report.page(zh_show, lang))
    assert not re.search(r"\b1\d{12}\b", seen)
    assert not re.search(r"\d{1,3}(,\d{3}){3,}", seen)  # nothing of a billion or more, epoch ms included
    started = datetime.fromtimestamp(zh_show["show"]["started_at"] / 1000, ZoneInfo("Asia/Shanghai"))
    assert started.strftime("%Y-%m-%d %H:%M") in seen  # the show's own clock


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_every_table_header_is_a_label_in_the_pages_language(zh_show: dict[str, Any], lang: str) -> None:
    html = report.page(zh_show, lang)
    t = strings(lang)
    labels = {v for k, v in t.items() if k.startswith("col_")}
    fields = {k for part in ("drop_offs", "conversion_peaks", "products", "segments") for row in zh_show[part]
              for k in row}
    for name in TABLES:
        heads, _ = table_of(html, name)
        assert heads and set(heads) <= labels, (name, set(heads) - labels)
        assert not {h for h in heads if "_" in h or h.replace(" ", "_") in fields}, name
        if lang == "zh-CN":
            assert all(CJK.search(h) or h in ("#", "GMV") for h in heads), heads
    assert len(table_of(html, "segments")[0]) == 13 and len(table_of(html, "products")[0]) == 12


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_every_marked_column_is_explained_under_its_table(zh_show: dict[str, Any], lang: str) -> None:
    html = report.page(zh_show, lang)
    for name in TABLES:
        found = re.search(rf'<table data-testid="{name}".*?</thead>', html, re.DOTALL)
        assert found
        marks = re.findall(r"<sup>(\d+)</sup>", found[0])
        notes = re.search(rf'<ol class="table-notes" data-testid="{name}-notes">(.*?)</ol>', html, re.DOTALL)
        assert marks and notes, name
        items = re.findall(r'<li value="(\d+)">(.*?)</li>', notes[1])
        assert [m for m, _ in items] == marks == [str(i + 1) for i in range(len(marks))]
        assert all(bool(CJK.search(n)) == (lang == "zh-CN") for _, n in items), items


def test_table_values_are_written_for_people(zh_show: dict[str, Any]) -> None:
    html = report.page(zh_show, "en")
    mss, none = r"\d+:\d\d", "—"
    for label in ("Starts", "Planned", "Aired"):
        assert all(re.fullmatch(mss, c) for c in column(html, "segments", label)), label
    assert column(html, "segments", "Starts")[0] == "0:00"
    over = column(html, "segments", "Over plan")
    assert all(re.fullmatch(rf"\+{mss}|{none}", c) for c in over)
    worst = max(range(len(over)), key=lambda i: zh_show["segments"][i]["overrun_seconds"])
    assert over[worst] == "+5:00" and zh_show["segments"][worst]["overrun_seconds"] == 300
    assert re.search(r'<td class="bad">\+5:00</td>', html)
    assert all(re.fullmatch(r"[+−±]\d+\.\d %", c) for c in column(html, "segments", "Net change"))
    assert all(re.fullmatch(r"\d+\.\d %", c) for c in column(html, "segments", "Still watching"))
    assert all(re.fullmatch(r"¥[\d,]+\.\d\d", c) for c in column(html, "segments", "GMV"))
    assert all(re.fullmatch(r"\d+\.\d %|—", c) for c in column(html, "products", "Conversion"))
    assert column(html, "products", "Product")[0] == "Serum <b>30ml</b>"  # its sku on a second line
    tz = ZoneInfo("Asia/Shanghai")
    assert column(html, "drop-offs", "Time") == [datetime.fromtimestamp(d["at"] / 1000, tz).strftime("%H:%M")
                                                 for d in zh_show["drop_offs"]]
    assert column(html, "drop-offs", "Minute") == [str(d["minute"]) for d in zh_show["drop_offs"]]
    assert all(re.fullmatch(r"\d+(\.\d)?×", c) for c in column(html, "drop-offs", "× usual"))
    sale = zh_show["conversion_peaks"][0]
    assert sale["flash_sale"] is not None
    title = next(p["title"] for p in zh_show["products"] if p["sku"] == sale["flash_sale_sku"])
    assert column(html, "peaks", "Running then")[0] == f"flash sale of {title}"


def test_the_english_page_of_a_chinese_show_says_its_sentences_in_english(
        zh_show: dict[str, Any], en_show: dict[str, Any]) -> None:
    html = report.page(zh_show, "en")
    said = [text(li) for li in re.findall(r"<li>(.*?)</li>", html.split('data-testid="recommendations"')[1]
                                          .split("</ol>")[0])]
    # the show's titles are Latin: any Chinese would be the page's
    assert said and not [s for s in said if CJK.search(s)]
    assert said == en_show["recommendations"]  # what the same show recorded in English says
    assert column(html, "drop-offs", "What had just happened") == [d["note"] for d in en_show["drop_offs"]]
    assert all(CJK.search(r) for r in zh_show["recommendations"])  # the API keeps the show's language
    back = report.page(en_show, "zh-CN")
    assert column(back, "drop-offs", "当时发生了什么") == [d["note"] for d in zh_show["drop_offs"]]


def test_in_language_changes_the_sentences_only(zh_show: dict[str, Any], en_show: dict[str, Any]) -> None:
    assert in_language(zh_show, "zh-CN") == zh_show
    english = in_language(zh_show, "en")
    assert english["recommendations"] == en_show["recommendations"]
    assert [d["note"] for d in english["drop_offs"]] == [d["note"] for d in en_show["drop_offs"]]
    for key in ("metrics", "minutes", "segments", "products", "conversion_peaks", "show"):
        assert english[key] == zh_show[key], key


def runs(minutes_flagged: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for m in sorted(minutes_flagged):
        out = out[:-1] + [(out[-1][0], m)] if out and m == out[-1][1] + 1 else out + [(m, m)]
    return out


def test_drop_offs_and_peaks_are_marked_on_their_charts(zh_show: dict[str, Any]) -> None:
    html = report.page(zh_show, "en")
    drops = [(int(a), int(b)) for a, b in re.findall(r'class="mark" data-slot="(\d+)" data-last="(\d+)"',
                                                     svg_of(html, "viewers"))]
    assert drops == runs([d["minute"] for d in zh_show["drop_offs"]]) and len(drops) == 2  # 13, and 39–41
    lost = sum(d["viewers_lost"] for d in zh_show["drop_offs"] if d["minute"] >= 39)
    assert f"<title>−{lost} viewers</title>" in svg_of(html, "viewers")
    peaks = [(int(a), int(b)) for a, b in re.findall(r'class="mark" data-slot="(\d+)" data-last="(\d+)"',
                                                     svg_of(html, "orders"))]
    assert peaks == runs([p["minute"] for p in zh_show["conversion_peaks"]])


def test_retention_is_a_curve_per_segment_that_no_growing_segment_can_flatten(zh_show: dict[str, Any]) -> None:
    segs = [s for s in zh_show["segments"] if s["retention_curve"]]
    assert zh_show["segments"][0]["retention_change"] > 1  # the warm-up more than doubled its audience
    svg = svg_of(report.page(zh_show, "en"), "retention")
    curves = re.findall(r'<polyline class="curve" data-series="([^"]*)" data-points="(\d+)" points="([^"]+)"', svg)
    assert [int(n) for _, n, _ in curves] == [len(s["retention_curve"]) for s in segs]
    plot = HEIGHT - TOP - BOTTOM
    for (_, _, pts), s in zip(curves, segs, strict=True):
        ys = [float(p.split(",")[1]) for p in pts.split()]
        assert ys[0] == pytest.approx(TOP)  # 100 % when it began
        assert ys[-1] == pytest.approx(TOP + plot * (1 - s["retention"]), abs=0.1)
    assert ">100 %</text>" in svg and ">125 %</text>" not in svg  # the axis is 0–100 %, whatever the net change


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
    assert "Benchmark median" not in html and "vs previous" not in html  # no empty comparison columns


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


@pytest.mark.parametrize(("seconds", "shown"), [(0, "0:00"), (59.6, "1:00"), (290, "4:50"), (3725, "1:02:05"),
                                                (-30, "−0:30"), (None, "—")])
def test_table_durations_are_minutes_and_seconds(seconds: float | None, shown: str) -> None:
    assert report.clock(seconds) == shown


def test_values_are_shown_by_kind() -> None:
    assert report.fmt(0.0417, "ratio", EN, "CNY") == "4.2 %"
    assert report.fmt(0.0417, "ratio", ZH, "CNY") == "4.2%"
    assert report.fmt("1393.00", "money", EN, "CNY") == "¥1,393.00"
    assert report.fmt("1393", "money", EN, "JPY") == "1,393 JPY"
    assert report.fmt(12345, "count", EN, "CNY") == "12,345"
    assert report.fmt(None, "count", EN, "CNY") == "—"


def test_every_page_string_exists_in_english_and_chinese() -> None:
    assert set(EN) ^ set(ZH) == set()
    assert [k for k in EN if not EN[k].strip() or not ZH[k].strip()] == []
    for k in EN:  # the same placeholders in both
        assert set(re.findall(r"{\w+}", EN[k])) == set(re.findall(r"{\w+}", ZH[k])), k
