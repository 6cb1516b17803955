"""Simulated shows for the review's tests: seeded, vectorised, with planted effects.

A ``Spec`` draws a show: a rundown (segments with planned and actual
lengths), arrivals (an inhomogeneous Poisson process, flat, front-loaded or
in waves of pushed traffic), stays (a dwell time drawn by the viewer's
tenure, exponential, log-normal, Weibull or a bounce-or-stay mixture,
competing with a hazard in show time that carries a slow drift, the
wind-down at the end and the planted effects), friends who come and go
together, likes, comments, shares, clicks and shop orders at per-viewer
rates, flash sales and draws. ``journal()`` renders it as the events
``Journal.load`` returns (for the pure tests); ``recording()`` as the NDJSON
inputs of ``POST /api/shows/import`` (for the end-to-end tests).

This is not ``scripts/simulate.py``: the review is judged on shows neither
generator made, so the tests vary what these shows are made of (sizes from
30 to 5,000 viewers, lengths, dwell laws, traffic, drift, noise).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from live.core.commands import fold
from live.core.show import ShowState
from tests.stats.journal import T0

Event = dict[str, Any]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
GRACE_MS = 15_000
NEVER = math.inf


@dataclass(frozen=True)
class Exodus:
    """A sharp exodus: ``share`` of those present leave within ``spread``
    seconds, ``after`` (a share of its air time) into segment ``segment``."""

    segment: int
    after: float = 0.4
    share: float = 0.3
    spread: float = 40.0


@dataclass(frozen=True)
class Overrun:
    """Segment ``segment`` runs ``over`` seconds past its plan and, after its
    planned end, loses ``hazard`` more of its viewers a minute."""

    segment: int
    over: float = 360.0
    hazard: float = 0.12


@dataclass(frozen=True)
class Rush:
    """A flash sale on the segment's product, ``after`` into it, claimed by
    ``share`` of those present within seconds."""

    segment: int
    after: float = 0.3
    share: float = 0.25
    duration: int = 120


Effect = Exodus | Overrun | Rush


@dataclass(frozen=True)
class Spec:
    seed: int
    minutes: float = 60.0  # about how long (the planned rundown)
    viewers: int = 500  # about how many arrive
    dwell: str = "exp"  # exp | lognormal | weibull | bounce
    stay: float = 0.25  # a typical stay, as a share of the show's length
    arrivals: str = "flat"  # flat | front | waves
    drift: float = 0.0  # a slow swing of the leave rate in show time (0.5: ±50 %)
    wind_down: bool = True  # the audience leaves faster in the last minutes
    groups: float = 0.0  # the share of viewers who come and go with a friend
    interactions: float = 1.0  # scale of the like, comment, share and click rates
    orders: float = 1.0  # scale of the shop-order rate
    draws: bool = True  # a draw in each interaction segment
    closing: bool = True  # the rundown ends with a closing segment
    language: str = "zh-CN"
    effects: tuple[Effect, ...] = ()


@dataclass
class Show:
    """A drawn show: times in ms; leave None for a viewer still there at the end."""

    spec: Spec
    start: int
    end: int
    products: list[dict[str, Any]]
    segments: list[dict[str, Any]]  # the plan (kind, title, sku, planned_seconds, actions)
    bounds: list[int]  # segment i is on air from bounds[i] to bounds[i + 1] (the last to end)
    join: I64
    leave: list[int | None]
    likes: list[tuple[int, int, int]] = field(default_factory=list)  # (at, viewer, count)
    comments: list[tuple[int, int]] = field(default_factory=list)
    shares: list[tuple[int, int]] = field(default_factory=list)
    clicks: list[tuple[int, int, str]] = field(default_factory=list)
    orders: list[tuple[int, int, str, int, str]] = field(default_factory=list)  # (at, viewer, sku, qty, amount)
    sales: list[dict[str, Any]] = field(default_factory=list)  # {at, sku, price, duration, claims: [(at, viewer)]}
    draws: list[tuple[int, int]] = field(default_factory=list)  # (opened, entry seconds)
    returns: list[tuple[int, int]] = field(default_factory=list)  # (at, order index)

    def on_air(self, t: float) -> int:
        return max(0, int(np.searchsorted(self.bounds, t, side="right")) - 1)

    def minute(self, t: float) -> int:
        return int((t - self.start) // 60_000)


def _rundown(spec: Spec, rng: np.random.Generator) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[float]]:
    """Products, the planned segments and their actual lengths (s)."""
    total = spec.minutes * 60
    n_products = int(np.clip(round(spec.minutes / 9), 1, 12))
    letters = "ABCDEFGHIJKL"
    zh = spec.language == "zh-CN"
    products = [{"sku": f"SKU-{letters[i]}", "title": (f"商品{letters[i]}" if zh else f"Product {letters[i]}"),
                 "list_price": f"{p + 40}.00", "live_price": f"{p}.00", "stock": 100_000,
                 "url": f"https://shop.example.com/{letters[i]}"}
                for i, p in enumerate(rng.integers(19, 400, n_products))]
    plan: list[tuple[str, str, str | None]] = [("warmup", "预热" if zh else "Warm-up", None)]
    for i, p in enumerate(products):
        plan.append(("product", str(p["title"]), str(p["sku"])))
        if i % 3 == 2 and i + 1 < n_products:
            plan.append(("interaction", "互动抽奖" if zh else "Q&A and draw", None))
        if i == 5:
            plan.append(("break", "休息" if zh else "Break", None))
    if spec.closing:
        plan.append(("closing", "收尾" if zh else "Wrap-up", None))
    weights = np.array([{"warmup": 0.6, "product": 1.6, "interaction": 0.5, "break": 0.3, "closing": 0.4}[k]
                        for k, _, _ in plan]) * rng.uniform(0.7, 1.3, len(plan))
    planned = np.maximum(30, np.round(total * weights / weights.sum())).astype(int)
    segments = [{"kind": k, "title": t, "sku": s, "planned_seconds": int(p), "actions": []}
                for (k, t, s), p in zip(plan, planned, strict=True)]
    actual = [float(p) * rng.uniform(0.9, 1.1) for p in planned]
    for effect in spec.effects:
        if isinstance(effect, Overrun):
            actual[effect.segment] = planned[effect.segment] + effect.over
    return products, segments, actual


def _arrivals(spec: Spec, rng: np.random.Generator, length: float) -> F64:
    """Arrival times (s from the start; some in the two minutes before it)."""
    grid = np.arange(-120.0, max(length - 30, 1.0))
    rate = np.ones_like(grid)
    if spec.arrivals == "front":
        rate = np.exp(-np.maximum(grid, 0) / (length / 3)) + 0.15
    elif spec.arrivals == "waves":
        for at in rng.uniform(0, length * 0.9, 3):
            rate += 5.0 * ((grid >= at) & (grid < at + 90))
    n = rng.poisson(spec.viewers)
    seconds = rng.choice(grid, size=n, p=rate / rate.sum())
    return np.sort(seconds + rng.uniform(0, 1, n))


def _stays(spec: Spec, rng: np.random.Generator, n: int, length: float) -> F64:
    """How long each viewer would stay by their own tenure alone (s)."""
    typical = spec.stay * length
    if spec.dwell == "lognormal":
        out = rng.lognormal(np.log(typical / 3), 1.3, n)
    elif spec.dwell == "weibull":
        out = typical * 0.7 * rng.weibull(0.6, n)
    elif spec.dwell == "bounce":
        out = np.where(rng.random(n) < 0.35, rng.exponential(40.0, n), rng.exponential(typical, n))
    else:
        out = rng.exponential(typical, n)
    return np.maximum(out, 2.0)


def _hazard(spec: Spec, rng: np.random.Generator, length: float, bounds_s: list[float],
            planned: list[int]) -> F64:
    """The leave hazard in show time, one value a second (leaves per viewer-second),
    on top of the tenure stays: drift, wind-down and the planted exodus and over-run."""
    t = np.arange(int(length) + 1, dtype=np.float64)
    base = 0.3 / (spec.stay * length)
    g = base * (1 + spec.drift * np.sin(2 * np.pi * t / (length * rng.uniform(0.6, 1.5)) + rng.uniform(0, 6.3)))
    if spec.wind_down:
        w = rng.uniform(2, 5) * 60
        g += np.clip((t - (length - w)) / w, 0, 1) * rng.uniform(0.2, 0.5) / 60
    for effect in spec.effects:
        if isinstance(effect, Exodus):
            a = bounds_s[effect.segment] + effect.after * (bounds_s[effect.segment + 1] - bounds_s[effect.segment])
            pulse = (t >= a) & (t < a + effect.spread)
            g[pulse] += -np.log(1 - effect.share) / effect.spread
        elif isinstance(effect, Overrun):
            planned_end = bounds_s[effect.segment] + planned[effect.segment]
            g[(t >= planned_end) & (t < bounds_s[effect.segment + 1])] += effect.hazard / 60
    return np.maximum(g, 0)


def _spread(rng: np.random.Generator, viewer: I64, a: F64, b: F64, rate_per_min: float) -> tuple[I64, F64]:
    """Poisson events at ``rate_per_min`` over each viewer's ``[a, b)`` (s): (viewer, time)."""
    counts = rng.poisson(rate_per_min * np.maximum(b - a, 0) / 60)
    who = np.repeat(viewer, counts)
    lo, hi = np.repeat(a, counts), np.repeat(b, counts)
    return who, lo + rng.random(len(who)) * (hi - lo)


