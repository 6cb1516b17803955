"""The review as one self-contained HTML page (pure: a review in, a page out).

``page(review, lang)`` renders the body of ``GET /api/shows/{id}/review``
(with its ``benchmark`` and ``previous``) through ``templates/review.html``:
the metrics beside the benchmark and the previous shows, the charts
(``stats.charts``, inline SVG), drop-offs, peaks, the product and segment
tables (``stats.page_tables``: the columns an operator reads, each labelled
and explained) and the recommendations, in English or Chinese. The review's
sentences (its drop-offs' notes, its recommendations) are said in the page's
language by the functions that said them in the show's
(``stats.review.in_language``), not translated. The page loads nothing: no
script at all, one inline style sheet (allowed by its hash in ``csp()``), no
font or image from anywhere. jinja2 escapes every text; the charts escape
their own. A review without the analysis (no drop-offs, segments…) shows
those parts as empty, never an error.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from stats import charts
from stats.benchmarks import METRICS
from stats.i18n_page import strings
from stats.page_tables import Context, clock, duration, fmt, local, local_time, money_text, percent, table, zone
from stats.review import in_language

__all__ = ["clock", "csp", "duration", "fmt", "money_text", "page", "percent"]

TEMPLATES = Environment(loader=FileSystemLoader([Path(__file__).parent / "templates"]),
                        autoescape=select_autoescape(["html"]))
CSS = (Path(__file__).parent / "templates" / "review.css").read_text(encoding="utf-8")
ANALYSIS = ("drop_offs", "drop_off_baseline", "conversion_peaks", "segments", "products", "recommendations")
RETENTION_COLORS = ("#1f5fbf", "#e07a00", "#2e8b57", "#8e44ad", "#c0392b", "#16a085", "#7f6000")


def csp() -> str:
    """The page's Content-Security-Policy: nothing but its own style sheet."""
    digest = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
    return (f"default-src 'none'; style-src 'sha256-{digest}'; img-src data:; base-uri 'none'; "
            "form-action 'none'; frame-ancestors 'none'")


# -- the parts -------------------------------------------------------------------


def vs(change: float | None, better: str) -> tuple[str, str]:
    """``(text, css class)`` of a relative change: ``+12 %``, good or bad."""
    if change is None:
        return "—", ""
    good = change >= 0 if better == "higher" else change <= 0
    text = ("+" if change > 0 else "−" if change < 0 else "±") + f"{abs(change) * 100:.0f} %"
    return text, ("good" if good else "bad") if change != 0 else ""


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


def mark_runs(rows: Any, count_key: str, label: str) -> list[charts.Mark]:
    """One mark per run of consecutive flagged minutes, labelled with the run's total."""
    found = sorted((r["minute"], r.get(count_key) or 0) for r in rows or []
                   if isinstance(r, dict) and isinstance(r.get("minute"), int))
    out: list[tuple[int, int, int]] = []
    for minute, k in found:
        if out and minute <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(minute, out[-1][1]), out[-1][2] + k)
        else:
            out.append((minute, minute, k))
    return [charts.Mark(a, label.format(n=f"{k:,}"), last=b) for a, b, k in out]


def retention_curves(segs: list[dict[str, Any]], start: int | None, t: dict[str, str],
                     ctx: Context) -> list[charts.Curve]:
    """Each aired segment's retention curve on the show's timeline: from 100 % when
    it first went on air, one point a minute into it, the last at its end."""
    out: list[charts.Curve] = []
    for s in segs:
        curve, began = s.get("retention_curve") or [], s.get("started_at")
        if not curve or began is None or start is None:
            continue
        at = (began - start) / 60_000
        span = ((s.get("ended_at") or began) - began) / 60_000
        xs = [at + min(k, span) for k in range(len(curve))]
        xs[-1] = at + min(len(curve) - 1, span)
        label = percent(float(curve[-1]), t)
        out.append(charts.Curve(ctx.segment(s.get("index")), list(zip(xs, map(float, curve), strict=True)),
                                RETENTION_COLORS[len(out) % len(RETENTION_COLORS)], label=label))
    return out


