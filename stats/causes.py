"""What had just happened on air before a moment, and how the review says it (pure).

``causes`` lists, most recent first, what the show did in the WINDOW before
an instant (a segment starting, a price shown by a pin, a flash sale opening
or ending, a draw drawn), then what was true at it (a break on air, the
segment over its plan): each a dict with a ``kind`` and its details, for a
page to render. ``note`` says them in the show's language, with the
templates of ``live.core.i18n_review``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from live.core.i18n import strings
from stats.airings import Airings, OnAir, Plan

WINDOW_MS = 180_000  # "just": within the three minutes before
SAME_MS = 2_000  # a pin this close to its segment's start is that segment's own price reveal
SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "HKD": "HK$", "TWD": "NT$"}


def price_text(price: str, currency: str) -> str:
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{price}" if symbol else f"{price} {currency}"


def percent(share: float, language: str) -> str:
    """A share as the show's language writes a percentage (0.183 → "18 %" / "18%")."""
    n = round(share * 100)
    text = str(n) if n >= 1 or share == 0 else f"{share * 100:.1f}"
    return strings(language)["review_percent"].format(n=text)


def duration(seconds: float, language: str) -> str:
    """Seconds as "45 s" under a minute, else whole minutes ("6 min" / "6分钟")."""
    s = strings(language)
    if seconds < 60:
        return s["review_seconds"].format(n=max(0, round(seconds)))
    return s["review_minutes"].format(n=round(seconds / 60))


def causes(plan: Plan, airings: Airings, on_air: OnAir, when: int, segment: int, over_ms: int) -> list[dict[str, Any]]:
    """What had just happened before ``when`` (see the module's docstring)."""
    since = when - WINDOW_MS
    found: list[tuple[int, dict[str, Any]]] = []
    seg_begin = None
    if segment >= 0:
        b, u = airings.of_segment(segment)
        began = b[(b <= when) & (u >= when)] if len(b) else np.zeros(0, np.int64)
        if len(began):
            seg_begin = int(began[-1])
    revealed = False
    for at, sku in on_air.pins:
        if since <= at <= when:
            title, price = plan.products.get(sku, (sku, ""))
            found.append((at, {"kind": "price_shown", "sku": sku, "product": title, "price": price,
                               "seconds_before": (when - at) // 1000}))
            revealed = revealed or (seg_begin is not None and abs(at - seg_begin) <= SAME_MS
                                    and 0 <= segment < len(plan) and plan.skus[segment] == sku)
    if seg_begin is not None and since <= seg_begin and not revealed and 0 <= segment < len(plan):
        found.append((seg_begin, {"kind": "segment_started", "segment": segment, "title": plan.titles[segment],
                                  "seconds_before": (when - seg_begin) // 1000}))
    for sale in on_air.sales:
        title = plan.product_title(sale.sku)
        if since <= sale.opens <= when:
            found.append((sale.opens, {"kind": "flash_sale_opened", "sale_id": sale.id, "sku": sale.sku,
                                       "product": title, "price": sale.price,
                                       "seconds_before": (when - sale.opens) // 1000}))
        if sale.reason is not None and since <= sale.closes <= when:
            found.append((sale.closes, {"kind": "flash_sale_ended", "sale_id": sale.id, "sku": sale.sku,
                                        "product": title, "reason": sale.reason,
                                        "seconds_before": (when - sale.closes) // 1000}))
    for d in on_air.draws:
        if d.drawn is not None and since <= d.drawn <= when:
            found.append((d.drawn, {"kind": "draw_drawn", "draw_id": d.id, "prize": d.prize,
                                    "seconds_before": (when - d.drawn) // 1000}))
    out = [c for _, c in sorted(found, key=lambda x: -x[0])]
    if 0 <= segment < len(plan):
        if over_ms > 0:
            out.append({"kind": "over_plan", "segment": segment, "title": plan.titles[segment],
                        "seconds": over_ms // 1000})
        if plan.kinds[segment] == "break":
            out.append({"kind": "break", "segment": segment, "title": plan.titles[segment]})
    return out


def phrase(plan: Plan, cause: dict[str, Any]) -> str:
    s = strings(plan.language)
    kind = cause["kind"]
    if kind == "price_shown":
        return s["review_cause_price_shown"].format(product=cause["product"],
                                                    price=price_text(cause["price"], plan.currency))
    if kind == "segment_started":
        return s["review_cause_segment_started"].format(title=cause["title"])
    if kind == "flash_sale_opened":
        return s["review_cause_sale_opened"].format(product=cause["product"],
                                                    price=price_text(cause["price"], plan.currency))
    if kind == "flash_sale_ended":
        return s["review_cause_sale_ended"].format(product=cause["product"])
    if kind == "draw_drawn":
        return s["review_cause_draw_drawn"].format(prize=cause["prize"])
    if kind == "over_plan":
        return s["review_cause_over_plan"].format(title=cause["title"],
                                                  duration=duration(cause["seconds"], plan.language))
    return s["review_cause_break"]


def note(plan: Plan, found: list[dict[str, Any]]) -> str:
    """The causes in one line, in the show's language."""
    s = strings(plan.language)
    if not found:
        return s["review_cause_none"]
    return s["review_list_sep"].join(phrase(plan, c) for c in found)
