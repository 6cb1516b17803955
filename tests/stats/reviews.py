"""Review bodies for the page and chart tests: a small show's review by hand,
and the analysis fields (drop-offs, peaks, products, segments,
recommendations, gpm, uv_value) added to any review, derived from its own
minutes, as the analysis part of the review names them (DESIGN.md 6.3)."""

from __future__ import annotations

from typing import Any

T0 = 1_700_000_000_000  # 2023-11-14 22:13:20 UTC; 06:13 in Shanghai
MIN = 60_000
TITLES = ["预热 Warm-up", "Serum <b>精华</b>", "Cream & more", "收尾 Wrap-up"]


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


def segment_of(i: int) -> dict[str, Any]:
    return {"index": i, "title": TITLES[i] if i < len(TITLES) else f"segment {i}", "sku": "A1" if i == 1 else None}


def analysed(review: dict[str, Any]) -> dict[str, Any]:
    """``review`` with the analysis fields, drawn from its minutes: the worst
    minute for leaves is its one drop-off, the best for orders its one peak."""
    rows = review["minutes"]
    out = dict(review)
    lossy = [r for r in rows[:-1] if r["leaves"] > 0]
    if lossy:
        worst = max(lossy, key=lambda r: r["leaves"])
        before = rows[worst["minute"] - 1]["concurrent"] if worst["minute"] else worst["concurrent"]
        out["drop_offs"] = [{"minute": worst["minute"], "at": worst["at"], "viewers_lost": worst["leaves"],
                             "share_lost": round(worst["leaves"] / max(before, 1), 4),
                             "segment": segment_of(worst["segment"]), "segment_overrun_seconds": 120,
                             "note": "price reveal <i>¥199</i>"}]
    else:
        out["drop_offs"] = []
    sold = [r for r in rows if r["orders"] > 0]
    out["conversion_peaks"] = [] if not sold else [
        {"minute": best["minute"], "at": best["at"], "orders": best["orders"],
         "conversion": round(best["orders"] / max(best["concurrent"], 1), 4), "segment": segment_of(best["segment"]),
         "flash_sale": "fs7", "draw": None} for best in [max(sold, key=lambda r: r["orders"])]]
    segs = sorted({r["segment"] for r in rows if r["segment"] is not None})
    out["segments"] = []
    for i in segs:
        mine = [r for r in rows if r["segment"] == i]
        first = mine[0]["concurrent"] or 1
        out["segments"].append({"index": i, "title": segment_of(i)["title"], "planned_seconds": 600,
                                "actual_seconds": 60 * len(mine), "overrun_seconds": 60 * len(mine) - 600,
                                "retention_change": round((mine[-1]["concurrent"] - first) / first, 4),
                                "interactions_per_minute": round(sum(r["likes"] + r["comments"] for r in mine)
                                                                 / len(mine), 2)})
    out["products"] = [{"sku": "A1", "title": "Serum 30ml", "planned_seconds": 600, "aired_seconds": 720,
                        "viewers_start": 40, "viewers_end": 31, "clicks": 12, "orders": 5, "units": 6,
                        "gmv": "1194.00", "conversion": 0.125, "returned_units": 1}]
    out["recommendations"] = ["Serum lost 18 % of viewers in its first 4 minutes; it ran 6 minutes over plan.",
                              "<script>alert(1)</script> stays text."]
    out["metrics"] = {**review["metrics"], "gpm": "11.61", "uv_value": "11.61"}
    return out