def draw(spec: Spec) -> Show:
    """The show ``spec`` describes (deterministic in ``spec.seed``)."""
    rng = np.random.default_rng(spec.seed)
    products, segments, actual = _rundown(spec, rng)
    bounds_s = [0.0, *np.cumsum(actual).tolist()]
    length = bounds_s[-1]
    price = {p["sku"]: int(p["live_price"].split(".")[0]) for p in products}
    joined = _arrivals(spec, rng, length)
    n = len(joined)
    natural = np.maximum(joined, 0) + _stays(spec, rng, n, length)
    # the show-time hazard: a viewer leaves when its cumulative since they came reaches an Exp(1)
    cum = np.concatenate([[0.0], np.cumsum(_hazard(spec, rng, length, bounds_s, [s["planned_seconds"] for s in segments]))])
    from_ = np.clip(np.maximum(joined, 0), 0, length).astype(int)
    target = cum[from_] + rng.exponential(1.0, n)
    at = np.searchsorted(cum, target).astype(np.float64) + rng.random(n)
    by_time = np.where(at < len(cum) - 1, at, NEVER)
    leave = np.minimum(natural, by_time)
    # friends: a viewer may bring one or two others, who come and go within seconds of them
    follows = rng.random(n) < spec.groups
    for i in np.flatnonzero(follows):
        lead = next((j for j in (i - 1, i - 2) if j >= 0 and not follows[j]), None)
        if lead is None:
            follows[i] = False
            continue
        joined[i] = joined[lead] + rng.uniform(0, 15)
        leave[i] = leave[lead] + rng.uniform(0, 15) if np.isfinite(leave[lead]) else NEVER
    leave = np.maximum(leave, np.maximum(joined, 0) + 2)
    start, end = T0, T0 + int(length * 1000)

    def ms(seconds: Any) -> I64:
        return (start + np.round(np.asarray(seconds) * 1000)).astype(np.int64)

    show = Show(spec, start, end, products, segments, [start + int(b * 1000) for b in bounds_s[:-1]],
                ms(joined), [int(x) if x < end else None for x in ms(np.where(leave < length, leave, length + 1))])
    present_from = np.maximum(joined, 0) + 0.5
    present_to = np.minimum(leave, length) - 0.5
    ix = np.arange(n)
    k = spec.interactions
    who, t = _spread(rng, ix, present_from, present_to, 2.4 * k)
    show.likes = [(int(a), int(v), int(c)) for a, v, c in zip(ms(t), who, rng.integers(1, 11, len(who)), strict=True)]
    who, t = _spread(rng, ix, present_from, present_to, 0.4 * k)
    show.comments = [(int(a), int(v)) for a, v in zip(ms(t), who, strict=True)]
    who, t = _spread(rng, ix, present_from, present_to, 0.04 * k)
    show.shares = [(int(a), int(v)) for a, v in zip(ms(t), who, strict=True)]
    for rate, kind in ((0.15 * k, "click"), (0.012 * spec.orders, "order")):
        who, t = _spread(rng, ix, present_from, present_to, rate)
        for a, v in zip(ms(t), who, strict=True):
            sku = segments[show.on_air(int(a))]["sku"]
            if sku is None:
                continue
            if kind == "click":
                show.clicks.append((int(a), int(v), sku))
            else:
                qty = int(rng.choice((1, 1, 1, 2)))
                show.orders.append((int(a), int(v), sku, qty, f"{price[sku] * qty}.00"))
    for effect in spec.effects:
        if isinstance(effect, Rush):
            s = effect.segment
            opens = bounds_s[s] + effect.after * (bounds_s[s + 1] - bounds_s[s])
            sku = segments[s]["sku"] or products[0]["sku"]
            there = np.flatnonzero((joined <= opens) & (leave > opens + 30) & (rng.random(n) < effect.share))
            claims = sorted((int(x), int(v)) for x, v in zip(ms(opens + rng.exponential(8, len(there)).clip(0.3, 25)),
                                                              there, strict=True))
            show.sales.append({"at": int(ms(opens)), "sku": sku, "price": f"{max(1, price[sku] // 2)}.00",
                               "duration": effect.duration, "claims": claims})
    if spec.draws:
        for s, seg in enumerate(segments):
            if seg["kind"] == "interaction":
                entry = max(5, int((bounds_s[s + 1] - bounds_s[s]) * 0.6))
                show.draws.append((start + int(bounds_s[s] * 1000) + 2_000, entry))
    for i in range(len(show.orders)):
        if rng.random() < 0.1:
            show.returns.append((end + 2 * 86_400_000 + i * 1000, i))
    return show


