"""The review as one self-contained HTML page (pure: a review in, a page out).

``page(review, lang)`` renders the body of ``GET /api/shows/{id}/review``
(with its ``benchmark`` and ``previous``) through ``templates/review.html``:
the metrics beside the benchmark and the previous shows, the charts
(``stats.charts``, inline SVG), drop-offs, peaks, the product and segment
tables and the recommendations, in English or Chinese. The page loads
nothing: no script at all, one inline style sheet (allowed by its hash in
``csp()``), no font or image from anywhere. jinja2 escapes every text; the
charts escape their own. Fields another part of the review has not filled
(yet) are shown as empty, never an error.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from stats import charts
from stats.benchmarks import METRICS
from stats.i18n_page import strings

TEMPLATES = Environment(loader=FileSystemLoader([Path(__file__).parent / "templates"]),
                        autoescape=select_autoescape(["html"]))
CSS = (Path(__file__).parent / "templates" / "review.css").read_text(encoding="utf-8")
SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "HKD": "HK$"}
PRODUCT_COLUMNS = ("sku", "title", "planned_seconds", "aired_seconds", "viewers_start", "viewers_at_start",
                   "viewers_end", "viewers_at_end", "clicks", "orders", "units", "gmv", "conversion",
                   "returned_units")
SEGMENT_COLUMNS = ("index", "title", "kind", "planned_seconds", "actual_seconds", "overrun_seconds",
                   "retention_change", "interactions_per_minute")
RATIO_KEYS = ("conversion", "share_lost", "retention_change")


def csp() -> str:
    """The page's Content-Security-Policy: nothing but its own style sheet."""
    digest = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
    return (f"default-src 'none'; style-src 'sha256-{digest}'; img-src data:; base-uri 'none'; "
            "form-action 'none'; frame-ancestors 'none'")


