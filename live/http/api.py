"""HTTP API for shows: parse → engine → respond. Listed in ``routes``."""

from __future__ import annotations

import re
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from live.core import values as v
from live.core.auth import STAFF_ROLES, Principal
from live.core.commands import SETUP_COMMANDS, check
from live.core.compliance import check_show
from live.core.csvplan import parse_rundown_csv
from live.core.errors import Forbidden, Invalid, NotFound, Unauthorized
from live.core.protocol import PUBLIC, STAFF, state_view, without_private
from live.core.show import parse_show_config
from live.http.panel import page_strings, render
from live.http.web import SESSION_COOKIE, body_bytes, hub, json_object, page_language, principal, show_row
from live.runtime.engine import ShowEngine


def new_show_id() -> str:
    return "s" + secrets.token_hex(5)


def new_webhook_secret() -> str:
    """The key a shop signs its webhooks with (192 random bits)."""
    return "wh_" + secrets.token_urlsafe(24)


def require_admin(who: Principal) -> None:
    if who.role != "admin":
        raise Forbidden(f"only admin may do this (you are {who.role})")


async def engine_for(request: Request, who: Principal) -> ShowEngine:
    show_id = request.path_params["show_id"]
    if who.role != "admin" and who.show_id != show_id:
        # A staff token of another show learns nothing about this one.
        raise Forbidden("this token belongs to another show")
    return await hub(request).shows.get(show_id)


def show_summary(engine: ShowEngine, overlay_key: str | None) -> dict[str, Any]:
    s = engine.state
    out: dict[str, Any] = {
        **s.config_dict(),
        "status": s.status,
        "created_at": s.created_at,
        "started_at": s.started_at,
        "ended_at": s.ended_at,
        "seq": s.seq,
        "products": [p.to_dict() for p in s.products],
        "segments": [seg.plan_dict() for seg in s.segments],
    }
    if overlay_key is not None:
        out["overlay_key"] = overlay_key
    return out


def links(request: Request, show_id: str, overlay_key: str) -> dict[str, str]:
    base = hub(request).public_url
    return {
        "control": f"{base}/shows/{show_id}/control",
        "overlay": f"{base}/shows/{show_id}/overlay?key={overlay_key}",
        "watch": f"{base}/shows/{show_id}/watch",
    }


async def create_show(request: Request) -> Response:
    who = await principal(request)
    assert who is not None
    require_admin(who)
    body = await json_object(request)
    config = parse_show_config(body)
    segments = body.get("segments")
    rundown = body.get("rundown")
    if rundown is not None:
        if segments is not None:
            raise Invalid("send either rundown or segments, not both", "rundown")
        segments = v.obj(rundown, "rundown").get("segments")
    h = hub(request)
    show_id = new_show_id()
    overlay_key = "ov_" + secrets.token_urlsafe(16)
    webhook_secret = new_webhook_secret()
    engine = await h.shows.create(show_id, overlay_key, config, body.get("products"), segments,
                                  webhook_secret=webhook_secret)
    out = show_summary(engine, overlay_key)
    out["webhook_secret"] = webhook_secret
    out["links"] = links(request, show_id, overlay_key)
    out["compliance"] = check_show(engine.state, h.claims)
    return JSONResponse(out, status_code=201)


async def list_shows(request: Request) -> Response:
    who = await principal(request)
    assert who is not None
    h = hub(request)
    rows = await h.journal.list_shows(None if who.role == "admin" else [who.show_id or ""])
    return JSONResponse(
        {
            "shows": [
                {"id": r.id, "title": r.title, "status": r.status, "created_at": r.created_at, "seq": r.last_seq}
                for r in rows
            ]
        }
    )


async def overlay_key_of(request: Request, show_id: str) -> str:
    return str((await show_row(request, show_id)).overlay_key)


async def get_show(request: Request) -> Response:
    who = await principal(request)
    assert who is not None
    engine = await engine_for(request, who)
    row = await show_row(request, engine.show_id)
    out = show_summary(engine, str(row.overlay_key))
    if who.role == "admin":  # the shop's key: other staff never see it
        out["webhook_secret"] = row.webhook_secret
    out["compliance"] = check_show(engine.state, hub(request).claims)
    return JSONResponse(out)


async def rotate_webhook_secret(request: Request) -> Response:
    """A new webhook secret for the show (admin); the old one stops working at once."""
    who = await principal(request)
    assert who is not None
    require_admin(who)
    show_id = request.path_params["show_id"]
    secret = new_webhook_secret()
    if not await hub(request).journal.set_webhook_secret(show_id, secret):
        raise NotFound(f"no show {show_id[:64]!r}")
    return JSONResponse({"webhook_secret": secret})


async def run(request: Request, who: Principal, command: dict[str, Any]) -> Response:
    engine = await engine_for(request, who)
    events = await engine.execute(command, who)
    body: dict[str, Any] = {"seq": events[-1]["seq"] if events else engine.state.seq,
                            "events": [without_private(e) for e in events]}
    if command.get("type") in ("products.replace", "rundown.replace"):
        body["compliance"] = check_show(engine.state, hub(request).claims)
    return JSONResponse(body)


async def put_products(request: Request) -> Response:
    who = await principal(request)
    assert who is not None
    await engine_for(request, who)
    # A wrong role is told so (403) before its body is judged (422).
    check(who.role, "products.replace")
    body = await json_object(request)
    v.no_unknown_keys(body, {"products"}, "")
    return await run(request, who, {"type": "products.replace", "products": body.get("products")})