# -- rendering -------------------------------------------------------------------


def _plan_show(show: Show, show_id: str) -> dict[str, Any]:
    return {"id": show_id, "title": f"sim {show.spec.seed}", "currency": "CNY", "language": show.spec.language,
            "timezone": "Asia/Shanghai"}


def journal(show: Show, show_id: str = "sim") -> list[Event]:
    """The show as journal events (``type``, ``seq``, ``at`` and the fields), in time order."""
    out: list[tuple[int, int, Event]] = []

    def add(at: int, kind: str, **fields: Any) -> None:
        out.append((at, len(out), {"type": kind, "at": at, **fields}))

    add(show.start - 3_600_000, "show.created", show=_plan_show(show, show_id), products=show.products,
        segments=show.segments)
    add(show.start, "show.started")
    for i, b in enumerate(show.bounds):
        add(b, "segment.changed", to=i, reason="start" if i == 0 else "next", **{"from": None if i == 0 else i - 1})
        if show.segments[i]["sku"]:
            add(b, "product.pinned", sku=show.segments[i]["sku"], by_segment=i)
    for v, (j, gone) in enumerate(zip(show.join.tolist(), show.leave, strict=True)):
        add(j, "viewer.joined", viewer_id=f"v{v}")
        if gone is not None:
            add(gone + GRACE_MS, "viewer.left", viewer_id=f"v{v}", left_at=gone, watched_ms=gone - j)
    for a, v, c in show.likes:
        add(a, "likes.tick", added=c, total=0, _by={f"v{v}": c})
    for a, v in show.comments:
        add(a, "comment.new", comment_id=f"c{a}-{v}", viewer_id=f"v{v}", nickname="n", text="好")
    for a, v in show.shares:
        add(a, "viewer.shared", viewer_id=f"v{v}")
    for a, v, sku in show.clicks:
        add(a, "link.clicked", sku=sku, viewer_id=f"v{v}", pseudonym=f"p{v}")
    for i, (a, v, sku, qty, amount) in enumerate(show.orders):
        add(a, "order.placed", order_id=f"TB-{i}", sku=sku, qty=qty, amount=amount, viewer_id=f"v{v}", placed_at=a,
            source="webhook")
    for k, sale in enumerate(show.sales):
        sid = f"fs{k}"
        deadline = sale["at"] + sale["duration"] * 1000
        add(sale["at"], "flash_sale.opened", sale={"id": sid, "sku": sale["sku"], "price": sale["price"],
                                                   "stock": 100_000, "remaining": 100_000, "per_viewer_limit": 1,
                                                   "opens_at": sale["at"], "deadline": deadline, "status": "open"})
        for c, (a, v) in enumerate(sale["claims"]):
            add(a, "flash_sale.claimed", sale_id=sid, viewer_id=f"v{v}", qty=1, request_id=f"r{c}",
                order_id=f"o-{sid}-{c}", remaining=100_000 - c - 1, price=sale["price"], sku=sale["sku"])
        add(min(deadline, show.end), "flash_sale.closed", sale_id=sid, reason="ended", remaining=0)
    for k, (a, entry) in enumerate(show.draws):
        add(a, "draw.opened", draw={"id": f"d{k}", "prize": "福袋", "winners": 1, "deadline": a + entry * 1000})
        add(min(a + entry * 1000, show.end), "draw.closed", draw_id=f"d{k}", entries=0, winners=[])
    add(show.end, "show.ended", **{"from": len(show.segments) - 1})
    for a, i in show.returns:
        add(a, "order.returned", order_id=f"TB-{i}", qty=1, returned_at=a, source="webhook")
    out.sort(key=lambda x: (x[0], x[1]))
    return [{**e, "seq": n + 1} for n, (_, _, e) in enumerate(out)]


