"""Review bodies for the page and chart tests: a small show's review by hand
(``base``: show, metrics and minutes only, for the edges), and the review
``review()`` makes of a simulated show with a planted exodus, flash-sale rush
and over-run (``planted``), its product and segment titles in Latin letters
(one with markup) so that any Chinese on a page comes from the page itself."""

from __future__ import annotations

from typing import Any

from stats.review import numbers, review
from stats.tally import Tally
from tests.stats.shows import Exodus, Overrun, Rush, Show, Spec, draw, journal, state_of

T0 = 1_700_000_000_000  # 2023-11-14 22:13:20 UTC; 06:13 in Shanghai
MIN = 60_000


def minutes(concurrent: list[int], orders: list[int] | None = None, segments: list[int | None] | None = None,
            likes: list[int] | None = None, comments: list[int] | None = None) -> list[dict[str, Any]]:
    n = len(concurrent)
    orders = orders or [0] * n
    segments = segments or [0] * n
    likes = likes or [10 * (i + 1) for i in range(n)]
    comments = comments or [i % 3 for i in range(n)]
    out = []
    for i in range(n):
        before = concurrent[i - 1] if i else 0
        out.append({"minute": i, "at": T0 + i * MIN, "concurrent": concurrent[i], "peak": max(before, concurrent[i]),
                    "joins": max(0, concurrent[i] - before), "leaves": max(0, before - concurrent[i]),
                    "likes": likes[i], "comments": comments[i], "shares": 0, "clicks": 0, "orders": orders[i],
                    "units": orders[i], "gmv": f"{orders[i] * 199}.00", "segment": segments[i]})
    return out


def base(rows: list[dict[str, Any]], status: str = "ended", language: str = "en",
         title: str = "Autumn <skincare> 秋冬") -> dict[str, Any]:
    """A review as ``review()`` makes it: show, as_of, metrics, minutes."""
    end = T0 + (len(rows) - 1) * MIN + 30_000
    return {
        "show": {"id": "s1", "title": title, "status": status, "started_at": T0,
                 "ended_at": end if status == "ended" else None, "currency": "CNY", "timezone": "Asia/Shanghai",
                 "language": language},
        "as_of": end,
        "metrics": {"unique_viewers": 120, "peak_concurrent": max((r["concurrent"] for r in rows), default=0),
                    "avg_dwell_seconds": 75.5, "median_dwell_seconds": 40.0, "likes": 900, "comments": 30,
                    "shares": 2, "clicks": 15, "interaction_rate": 0.4, "orders": 6, "units": 7, "gmv": "1393.00",
                    "buyers": 5, "conversion_rate": 0.0417, "gmv_per_buyer": "278.60", "avg_order_value": "232.17",
                    "returned_units": 1, "return_rate": 0.1429, "currency": "CNY"},
        "minutes": rows,
    }


PRODUCT_NAMES = ["Serum <b>30ml</b>", "Cream & more", "Night mask", "Gift set", "Lip tint", "Toner"]
OTHER_NAMES = {"warmup": "Warm-up", "interaction": "Q&A and draw", "break": "Break", "closing": "Wrap-up"}


def planted_show(language: str = "zh-CN", seed: int = 91) -> Show:
    """A 40-minute show of about 900 viewers: an exodus during its second product,
    a flash-sale rush in its third, its fourth over-running by 5 minutes and
    losing viewers after its planned end; a warm-up whose audience more than doubles."""
    spec = Spec(seed=seed, minutes=40, viewers=900, interactions=0.1, language=language)
    products = [i for i, s in enumerate(draw(spec).segments) if s["kind"] == "product"]
    show = draw(Spec(**{**spec.__dict__, "effects": (
        Exodus(products[1], share=0.35), Rush(products[2], share=0.2), Overrun(products[3], over=300, hazard=0.15))}))
    names = {}
    for p, name in zip(show.products, PRODUCT_NAMES, strict=False):
        names[p["sku"]] = p["title"] = name
    for seg in show.segments:
        seg["title"] = names[seg["sku"]] if seg["sku"] else OTHER_NAMES[seg["kind"]]
    return show


def planted(language: str = "zh-CN") -> dict[str, Any]:
    """The review of ``planted_show(language)``, as ``GET …/review`` has it."""
    events = journal(planted_show(language))
    minutes, figures = numbers(Tally().add(events), None)
    return review(state_of(events), minutes, figures)
