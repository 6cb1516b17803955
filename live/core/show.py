"""The show's values: Product, Segment, ShowState, and parsing them from JSON.

All values are frozen; the engine replaces them, never mutates them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from live.core import values as v
from live.core.draws import parse_draw
from live.core.errors import Invalid
from live.core.ledger import Ledger
from live.core.sales import parse_open

STATUSES = ("draft", "live", "ended")
SEGMENT_KINDS = ("warmup", "product", "interaction", "break", "closing")
# Commands a segment may run when it goes live (more join as features land).
SEGMENT_ACTIONS = ("product.pin", "product.unpin", "flash_sale.open", "draw.open")
# Actions whose parameters travel as canonical JSON in the action's second slot.
PARAM_ACTIONS = ("flash_sale.open", "draw.open")

MAX_PRODUCTS = 1000
MAX_SEGMENTS = 500
MAX_SEGMENT_SECONDS = 4 * 3600
MAX_TALKING_POINTS = 50


@dataclass(frozen=True)
class Product:
    sku: str
    title: str
    list_price: str
    live_price: str
    stock: int
    url: str | None = None
    image: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "title": self.title,
            "list_price": self.list_price,
            "live_price": self.live_price,
            "stock": self.stock,
            "url": self.url,
            "image": self.image,
        }


@dataclass(frozen=True)
class Segment:
    """One rundown entry: the plan, plus what actually happened on air (times in ms)."""

    kind: str
    title: str
    planned_seconds: int
    sku: str | None = None
    talking_points: tuple[str, ...] = ()
    # (command type, argument): the sku for product.pin, canonical JSON of the
    # parameters for flash_sale.open and draw.open, None for product.unpin
    actions: tuple[tuple[str, str | None], ...] = ()
    extended_seconds: int = 0
    started_at: int | None = None  # first time on air
    ended_at: int | None = None  # last time it left the air
    aired_ms: int = 0  # air time of earlier airings
    on_air_since: int | None = None  # set while this segment is on air

    def plan_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "sku": self.sku,
            "planned_seconds": self.planned_seconds,
            "talking_points": list(self.talking_points),
            "actions": [action_dict(t, s) for t, s in self.actions],
        }


@dataclass(frozen=True)
class ShowState:
    id: str
    title: str
    created_at: int
    status: str = "draft"
    scheduled_start: int | None = None
    currency: str = "CNY"
    timezone: str = "Asia/Shanghai"
    language: str = "zh-CN"
    like_goal: int | None = None
    benchmark: str = "default"
    started_at: int | None = None
    ended_at: int | None = None
    products: tuple[Product, ...] = ()
    segments: tuple[Segment, ...] = ()
    current: int | None = None
    pinned_sku: str | None = None
    seq: int = 0
    stream_url: str | None = None
    # viewers, likes, comments, sales, draws: copy-on-write, changed by folds only through
    # ledger.own_viewer / own_sale / own_draw / own_comment / put (see live/core/ledger.py)
    ledger: Ledger = field(default_factory=Ledger)

    def product(self, sku: str) -> Product | None:
        for p in self.products:
            if p.sku == sku:
                return p
        return None

    def config_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "scheduled_start": self.scheduled_start,
            "currency": self.currency,
            "timezone": self.timezone,
            "language": self.language,
            "like_goal": self.like_goal,
            "benchmark": self.benchmark,
            "stream_url": self.stream_url,
        }


# -- parsing -----------------------------------------------------------------

SHOW_FIELDS = {
    "title", "scheduled_start", "currency", "timezone", "language", "like_goal",
    "benchmark", "products", "rundown", "segments", "stream_url",
}


def parse_show_config(data: Any) -> dict[str, Any]:
    """Validate a ``POST /api/shows`` body's show fields; returns the clean config."""
    data = v.obj(data, "")
    v.no_unknown_keys(data, SHOW_FIELDS, "")
    language = data.get("language", "zh-CN")
    if language not in ("zh-CN", "en"):
        raise Invalid("language must be 'zh-CN' or 'en'", "language")
    like_goal = data.get("like_goal")
    return {
        "title": v.text(data.get("title"), "title", max_len=200),
        "scheduled_start": None
        if data.get("scheduled_start") is None
        else v.integer(data["scheduled_start"], "scheduled_start", lo=0, hi=2**53),
        "currency": v.currency(data.get("currency"), "currency"),
        "timezone": v.text(data.get("timezone"), "timezone", max_len=64, default="Asia/Shanghai"),
        "language": language,
        "like_goal": None if like_goal is None else v.integer(like_goal, "like_goal", lo=1, hi=10**9),
        "benchmark": v.text(data.get("benchmark"), "benchmark", max_len=64, default="default"),
        "stream_url": v.url(data.get("stream_url"), "stream_url", required=False),
    }


