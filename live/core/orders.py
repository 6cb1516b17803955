"""Shop orders and returns (pure): the shop's signed webhook, the CSV import of
its back office's export, and their fold.

Every order of the show is in ``ledger.orders_by_id``: won claims
(``o-<show>-<seq>``, folded by ``sales``) and shop orders, so a return may name
either. Idempotent by ``order_id``: the same order again changes nothing (no
events; the shell answers ``duplicate``), the same id with other values is
IDEMPOTENCY_MISMATCH. A return names a known order and at most its units not
yet returned; a return sent with its own ``at`` that is already recorded (the
same time and qty) is a duplicate too. Every status takes them: late orders
arrive after the show, returns days later.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from live.core import values as v
from live.core.auth import PLAN
from live.core.context import Ctx, Event, lookup
from live.core.errors import IdempotencyMismatch, Invalid
from live.core.feature import Command, Feature
from live.core.ledger import Order

if TYPE_CHECKING:
    from live.core.show import ShowState

MAX_ORDER_QTY = 100_000
SKEW_MS = 5 * 60_000  # how far a shop's clock may run ahead of ours (or an order's time precede the show)
MAX_IMPORT_LINES = 10_000
ORDER_FIELDS = frozenset({"order_id", "sku", "qty", "amount", "viewer_id", "at"})
RETURN_FIELDS = frozenset({"order_id", "qty", "at", "return_id"})
TIME_FORMATS = ("ISO 8601 (2024-05-01T20:15:00+08:00), 'YYYY-MM-DD HH:MM:SS' in the show's timezone, "
                "or Unix milliseconds")


def order_id(value: Any, name: str = "order_id") -> str:
    """The shop's order id exactly as sent (1–64 characters, no spaces around it,
    no control or invisible characters); raises Invalid."""
    clean = v.text(value, name, max_len=64)
    if clean != value:
        raise Invalid(f"{name} must not have spaces around it", name)
    return clean


def _time(value: Any, name: str, now: int, earliest: int, what: str) -> int:
    """A time in Unix ms, not after ``now`` (plus the clock skew) nor before
    ``earliest``; raises Invalid naming ``name``."""
    if isinstance(value, str):
        raise Invalid(f"{name} {value[:40]!r} is not a time: give {TIME_FORMATS}", name)
    t = v.integer(value, name, lo=0, hi=2**53)
    if t > now + SKEW_MS:
        raise Invalid(f"{name} is in the future (more than {SKEW_MS // 60_000} minutes after the server's time)", name)
    if t < earliest:
        raise Invalid(f"{name} is before {what}", name)
    return t


def parse_order(state: ShowState, body: dict[str, Any], now: int) -> dict[str, Any]:
    """An order's clean fields (``placed_at``: its ``at``, else ``now``); raises
    Invalid naming the field: the sku must be a product of the show, the viewer
    one of its viewers (or none), the amount money, the time sane."""
    sku = v.sku(body.get("sku"), "sku")
    if state.product(sku) is None:
        raise Invalid(f"sku {sku!r} is not a product of this show", "sku")
    viewer_id = body.get("viewer_id")
    if viewer_id is not None and (not isinstance(viewer_id, str) or viewer_id not in state.ledger.viewers):
        raise Invalid(f"no viewer {str(viewer_id)[:64]!r} in this show: send the viewer_id that "
                      "POST /api/shows/{id}/viewers gave, or none", "viewer_id")
    at = body.get("at")
    return {
        "order_id": order_id(body.get("order_id")),
        "sku": sku,
        "qty": v.integer(body.get("qty"), "qty", lo=1, hi=MAX_ORDER_QTY),
        "amount": v.money(body.get("amount"), "amount"),
        "viewer_id": viewer_id,
        "placed_at": now if at is None else _time(at, "at", now, state.created_at - SKEW_MS,
                                                  "the show was created"),
    }


def _differs(order: Order, spec: dict[str, Any]) -> str | None:
    """The first field in which ``spec`` is another order than ``order``, or None.
    (``at`` is not compared: a retry without it would get another time.)"""
    for name, known in (("sku", order.sku), ("qty", order.qty), ("amount", order.amount),
                        ("viewer_id", order.viewer_id)):
        if spec[name] != known:
            return name
    return None


def _check_same(order: Order, spec: dict[str, Any]) -> None:
    name = _differs(order, spec)
    if name is not None:
        raise IdempotencyMismatch(
            f"order {order.id!r} is already recorded with {name} {getattr(order, name)!r}, not {spec[name]!r}; "
            "an order id names one order", "order_id")


def placed(spec: dict[str, Any], source: str) -> Event:
    return {"type": "order.placed", "order_id": spec["order_id"], "sku": spec["sku"], "qty": spec["qty"],
            "amount": spec["amount"], "viewer_id": spec["viewer_id"], "placed_at": spec["placed_at"],
            "source": source}


def place(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    """``order.place {order: {order_id, sku, qty, amount, viewer_id?, at?}}`` (the
    webhook's body): ``order.placed``, or no events when the order is already
    recorded with the same values. Raises Invalid or IdempotencyMismatch."""
    v.no_unknown_keys(cmd, {"type", "order"}, "")
    body = v.obj(cmd.get("order"), "")
    v.no_unknown_keys(body, set(ORDER_FIELDS), "")
    spec = parse_order(state, body, now)
    known = state.ledger.orders_by_id.get(spec["order_id"])
    if known is not None:
        _check_same(known, spec)
        return []
    return [placed(spec, "webhook")]


def _return_time(value: Any, now: int, order_placed_at: int) -> int:
    return _time(value, "at", now, order_placed_at - SKEW_MS, "the order was placed")


def _too_many(order_id_: str, qty: int, units: int, returned: int) -> Invalid:
    return Invalid(f"order {order_id_!r} has {units - returned} of its {units} units not yet returned; "
                   f"a return of {qty} is too many", "qty")


def give_back(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    """``order.return {return: {order_id, qty, at?, return_id?}}``: ``order.returned``,
    or no events when this return is already recorded: one with the same
    ``return_id`` (the shop's own after-sale number: the way a retry is known
    whatever its time) for the same order and qty, or, without a ``return_id``,
    one with the same ``at`` and qty. Raises NotFound (an unknown order),
    IdempotencyMismatch (a ``return_id`` already recorded for another order or
    qty) or Invalid (more units than are left to return)."""
    v.no_unknown_keys(cmd, {"type", "return"}, "")
    body = v.obj(cmd.get("return"), "")
    v.no_unknown_keys(body, set(RETURN_FIELDS), "")
    order = lookup(state.ledger.orders_by_id, order_id(body.get("order_id")), "order", "order_id")
    qty = v.integer(body.get("qty"), "qty", lo=1, hi=MAX_ORDER_QTY)
    return_id = None if body.get("return_id") is None else order_id(body["return_id"], "return_id")
    given = body.get("at") is not None
    at = _return_time(body["at"], now, order.placed_at) if given else now
    if return_id is not None and return_id in state.ledger.return_ids:
        known_order, known_qty, _ = state.ledger.return_ids[return_id]
        if (known_order, known_qty) != (order.id, qty):
            raise IdempotencyMismatch(
                f"return {return_id!r} is already recorded for {known_qty} of order {known_order!r}; "
                "a return id names one return", "return_id")
        return []
    if return_id is None and given and (at, qty) in order.returns:
        return []
    if qty > order.qty - order.returned:
        raise _too_many(order.id, qty, order.qty, order.returned)
    event = {"type": "order.returned", "order_id": order.id, "qty": qty, "returned_at": at, "source": "webhook"}
    if return_id is not None:
        event["return_id"] = return_id
    return [event]


# -- the CSV import -------------------------------------------------------------------


class ImportInvalid(Invalid):
    """422 for an import with bad lines: ``field`` is the first (``line N``),
    ``errors`` lists every one; nothing is imported."""

    def __init__(self, errors: dict[int, str]) -> None:
        lines = sorted(errors)
        self.errors = [{"field": f"line {n}", "message": errors[n]} for n in lines]
        shown = "; ".join(f"line {n}: {errors[n]}" for n in lines[:5])
        more = f"; and {len(lines) - 5} more" if len(lines) > 5 else ""
        super().__init__(f"{len(lines)} line(s) of the CSV are not valid, so nothing was imported. {shown}{more}",
                         f"line {lines[0]}")

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {"errors": self.errors}


@dataclass
class _Book:
    """An order as the import sees it: the show's, or one of this file's."""

    qty: int
    placed_at: int
    returned: int
    returns: set[tuple[int, int]] = field(default_factory=set)


def _row_line(raw: Any, i: int) -> tuple[dict[str, Any], int]:
    row = v.obj(raw, f"rows[{i}]")
    return row, v.integer(row.get("line"), f"rows[{i}].line", lo=1, hi=10**9)


def import_rows(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    """``orders.import {rows}`` (rows from ``live.core.csvorders``): the events of
    every new order and return (``source: "csv"``), all or none. Order rows first,
    then return rows, each in file order, so a return may name an order further
    down. A row naming an order already recorded with the same values is a
    duplicate; a ``returned_qty`` on an order row is the order's returned units
    in all, this file's return rows included (a return for what is new). Raises
    ImportInvalid listing every bad line."""
    v.no_unknown_keys(cmd, {"type", "rows"}, "")
    rows = [_row_line(raw, i) for i, raw in enumerate(v.array(cmd.get("rows"), "rows", MAX_IMPORT_LINES))]
    errors: dict[int, str] = {}
    books: dict[str, _Book] = {}
    specs: dict[str, dict[str, Any]] = {}  # this file's orders
    events: list[Event] = []

    def book(oid: str) -> _Book | None:
        if oid not in books:
            known = state.ledger.orders_by_id.get(oid)
            if known is None:
                return None
            books[oid] = _Book(known.qty, known.placed_at, known.returned, set(known.returns))
        return books[oid]

    orders = [(row, line) for row, line in rows if row.get("kind", "order") == "order"]
    for row, line in orders:
        try:
            events.extend(_order_row(state, row, now, books, specs))
        except Invalid as exc:
            errors[line] = exc.message
    for row, line in rows:
        kind = row.get("kind", "order")
        if kind == "order":
            continue
        try:
            if kind != "return":
                raise Invalid(f"type {str(kind)[:20]!r} is neither an order nor a return (订单 / 退货)", "type")
            events.extend(_return_row(row, now, book))
        except Invalid as exc:
            errors[line] = exc.message
    # last, so that a total counts this file's return lines too
    for row, line in orders:
        if line in errors or row.get("returned_qty") is None:
            continue
        try:
            events.extend(_returned_in_all(row, now, book))
        except Invalid as exc:
            errors[line] = exc.message
    if errors:
        raise ImportInvalid(errors)
    return events


def _order_row(state: ShowState, row: dict[str, Any], now: int, books: dict[str, _Book],
               specs: dict[str, dict[str, Any]]) -> list[Event]:
    spec = parse_order(state, {k: row.get(k) for k in ORDER_FIELDS}, now)
    oid = spec["order_id"]
    known = state.ledger.orders_by_id.get(oid)
    if known is not None:
        _check_same(known, spec)
        return []
    if oid in specs:
        earlier = specs[oid]
        for name in ("sku", "qty", "amount", "viewer_id"):
            if earlier[name] != spec[name]:
                raise IdempotencyMismatch(f"order {oid!r} is on an earlier line with {name} {earlier[name]!r}, "
                                          f"not {spec[name]!r}", "order_id")
        return []
    specs[oid] = spec
    books[oid] = _Book(spec["qty"], spec["placed_at"], 0)
    return [placed(spec, "csv")]


def _returned_in_all(row: dict[str, Any], now: int, book: Callable[[str], _Book | None]) -> list[Event]:
    """An order row's ``returned_qty``: the order's returned units in all (a return
    for what is new, at ``returned_at`` or now). Raises Invalid when it is more
    than the order's units or less than what is already returned."""
    oid = row["order_id"]
    b = book(oid)
    assert b is not None  # the order row before made it
    total = v.integer(row["returned_qty"], "returned_qty", lo=0, hi=b.qty)
    if total < b.returned:
        raise Invalid(f"returned_qty {total} is less than the {b.returned} units of order {oid!r} already "
                      "returned", "returned_qty")
    if total == b.returned:
        return []
    at_raw = row.get("returned_at")
    at = now if at_raw is None else _time(at_raw, "returned_at", now, b.placed_at - SKEW_MS, "the order was placed")
    qty = total - b.returned
    b.returns.add((at, qty))
    b.returned = total
    return [{"type": "order.returned", "order_id": oid, "qty": qty, "returned_at": at, "source": "csv"}]


def _return_row(row: dict[str, Any], now: int, book: Callable[[str], _Book | None]) -> list[Event]:
    oid = order_id(row.get("order_id"))
    b: _Book | None = book(oid)
    if b is None:
        raise Invalid(f"no order {oid!r} in this show or in this file", "order_id")
    qty = v.integer(row.get("qty"), "qty", lo=1, hi=MAX_ORDER_QTY)
    if row.get("at") is None:
        raise Invalid("a return needs its time, so that importing the file again recognises it", "at")
    at = _return_time(row["at"], now, b.placed_at)
    if (at, qty) in b.returns:
        return []
    if qty > b.qty - b.returned:
        raise _too_many(oid, qty, b.qty, b.returned)
    b.returns.add((at, qty))
    b.returned += qty
    return [{"type": "order.returned", "order_id": oid, "qty": qty, "returned_at": at, "source": "csv"}]


def import_report(rows: list[dict[str, Any]], events: list[Event]) -> dict[str, int]:
    """What an import did: ``lines`` read, new ``orders``, new ``returns``, and
    ``duplicates`` (lines already imported: an order row whose order was known,
    a return row whose return was)."""
    new_orders = sum(1 for e in events if e["type"] == "order.placed")
    returned = Counter((e["order_id"], e["qty"], e["returned_at"]) for e in events if e["type"] == "order.returned")
    order_rows = sum(1 for r in rows if r.get("kind", "order") == "order")
    new_returns = 0
    return_rows = [r for r in rows if r.get("kind") == "return"]
    for r in return_rows:
        key = (r.get("order_id"), r.get("qty"), r.get("at"))
        if returned[key] > 0:
            returned[key] -= 1
            new_returns += 1
    return {"lines": len(rows), "orders": new_orders, "returns": sum(1 for e in events if e["type"] == "order.returned"),
            "duplicates": order_rows - new_orders + len(return_rows) - new_returns}


# -- fold -----------------------------------------------------------------------------


def fold(state: ShowState, event: Event) -> ShowState:
    """Fold an order event into the (draft) ledger."""
    ledger = state.ledger
    kind = event["type"]
    if kind == "order.placed":
        ledger.put("orders_by_id", event["order_id"], Order(
            event["order_id"], event["sku"], event["qty"], event["amount"], event["viewer_id"], event["placed_at"],
            event["source"]))
        ledger.orders += 1
        if event["viewer_id"] in ledger.viewers:
            ledger.own_viewer(event["viewer_id"]).units += event["qty"]
    elif kind == "order.returned" and event["order_id"] in ledger.orders_by_id:
        order = ledger.own_order(event["order_id"])
        order.returned += event["qty"]
        order.returns.append((event["returned_at"], event["qty"]))
        if event.get("return_id") is not None:
            ledger.put("return_ids", event["return_id"], (event["order_id"], event["qty"], event["returned_at"]))
    return state


FEATURE = Feature(
    name="orders",
    commands={
        "order.place": Command(place, "system"),
        "order.return": Command(give_back, "system"),
        "orders.import": Command(import_rows, "setup", PLAN),
    },
    events={"order.placed": "internal", "order.returned": "internal"},
    fold=fold,
)