async def put_rundown(request: Request) -> Response:
    who = await principal(request)
    assert who is not None
    await engine_for(request, who)  # 404/403 before reading a large body
    check(who.role, "rundown.replace")
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in ("text/csv", "application/csv"):
        segments: Any = parse_rundown_csv(await body_bytes(request))
    else:
        body = await json_object(request)
        v.no_unknown_keys(body, {"segments"}, "")
        segments = body.get("segments")
    return await run(request, who, {"type": "rundown.replace", "segments": segments})


async def post_command(request: Request) -> Response:
    who = await principal(request)
    assert who is not None
    command = await json_object(request)
    if command.get("type") in SETUP_COMMANDS:
        raise Invalid("use PUT …/products, PUT …/rundown, POST …/orders.csv or POST …/interactions for this", "type")
    return await run(request, who, command)


async def add_staff(request: Request) -> Response:
    who = await principal(request)
    assert who is not None
    require_admin(who)
    engine = await engine_for(request, who)
    body = await json_object(request)
    v.no_unknown_keys(body, {"name", "role"}, "")
    name = v.text(body.get("name"), "name", max_len=100)
    role = body.get("role")
    if role not in STAFF_ROLES:
        raise Invalid(f"role must be one of {', '.join(STAFF_ROLES)}", "role")
    staff_id, token, code = await hub(request).accounts.add_staff(engine.show_id, name, role)
    return JSONResponse(
        {
            "staff_id": staff_id,
            "name": name,
            "role": role,
            "token": token,
            "login_url": f"{hub(request).public_url}/login/{code}",
        },
        status_code=201,
    )


async def get_state(request: Request) -> Response:
    show_id = request.path_params["show_id"]
    key = request.headers.get("x-overlay-key") or request.query_params.get("key")
    h = hub(request)
    if key is not None and not request.headers.get("authorization"):
        if not secrets.compare_digest(key.encode(), (await overlay_key_of(request, show_id)).encode()):
            raise Unauthorized("wrong overlay key")
        engine = await h.shows.get(show_id)
        now = engine.now()
        return JSONResponse(state_view(engine.state, now, PUBLIC) | {"seq": engine.state.seq, "server_time": now})
    who = await principal(request)
    assert who is not None
    engine = await engine_for(request, who)
    now = engine.now()
    view = state_view(engine.state, now, STAFF, check_show(engine.state, h.claims))
    return JSONResponse(view | {"seq": engine.state.seq, "server_time": now})


_NEXT_SHOW_RE = re.compile(r"^/shows/([A-Za-z0-9_-]{1,32})(?:/|$)")


def wants_json(request: Request) -> bool:
    """An API client asking for JSON (and not for a page)."""
    accept = request.headers.get("accept", "").lower()
    return "application/json" in accept and "text/html" not in accept


def link_used(request: Request) -> Response:
    """403: the link was used, has expired or never was. A person opened it in a
    browser: a page saying how to get a new one; an API client asking for JSON
    gets the contract's error."""
    if wants_json(request):
        raise Forbidden("this login link is not valid: it was used already or has expired", code="LINK_USED")
    lang = page_language(request)
    t, _ = page_strings(lang)
    found = _NEXT_SHOW_RE.match(request.query_params.get("next", ""))
    command = f".venv/bin/python scripts/login.py --show {found.group(1) if found else 'ID'}"
    return render("link_used.html", status=403, lang=lang, t=t, command=command)


async def login(request: Request) -> Response:
    code = request.path_params["code"]
    h = hub(request)
    result = await h.accounts.redeem(code) if len(code) <= 100 else None
    if result is None:
        return link_used(request)
    token, who = result
    target = f"/shows/{who.show_id}/control" if who.show_id else "/"
    wanted = request.query_params.get("next", "")
    # Only a local page: a login link must not become an open redirect.
    if who.role == "admin" and wanted.startswith("/shows/") and "//" not in wanted and "\\" not in wanted:
        target = wanted
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=14 * 24 * 3600,
        httponly=True,
        samesite="lax",
        # Behind a TLS proxy the app itself sees http: LIVE_PUBLIC_URL tells.
        secure=request.url.scheme == "https" or hub(request).public_url.startswith("https://"),
        path="/",
    )
    return response


async def logout(request: Request) -> Response:
    await principal(request)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await hub(request).accounts.end_session(token)
    response = JSONResponse({"ok": True})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


routes = [
    Route("/api/shows", create_show, methods=["POST"]),
    Route("/api/shows", list_shows, methods=["GET"]),
    Route("/api/shows/{show_id}", get_show, methods=["GET"]),
    Route("/api/shows/{show_id}/products", put_products, methods=["PUT"]),
    Route("/api/shows/{show_id}/rundown", put_rundown, methods=["PUT"]),
    Route("/api/shows/{show_id}/staff", add_staff, methods=["POST"]),
    Route("/api/shows/{show_id}/webhook-secret", rotate_webhook_secret, methods=["POST"]),
    Route("/api/shows/{show_id}/commands", post_command, methods=["POST"]),
    Route("/api/shows/{show_id}/state", get_state, methods=["GET"]),
    Route("/login/{code}", login, methods=["GET"]),
    Route("/logout", logout, methods=["POST"]),
]
