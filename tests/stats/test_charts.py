"""The inline SVG charts: what each draws, read back from the markup."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from stats.charts import Band, Bars, Line, Mark, chart, nice, runs, scale

NS = "{http://www.w3.org/2000/svg}"


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def points(line: ET.Element) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in (p.split(",") for p in line.attrib["points"].split())]


def test_a_line_has_a_point_a_minute_higher_for_more() -> None:
    svg = parsed(chart("viewers", "Viewers", 4, lines=[Line("viewers", [0, 10, 20, 5], "#00f")]))
    assert svg.attrib["data-chart"] == "viewers"
    (line,) = svg.iter(f"{NS}polyline")
    pts = points(line)
    assert line.attrib["data-points"] == "4" and len(pts) == 4
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    assert xs == sorted(xs) and len(set(xs)) == 4  # one slot a minute, left to right
    assert ys[2] < ys[1] < ys[3] < ys[0]  # y grows downwards: 20 highest, 0 lowest


def test_segments_are_bands_over_their_minutes_with_their_titles_as_text() -> None:
    svg = chart("viewers", "V", 10, lines=[Line("v", [1] * 10, "#00f")],
                bands=[Band(0, 2, "Warm-up"), Band(3, 9, "<script>alert(1)</script> & 精华")])
    root = parsed(svg)
    groups = [g for g in root.iter(f"{NS}g") if g.attrib.get("class") == "band"]
    assert [(g.attrib["data-first"], g.attrib["data-last"]) for g in groups] == [("0", "2"), ("3", "9")]
    rects = [g.find(f"{NS}rect") for g in groups]
    widths = [float(r.attrib["width"]) for r in rects if r is not None]
    assert widths[1] == pytest.approx(widths[0] * 7 / 3, rel=0.01)  # 7 minutes against 3
    assert groups[1].findtext(f"{NS}title") == "<script>alert(1)</script> & 精华"  # text, never markup
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_bands_outside_the_chart_are_clipped_or_left_out() -> None:
    root = parsed(chart("v", "V", 5, lines=[Line("v", [1] * 5, "#000")], bands=[Band(3, 99, "a"), Band(7, 9, "b")]))
    groups = [g for g in root.iter(f"{NS}g") if g.attrib.get("class") == "band"]
    assert [(g.attrib["data-first"], g.attrib["data-last"]) for g in groups] == [("3", "4")]


def test_marks_flag_their_minute_with_a_label() -> None:
    root = parsed(chart("v", "V", 6, lines=[Line("v", [5, 5, 5, 2, 2, 2], "#000")],
                        marks=[Mark(3, "−3 viewers"), Mark(40, "beyond the end")]))
    marks = [g for g in root.iter(f"{NS}g") if g.attrib.get("class") == "mark"]
    assert [m.attrib["data-slot"] for m in marks] == ["3"]
    assert marks[0].findtext(f"{NS}title") == "−3 viewers"
    (line,) = root.iter(f"{NS}polyline")
    mark_x = float(next(marks[0].iter(f"{NS}line")).attrib["x1"])
    assert mark_x == pytest.approx(points(line)[3][0], abs=0.1)  # at minute 3's point


def test_an_empty_series_says_so() -> None:
    for svg in (chart("v", "Viewers", 0, lines=[Line("v", [], "#000")], empty="No data yet"),
                chart("r", "Retention", 3, bars=[Bars("r", [], "#000")], empty="No data yet")):
        root = parsed(svg)
        empty = [t for t in root.iter(f"{NS}text") if t.attrib.get("data-empty")]
        assert [t.text for t in empty] == ["No data yet"]
        assert not list(root.iter(f"{NS}polyline")) and not [r for r in root.iter(f"{NS}rect")
                                                             if r.attrib.get("class") == "bar"]


def test_a_one_minute_show_has_one_point_and_a_dot() -> None:
    root = parsed(chart("v", "V", 1, lines=[Line("v", [7], "#000")], bands=[Band(0, 0, "Only")]))
    (line,) = root.iter(f"{NS}polyline")
    assert line.attrib["data-points"] == "1" and len(points(line)) == 1
    assert len(list(root.iter(f"{NS}circle"))) == 1
    assert [g.attrib["data-first"] for g in root.iter(f"{NS}g") if g.attrib.get("class") == "band"] == ["0"]


def test_bars_go_up_and_down_from_zero() -> None:
    root = parsed(chart("r", "R", 3, bars=[Bars("change", [0.25, -0.1, 0], "#0a0", negative_color="#c00")]))
    bars = [r for r in root.iter(f"{NS}rect") if r.attrib.get("class") == "bar"]
    assert [(b.attrib["data-slot"], b.attrib["data-value"], b.attrib["fill"]) for b in bars] == [
        ("0", "0.25", "#0a0"), ("1", "-0.1", "#c00")]  # a zero draws nothing
    up, down = bars
    assert float(up.attrib["y"]) + float(up.attrib["height"]) == pytest.approx(float(down.attrib["y"]), abs=0.2)
    assert float(up.attrib["height"]) == pytest.approx(2.5 * float(down.attrib["height"]), rel=0.02)


def test_a_right_axis_line_has_its_own_scale() -> None:
    root = parsed(chart("i", "I", 3, lines=[Line("likes", [1000, 2000, 1500], "#f00"),
                                            Line("comments", [10, 20, 15], "#0f0", axis="right")]))
    likes, comments = root.iter(f"{NS}polyline")
    assert [y for _, y in points(likes)] == pytest.approx([y for _, y in points(comments)])  # same shape, own axis
    assert len([t for t in root.iter(f"{NS}text") if t.text in ("likes", "comments")]) == 2  # a legend


def test_x_labels_thin_out_on_a_long_show() -> None:
    svg = chart("v", "V", 180, lines=[Line("v", list(range(180)), "#000")])
    labels = re.findall(r'text-anchor="middle" fill="#555">(\d+)</text>', svg)
    assert labels == [str(m) for m in range(0, 180, 15)]


def test_scales_are_round_and_hold_zero() -> None:
    assert [nice(x) for x in (0.7, 3, 4.2, 23, 99)] == [1, 5, 5, 25, 100]
    assert scale(0, 87) == (0, 100, 25)
    assert scale(-0.12, 0.3) == pytest.approx((-0.2, 0.4, 0.2))  # a step of 0.42 / 4 = 0.105, made 0.2
    assert scale(0, 0) == (0, 1, 0.25)  # all zeros: still an axis


def test_runs_of_segments() -> None:
    assert runs([None, 0, 0, 1, 1, 1, None, 1, 2]) == [(1, 2, 0), (3, 5, 1), (7, 7, 1), (8, 8, 2)]
    assert runs([]) == []
