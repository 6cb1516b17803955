"""Inline SVG charts for the review page (pure: values in, markup out).

One chart is ``n`` slots along x (minutes, or segments), each value drawn at
its slot's middle: lines (a left or a right axis), bars, bands (a run of
slots shaded and labelled: the segment on air) and marks (a slot flagged: a
drop-off, a peak). Every text in the markup is escaped, so a segment titled
``<script>`` is text; colours are presentation attributes, never ``style``
(the page's Content-Security-Policy allows one style sheet and no inline
style). Elements carry ``data-`` attributes (``data-chart``, ``data-points``,
``data-value``) so tests and the curious can read what was drawn.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 720, 230
LEFT, RIGHT, TOP, BOTTOM = 52, 52, 30, 30
BAND_FILLS = ("#eef3fb", "#fbf3e8")
MARK = "#c62828"
MAX_X_LABELS = 12


@dataclass(frozen=True)
class Line:
    name: str
    values: Sequence[float]
    color: str
    axis: str = "left"  # or "right": its own scale, labelled on the right


@dataclass(frozen=True)
class Bars:
    name: str
    values: Sequence[float]
    color: str
    negative_color: str | None = None  # for bars below zero (a retention loss)


@dataclass(frozen=True)
class Band:
    first: int  # slots, inclusive
    last: int
    label: str


@dataclass(frozen=True)
class Mark:
    at: int
    label: str


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


def _num(x: float) -> str:
    """A coordinate: one decimal place at most."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


def nice(x: float) -> float:
    """The least of 1, 2, 2.5, 5 × 10^k that is ≥ ``x`` (``x`` > 0)."""
    k = math.floor(math.log10(x))
    for f in (1, 2, 2.5, 5, 10):
        if f * 10**k >= x * (1 - 1e-12):
            return float(f * 10**k)
    return float(10 ** (k + 1))


