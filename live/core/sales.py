"""Flash-sale commands and claims (pure): open, restock, extend, close, claim,
and their fold.

A claim is decided by the show's one writer, so the check and the decrement
are one step: stock never goes below zero and a viewer never exceeds the
per-viewer limit, however many claims arrive at once. ``decide_claim`` is that
decision; the rest turns commands into events and events into the ledger.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from live.core import values as v
from live.core.auth import PLAN, RUN
from live.core.context import Ctx, Event, ctx_viewer, lookup, need_live
from live.core.errors import Conflict, IdempotencyMismatch, Invalid, LiveError
from live.core.feature import Command, Feature
from live.core.ledger import FlashSale, Order

if TYPE_CHECKING:  # show.py imports this module to validate segment actions
    from live.core.show import ShowState


MAX_SALE_SECONDS = 6 * 3600
MAX_STOCK = 10**7  # a sale's whole stock, restocks included
MAX_EXTEND_SECONDS = 3600  # one flash_sale.extend
MAX_QTY = 100

# Why a claim lost (the contract's codes).
SOLD_OUT = "SOLD_OUT"
LIMIT_REACHED = "LIMIT_REACHED"
NOT_OPEN = "NOT_OPEN"
ENDED = "ENDED"


def parse_open(cmd: dict[str, Any], list_price: str) -> dict[str, Any]:
    """Validate ``flash_sale.open``; returns the clean fields (sku checked by the caller)."""
    v.no_unknown_keys(
        cmd, {"type", "sku", "price", "stock", "per_viewer_limit", "duration_seconds", "opens_in_seconds"}, ""
    )
    out = {
        "sku": v.sku(cmd.get("sku"), "sku"),
        "price": v.money(cmd.get("price", list_price), "price"),
        "stock": v.integer(cmd.get("stock"), "stock", lo=1, hi=MAX_STOCK),
        "per_viewer_limit": v.integer(cmd.get("per_viewer_limit"), "per_viewer_limit", lo=1, hi=MAX_QTY, default=1),
        "duration_seconds": v.integer(cmd.get("duration_seconds"), "duration_seconds", lo=5, hi=MAX_SALE_SECONDS),
        "opens_in_seconds": v.integer(cmd.get("opens_in_seconds"), "opens_in_seconds", lo=0, hi=24 * 3600, default=0),
    }
    return out


def parse_qty(value: Any) -> int:
    return v.integer(value, "qty", lo=1, hi=MAX_QTY, default=1)


def decide_claim(sale: FlashSale, viewer_id: str, qty: int, now: int) -> str | None:
    """None when the claim wins, else the losing code: ENDED after the deadline
    or a close, but SOLD_OUT once the last unit is gone (the sale closes on its
    last unit, and the crowd still claiming then lost to the stock, not the
    clock); NOT_OPEN before ``opens_at``; LIMIT_REACHED past the per-viewer
    limit; SOLD_OUT when ``qty`` is more than what is left (no partial claims)."""
    if sale.status == "closed" or now >= sale.deadline:
        return SOLD_OUT if sale.remaining <= 0 else ENDED
    if now < sale.opens_at:
        return NOT_OPEN
    if sale.remaining <= 0:
        return SOLD_OUT
    if sale.claimed.get(viewer_id, 0) + qty > sale.per_viewer_limit:
        return LIMIT_REACHED
    if qty > sale.remaining:
        return SOLD_OUT
    return None


def check_sale_id(value: Any) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 40:
        raise Invalid("sale_id must be a sale's id", "sale_id")
    return value


class ClaimLost(LiveError):
    """A claim that did not win: SOLD_OUT, LIMIT_REACHED, NOT_OPEN or ENDED."""

    status = 409

    def __init__(self, code: str) -> None:
        messages = {
            "SOLD_OUT": "sold out",
            "LIMIT_REACHED": "you have reached this sale's per-viewer limit",
            "NOT_OPEN": "the sale has not opened yet",
            "ENDED": "the sale has ended",
        }
        super().__init__(messages.get(code, code), code=code)


def _request_id(value: Any) -> str:
    """The claim's idempotency key exactly as sent (1–64 characters, not blank, no
    control characters); raises Invalid with field ``request_id``."""
    v.text(value, "request_id", max_len=64)  # a string, not blank, no control characters
    # Kept unstripped: the shell looks the answer up in ledger.claims under the key
    # it was given, so a stripped key would turn a won claim into "not found".
    raw: str = value
    if len(raw) > 64:
        raise Invalid("request_id is longer than 64 characters", "request_id")
    return raw


def claim(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    """``flash_sale.claimed`` (plus ``flash_sale.closed`` on the last unit), or no
    events when this viewer's ``request_id`` already won this sale with this qty
    (the answer is in ``ledger.claims``). Raises ClaimLost (SOLD_OUT,
    LIMIT_REACHED, NOT_OPEN, ENDED), NotFound (viewer, ``sale_id``),
    IdempotencyMismatch (the ``request_id`` won another sale or qty) or Invalid
    (``qty``, ``request_id``)."""
    v.no_unknown_keys(cmd, {"type", "sale_id", "qty", "request_id"}, "")
    viewer = ctx_viewer(state.ledger, ctx)
    request_id = _request_id(cmd.get("request_id"))
    qty = parse_qty(cmd.get("qty"))
    ledger = state.ledger
    sale_id = cmd.get("sale_id")
    won = ledger.claims.get(f"{viewer.id}:{request_id}")
    if won is not None:
        if (won["sale_id"], won["qty"]) != (sale_id, qty):
            # Answering with the first order would tell the client a claim it
            # never made succeeded; a new order would make retries unsafe.
            raise IdempotencyMismatch(
                f"request_id {request_id!r} was already used for {won['qty']} of sale {won['sale_id']}; "
                "use a new one for another claim", "request_id")
        return []  # already won with this request_id: the shell replies from the ledger
    sale = lookup(ledger.sales, sale_id, "flash sale", "sale_id")
    lost = decide_claim(sale, viewer.id, qty, now)
    if lost is not None:
        raise ClaimLost(lost)
    remaining = sale.remaining - qty
    events: list[Event] = [{
        "type": "flash_sale.claimed", "sale_id": sale.id, "viewer_id": viewer.id, "qty": qty,
        "request_id": request_id, "order_id": f"o-{state.id}-{state.seq + 1}", "remaining": remaining,
        "price": sale.price, "sku": sale.sku,
    }]
    if remaining == 0:
        events.append({"type": "flash_sale.closed", "sale_id": sale.id, "reason": "sold_out", "remaining": 0})
    return events


# -- staff ----------------------------------------------------------------------


def _sale_event(state: ShowState, spec: dict[str, Any], now: int, seq: int) -> Event:
    opens_at = now + spec["opens_in_seconds"] * 1000
    sale = {
        "id": f"fs{seq}", "sku": spec["sku"], "price": spec["price"], "stock": spec["stock"],
        "remaining": spec["stock"], "per_viewer_limit": spec["per_viewer_limit"], "opens_at": opens_at,
        "deadline": opens_at + spec["duration_seconds"] * 1000, "status": "open",
    }
    return {"type": "flash_sale.opened", "sale": sale}


def _open_sale_for(state: ShowState, sku: str, now: int) -> FlashSale | None:
    for sale in state.ledger.sales.values():
        if sale.sku == sku and sale.status_at(now) in ("open", "scheduled"):
            return sale
    return None


def sale_open(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    need_live(state.status, "flash_sale.open")
    sku = v.sku(cmd.get("sku"), "sku")
    product = state.product(sku)
    if product is None:
        raise Invalid(f"unknown sku {sku!r}", "sku")
    spec = parse_open(cmd, product.live_price)
    running = _open_sale_for(state, sku, now)
    if running is not None:
        raise Conflict(f"a flash sale for {sku} is already open ({running.id})")
    return [_sale_event(state, spec, now, state.seq + 1)]


def segment_sale(state: ShowState, params: dict[str, Any], now: int, seq: int) -> Event | None:
    """A segment's flash_sale.open action (validated when planned); None when the
    product is gone or a sale for it is already running."""
    product = state.product(params["sku"])
    if product is None or _open_sale_for(state, params["sku"], now) is not None:
        return None
    spec = parse_open({"type": "flash_sale.open", **params}, product.live_price)
    return _sale_event(state, spec, now, seq)


def _sale(state: ShowState, cmd: dict[str, Any]) -> FlashSale:
    return lookup(state.ledger.sales, cmd.get("sale_id"), "flash sale", "sale_id")


def sale_close(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    v.no_unknown_keys(cmd, {"type", "sale_id"}, "")
    sale = _sale(state, cmd)
    # A sold-out sale has stopped selling but stays on screen ("Sold out") until
    # its deadline; closing it takes it off the overlays at once. Once.
    if sale.status == "closed" and sale.closed_reason != "sold_out":
        raise Conflict(f"flash sale {sale.id} is already closed")
    return [{"type": "flash_sale.closed", "sale_id": sale.id, "reason": "closed", "remaining": sale.remaining}]


def _running(state: ShowState, sale: FlashSale, now: int, what: str) -> None:
    """Raises Conflict unless ``sale`` can still sell: WRONG_STATE when the show is
    not live, ENDED after its deadline or once closed, SOLD_OUT when it sold out
    (except for a restock, which reopens it)."""
    need_live(state.status, what)
    # the claims' codes, which a panel already says in its language
    if now >= sale.deadline:
        raise Conflict(f"{what}: flash sale {sale.id} has ended (its deadline has passed)", code=ENDED)
    if sale.status == "closed":
        if sale.closed_reason == "sold_out":
            if what == "flash_sale.restock":
                return
            raise Conflict(f"{what}: flash sale {sale.id} is sold out; restock it first", code=SOLD_OUT)
        raise Conflict(f"{what}: flash sale {sale.id} is closed", code=ENDED)


def sale_restock(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    """``flash_sale.restocked {sale_id, add, stock, remaining, reopened}``: ``add``
    more units for a sale that is open or scheduled, or sold out with its
    deadline still ahead, which reopens it. Raises Invalid (``add``: 1 up to what
    keeps the stock at most MAX_STOCK), NotFound (``sale_id``), Conflict (the
    show is not live; the sale ended or was closed)."""
    v.no_unknown_keys(cmd, {"type", "sale_id", "add"}, "")
    sale = _sale(state, cmd)
    add = v.integer(cmd.get("add"), "add", lo=1, hi=MAX_STOCK)
    if sale.stock + add > MAX_STOCK:
        raise Invalid(f"a sale holds at most {MAX_STOCK} units ({sale.stock} already)", "add")
    _running(state, sale, now, "flash_sale.restock")
    if sale.status == "closed":  # reopening: one sale per sku at a time, as flash_sale.open keeps it
        running = _open_sale_for(state, sale.sku, now)
        if running is not None:
            raise Conflict(f"flash_sale.restock: a flash sale for {sale.sku} is already open ({running.id})")
    return [{"type": "flash_sale.restocked", "sale_id": sale.id, "add": add, "stock": sale.stock + add,
             "remaining": sale.remaining + add, "reopened": sale.status == "closed"}]


def sale_extend(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    """``flash_sale.extended {sale_id, seconds, deadline}``: the deadline of an open
    or scheduled sale moved ``seconds`` later. Raises Invalid (``seconds``: 1 –
    MAX_EXTEND_SECONDS, and the sale may last at most MAX_SALE_SECONDS from its
    opening), NotFound (``sale_id``), Conflict (the show is not live; the sale
    sold out, ended or was closed)."""
    v.no_unknown_keys(cmd, {"type", "sale_id", "seconds"}, "")
    sale = _sale(state, cmd)
    seconds = v.integer(cmd.get("seconds"), "seconds", lo=1, hi=MAX_EXTEND_SECONDS)
    deadline = sale.deadline + seconds * 1000
    if deadline - sale.opens_at > MAX_SALE_SECONDS * 1000:
        raise Invalid(f"a flash sale lasts at most {MAX_SALE_SECONDS // 3600} hours", "seconds")
    _running(state, sale, now, "flash_sale.extend")
    return [{"type": "flash_sale.extended", "sale_id": sale.id, "seconds": seconds, "deadline": deadline}]


def fold(state: ShowState, event: Event) -> ShowState:
    """Fold a flash-sale event into the (draft) ledger."""
    ledger = state.ledger
    at = event["at"]
    kind = event["type"]
    if kind == "flash_sale.opened":
        s = event["sale"]
        ledger.put("sales", s["id"], FlashSale(s["id"], s["sku"], s["price"], s["stock"], s["per_viewer_limit"],
                                               s["opens_at"], s["deadline"], s["remaining"]))
        ledger.put("announced_stock", s["id"], s["remaining"])
    elif kind == "flash_sale.claimed":
        sale = ledger.own_sale(event["sale_id"])
        sale.remaining = event["remaining"]
        sale.claimed[event["viewer_id"]] = sale.claimed.get(event["viewer_id"], 0) + event["qty"]
        sale.orders += 1
        ledger.orders += 1
        result = {"ok": True, "order_id": event["order_id"], "sale_id": sale.id, "qty": event["qty"],
                  "price": event.get("price"), "sku": event.get("sku")}
        ledger.put("claims", f"{event['viewer_id']}:{event['request_id']}", result)
        # a won claim is an order of the show: a return may name it
        price = event.get("price")
        amount = None if price is None else str(Decimal(price) * event["qty"])
        ledger.put("orders_by_id", event["order_id"], Order(event["order_id"], event.get("sku"), event["qty"], amount,
                                                            event["viewer_id"], at, "claim"))
        # a claim's viewer is registered first; a fold that leaves the audience out
        # (stats.state) has no viewers, as order.placed may have none
        if event["viewer_id"] in ledger.viewers:
            viewer = ledger.own_viewer(event["viewer_id"])
            viewer.units += event["qty"]
            viewer.orders.append({"request_id": event["request_id"], **result})
    elif kind == "flash_sale.stock":
        ledger.put("announced_stock", event["sale_id"], event["remaining"])
    elif kind == "flash_sale.restocked":
        sale = ledger.own_sale(event["sale_id"])
        sale.stock = event["stock"]
        sale.remaining = event["remaining"]
        if event["reopened"]:  # sold out, restocked before its deadline: selling again
            sale.status, sale.closed_reason, sale.closed_at = "open", None, None
        ledger.put("announced_stock", sale.id, sale.remaining)  # the event said it
    elif kind == "flash_sale.extended":
        ledger.own_sale(event["sale_id"]).deadline = event["deadline"]
    elif kind == "flash_sale.closed":
        sale = ledger.own_sale(event["sale_id"])
        sale.status = "closed"
        sale.closed_reason = event["reason"]
        if sale.closed_at is None:  # a sold-out sale closed by staff stopped selling when it sold out
            sale.closed_at = at
        ledger.put("announced_stock", sale.id, sale.remaining)
    return state


FEATURE = Feature(
    name="sales",
    commands={
        "flash_sale.open": Command(sale_open, roles=PLAN),
        # the host runs a sale on air: more stock, more time, or an early end
        "flash_sale.restock": Command(sale_restock, roles=RUN),
        "flash_sale.extend": Command(sale_extend, roles=RUN),
        "flash_sale.close": Command(sale_close, roles=RUN),
        "flash_sale.claim": Command(claim, "viewer"),
    },
    events={
        "flash_sale.opened": "public",
        "flash_sale.claimed": "internal",
        "flash_sale.stock": "public",
        "flash_sale.closed": "public",
        "flash_sale.restocked": "public",
        "flash_sale.extended": "public",
    },
    fold=fold,
)