# -- formatting ------------------------------------------------------------------


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
    if seconds is None:
        return "—"
    sign, total = ("−" if seconds < 0 else ""), float(abs(seconds))
    if total < 60:
        return sign + t["unit_s"].format(s=f"{total:.0f}" if total >= 10 or total.is_integer() else f"{total:.1f}")
    whole = round(total)
    if whole < 3600:
        return sign + t["unit_min"].format(m=whole // 60, s=f"{whole % 60:02d}")
    return sign + t["unit_h"].format(h=whole // 3600, m=f"{whole % 3600 // 60:02d}")


def percent(x: float) -> str:
    return f"{x * 100:.1f} %"


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


def fmt(value: Any, kind: str, t: dict[str, str], currency: str) -> str:
    """A value as the page shows it; ``—`` for none."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if kind == "money":
        return money_text(value, currency)
    if not isinstance(value, (int, float)):
        return str(value)
    if kind == "ratio":
        return percent(value)
    if kind == "seconds":
        return duration(value, t)
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def vs(change: float | None, better: str) -> tuple[str, str]:
    """``(text, css class)`` of a relative change: ``+12 %``, good or bad."""
    if change is None:
        return "—", ""
    good = change >= 0 if better == "higher" else change <= 0
    text = ("+" if change > 0 else "−" if change < 0 else "±") + f"{abs(change) * 100:.0f} %"
    return text, ("good" if good else "bad") if change != 0 else ""


def local(text: Any, lang: str) -> str:
    """A text a data file or the analysis gives plain or by language."""
    if isinstance(text, dict):
        return str(text.get(lang) or text.get("en") or text.get("text") or next(iter(text.values()), ""))
    return "" if text is None else str(text)


def kind_of(key: str) -> str:
    if key in METRICS:
        return METRICS[key][0]
    if key.endswith("_seconds"):
        return "seconds"
    if key == "gmv" or key.endswith("_gmv"):
        return "money"
    if key in RATIO_KEYS or key.endswith("_rate"):
        return "ratio"
    return "plain"


# -- the parts -------------------------------------------------------------------


def segment_label(seg: Any, titles: Sequence[str]) -> str:
    """``#2 Serum`` for a segment given as an index or as ``{index, title, sku}``."""
    if isinstance(seg, dict):
        index, title = seg.get("index"), seg.get("title")
    else:
        index, title = seg, None
    if not isinstance(index, int):
        return "—" if title is None else str(title)
    if title is None and 0 <= index < len(titles):
        title = titles[index]
    return f"#{index + 1}" + (f" {title}" if title else "")


def cell(key: str, value: Any, t: dict[str, str], currency: str, titles: Sequence[str]) -> str:
    if key == "segment":
        return segment_label(value, titles)
    if key == "index" and isinstance(value, int):
        return f"#{value + 1}"
    if key == "note":
        return local(value, t.get("_lang", "en")) or "—"
    return fmt(value, kind_of(key), t, currency)


def table(rows: Any, preferred: Sequence[str], t: dict[str, str], currency: str,
          titles: Sequence[str]) -> dict[str, Any]:
    """``{"head": [...], "rows": [[...]]}``: the preferred columns that some row
    has, in order, then any other plain column (by its name)."""
    rows = [r for r in rows or [] if isinstance(r, dict)]
    keys = [k for k in preferred if any(k in r for r in rows)]
    for r in rows:
        keys += [k for k, val in r.items() if k not in keys and not isinstance(val, (dict, list))]
    head = [t.get(f"col_{k}", k.replace("_", " ")) for k in keys]
    body = [[cell(k, r.get(k), t, currency, titles) for k in keys] for r in rows]
    return {"head": head, "rows": body, "keys": keys}


def metric_rows(review: dict[str, Any], t: dict[str, str], currency: str) -> list[dict[str, Any]]:
    figures = review.get("metrics") or {}
    bench = (review.get("benchmark") or {}).get("metrics") or {}
    prev = (review.get("previous") or {}).get("metrics") or {}
    out = []
    for name, (kind, better) in METRICS.items():
        if name not in figures:
            continue
        b, p = bench.get(name) or {}, prev.get(name) or {}
        b_vs, b_class = vs(b.get("vs_median"), better)
        p_vs, p_class = vs(p.get("vs_median"), better)
        level = b.get("level")
        out.append({
            "name": name, "label": t[f"m_{name}"], "value": fmt(figures[name], kind, t, currency),
            "median": fmt(b.get("median"), kind, t, currency), "top": fmt(b.get("top_quartile"), kind, t, currency),
            "vs_median": b_vs, "vs_class": b_class, "level": t.get(f"level_{level}", "") if level else "",
            "previous": fmt(p.get("median_previous"), kind, t, currency), "vs_prev": p_vs, "prev_class": p_class,
        })
    return out


def chart_svgs(review: dict[str, Any], t: dict[str, str], titles: Sequence[str]) -> list[Markup]:
    minutes = [m for m in review.get("minutes") or [] if isinstance(m, dict)]
    n = len(minutes)

    def col(key: str) -> list[float]:
        return [float(m.get(key) or 0) for m in minutes]

    bands = [charts.Band(a, b, segment_label(seg, titles)) for a, b, seg in charts.runs([m.get("segment") for m in minutes])]
    drops = [charts.Mark(d["minute"], t["drop_mark"].format(n=d.get("viewers_lost", "?")))
             for d in review.get("drop_offs") or [] if isinstance(d, dict) and isinstance(d.get("minute"), int)]
    peaks = [charts.Mark(p["minute"], t["peak_mark"].format(n=p.get("orders", "?")))
             for p in review.get("conversion_peaks") or [] if isinstance(p, dict) and isinstance(p.get("minute"), int)]
    empty = t["no_data"]
    out = [
        charts.chart("viewers", t["chart_viewers"], n, lines=[charts.Line(t["series_viewers"], col("concurrent"), "#1f5fbf")],
                     bands=bands, marks=drops, x_title=t["minute"], empty=empty),
        charts.chart("interactions", t["chart_interactions"], n,
                     lines=[charts.Line(t["series_likes"], col("likes"), "#e0457b"),
                            charts.Line(t["series_comments"], col("comments"), "#2e8b57", axis="right")],
                     bands=bands, x_title=t["minute"], empty=empty),
        charts.chart("orders", t["chart_orders"], n, bars=[charts.Bars(t["series_orders"], col("orders"), "#f08c00")],
                     bands=bands, marks=peaks, x_title=t["minute"], empty=empty),
    ]
    segs = [s for s in review.get("segments") or [] if isinstance(s, dict)]
    retention = [float(s["retention_change"]) if isinstance(s.get("retention_change"), (int, float)) else 0.0
                 for s in segs]
    has_retention = any(isinstance(s.get("retention_change"), (int, float)) for s in segs)
    labels = [segment_label(s.get("index", i), titles).split(" ")[0] for i, s in enumerate(segs)]
    out.append(charts.chart("retention", t["chart_retention"], len(segs) if has_retention else 0,
                            bars=[charts.Bars(t["series_retention"], retention, "#2e8b57", negative_color="#c62828")],
                            x_labels=labels, x_title=t["segment_n"], empty=empty, y_format=charts.percent_label))
    return [Markup(svg) for svg in out]  # built by stats.charts, which escapes every text


def page(review: dict[str, Any], lang: str, *, titles: Sequence[str] = (), links: bool = True,
         generated_at: int | None = None) -> str:
    """The review page's HTML (see the module's docstring). ``titles``: the
    show's segment titles by index (the bands' labels when the review's
    segments do not say); ``links``: the language switch and downloads (off
    in an exported file)."""
    t = {**strings(lang), "_lang": lang}
    show = review.get("show") or {}
    currency = str((review.get("metrics") or {}).get("currency") or show.get("currency") or "CNY")
    tz = zone(show.get("timezone"))
    started, ended, as_of = show.get("started_at"), show.get("ended_at"), review.get("as_of")
    seg_titles = list(titles)
    for s in review.get("segments") or []:
        if isinstance(s, dict) and isinstance(s.get("index"), int) and s.get("title"):
            while len(seg_titles) <= s["index"]:
                seg_titles.append("")
            seg_titles[s["index"]] = str(s["title"])
    bench = review.get("benchmark")
    previous = review.get("previous") or {}
    drop_cols = ("minute", "at", "viewers_lost", "share_lost", "segment", "segment_overrun_seconds", "note")
    peak_cols = ("minute", "at", "orders", "conversion", "segment", "flash_sale", "draw")

    def times(rows: Any) -> list[dict[str, Any]]:
        return [{**r, "at": local_time(r.get("at"), tz, with_date=False)} for r in rows or [] if isinstance(r, dict)]

    t_time = {**t, "col_at": t["col_time"]}
    context = {
        "lang": lang, "t": t, "show": show, "live": show.get("status") == "live", "links": links,
        "started": local_time(started, tz), "ended": local_time(ended, tz) if ended else None,
        "as_of": local_time(as_of, tz),
        "so_far": t["so_far"].format(time=local_time(as_of, tz)),
        "duration": duration(None if started is None or as_of is None else (as_of - started) / 1000, t),
        "metrics": metric_rows(review, t, currency),
        "charts": chart_svgs(review, t, seg_titles),
        "drop_offs": table(times(review.get("drop_offs")), drop_cols, t_time, currency, seg_titles),
        "peaks": table(times(review.get("conversion_peaks")), peak_cols, t_time, currency, seg_titles),
        "products": table(review.get("products"), PRODUCT_COLUMNS, t, currency, seg_titles),
        "segments": table(review.get("segments"), SEGMENT_COLUMNS, t, currency, seg_titles),
        "recommendations": [x for x in (local(r, lang) for r in review.get("recommendations") or []) if x],
        "bench": bench,
        "bench_about": None if not bench else t["benchmark_about"].format(
            name=bench.get("name"), version=bench.get("version"), date=bench.get("date"),
            category=bench.get("category"), confidence=t.get(f"confidence_{bench.get('confidence')}", "?")),
        "bench_notes": local(bench.get("notes"), lang) if bench else "",
        "bench_sources": [] if not bench else [
            {"label": t.get(f"m_{name}", name), "source": m.get("source") or "", "note": local(m.get("note"), lang)}
            for name, m in (bench.get("metrics") or {}).items()],
        "previous_about": previous_about(previous, t),
        "generated": None if generated_at is None else t["generated"].format(time=local_time(generated_at, tz)),
        "css": Markup(CSS),  # the page's own style sheet, hashed in its CSP
    }
    return TEMPLATES.get_template("review.html").render(**context)


def previous_about(previous: dict[str, Any], t: dict[str, str]) -> str:
    n = previous.get("shows") or 0
    if not previous or n == 0:
        return t["no_previous"]
    if previous.get("basis") == "host" and previous.get("hosts"):
        return t["previous_host"].format(n=n, hosts=", ".join(map(str, previous["hosts"])))
    return t["previous_account"].format(n=n)