def scale(lo: float, hi: float) -> tuple[float, float, float]:
    """``(bottom, top, step)``: 0 included, about four steps of a nice size."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo <= 0:
        hi = 1.0
    step = nice((hi - lo) / 4)
    return math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step, step


def count_label(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}".rstrip("0")


def percent_label(x: float) -> str:
    return f"{x * 100:.0f} %" if round(x * 100, 6).is_integer() else f"{x * 100:.1f} %"


def _char(c: str) -> float:
    return 11.0 if ord(c) > 0x2E80 else 6.2  # about, at font-size 11: CJK is square


def _width(text: str) -> float:
    return sum(map(_char, text))


def _clip(text: str, pixels: float) -> str:
    """``text`` cut to about ``pixels`` of width (CJK counts double), with an ellipsis."""
    out, used = "", 0.0
    for c in text:
        w = _char(c)
        if used + w > pixels:
            return out[:-1] + "…" if out else ""
        out, used = out + c, used + w
    return out


def chart(name: str, title: str, n: int, *, lines: Sequence[Line] = (), bars: Sequence[Bars] = (),
          bands: Sequence[Band] = (), marks: Sequence[Mark] = (), x_labels: Sequence[str] | None = None,
          x_title: str = "", empty: str = "—", y_format: Callable[[float], str] = count_label,
          right_format: Callable[[float], str] = count_label, width: int = WIDTH, height: int = HEIGHT) -> str:
    """One chart as an ``<svg>`` element (see the module's docstring). With no
    slot or no value at all it says ``empty`` in the frame (``data-empty``)."""
    pw, ph = width - LEFT - RIGHT, height - TOP - BOTTOM
    out = [(f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{_attr(name)}" '
            f'viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{_attr(title)}" '
            f'font-size="11" font-family="inherit">'), f"<title>{escape(title)}</title>"]
    values = [v for s in lines for v in s.values] + [v for b in bars for v in b.values]
    out.append(f'<text x="{LEFT}" y="16" font-size="13" font-weight="600" fill="#222">{escape(title)}</text>')
    if n <= 0 or not values:
        out.append(f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#bbb"/>')
        out.append(f'<text class="empty" data-empty="1" x="{LEFT + pw / 2:.1f}" y="{TOP + ph / 2:.1f}" '
                   f'text-anchor="middle" fill="#777">{escape(empty)}</text></svg>')
        return "".join(out)
    slot = pw / n

    def x(i: float) -> float:
        return LEFT + (i + 0.5) * slot

    left_vals = [v for s in lines if s.axis == "left" for v in s.values] + [v for b in bars for v in b.values]
    right_vals = [v for s in lines if s.axis == "right" for v in s.values]
    lo, hi, step = scale(min(left_vals, default=0.0), max(left_vals, default=0.0))

    def y(v: float, bottom: float = lo, top: float = hi) -> float:
        return TOP + ph - (v - bottom) / (top - bottom) * ph

    for i, band in enumerate(bands):
        first, last = max(0, band.first), min(n - 1, band.last)
        if first > last:
            continue
        bx, bw = LEFT + first * slot, (last - first + 1) * slot
        out.append(f'<g class="band" data-first="{first}" data-last="{last}"><title>{escape(band.label)}</title>'
                   f'<rect x="{_num(bx)}" y="{TOP}" width="{_num(bw)}" height="{ph}" '
                   f'fill="{BAND_FILLS[i % 2]}"/>')
        label = _clip(band.label, bw - 4)
        if label:
            out.append(f'<text x="{_num(bx + 2)}" y="{TOP + 11}" fill="#555" font-size="10">{escape(label)}</text>')
        out.append("</g>")
    # grid and the left axis
    ticks = round((hi - lo) / step)
    for k in range(ticks + 1):
        v = lo + k * step
        gy = y(v)
        out.append(f'<line x1="{LEFT}" x2="{LEFT + pw}" y1="{_num(gy)}" y2="{_num(gy)}" '
                   f'stroke="{"#999" if abs(v) < step / 1e6 else "#e3e3e3"}" stroke-width="1"/>')
        out.append(f'<text x="{LEFT - 5}" y="{_num(gy + 4)}" text-anchor="end" fill="#555">{escape(y_format(v))}</text>')
    if right_vals:
        rlo, rhi, rstep = scale(min(right_vals), max(right_vals))
        for k in range(round((rhi - rlo) / rstep) + 1):
            v = rlo + k * rstep
            out.append(f'<text x="{LEFT + pw + 5}" y="{_num(y(v, rlo, rhi) + 4)}" fill="#555">'
                       f'{escape(right_format(v))}</text>')
    # x labels, at most MAX_X_LABELS of them
    every = next((s for s in (1, 2, 5, 10, 15, 20, 30, 60, 120) if n / s <= MAX_X_LABELS), math.ceil(n / MAX_X_LABELS))
    for i in range(0, n, every):
        text = x_labels[i] if x_labels is not None and i < len(x_labels) else str(i)
        out.append(f'<text x="{_num(x(i))}" y="{TOP + ph + 14}" text-anchor="middle" fill="#555">{escape(text)}</text>')
    if x_title:
        out.append(f'<text x="{LEFT + pw}" y="{height - 2}" text-anchor="end" fill="#777">{escape(x_title)}</text>')
    # bars, side by side within a slot
    zero = y(0.0)
    for j, b in enumerate(bars):
        bw = slot * 0.8 / len(bars)
        for i, v in enumerate(b.values[:n]):
            if v == 0:
                continue
            bx = LEFT + i * slot + slot * 0.1 + j * bw
            top, bottom = (y(v), zero) if v > 0 else (zero, y(v))
            color = b.negative_color if v < 0 and b.negative_color else b.color
            label = x_labels[i] if x_labels is not None and i < len(x_labels) else str(i)
            out.append(f'<rect class="bar" data-series="{_attr(b.name)}" data-slot="{i}" data-value="{_attr(v)}" '
                       f'x="{_num(bx)}" y="{_num(top)}" width="{_num(max(bw, 0.5))}" '
                       f'height="{_num(max(bottom - top, 0.5))}" fill="{color}">'
                       f"<title>{escape(f'{b.name} · {label}: {y_format(v)}')}</title></rect>")
    # lines
    for s in lines:
        bottom, top = (lo, hi) if s.axis == "left" else scale(min(right_vals), max(right_vals))[:2]
        pts = " ".join(f"{_num(x(i))},{_num(y(v, bottom, top))}" for i, v in enumerate(s.values[:n]))
        out.append(f'<polyline class="line" data-series="{_attr(s.name)}" data-points="{min(len(s.values), n)}" '
                   f'points="{pts}" fill="none" stroke="{s.color}" stroke-width="1.8" stroke-linejoin="round"/>')
        if len(s.values) == 1:  # one point is no line: a dot
            out.append(f'<circle cx="{_num(x(0))}" cy="{_num(y(s.values[0], bottom, top))}" r="3" fill="{s.color}"/>')
    # marks over everything
    for m in marks:
        if not 0 <= m.at < n:
            continue
        mx = x(m.at)
        out.append(f'<g class="mark" data-slot="{m.at}"><title>{escape(m.label)}</title>'
                   f'<line x1="{_num(mx)}" x2="{_num(mx)}" y1="{TOP}" y2="{TOP + ph}" stroke="{MARK}" '
                   f'stroke-width="1.2" stroke-dasharray="3 2"/>'
                   f'<circle cx="{_num(mx)}" cy="{TOP + 3}" r="3" fill="{MARK}"/>'
                   f'<text x="{_num(mx + 4)}" y="{TOP + 22}" fill="{MARK}" font-size="10">{escape(_clip(m.label, 90))}</text></g>')
    # legend, when there is more than one series
    series = [(b.name, b.color) for b in bars] + [(s.name, s.color) for s in lines]
    if len(series) > 1:
        lx = float(LEFT + pw)
        for label, color in reversed(series):
            lx -= 14 + _width(label)
            out.append(f'<rect x="{_num(lx)}" y="8" width="10" height="10" fill="{color}"/>'
                       f'<text x="{_num(lx + 13)}" y="17" fill="#333">{escape(label)}</text>')
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#bbb"/></svg>')
    return "".join(out)


def runs(segments: Sequence[int | None]) -> list[tuple[int, int, int]]:
    """The runs of one segment in a per-minute list: ``(first, last, segment)``,
    minutes with no segment left out."""
    out: list[tuple[int, int, int]] = []
    for i, seg in enumerate(segments):
        if seg is None:
            continue
        if out and out[-1][2] == seg and out[-1][1] == i - 1:
            out[-1] = (out[-1][0], i, seg)
        else:
            out.append((i, i, seg))
    return out
