"""What viewers see: the overlay (OBS browser source), the watch page, and the
page that shows how to check a draw.

Pages only: the data they show comes over the show socket (``live.http.socket``)
and the viewer API (``live.http.viewers``). Every page speaks the show's
language unless ``?lang=`` says otherwise.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from live.core.errors import NotFound
from live.http.panel import TEMPLATE_DIR, page_strings, render
from live.http.web import hub, page_language, principal, show_row
from live.runtime.engine import ShowEngine

TEMPLATES = Environment(
    loader=FileSystemLoader([Path(__file__).parent / "templates", TEMPLATE_DIR]),
    autoescape=select_autoescape(["html"]),
)
VERIFY_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "verify_draw.py"

# Layer names as they go in ``?layers=``, in the order the combined overlay stacks them.
LAYERS = ("product", "sale", "draw", "likes", "comments")
# The stages an overlay is laid out on: a landscape stream and a vertical one
# (Douyin, 视频号, Kuaishou). The browser source should have the stage's size.
STAGES = {"16x9": (1920, 1080), "9x16": (1080, 1920)}
_STAGE_ALIASES = {"16x9": "16x9", "16:9": "16x9", "9x16": "9x16", "9:16": "9x16"}


async def _engine(request: Request, lang: str) -> ShowEngine | Response:
    """The show's engine, or the page saying there is no such show (404)."""
    show_id = request.path_params["show_id"]
    try:
        return await hub(request).shows.get(show_id)
    except NotFound:
        t, _ = page_strings(lang)
        return render("message.html", templates=TEMPLATES, status=404, lang=lang, t=t, title=t["error"],
                      message=t["page_no_show"])


async def overlay_page(request: Request) -> Response:
    """The overlay: ``?key=`` (required), ``?layers=`` (any of LAYERS, default all;
    unknown names are left out), ``?stage=16x9|9x16`` (default 16x9), ``?lang=``."""
    found = await _engine(request, page_language(request))
    if isinstance(found, Response):
        return found
    lang = page_language(request, found.state.language)
    t, t_json = page_strings(lang)
    show_id = request.path_params["show_id"]
    row = await show_row(request, show_id)
    key = request.query_params.get("key", "")
    if not secrets.compare_digest(key.encode(), str(row.overlay_key).encode()):
        return render("message.html", templates=TEMPLATES, status=401, lang=lang, t=t, title=t["error"],
                      message=t["page_wrong_key"])
    stage = _STAGE_ALIASES.get(request.query_params.get("stage", "16x9"))
    if stage is None:
        return render("message.html", templates=TEMPLATES, status=400, lang=lang, t=t, title=t["error"],
                      message=t["page_bad_stage"])
    layers = ",".join(x for x in request.query_params.get("layers", "").split(",") if x in LAYERS) or ",".join(LAYERS)
    width, height = STAGES[stage]
    return render("overlay.html", templates=TEMPLATES, lang=lang, t=t, t_json=t_json, show_id=show_id,
                  title=found.state.title, layers=layers, stage=stage, width=width, height=height, frames=True)


async def watch_page(request: Request) -> Response:
    found = await _engine(request, page_language(request))
    if isinstance(found, Response):
        return found
    lang = page_language(request, found.state.language)
    t, t_json = page_strings(lang)
    return render("watch.html", templates=TEMPLATES, lang=lang, t=t, t_json=t_json,
                  show_id=request.path_params["show_id"], title=found.state.title,
                  stream_url=found.state.stream_url, csp_media=found.state.stream_url)


async def draw_page(request: Request) -> Response:
    """How to check one draw: its commitment, after the reveal its seed and
    winners, and the commands that verify it (docs/draws.md)."""
    found = await _engine(request, page_language(request))
    if isinstance(found, Response):
        return found
    lang = page_language(request, found.state.language)
    t, _ = page_strings(lang)
    draw = found.state.ledger.draws.get(request.path_params["draw_id"])
    if draw is None:
        return render("message.html", templates=TEMPLATES, status=404, lang=lang, t=t, title=t["error"],
                      message=t["page_no_draw"])
    show_id = request.path_params["show_id"]
    base = hub(request).public_url
    record_path = f"/api/shows/{quote(show_id)}/draws/{quote(draw.id)}"
    return render("draw.html", templates=TEMPLATES, lang=lang, t=t, title=found.state.title, show_id=show_id,
                  record=draw.record(), record_path=record_path, record_url=base + record_path,
                  script_url=f"{base}/draws/verify_draw.py")


async def verify_script(request: Request) -> Response:
    """``scripts/verify_draw.py`` itself (standard library only), so that a viewer
    without the project can run the check."""
    return FileResponse(VERIFY_SCRIPT, media_type="text/x-python; charset=utf-8",
                        headers={"Content-Disposition": 'inline; filename="verify_draw.py"'})


def overlay_urls(base: str, show_id: str, key: str) -> list[dict[str, Any]]:
    """Every overlay URL of a show: for each stage, the combined overlay
    (``layers: "all"``) then one per layer, with the browser source's size."""
    out: list[dict[str, Any]] = []
    for stage, (width, height) in STAGES.items():
        for name in ("all", *LAYERS):
            url = f"{base}/shows/{quote(show_id)}/overlay?key={quote(key)}&stage={stage}"
            if name != "all":
                url += f"&layers={name}"
            out.append({"layers": name, "stage": stage, "width": width, "height": height, "url": url})
    return out


async def get_overlay_urls(request: Request) -> Response:
    """``GET /api/shows/{id}/overlay-urls`` (staff of the show): ``{overlays: [...]}``."""
    who = await principal(request)
    assert who is not None
    show_id = request.path_params["show_id"]
    who.require_show(show_id)
    row = await show_row(request, show_id)
    return JSONResponse({"overlays": overlay_urls(hub(request).public_url, show_id, str(row.overlay_key))})


routes = [
    Route("/shows/{show_id}/overlay", overlay_page, methods=["GET"]),
    Route("/shows/{show_id}/watch", watch_page, methods=["GET"]),
    Route("/shows/{show_id}/draws/{draw_id}", draw_page, methods=["GET"]),
    Route("/draws/verify_draw.py", verify_script, methods=["GET"]),
    Route("/api/shows/{show_id}/overlay-urls", get_overlay_urls, methods=["GET"]),
]
