"""Write a recording of a realistic simulated show, and its ground truth.

    python -m scripts.simulate --seed 7 --minutes 60 --viewers 500 --out show.ndjson
    curl -X POST "$BASE/api/shows/import" -H "Authorization: Bearer $ADMIN" \\
         -H "Content-Type: application/x-ndjson" --data-binary @show.ndjson

Viewers arrive as a Poisson process (a few in the warm-up before the start),
stay an exponential time; a share of those watching leaves in the minutes
after the price reveal; some lose their connection for a few seconds and come
back within the grace period (the same visit), some come back minutes after
leaving (a second visit), some open the watch page on a second device for a
while (two sockets, one visit). While watching they like, comment, share,
click the pinned product's link and order it from the shop (a few orders
reach us twice: the shop retries its webhook); a flash sale on the second
product is claimed by more than its stock at once (the first ``stock`` claims
win, the rest find it sold out); some orders are returned two days after the
show. The rundown is the demo's, scaled to ``--minutes``.
Deterministic: ``random.Random(seed)``.

Each viewer watches through one channel: our socket (the watch page), or the
platform (``--platform``, the share of viewers a platform connector reports;
they never claim, and their clicks and orders are anonymous to us). A share of
the socket viewers click the tracked link anonymously too (``--anonymous-clicks``:
from another browser, without the click cookie). The recording does not say
which (DESIGN.md 6.4 has no channels); the ground truth lists them
(``channels``) for a player that sends each input the way it would arrive live
(``tests/e2e/player.py``). An order names its viewer only when the shop could
know them (a socket viewer who clicked with the cookie).

The ground truth (``--truth``, default the recording's name with
``.truth.json``) is the minute series of DESIGN.md 6.1, every field, computed
here from the simulator's own model of who is present when, independently of
``stats/``: a visit runs from a join to the leave, a leave dated when the
viewer's last socket dropped, a drop shorter than the grace period no leave
at all; ``concurrent`` is who is present at the minute's end instant (a leave
then no longer counts, a join does), ``peak`` the most present at any instant
of the minute, ``segment`` the one on air at the minute's end.
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from live.core.demo import DEMO

START = 1_714_566_000_000  # 2024-05-01 12:20 UTC, on a minute (and a tick) boundary
MINUTE_MS = 60_000
COMMENTS = ("主播好", "这个适合敏感肌吗", "已下单", "多少钱", "有赠品吗", "好看", "求链接", "hello", "发货快吗",
            "想要", "回放有吗", "价格可以")
SERIES = ("joins", "leaves", "likes", "comments", "shares", "clicks", "orders", "units")  # the counted fields
FIELDS = ("minute", "at", "concurrent", "peak", *SERIES, "gmv", "segment")  # a minute of the review, in order
TICK_MS = 250
GRACE_MS = 15_000  # a dropped socket is a leave only when the viewer is not back within this
SALE_DISCOUNT = Decimal("0.8")  # the flash sale's price, of the live price

# How an audience behaves. LIVELY (the defaults) exercises every case in a
# small show: everyone likes and comments, clicks often and a third of clicks
# buy (about 25 % of viewers order), which the tests want. REALISTIC is closer
# to a real 直播间: most viewers only watch, and a few per cent order (the demo
# show and ``--realistic``).
LIVELY = {"engaged": 1.0, "click_every_s": 400.0, "buy_share": 0.35, "claim_share": 0.4}
REALISTIC = {"engaged": 0.3, "click_every_s": 5000.0, "buy_share": 0.2, "claim_share": 0.25}


@dataclass
class Viewer:
    """One simulated viewer: the spans their socket (or the platform) had them
    watching, ``(from, to)`` in ms, ``to`` None when still there at the end."""

    id: str
    platform: bool
    anonymous_clicks: bool
    spans: list[tuple[int, int | None]] = field(default_factory=list)


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


def visits_of(viewer: Viewer, start: int, end: int) -> list[tuple[int, int, bool]]:
    """The viewer's visits clipped to the show, ``(from, to, left)``: a visit lasts
    while any of the viewer's sockets is open (a second tab), and on through a gap
    shorter than the grace period (the socket came back in time; the platform
    says when its viewers leave: no grace there); ``left`` is a real leave
    (before or at ``end``), else the visit closes at ``end``. A visit over
    before ``start`` is none."""
    merged: list[list[Any]] = []
    grace = 0 if viewer.platform else GRACE_MS
    for a, b in sorted(viewer.spans, key=lambda span: span[0]):
        last = merged[-1] if merged else None
        if last is not None and (last[1] is None or a - last[1] < grace or a < last[1]):
            last[1] = None if last[1] is None or b is None else max(last[1], b)
        else:
            merged.append([a, b])
    out = []
    for a, b in merged:
        frm = max(a, start)
        left = b is not None and b <= end
        to = b if left else end
        if (frm < to) if left else (frm <= end):
            out.append((frm, to, left))
    return out


def presence_by_minute(visits: list[tuple[int, int, bool]], start: int, end: int) -> tuple[list[int], list[int]]:
    """``(concurrent, peak)`` per minute, by one sweep over the instants at which
    presence changes (ms): a join counts from its instant on, a leave no longer at its."""
    delta: dict[int, int] = {}
    for a, b, left in visits:
        delta[a] = delta.get(a, 0) + 1
        if left:
            delta[b] = delta.get(b, 0) - 1
    times = sorted(delta)
    n = (end - start) // MINUTE_MS + 1
    concurrent, peak = [0] * n, [0] * n
    count, i = 0, 0
    for m in range(n):
        first = start + m * MINUTE_MS
        last = end if m == n - 1 else first + MINUTE_MS - 1  # the minute's last instant
        while i < len(times) and times[i] <= first:
            count += delta[times[i]]
            i += 1
        top = count
        while i < len(times) and times[i] <= last:
            count += delta[times[i]]
            top = max(top, count)
            i += 1
        peak[m] = top
        if m == n - 1:
            concurrent[m] = count  # still watching when the show ends
        else:  # at the minute's end instant, which is the next minute's first
            at_end, j = count, i
            while j < len(times) and times[j] <= first + MINUTE_MS:
                at_end += delta[times[j]]
                j += 1
            concurrent[m] = at_end
    return concurrent, peak


def simulate(seed: int, minutes: int, viewers: int, start: int = START, platform: float = 0.4,
             anonymous_clicks: float = 0.2, engaged: float = LIVELY["engaged"],
             click_every_s: float = LIVELY["click_every_s"], buy_share: float = LIVELY["buy_share"],
             claim_share: float = LIVELY["claim_share"]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The recording's lines (the show line first) and the ground truth.
    ``platform``: the share of viewers on the platform; ``anonymous_clicks``: the
    share of socket viewers whose clicks carry no cookie; ``engaged``: the share
    of viewers who like and comment at all; a viewer clicks the product on air
    every ``click_every_s`` seconds on average, ``buy_share`` of clicks become an
    order, and ``claim_share`` of socket viewers try the flash sale (LIVELY,
    REALISTIC)."""
    rng = random.Random(seed)
    length = minutes * MINUTE_MS
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

    def on_air(t: int) -> int:
        return max(i for i, b in enumerate(bounds) if b <= t)

    add(start, {"command": {"type": "show.start"}})
    for b in bounds[1:]:
        add(b, {"command": {"type": "segment.next"}})
    add(end, {"command": {"type": "show.end"}})
    reveal = bounds[1] + 60_000  # the price of the first product is revealed: some leave
    sale_sku = products[1]["sku"]
    sale_price = (price[sale_sku] * SALE_DISCOUNT).quantize(Decimal("0.01"))
    sale_at = bounds[3] + 30_000 if len(bounds) > 3 else start + length // 2
    sale_stock = max(3, viewers // 40)  # fewer than want it: it sells out
    add(sale_at, {"command": {"type": "flash_sale.open", "sku": sale_sku, "price": str(sale_price),
                              "stock": sale_stock, "duration_seconds": 120, "per_viewer_limit": 1}})

    truth: dict[str, list[Any]] = {k: [0] * (minutes + 1) for k in SERIES}
    gmv = [Decimal(0)] * (minutes + 1)

    def count(name: str, at: int, n: int = 1) -> None:
        truth[name][(max(at, start) - start) // MINUTE_MS] += n

    def spend(at: int, amount: Decimal) -> None:
        gmv[(max(at, start) - start) // MINUTE_MS] += amount

    arrivals = _times(rng, viewers / (length / 1000 + 120), start - 120_000, end - 60_000)
    claims: list[tuple[int, str]] = []
    orders: list[tuple[int, dict[str, Any]]] = []
    audience: list[Viewer] = []
    for n, joined in enumerate(arrivals):
        on_platform = rng.random() < platform
        viewer = Viewer(f"ext-{seed}-{n}", on_platform, on_platform or rng.random() < anonymous_clicks)
        audience.append(viewer)
        vid = viewer.id
        stay = rng.expovariate(1 / (length / 4))
        left = int(max(joined, start) + 5_000 + stay)
        if joined < reveal + 90_000 and left > reveal and rng.random() < 0.3:  # the price put them off
            left = max(reveal + rng.randrange(5_000, 90_000), max(joined, start) + 5_000)
        spans: list[tuple[int, int]] = [(joined, left)]
        here = max(joined, start)
        # A socket that drops and is back within the grace period (a lift, a tunnel): the same visit.
        if not on_platform and min(left, end) - here > 60_000 and rng.random() < 0.15:
            drop = rng.randrange(here + 20_000, min(left, end) - 20_000)
            spans = [(joined, drop), (drop + rng.randrange(1_000, 10_000), left)]
        # Some come back for a second visit, well after the grace period.
        if left < end - 5 * MINUTE_MS and rng.random() < 0.1:
            back = left + rng.randrange(60_000, 4 * MINUTE_MS)
            spans.append((back, int(back + 5_000 + rng.expovariate(1 / (length / 8)))))
        tabs = list(spans)
        # Some open the watch page on a second device for a while: no join or leave of its own.
        if not on_platform and min(left, end) - here > 120_000 and rng.random() < 0.05:
            opened = rng.randrange(here + 5_000, min(left, end) - 60_000)
            tabs.append((opened, opened + rng.randrange(30_000, 5 * MINUTE_MS)))
            add(opened, {"viewer": vid, "action": "join"})
            if tabs[-1][1] < end:
                add(tabs[-1][1], {"viewer": vid, "action": "leave"})
        viewer.spans = [(a, b if b < end else None) for a, b in tabs]
        chatty = engaged >= 1.0 or rng.random() < engaged  # (no draw at 1.0: LIVELY shows stay as they were)
        seconds: set[int] = set()
        last = -10_000
        watching: list[tuple[int, int]] = []  # when this viewer can act: a second after the socket opened
        for i, (a, b) in enumerate(spans):
            line: dict[str, Any] = {"viewer": vid, "action": "join"}
            if i == 0:
                line["nickname"] = f"观众{n}"
            add(a, line)
            if b < end:
                add(b, {"viewer": vid, "action": "leave"})
            live_from, until = max(a, start) + 1_000, min(b, end) - 1_000
            if until <= live_from:
                continue
            watching.append((live_from, until))
            for t in (_times(rng, 1 / 25, live_from, until) if chatty else ()):
                if (t - start) % MINUTE_MS >= MINUTE_MS - TICK_MS or t // 1000 in seconds:
                    continue  # a like counts in the tick after it: keep it in its own minute
                seconds.add(t // 1000)
                k = rng.randint(1, 12)
                add(t, {"viewer": vid, "action": "like", "count": k})
                count("likes", t, k)
            for t in (_times(rng, 1 / 150, live_from, until) if chatty else ()):
                if t - last < 1_500:
                    continue  # one comment a second per viewer
                last = t
                add(t, {"viewer": vid, "action": "comment", "text": rng.choice(COMMENTS)})
                count("comments", t)
            for t in _times(rng, 1 / 1500, live_from, until):
                add(t, {"viewer": vid, "action": "share"})
                count("shares", t)
            for t in _times(rng, 1 / click_every_s, live_from, until):
                sku = segments[on_air(t)].get("sku")
                if sku is None:
                    continue
                add(t, {"viewer": vid, "action": "click", "sku": sku})
                count("clicks", t)
                if rng.random() < buy_share:
                    t2 = min(t + rng.randrange(10_000, 90_000), until)
                    if t2 > t:
                        qty = rng.choice((1, 1, 1, 2))
                        order = {"order_id": f"TB-{seed}-{len(orders)}", "sku": sku, "qty": qty,
                                 "amount": str(price[sku] * qty)}
                        if not viewer.anonymous_clicks:
                            order["viewer"] = vid  # the shop knows them from the cookie's click
                        orders.append((t2, order))
        if not on_platform and rng.random() < claim_share:
            windows = [(max(a, sale_at + 100), min(b, sale_at + 20_000)) for a, b in watching]
            windows = [(a, b) for a, b in windows if b - a > 100]
            if windows:
                a, b = windows[0]
                claims.append((rng.randrange(a, b), vid))
    claims.sort()
    for i, (t, vid) in enumerate(claims):
        add(t, {"viewer": vid, "action": "claim", "sku": sale_sku, "qty": 1})
        if i < sale_stock:  # the first claims win; the rest find it sold out
            count("orders", t)
            count("units", t)
            spend(t, sale_price)
    for t, order in orders:
        add(t, {"order": order})
        count("orders", t)
        count("units", t, order["qty"])
        spend(t, Decimal(order["amount"]))
        if rng.random() < 0.05:  # the shop did not hear our answer and sends it again: counted once
            add(t + rng.randrange(5_000, 60_000), {"order": order})
    returned = [o for _, o in orders if rng.random() < 0.1]
    for i, order in enumerate(returned):
        add(end + 2 * 86_400_000 + i * 60_000, {"return": {"order_id": order["order_id"], "qty": 1}})
    inputs.sort(key=lambda x: (x[0], x[1]))
    lines = [{"show": show}] + [line for _, _, line in inputs]

    visits = [v for viewer in audience for v in visits_of(viewer, start, end)]
    for a, b, left in visits:
        count("joins", a)
        if left:
            count("leaves", b)
    concurrent, peak = presence_by_minute(visits, start, end)
    series = []
    for m in range(minutes + 1):
        instant = min(start + (m + 1) * MINUTE_MS, end)  # the minute's end; the last: the show's
        series.append({"minute": m, "at": start + m * MINUTE_MS, "concurrent": concurrent[m], "peak": peak[m],
                       **{k: truth[k][m] for k in SERIES}, "gmv": f"{gmv[m]:.2f}", "segment": on_air(instant)})
    totals: dict[str, Any] = {k: sum(truth[k]) for k in SERIES}
    totals["gmv"] = f"{sum(gmv, Decimal(0)):.2f}"
    channels = {"platform": sorted(v.id for v in audience if v.platform),
                "anonymous_clicks": sorted(v.id for v in audience if v.anonymous_clicks and not v.platform)}
    return lines, {"seed": seed, "minutes": minutes, "viewers": viewers, "start": start, "end": end,
                   "series": series, "totals": totals, "channels": channels}


def ndjson(lines: list[dict[str, Any]]) -> bytes:
    return "\n".join(json.dumps(x, ensure_ascii=False, separators=(",", ":")) for x in lines).encode() + b"\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--viewers", type=int, default=500, help="about how many arrive in all")
    parser.add_argument("--start", type=int, default=START, help="the show's start (Unix ms, a minute boundary)")
    parser.add_argument("--platform", type=float, default=0.4, help="the share of viewers on the platform")
    parser.add_argument("--anonymous-clicks", type=float, default=0.2,
                        help="the share of socket viewers whose clicks carry no cookie")
    parser.add_argument("--realistic", action="store_true",
                        help="most viewers only watch and a few per cent order (the demo show's audience), "
                        "instead of an audience that exercises every case")
    parser.add_argument("--out", type=Path, default=Path("show.ndjson"))
    parser.add_argument("--truth", type=Path, default=None)
    args = parser.parse_args()
    lines, truth = simulate(args.seed, args.minutes, args.viewers, args.start, args.platform, args.anonymous_clicks,
                            **(REALISTIC if args.realistic else LIVELY))
    args.out.write_bytes(ndjson(lines))
    truth_path = args.truth or args.out.with_suffix(".truth.json")
    truth_path.write_text(json.dumps(truth, indent=1), encoding="utf-8")
    print(f"{len(lines):,} lines → {args.out}; ground truth → {truth_path}: {truth['totals']}")


if __name__ == "__main__":
    main()
