"""Write a recording of a realistic simulated show, and its ground truth.

    python -m scripts.simulate --seed 7 --minutes 60 --viewers 500 --out show.ndjson
    curl -X POST "$BASE/api/shows/import" -H "Authorization: Bearer $ADMIN" \\
         -H "Content-Type: application/x-ndjson" --data-binary @show.ndjson

Viewers arrive as a Poisson process (a few in the warm-up before the start),
stay an exponential time (one visit each); a share of those watching leaves
in the minutes after the price reveal; while watching they like, comment,
share, click the pinned product's link and order it from the shop; a flash
sale on the second product is claimed by many at once (the first ``stock``
claims win); some orders are returned two days after the show. The rundown
is the demo's, scaled to ``--minutes``. Deterministic: ``random.Random(seed)``.

The ground truth (``--truth``, default the recording's name with
``.truth.json``) is the minute series of DESIGN.md 6.1 (joins, leaves, likes,
comments, shares, clicks, orders, units) computed here from what was
generated, independently of ``stats/``.
"""

from __future__ import annotations

import argparse
import json
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

from live.core.demo import DEMO

START = 1_714_566_000_000  # 2024-05-01 12:20 UTC, on a minute (and a tick) boundary
COMMENTS = ("主播好", "这个适合敏感肌吗", "已下单", "多少钱", "有赠品吗", "好看", "求链接", "hello", "发货快吗",
            "想要", "回放有吗", "价格可以")
SERIES = ("joins", "leaves", "likes", "comments", "shares", "clicks", "orders", "units")
TICK_MS = 250
GRACE_MS = 15_000


def _times(rng: random.Random, rate_per_s: float, start: int, end: int) -> list[int]:
    """A Poisson process's event times in [start, end) (ms)."""
    out: list[int] = []
    if rate_per_s <= 0:
        return out
    t = start + rng.expovariate(rate_per_s) * 1000
    while t < end:
        out.append(int(t))
        t += rng.expovariate(rate_per_s) * 1000
    return out


