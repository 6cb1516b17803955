"""What viewers see: the overlay (OBS browser source) and the watch page.

Pages only: the data they show comes over the show socket (``live.http.socket``)
and the viewer API (``live.http.viewers``).
"""

from __future__ import annotations

import secrets
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from live.core.errors import NotFound
from live.http.panel import TEMPLATE_DIR, page_strings, render
from live.http.web import hub, page_language, show_row

TEMPLATES = Environment(
    loader=FileSystemLoader([Path(__file__).parent / "templates", TEMPLATE_DIR]),
    autoescape=select_autoescape(["html"]),
)


async def overlay_page(request: Request) -> Response:
    lang = page_language(request)
    t, t_json = page_strings(lang)
    show_id = request.path_params["show_id"]
    key = request.query_params.get("key", "")
    try:
        row = await show_row(request, show_id)
    except NotFound:
        return render("message.html", templates=TEMPLATES, status=404, lang=lang, t=t, title=t["error"], message=f"no show {show_id[:40]}")
    if not secrets.compare_digest(key.encode(), str(row.overlay_key).encode()):
        return render("message.html", templates=TEMPLATES, status=401, lang=lang, t=t, title=t["error"], message="wrong overlay key")
    layers = ",".join(x for x in request.query_params.get("layers", "").split(",") if x in LAYERS) or ",".join(LAYERS)
    return render("overlay.html", templates=TEMPLATES, lang=lang, t=t, t_json=t_json, show_id=show_id, title=row.title, layers=layers,
                  frames=True)


LAYERS = ("product", "sale", "draw", "likes", "comments")


async def watch_page(request: Request) -> Response:
    lang = page_language(request)
    t, t_json = page_strings(lang)
    show_id = request.path_params["show_id"]
    try:
        engine = await hub(request).shows.get(show_id)
    except NotFound:
        return render("message.html", templates=TEMPLATES, status=404, lang=lang, t=t, title=t["error"], message=f"no show {show_id[:40]}")
    return render("watch.html", templates=TEMPLATES, lang=lang, t=t, t_json=t_json, show_id=show_id, title=engine.state.title,
                  stream_url=engine.state.stream_url, csp_media=engine.state.stream_url)


routes = [
    Route("/shows/{show_id}/overlay", overlay_page, methods=["GET"]),
    Route("/shows/{show_id}/watch", watch_page, methods=["GET"]),
]