def chart_svgs(review: dict[str, Any], t: dict[str, str], ctx: Context) -> list[Markup]:
    minutes = [m for m in review.get("minutes") or [] if isinstance(m, dict)]
    n = len(minutes)

    def col(key: str) -> list[float]:
        return [float(m.get(key) or 0) for m in minutes]

    bands = [charts.Band(a, b, ctx.segment(seg)) for a, b, seg in charts.runs([m.get("segment") for m in minutes])]
    drops = mark_runs(review.get("drop_offs"), "viewers_lost", t["drop_mark"])
    peaks = mark_runs(review.get("conversion_peaks"), "orders", t["peak_mark"])
    empty = t["no_data"]
    segs = [s for s in review.get("segments") or [] if isinstance(s, dict)]
    curves = retention_curves(segs, (review.get("show") or {}).get("started_at"), t, ctx)
    out = [
        charts.chart("viewers", t["chart_viewers"], n, lines=[charts.Line(t["series_viewers"], col("concurrent"), "#1f5fbf")],
                     bands=bands, marks=drops, x_title=t["minute"], empty=empty),
        charts.chart("interactions", t["chart_interactions"], n,
                     lines=[charts.Line(t["series_likes"], col("likes"), "#e0457b"),
                            charts.Line(t["series_comments"], col("comments"), "#2e8b57", axis="right")],
                     bands=bands, x_title=t["minute"], empty=empty),
        charts.chart("orders", t["chart_orders"], n, bars=[charts.Bars(t["series_orders"], col("orders"), "#f08c00")],
                     bands=bands, marks=peaks, x_title=t["minute"], empty=empty),
        charts.chart("retention", t["chart_retention"], n if curves else 0, curves=curves, bands=bands,
                     x_title=t["minute"], empty=empty, y_range=(0.0, 1.0),
                     y_format=charts.percent_label),
    ]
    return [Markup(svg) for svg in out]  # built by stats.charts, which escapes every text


def page(review: dict[str, Any], lang: str, *, titles: Sequence[str] = (), links: bool = True,
         generated_at: int | None = None) -> str:
    """The review page's HTML (see the module's docstring). ``titles``: the
    show's segment titles by index (the bands' labels when the review's
    segments do not say); ``links``: the language switch and downloads (off
    in an exported file)."""
    if all(k in review for k in ANALYSIS):
        review = in_language(review, lang)
    t = strings(lang)
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
    products = {str(p["sku"]): str(p.get("title") or p["sku"]) for p in review.get("products") or []
                if isinstance(p, dict) and p.get("sku")}
    ctx = Context(t, lang, currency, tz, started, seg_titles, products)
    bench = review.get("benchmark")
    previous = review.get("previous") or {}
    metrics = metric_rows(review, t, currency)
    rate = (review.get("drop_off_baseline") or {}).get("leaves_per_viewer_minute")
    context = {
        "lang": lang, "t": t, "show": show, "live": show.get("status") == "live", "links": links,
        "started": local_time(started, tz), "ended": local_time(ended, tz) if ended else None,
        "as_of": local_time(as_of, tz),
        "so_far": t["so_far"].format(time=local_time(as_of, tz)),
        "duration": duration(None if started is None or as_of is None else (as_of - started) / 1000, t),
        "metrics": metrics,
        "bench_columns": any(m["median"] != "—" or m["top"] != "—" for m in metrics),
        "previous_columns": any(m["previous"] != "—" for m in metrics),
        "charts": chart_svgs(review, t, ctx),
        "drop_offs": table("drop_offs", review.get("drop_offs"), ctx),
        "drop_offs_about": "" if rate is None else t["dropoffs_about"].format(rate=percent(rate, t)),
        "peaks": table("peaks", review.get("conversion_peaks"), ctx),
        "products": table("products", review.get("products"), ctx),
        "segments": table("segments", review.get("segments"), ctx),
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