PRODUCT_FIELDS = {"sku", "title", "list_price", "live_price", "stock", "url", "image"}


def parse_products(data: Any, field_name: str = "products") -> tuple[Product, ...]:
    """Validate a product list (unique skus; ``live_price`` defaults to ``list_price``
    and back); returns Products or raises Invalid naming ``products[i].field``."""
    items = v.array(data, field_name, MAX_PRODUCTS)
    out: list[Product] = []
    seen: set[str] = set()
    for i, raw in enumerate(items):
        f = f"{field_name}[{i}]"
        raw = v.obj(raw, f)
        v.no_unknown_keys(raw, PRODUCT_FIELDS, f)
        sku = v.sku(raw.get("sku"), f"{f}.sku")
        if sku in seen:
            raise Invalid(f"sku {sku!r} appears twice", f"{f}.sku")
        seen.add(sku)
        list_price = v.money(raw.get("list_price", raw.get("live_price")), f"{f}.list_price")
        out.append(
            Product(
                sku=sku,
                title=v.text(raw.get("title"), f"{f}.title", max_len=200),
                list_price=list_price,
                live_price=v.money(raw.get("live_price", list_price), f"{f}.live_price"),
                stock=v.integer(raw.get("stock"), f"{f}.stock", lo=0, hi=10**9, default=0),
                url=v.url(raw.get("url"), f"{f}.url", required=False),
                image=v.url(raw.get("image"), f"{f}.image", required=False),
            )
        )
    return tuple(out)


SEGMENT_FIELDS = {"kind", "title", "sku", "planned_seconds", "talking_points", "actions"}


def parse_segments(
    data: Any, products: tuple[Product, ...], field_name: str = "segments", offset: int = 0
) -> tuple[Segment, ...]:
    """Validate segments against the product list; ``offset`` numbers error fields
    when the list replaces the upcoming part of a live rundown."""
    items = v.array(data, field_name, MAX_SEGMENTS)
    skus = {p.sku for p in products}
    out: list[Segment] = []
    for i, raw in enumerate(items):
        f = f"{field_name}[{i + offset}]"
        raw = v.obj(raw, f)
        v.no_unknown_keys(raw, SEGMENT_FIELDS, f)
        kind = raw.get("kind", "product" if raw.get("sku") else "interaction")
        if kind not in SEGMENT_KINDS:
            raise Invalid(f"{f}.kind must be one of {', '.join(SEGMENT_KINDS)}", f"{f}.kind")
        sku = raw.get("sku")
        if sku is not None and sku != "":
            sku = v.sku(sku, f"{f}.sku")
            if sku not in skus:
                raise Invalid(f"unknown sku {sku!r}: add it to the products first", f"{f}.sku")
        else:
            sku = None
        points_raw = raw.get("talking_points")
        if points_raw is None:
            points_raw = []
        elif isinstance(points_raw, str):
            points_raw = [p for p in points_raw.splitlines() if p.strip()]
        points = tuple(
            v.text(p, f"{f}.talking_points[{j}]", max_len=500)
            for j, p in enumerate(v.array(points_raw, f"{f}.talking_points", MAX_TALKING_POINTS))
        )
        if "actions" in raw:
            actions = parse_actions(raw["actions"], sku, skus, f"{f}.actions")
        else:
            actions = (("product.pin", sku),) if sku else ()
        out.append(
            Segment(
                kind=kind,
                title=v.text(raw.get("title"), f"{f}.title", max_len=200),
                sku=sku,
                planned_seconds=v.integer(
                    raw.get("planned_seconds"), f"{f}.planned_seconds", lo=1, hi=MAX_SEGMENT_SECONDS
                ),
                talking_points=points,
                actions=actions,
            )
        )
    return tuple(out)


