"""The review page's tables and how it writes values (pure: review rows in, cells out).

Each table is a list of ``Column``s chosen for the operator who reads it
(not every field of the review): its label (``col_…`` in
``stats.i18n_page``), how a row's cell is written, and an optional footnote
(``note_<table>_<column>``) that says what the number is. Values are written
one way throughout: durations as ``m:ss`` (``h:mm:ss`` past an hour),
moments as the show's local clock time or as its minute, ratios as
percentages, money with the currency's symbol and thousands separators.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from live.core.i18n import strings as core_strings

SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "HKD": "HK$"}  # others by code: "1,393 JPY"
MINUTE_MS = 60_000


# -- writing values ----------------------------------------------------------------


def zone(name: str | None) -> Any:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def local_time(ms: int | None, tz: Any, with_date: bool = True) -> str:
    if ms is None:
        return "—"
    return datetime.fromtimestamp(ms / 1000, tz).strftime("%Y-%m-%d %H:%M" if with_date else "%H:%M")


def duration(seconds: float | None, t: dict[str, str]) -> str:
    """In words, for a sentence or a metric: "42 s", "1 min 16 s", "1 h 02 min"."""
    if seconds is None:
        return "—"
    sign, total = ("−" if seconds < 0 else ""), float(abs(seconds))
    if total < 60:
        return sign + t["unit_s"].format(s=f"{total:.0f}" if total >= 10 or total.is_integer() else f"{total:.1f}")
    whole = round(total)
    if whole < 3600:
        return sign + t["unit_min"].format(m=whole // 60, s=f"{whole % 60:02d}")
    return sign + t["unit_h"].format(h=whole // 3600, m=f"{whole % 3600 // 60:02d}")


def clock(seconds: float | None) -> str:
    """For a table: ``m:ss``, ``h:mm:ss`` past an hour ("4:50", "1:02:05", "−0:30")."""
    if seconds is None:
        return "—"
    sign, whole = ("−" if seconds < 0 else ""), round(abs(seconds))
    h, m, s = whole // 3600, whole % 3600 // 60, whole % 60
    return sign + (f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}")


def percent(x: float, t: dict[str, str] | None = None) -> str:
    """``0.2345`` → "23.5 %" (Chinese: "23.5%")."""
    return (t or {}).get("unit_pct", "{n} %").format(n=f"{x * 100:.1f}")


def money_text(value: Any, currency: str) -> str:
    try:
        d = Decimal(str(value))
    except ArithmeticError:
        return str(value)
    exponent = d.as_tuple().exponent
    places = max(0, -exponent) if isinstance(exponent, int) else 2
    number = f"{d:,.{places}f}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{number}" if symbol else f"{number} {currency}"


def count(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, float) and not value.is_integer() and abs(value) < 100:
        return f"{value:,.1f}"
    return f"{round(value):,}"


def fmt(value: Any, kind: str, t: dict[str, str], currency: str) -> str:
    """A metric's value as the page shows it (``kind``: money, ratio, seconds,
    anything else a count); ``—`` for none."""
    if value is None or value == "":
        return "—"
    if kind == "money":
        return money_text(value, currency)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return str(value)
    if kind == "ratio":
        return percent(value, t)
    if kind == "seconds":
        return duration(value, t)
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def local(text: Any, lang: str) -> str:
    """A text a data file or the analysis gives plain or by language."""
    if isinstance(text, dict):
        return str(text.get(lang) or text.get("en") or text.get("text") or next(iter(text.values()), ""))
    return "" if text is None else str(text)


# -- the tables ----------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What a cell needs besides its row: the page's strings, the show's currency,
    clock and start, and the names of its segments and products."""

    t: dict[str, str]
    lang: str
    currency: str
    tz: Any
    start: int | None  # the show's start (ms): segments' starts are written as time into the show
    titles: Sequence[str]
    products: dict[str, str]  # sku → title

    def segment(self, seg: Any) -> str:
        """``#2 Serum`` for a segment given as an index or as ``{index, title, sku}``."""
        index, title = (seg.get("index"), seg.get("title")) if isinstance(seg, dict) else (seg, None)
        if not isinstance(index, int):
            return "—" if title is None else str(title)
        if title is None and 0 <= index < len(self.titles):
            title = self.titles[index]
        return f"#{index + 1}" + (f" {title}" if title else "")


@dataclass(frozen=True)
class Cell:
    text: str
    sub: str = ""  # a second, smaller line (a segment's kind, a product's sku)
    cls: str = ""  # "bad" / "good"


@dataclass(frozen=True)
class Column:
    key: str  # its label is t["col_" + key]
    cell: Callable[[dict[str, Any], Context], Cell]
    text: bool = False  # left-aligned, may wrap
    note: bool = False  # a footnote t["note_<table>_<key>"] says what it is


def _n(key: str) -> Callable[[dict[str, Any], Context], Cell]:
    return lambda r, c: Cell(count(r.get(key)))


def _pct(key: str) -> Callable[[dict[str, Any], Context], Cell]:
    return lambda r, c: Cell("—" if r.get(key) is None else percent(r[key], c.t))


def _signed_pct(key: str) -> Callable[[dict[str, Any], Context], Cell]:
    def cell(r: dict[str, Any], c: Context) -> Cell:
        x = r.get(key)
        if x is None:
            return Cell("—")
        sign = "+" if x > 0 else "−" if x < 0 else "±"
        return Cell(sign + percent(abs(x), c.t), cls="bad" if x < 0 else "")
    return cell


def _mss(key: str) -> Callable[[dict[str, Any], Context], Cell]:
    return lambda r, c: Cell(clock(r.get(key)))