CONTROL = ("show.created", "show.started", "segment.changed", "segment.extended", "product.pinned",
           "product.unpinned", "show.ended")


def state_of(events: list[Event]) -> ShowState:
    """The show's state as far as the review reads it (plan, rundown, status),
    folded by the core from the journal's control events."""
    return fold(e for e in events if e["type"] in CONTROL)


def recording(show: Show) -> list[dict[str, Any]]:
    """The show as a recording (the lines of ``POST /api/shows/import``, the show line first)."""
    out: list[tuple[int, int, dict[str, Any]]] = []

    def add(at: int, **line: Any) -> None:
        out.append((at, len(out), {"at": at, **line}))

    add(show.start, command={"type": "show.start"})
    for b in show.bounds[1:]:
        add(b, command={"type": "segment.next"})
    for v, (j, gone) in enumerate(zip(show.join.tolist(), show.leave, strict=True)):
        add(j, viewer=f"x{v}", action="join", nickname=f"观众{v}")
        if gone is not None:
            add(gone, viewer=f"x{v}", action="leave")
    for a, v, c in show.likes:
        add(a, viewer=f"x{v}", action="like", count=c)
    for a, v in show.comments:
        add(a, viewer=f"x{v}", action="comment", text="好看")
    for a, v in show.shares:
        add(a, viewer=f"x{v}", action="share")
    for a, v, sku in show.clicks:
        add(a, viewer=f"x{v}", action="click", sku=sku)
    for i, (a, v, sku, qty, amount) in enumerate(show.orders):
        add(a, order={"order_id": f"TB-{i}", "sku": sku, "qty": qty, "amount": amount, "viewer": f"x{v}"})
    for sale in show.sales:
        add(sale["at"], command={"type": "flash_sale.open", "sku": sale["sku"], "price": sale["price"],
                                 "stock": 100_000, "per_viewer_limit": 1, "duration_seconds": sale["duration"]})
        for a, v in sale["claims"]:
            add(a, viewer=f"x{v}", action="claim", sku=sale["sku"], qty=1)
    for a, entry in show.draws:
        add(a, command={"type": "draw.open", "prize": "福袋", "winners": 1, "entry_seconds": entry})
    add(show.end, command={"type": "show.end"})
    for a, i in show.returns:
        add(a, **{"return": {"order_id": f"TB-{i}", "qty": 1}})
    out.sort(key=lambda x: (x[0], x[1]))
    plan = {"title": f"sim {show.spec.seed}", "currency": "CNY", "language": show.spec.language,
            "products": show.products, "segments": show.segments}
    return [{"show": plan}] + [line for _, _, line in out]