def parse_actions(
    data: Any, segment_sku: str | None, skus: set[str], field_name: str
) -> tuple[tuple[str, str | None], ...]:
    """Validate a segment's actions (a type string or ``{type, sku?}``); ``product.pin``
    falls back to the segment's sku. Returns ``(type, sku)`` pairs; raises Invalid."""
    items = v.array(data, field_name, 10)
    out: list[tuple[str, str | None]] = []
    for i, raw in enumerate(items):
        f = f"{field_name}[{i}]"
        if isinstance(raw, str):
            raw = {"type": raw}
        raw = v.obj(raw, f)
        kind = raw.get("type")
        if kind not in SEGMENT_ACTIONS:
            raise Invalid(f"{f}.type must be one of {', '.join(SEGMENT_ACTIONS)}", f"{f}.type")
        if kind in PARAM_ACTIONS:
            out.append((kind, _param_action(kind, raw, segment_sku, skus, f)))
            continue
        v.no_unknown_keys(raw, {"type", "sku"}, f)
        sku: str | None = None
        if kind == "product.pin":
            sku = raw.get("sku") or segment_sku
            if sku is None:
                raise Invalid("product.pin needs a sku (on the action or the segment)", f"{f}.sku")
            sku = v.sku(sku, f"{f}.sku")
            if sku not in skus:
                raise Invalid(f"unknown sku {sku!r}", f"{f}.sku")
        out.append((kind, sku))
    return tuple(out)


def _param_action(kind: str, raw: dict[str, Any], segment_sku: str | None, skus: set[str], f: str) -> str:
    """Validate a flash_sale.open / draw.open action; returns its canonical JSON."""
    if kind == "flash_sale.open":
        sku = raw.get("sku") or segment_sku
        if sku is None:
            raise Invalid("flash_sale.open needs a sku (on the action or the segment)", f"{f}.sku")
        sku = v.sku(sku, f"{f}.sku")
        if sku not in skus:
            raise Invalid(f"unknown sku {sku!r}", f"{f}.sku")
        body = {**raw, "sku": sku}
        try:
            spec = parse_open(body, raw.get("price") or "0")
        except Invalid as exc:
            raise Invalid(exc.message, f"{f}.{exc.field}" if exc.field else f) from None
        params: dict[str, Any] = {k: spec[k] for k in ("sku", "stock", "per_viewer_limit", "duration_seconds")}
        if raw.get("price") is not None:
            params["price"] = spec["price"]
        if spec["opens_in_seconds"]:
            params["opens_in_seconds"] = spec["opens_in_seconds"]
    else:
        spec = parse_draw(raw, f)
        params = {k: spec[k] for k in ("prize", "winners", "eligibility", "entry_seconds", "kind")}
    return json.dumps(params, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def action_dict(kind: str, arg: str | None) -> dict[str, Any]:
    """An action as the plan shows it (and as ``parse_actions`` reads it back)."""
    if kind in PARAM_ACTIONS and arg is not None:
        return {"type": kind, **json.loads(arg)}
    return {"type": kind, "sku": arg} if arg else {"type": kind}


def segment_from_plan(plan: dict[str, Any]) -> Segment:
    """Rebuild a Segment from ``Segment.plan_dict()`` (already validated when journaled)."""
    return Segment(
        kind=plan["kind"],
        title=plan["title"],
        sku=plan.get("sku"),
        planned_seconds=plan["planned_seconds"],
        talking_points=tuple(plan.get("talking_points", ())),
        actions=tuple(_action_from_plan(a) for a in plan.get("actions", ())),
    )


def _action_from_plan(a: dict[str, Any]) -> tuple[str, str | None]:
    if a["type"] in PARAM_ACTIONS:
        params = {k: val for k, val in a.items() if k != "type"}
        return a["type"], json.dumps(params, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return a["type"], a.get("sku")


def product_from_dict(d: dict[str, Any]) -> Product:
    return Product(**{k: d.get(k) for k in PRODUCT_FIELDS})  # type: ignore[arg-type]