def _over(key: str) -> Callable[[dict[str, Any], Context], Cell]:
    def cell(r: dict[str, Any], c: Context) -> Cell:
        s = r.get(key) or 0
        return Cell("—") if s <= 0 else Cell("+" + clock(s), cls="bad" if s >= 60 else "")
    return cell


def _money(key: str) -> Callable[[dict[str, Any], Context], Cell]:
    return lambda r, c: Cell("—" if r.get(key) is None else money_text(r[key], c.currency))


def _times(key: str) -> Callable[[dict[str, Any], Context], Cell]:
    return lambda r, c: Cell("—" if r.get(key) is None else f"{r[key]:g}×")


def _minute(r: dict[str, Any], c: Context) -> Cell:
    return Cell(count(r.get("minute")))


def _clock_at(r: dict[str, Any], c: Context) -> Cell:
    return Cell(local_time(r.get("at"), c.tz, with_date=False))


def _segment_of(r: dict[str, Any], c: Context) -> Cell:
    return Cell(c.segment(r.get("segment")))


def _segment_title(r: dict[str, Any], c: Context) -> Cell:
    title, kind = str(r.get("title") or "—"), core_strings(c.lang).get(f"kind_{r.get('kind')}", "")
    return Cell(title, sub="" if kind == title else kind)


def _index(r: dict[str, Any], c: Context) -> Cell:
    return Cell(f"#{r['index'] + 1}" if isinstance(r.get("index"), int) else "—")


def _starts(r: dict[str, Any], c: Context) -> Cell:
    at = r.get("started_at")
    return Cell("—") if at is None or c.start is None else Cell(clock((at - c.start) / 1000))


def _product(r: dict[str, Any], c: Context) -> Cell:
    title, sku = str(r.get("title") or ""), str(r.get("sku") or "")
    return Cell(title or sku or "—", sub=sku if title and title != sku else "")


def _returned(r: dict[str, Any], c: Context) -> Cell:
    units, rate = r.get("returned_units"), r.get("return_rate")
    if units is None:
        return Cell("—")
    return Cell(count(units), sub="" if not units or rate is None else percent(rate, c.t))


def _running(r: dict[str, Any], c: Context) -> Cell:
    if r.get("flash_sale") is not None:
        sku = r.get("flash_sale_sku")
        product = c.products.get(sku, sku) if isinstance(sku, str) else ""
        return Cell(c.t["running_sale"].format(product=product) if product else c.t["running_sale_any"])
    if r.get("draw") is not None:
        return Cell(c.t["running_draw"])
    return Cell("—")


def _note(r: dict[str, Any], c: Context) -> Cell:
    return Cell(local(r.get("note"), c.lang) or "—")


SEGMENTS = (
    Column("index", _index), Column("segment_title", _segment_title, text=True),
    Column("starts", _starts, note=True), Column("planned", _mss("planned_seconds")),
    Column("aired", _mss("actual_seconds")), Column("over_plan", _over("overrun_seconds")),
    Column("viewers_start", _n("viewers_start")), Column("viewers_end", _n("viewers_end")),
    Column("net_change", _signed_pct("retention_change"), note=True),
    Column("still_watching", _pct("retention"), note=True),
    Column("interactions", _n("interactions_per_minute"), note=True),
    Column("orders", _n("orders")), Column("gmv", _money("gmv")),
)
PRODUCTS = (
    Column("product", _product, text=True), Column("planned", _mss("planned_seconds")),
    Column("on_air", _mss("aired_seconds")), Column("viewers_start", _n("viewers_start")),
    Column("viewers_end", _n("viewers_end")), Column("reached", _n("viewers_reached"), note=True),
    Column("clicks", _n("clicks")), Column("orders", _n("orders")), Column("units", _n("units")),
    Column("gmv", _money("gmv")), Column("conversion", _pct("conversion"), note=True),
    Column("returned", _returned, note=True),
)
DROP_OFFS = (
    Column("minute", _minute), Column("time", _clock_at), Column("segment", _segment_of, text=True),
    Column("viewers_lost", _n("viewers_lost")), Column("usual_lost", _n("expected_lost"), note=True),
    Column("times_usual", _times("times_usual")), Column("share_lost", _pct("share_lost"), note=True),
    Column("over_then", _over("segment_overrun_seconds"), note=True), Column("note", _note, text=True),
)
PEAKS = (
    Column("minute", _minute), Column("time", _clock_at), Column("segment", _segment_of, text=True),
    Column("orders", _n("orders")), Column("viewers", _n("viewers"), note=True),
    Column("conversion", _pct("conversion"), note=True), Column("usual_orders", _n("expected_orders"), note=True),
    Column("times_usual", _times("times_usual")), Column("running", _running, text=True),
)
TABLES = {"segments": SEGMENTS, "products": PRODUCTS, "drop_offs": DROP_OFFS, "peaks": PEAKS}


def table(name: str, rows: Any, ctx: Context) -> dict[str, Any]:
    """``{"name", "head": [{key, label, mark, text}], "rows": [[Cell]], "notes": [{mark, text}]}``:
    the table's columns (``TABLES[name]``) over the review's rows, its footnotes numbered."""
    rows = [r for r in rows or [] if isinstance(r, dict)]
    head: list[dict[str, Any]] = []
    notes: list[dict[str, str]] = []
    for col in TABLES[name]:
        mark = ""
        if col.note:
            mark = str(len(notes) + 1)
            start = local_time(ctx.start, ctx.tz, with_date=False)
            notes.append({"mark": mark, "text": ctx.t[f"note_{name}_{col.key}"].format(start=start)})
        head.append({"key": col.key, "label": ctx.t[f"col_{col.key}"], "mark": mark, "text": col.text})
    body = [[col.cell(r, ctx) for col in TABLES[name]] for r in rows]
    return {"name": name, "head": head, "rows": body, "notes": notes if body else []}

