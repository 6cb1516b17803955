"""The shop's side: signed order and return webhooks, and the CSV import of a
back office's export. Parse → engine → respond; the core decides (live/core/orders.py)."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from live.core.auth import SIGNATURE_PREFIX, signature_ok
from live.core.commands import check
from live.core.csvorders import parse_orders_csv
from live.core.errors import Invalid, Unauthorized
from live.core.orders import import_report
from live.core.values import parse_json
from live.http.api import engine_for
from live.http.web import body_bytes, hub, principal, show_row
from live.runtime.engine import ShowEngine

SIGNATURE_HEADER = "X-Live-Signature"


async def signed_body(request: Request) -> tuple[ShowEngine, dict[str, Any]]:
    """The show's engine and the body as a JSON object, once its signature is
    checked against the raw bytes, before they are parsed. Raises NotFound (no
    such show), Unauthorized (no, a wrong or a tampered signature; no secret
    yet) or Invalid (not a JSON object)."""
    show_id = request.path_params["show_id"]
    row = await show_row(request, show_id)
    raw = await body_bytes(request)
    header = request.headers.get(SIGNATURE_HEADER)
    if not row.webhook_secret:
        raise Unauthorized("this show has no webhook secret yet: the admin makes one with "
                           "POST /api/shows/{id}/webhook-secret")
    if not header:
        raise Unauthorized(f"send {SIGNATURE_HEADER}: {SIGNATURE_PREFIX}<hex HMAC-SHA256 of the raw body, "
                           "keyed with the show's webhook_secret>")
    if not signature_ok(row.webhook_secret, raw, header):
        raise Unauthorized(f"the {SIGNATURE_HEADER} does not match the body (wrong secret, or the body changed)")
    if not raw.strip():
        raise Invalid("the request body is empty; send JSON", "body")
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise Invalid("the request body must be a JSON object", "body")
    return await hub(request).shows.get(show_id), body


async def post_order(request: Request) -> Response:
    """``201 {order_id, sku, qty, amount, viewer_id, placed_at, duplicate: false}``;
    the same order again: ``200`` with the same answer and ``duplicate: true``."""
    engine, body = await signed_body(request)
    events = await engine.submit({"type": "order.place", "order": body})
    order = engine.state.ledger.orders_by_id[body["order_id"]]
    answer = {"order_id": order.id, "sku": order.sku, "qty": order.qty, "amount": order.amount,
              "viewer_id": order.viewer_id, "placed_at": order.placed_at, "duplicate": not events}
    return JSONResponse(answer, status_code=201 if events else 200)


async def post_return(request: Request) -> Response:
    """``201 {order_id, qty, returned_at, returned, return_id, duplicate: false}``
    (``returned``: the order's returned units in all); a return already recorded
    (the same ``return_id``, or without one the same ``at`` and qty): ``200`` with
    ``duplicate: true`` and the recorded ``returned_at``."""
    engine, body = await signed_body(request)
    events = await engine.submit({"type": "order.return", "return": body})
    ledger = engine.state.ledger
    order = ledger.orders_by_id[body["order_id"]]
    return_id = body.get("return_id")
    if events:
        at = events[0]["returned_at"]
    elif return_id is not None:
        at = ledger.return_ids[return_id][2]
    else:
        at = body["at"]
    answer = {"order_id": order.id, "qty": body["qty"], "returned_at": at, "returned": order.returned,
              "return_id": return_id, "duplicate": not events}
    return JSONResponse(answer, status_code=201 if events else 200)


def show_zone(name: str) -> tzinfo | None:
    """The show's timezone, or None when this machine does not know it (local
    times in a CSV are then refused, naming the formats that work)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


async def import_csv(request: Request) -> Response:
    """``POST …/orders.csv`` (admin, assistant): ``{seq, lines, orders, returns,
    duplicates}``; any bad line → 422 listing every one, nothing imported."""
    who = await principal(request)
    assert who is not None
    engine = await engine_for(request, who)
    check(who.role, "orders.import")  # 403 before the body is read
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("text/csv", "application/csv"):
        raise Invalid("send the orders as CSV, with Content-Type: text/csv", "Content-Type")
    rows = parse_orders_csv(await body_bytes(request), show_zone(engine.state.timezone))
    events = await engine.execute({"type": "orders.import", "rows": rows}, who)
    seq = events[-1]["seq"] if events else engine.state.seq
    return JSONResponse({"seq": seq, **import_report(rows, events)})


routes = [
    Route("/api/shows/{show_id}/orders", post_order, methods=["POST"]),
    Route("/api/shows/{show_id}/returns", post_return, methods=["POST"]),
    Route("/api/shows/{show_id}/orders.csv", import_csv, methods=["POST"]),
]