def simulate(seed: int, minutes: int, viewers: int, start: int = START) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The recording's lines (the show line first) and the ground truth."""
    rng = random.Random(seed)
    length = minutes * 60_000
    end = start + length
    products = DEMO["products"]
    price = {p["sku"]: Decimal(p["live_price"]) for p in products}
    planned = [s["planned_seconds"] for s in DEMO["segments"]]
    scale = length / (sum(planned) * 1000)
    bounds = [start]
    for p in planned[:-1]:
        bounds.append(bounds[-1] + int(p * 1000 * scale))
    segments = DEMO["segments"]
    show = {"title": f"模拟直播 · simulated show (seed {seed})", "currency": "CNY", "language": "zh-CN",
            "products": products, "segments": segments}
    inputs: list[tuple[int, int, dict[str, Any]]] = []  # (at, order of generation, line)

    def add(at: int, line: dict[str, Any]) -> None:
        inputs.append((at, len(inputs), {"at": at, **line}))

    def pinned(t: int) -> str | None:
        index = max(i for i, b in enumerate(bounds) if b <= t)
        sku: str | None = segments[index].get("sku")
        return sku

    add(start, {"command": {"type": "show.start"}})
    for b in bounds[1:]:
        add(b, {"command": {"type": "segment.next"}})
    add(end, {"command": {"type": "show.end"}})
    reveal = bounds[1] + 60_000  # the price of the first product is revealed: some leave
    sale_sku = products[1]["sku"]
    sale_at = bounds[3] + 30_000 if len(bounds) > 3 else start + length // 2
    sale_stock = max(5, viewers // 10)
    add(sale_at, {"command": {"type": "flash_sale.open", "sku": sale_sku, "stock": sale_stock,
                              "duration_seconds": 120, "per_viewer_limit": 1}})

    truth = {k: [0] * (minutes + 1) for k in SERIES}

    def count(name: str, at: int, n: int = 1) -> None:
        truth[name][(max(at, start) - start) // 60_000] += n

    arrivals = _times(rng, viewers / (length / 1000 + 120), start - 120_000, end - 60_000)
    claims: list[tuple[int, str]] = []
    orders: list[tuple[int, dict[str, Any]]] = []
    for n, joined in enumerate(arrivals):
        vid = f"ext-{seed}-{n}"
        add(joined, {"viewer": vid, "action": "join", "nickname": f"观众{n}"})
        count("joins", joined)
        stay = rng.expovariate(1 / (length / 4))
        left = int(max(joined, start) + 5_000 + stay)
        if joined < reveal + 90_000 and left > reveal and rng.random() < 0.3:  # the price put them off
            left = max(reveal + rng.randrange(5_000, 90_000), max(joined, start) + 5_000)
        live_from = max(joined, start) + 1_000
        if left < end:
            add(left, {"viewer": vid, "action": "leave"})
            count("leaves", left)
        until = min(left, end) - 1_000
        seconds: set[int] = set()
        for t in _times(rng, 1 / 25, live_from, until):
            if t % 60_000 >= 60_000 - TICK_MS or t // 1000 in seconds:
                continue  # a like counts in the tick after it: keep it in its own minute
            seconds.add(t // 1000)
            k = rng.randint(1, 12)
            add(t, {"viewer": vid, "action": "like", "count": k})
            count("likes", t, k)
        last = -10_000
        for t in _times(rng, 1 / 150, live_from, until):
            if t - last < 1_500:
                continue  # one comment a second per viewer
            last = t
            add(t, {"viewer": vid, "action": "comment", "text": rng.choice(COMMENTS)})
            count("comments", t)
        for t in _times(rng, 1 / 1500, live_from, until):
            add(t, {"viewer": vid, "action": "share"})
            count("shares", t)
        for t in _times(rng, 1 / 400, live_from, until):
            sku = pinned(t)
            if sku is None:
                continue
            add(t, {"viewer": vid, "action": "click", "sku": sku})
            count("clicks", t)
            if rng.random() < 0.35:
                t2 = min(t + rng.randrange(10_000, 90_000), until)
                if t2 > t:
                    qty = rng.choice((1, 1, 1, 2))
                    orders.append((t2, {"order_id": f"TB-{seed}-{len(orders)}", "sku": sku, "qty": qty,
                                        "amount": str(price[sku] * qty), "viewer": vid}))
        if live_from < sale_at + 20_000 and until > sale_at + 2_000 and rng.random() < 0.4:
            claims.append((sale_at + rng.randrange(100, 20_000), vid))
    claims.sort()
    for i, (t, vid) in enumerate(claims):
        add(t, {"viewer": vid, "action": "claim", "sku": sale_sku, "qty": 1})
        if i < sale_stock:  # the first claims win; the rest find it sold out
            count("orders", t)
            count("units", t)
    for t, order in orders:
        add(t, {"order": order})
        count("orders", t)
        count("units", t, order["qty"])
    returned = [o for _, o in orders if rng.random() < 0.1]
    for i, order in enumerate(returned):
        add(end + 2 * 86_400_000 + i * 60_000, {"return": {"order_id": order["order_id"], "qty": 1}})
    inputs.sort(key=lambda x: (x[0], x[1]))
    lines = [{"show": show}] + [line for _, _, line in inputs]
    series = [{"minute": m, **{k: truth[k][m] for k in SERIES}} for m in range(minutes + 1)]
    return lines, {"seed": seed, "minutes": minutes, "viewers": viewers, "start": start, "end": end,
                   "series": series, "totals": {k: sum(truth[k]) for k in SERIES}}


def ndjson(lines: list[dict[str, Any]]) -> bytes:
    return "\n".join(json.dumps(x, ensure_ascii=False, separators=(",", ":")) for x in lines).encode() + b"\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--viewers", type=int, default=500, help="about how many arrive in all")
    parser.add_argument("--start", type=int, default=START, help="the show's start (Unix ms, a minute boundary)")
    parser.add_argument("--out", type=Path, default=Path("show.ndjson"))
    parser.add_argument("--truth", type=Path, default=None)
    args = parser.parse_args()
    lines, truth = simulate(args.seed, args.minutes, args.viewers, args.start)
    args.out.write_bytes(ndjson(lines))
    truth_path = args.truth or args.out.with_suffix(".truth.json")
    truth_path.write_text(json.dumps(truth, indent=1), encoding="utf-8")
    print(f"{len(lines):,} lines → {args.out}; ground truth → {truth_path}: {truth['totals']}")


if __name__ == "__main__":
    main()
