"""Viewer-facing API: register a viewer, claim over HTTP, read a draw's record."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from live.core import values as v
from live.core.auth import Principal, click_token, viewer_of
from live.core.context import lookup
from live.core.errors import Invalid, LiveError, RateLimited, Unauthorized
from live.http.links import CLICK_COOKIE
from live.http.web import bearer, client_key, hub, json_object, limiter, principal


async def register_viewer(request: Request) -> Response:
    show_id = request.path_params["show_id"]
    if not limiter(request, "registrations").allow(client_key(request)):
        raise RateLimited("too many viewer registrations from this address; wait a minute")
    engine = await hub(request).shows.get(show_id)
    body = await json_object(request)
    v.no_unknown_keys(body, {"nickname"}, "")
    try:
        who = await principal(request, required=False)
    except Exception:  # noqa: BLE001 - a bad staff credential just makes a normal viewer
        who = None
    staff = who is not None and who.may_read(show_id)
    viewer_id, token = await engine.register(body.get("nickname"), staff)
    response = JSONResponse({"viewer_id": viewer_id, "token": token, "nickname": body.get("nickname", "").strip()},
                            status_code=201)
    # Says whose click a tracked link of this show is (and nothing else): a
    # cookie for /go/{show} only, since a token never travels in a URL.
    response.set_cookie(CLICK_COOKIE, click_token(hub(request).secret, show_id, viewer_id), max_age=14 * 24 * 3600,
                        path=f"/go/{show_id}", httponly=True, samesite="lax",
                        secure=request.url.scheme == "https" or hub(request).public_url.startswith("https://"))
    return response


def viewer_principal(request: Request, show_id: str) -> Principal:
    token = bearer(request)
    if token is None:
        raise Unauthorized("send Authorization: Bearer <viewer token> (from POST /api/shows/{id}/viewers)")
    viewer_id = viewer_of(hub(request).secret, show_id, token)
    if viewer_id is None:
        raise Unauthorized("the viewer token is not valid for this show")
    return Principal("viewer", show_id, "viewer", viewer_id)


async def http_claim(request: Request) -> Response:
    """``POST …/flash-sales/{sale_id}/claims`` with ``Idempotency-Key``: 200 with the
    order, or 409 with SOLD_OUT / LIMIT_REACHED / NOT_OPEN / ENDED; 422
    IDEMPOTENCY_MISMATCH when the key already won another sale or qty."""
    show_id = request.path_params["show_id"]
    who = viewer_principal(request, show_id)
    if not limiter(request, "claims").allow(f"{client_key(request)}:{who.staff_id}"):
        raise RateLimited("too many claims; slow down")
    engine = await hub(request).shows.get(show_id)
    key = request.headers.get("idempotency-key")
    if not key or len(key) > 64:
        raise Invalid("send an Idempotency-Key header of 1–64 characters (it makes retries safe)", "Idempotency-Key")
    body = await json_object(request)
    v.no_unknown_keys(body, {"qty"}, "")
    try:
        result = await engine.claim(who.staff_id or "", {"sale_id": request.path_params["sale_id"],
                                                         "qty": body.get("qty", 1), "request_id": key})
    except LiveError as exc:
        if exc.field == "request_id":  # the core's name for what HTTP sends as the header
            exc.field = "Idempotency-Key"
        raise
    if result["ok"]:
        return JSONResponse(result)
    return JSONResponse({"error": {"code": result["code"], "message": result["message"]}}, status_code=409)


async def draw_record(request: Request) -> Response:
    engine = await hub(request).shows.get(request.path_params["show_id"])
    return JSONResponse(lookup(engine.state.ledger.draws, request.path_params["draw_id"], "draw", None).record())


routes = [
    Route("/api/shows/{show_id}/viewers", register_viewer, methods=["POST"]),
    Route("/api/shows/{show_id}/flash-sales/{sale_id}/claims", http_claim, methods=["POST"]),
    Route("/api/shows/{show_id}/draws/{draw_id}", draw_record, methods=["GET"]),
]
