"""The review's recommendations: plain sentences drawn from its own numbers (pure).

Each rule reads the review's parts (metrics, drop-offs, conversion peaks, the
segment and product tables) and, when its condition holds, says one sentence
in the show's language with the templates of ``live.core.i18n_review``. In
order: what the numbers are (a live show, no viewers, orders without
viewers), the worst segments for drop-offs (with their over-run), the best
conversion peak, the show's over-run, the best seller, a product clicked but
not bought, returns, a quiet segment. At most MAX_SENTENCES.
"""

from __future__ import annotations

import statistics
from typing import Any

import numpy as np

from live.core.i18n import strings
from stats.airings import Plan
from stats.causes import duration, percent, price_text
from stats.money import hundredths
from stats.series import MINUTE_MS

MAX_SENTENCES = 8
MAX_DROP_SENTENCES = 3
MIN_OVER_PLAN_SECONDS = 120  # the show's over-run worth a sentence
MIN_CLICKS = 20
MIN_RETURN_RATE = 0.1
MIN_RETURNED = 3
QUIET = 0.5  # a segment with less than this share of the usual interactions a minute is quiet


def _times(x: float | None) -> str:
    return "?" if x is None else f"{x:g}"


def _drop_sentences(plan: Plan, drops: list[dict[str, Any]], segments: list[dict[str, Any]]) -> list[str]:
    """One sentence per segment with drop-offs (the worst few), else one for a drop-off with no segment."""
    s = strings(plan.language)
    out: list[str] = []
    seen: set[int | None] = set()
    for d in drops:
        index = None if d["segment"] is None else d["segment"]["index"]
        if index in seen:
            continue
        seen.add(index)
        fields = {"minute": d["minute"], "lost": d["viewers_lost"], "times": _times(d["times_usual"]),
                  "note": d["note"]}
        row = segments[index] if index is not None and index < len(segments) else None
        if row is None or row["started_at"] is None or not row["retention_curve"]:
            out.append(s["review_drop_off_free"].format(**fields))
        else:
            # the share of those watching when the segment began who had gone by the end of the drop-off minute
            into = d["at"] + MINUTE_MS - row["started_at"]
            curve = row["retention_curve"]
            k = int(min(len(curve) - 1, max(1, -(-into // MINUTE_MS))))
            lost = 1 - curve[k]
            base = {**fields, "segment": row["title"], "share": percent(lost, plan.language),
                    "duration": duration(min(k * 60, row["actual_seconds"] or k * 60), plan.language)}
            after = row["lost_after_plan"]
            if row["overrun_seconds"] > 0 and d["segment_overrun_seconds"] > 0 and after is not None:
                out.append(s["review_drop_off_over"].format(
                    **base, over=duration(row["overrun_seconds"], plan.language),
                    share_after=percent(after, plan.language)))
            else:
                out.append(s["review_drop_off"].format(**base))
        if len(out) >= MAX_DROP_SENTENCES:
            break
    return out


def recommendations(plan: Plan, status: str, metrics: dict[str, Any], drops: list[dict[str, Any]],
                    baseline: dict[str, Any], peaks: list[dict[str, Any]], segments: list[dict[str, Any]],
                    products: list[dict[str, Any]]) -> list[str]:
    """The review's ``recommendations`` (see the module's docstring)."""
    s = strings(plan.language)
    lang = plan.language
    out: list[str] = []
    if status == "live":
        out.append(s["review_live"])
    viewers = metrics["unique_viewers"]
    if viewers == 0:
        out.append(s["review_orders_no_viewers"].format(orders=metrics["orders"]) if metrics["orders"]
                   else s["review_no_viewers"])
        return out
    if drops:
        out += _drop_sentences(plan, drops, segments)
    elif baseline.get("leaves_per_viewer_minute") is not None:
        out.append(s["review_no_drop_offs"].format(rate=percent(baseline["leaves_per_viewer_minute"], lang)))
    if peaks:
        p = peaks[0]
        sale = ""
        if p["flash_sale"] is not None:
            sale = s["review_peak_sale"].format(product=plan.product_title(p["flash_sale_sku"]))
        elif p["draw"] is not None:
            sale = s["review_peak_draw"]
        out.append(s["review_peak"].format(
            minute=p["minute"], segment=s["review_peak_nothing_on"] if p["segment"] is None else p["segment"]["title"],
            sale=sale, orders=p["orders"], viewers=p["viewers"], conversion=percent(p["conversion"], lang),
            times=_times(p["times_usual"])))
    elif metrics["orders"] >= 10:
        out.append(s["review_flat_orders"].format(orders=metrics["orders"]))
    aired = [r for r in segments if r["actual_seconds"] is not None]
    over = sum(r["actual_seconds"] for r in aired) - sum(r["planned_seconds"] for r in aired)
    if aired and over >= MIN_OVER_PLAN_SECONDS:
        worst = max(aired, key=lambda r: r["overrun_seconds"])
        out.append(s["review_over_plan"].format(duration=duration(over, lang), segment=worst["title"],
                                                over=duration(worst["overrun_seconds"], lang)))
    out += _product_sentences(plan, metrics, products)
    quiet = _quiet_segment(plan, aired)
    if quiet:
        out.append(quiet)
    return out[:MAX_SENTENCES]


def _product_sentences(plan: Plan, metrics: dict[str, Any], products: list[dict[str, Any]]) -> list[str]:
    s = strings(plan.language)
    lang = plan.language
    out: list[str] = []
    sold = [p for p in products if p["orders"] > 0]
    gmv = hundredths(metrics["gmv"])
    if len(sold) >= 2 and gmv > 0:
        best = max(sold, key=lambda p: hundredths(p["gmv"]))
        out.append(s["review_best_product"].format(product=best["title"], gmv=price_text(best["gmv"], plan.currency),
                                                   orders=best["orders"],
                                                   share=percent(hundredths(best["gmv"]) / gmv, lang)))
    clicked = [p for p in products if p["clicks"] >= MIN_CLICKS]
    if len(clicked) >= 2:
        per_click = np.array([p["orders"] / p["clicks"] for p in clicked])
        worst = int(np.argmin(per_click))
        others = np.delete(per_click, worst)
        if per_click[worst] < 0.5 * statistics.median(others.tolist()):
            p = clicked[worst]
            out.append(s["review_clicks_not_orders"].format(product=p["title"], clicks=p["clicks"], orders=p["orders"]))
    rate = metrics.get("return_rate")
    if rate is not None and rate >= MIN_RETURN_RATE and metrics["returned_units"] >= MIN_RETURNED:
        worst_returns = max(products, key=lambda p: p["returned_units"], default=None)
        if worst_returns is not None and worst_returns["returned_units"] > 0:
            out.append(s["review_returns"].format(share=percent(rate, lang), product=worst_returns["title"],
                                                  units=worst_returns["returned_units"]))
    return out


def _quiet_segment(plan: Plan, aired: list[dict[str, Any]]) -> str | None:
    """The segment whose viewers interacted least, if under QUIET of the usual (per viewer, per minute)."""
    rated = [r for r in aired if r["interactions_per_viewer_minute"] is not None
             and (r["actual_seconds"] or 0) >= 120 and r["kind"] != "break"]
    if len(rated) < 3:
        return None
    usual = float(statistics.median(r["interactions_per_viewer_minute"] for r in rated))
    quietest = min(rated, key=lambda r: r["interactions_per_viewer_minute"])
    if usual <= 0 or quietest["interactions_per_viewer_minute"] >= QUIET * usual:
        return None
    return strings(plan.language)["review_quiet_segment"].format(
        rate=f"{quietest['interactions_per_viewer_minute']:.2g}", segment=quietest["title"], usual=f"{usual:.2g}")
