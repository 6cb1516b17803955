"""Pages for staff: the index and the control panel (jinja2 + plain JS)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from live.core.auth import REVIEW
from live.core.errors import LiveError
from live.core.i18n import strings
from live.http.web import hub, page_language, principal

TEMPLATE_DIR = Path(__file__).parent / "templates"
TEMPLATES = Environment(loader=FileSystemLoader([TEMPLATE_DIR]), autoescape=select_autoescape(["html"]))


def render(template: str, status: int = 200, csp_media: str | None = None, frames: bool = False,
           templates: Environment = TEMPLATES, **context: Any) -> HTMLResponse:
    """A page with a strict Content-Security-Policy: scripts only from /static, so a
    comment that slipped into the HTML as markup still could not run."""
    html = templates.get_template(template).render(**context)
    media = "'self'"
    source = media_source(csp_media)
    if source:
        media += f" {source}"
    return HTMLResponse(
        html,
        status_code=status,
        headers={
            "Content-Security-Policy": f"default-src 'self'; img-src 'self' https: data:; media-src {media} blob:; "
            f"connect-src 'self'; frame-ancestors {'*' if frames else chr(39) + 'none' + chr(39)}; "
            "base-uri 'none'; form-action 'self'",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


_HOST_RE = re.compile(r"[a-z0-9.-]+|\[[0-9a-f:.]+\]")


def media_source(url: str | None) -> str | None:
    """``scheme://host[:port]`` of a stream URL for the page's CSP, or None.

    Built from the parsed parts, never copied from the URL: a host such as
    ``a.com;script-src …`` would otherwise add a directive to the header, and a
    non-ASCII host (``例子.cn``) cannot travel in a header at all (IDNA, then)."""
    if not url:
        return None
    parts = urlsplit(url)
    try:
        host = (parts.hostname or "").encode("idna").decode("ascii")
        port = parts.port
    except (UnicodeError, ValueError):
        return None
    if ":" in host:
        host = f"[{host}]"
    if parts.scheme not in ("http", "https") or not _HOST_RE.fullmatch(host):
        return None
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def page_strings(lang: str) -> tuple[dict[str, str], str]:
    t = strings(lang)
    # "<" escaped so no string can close the <script> it is embedded in.
    return t, json.dumps(t, ensure_ascii=False).replace("<", "\\u003c")


async def index(request: Request) -> Response:
    lang = page_language(request)
    t, _ = page_strings(lang)
    who = await principal(request, required=False)
    shows: list[Any] = []
    if who is not None:
        shows = await hub(request).journal.list_shows(None if who.role == "admin" else [who.show_id or ""])
    return render("index.html", lang=lang, t=t, who=who, shows=shows)


async def control(request: Request) -> Response:
    """The control panel of one show, in the show's language unless ``?lang=``
    says otherwise; ``?view=prompter`` opens it as the host's prompter."""
    lang = page_language(request)
    t, t_json = page_strings(lang)
    show_id = request.path_params["show_id"]
    try:
        who = await principal(request)
        assert who is not None
        who.require_show(show_id)
        engine = await hub(request).shows.get(show_id)
    except LiveError as exc:
        return render("message.html", status=exc.status, lang=lang, t=t, title=t["error"], message=exc.message)
    lang = page_language(request, engine.state.language)
    t, t_json = page_strings(lang)
    return render(
        "control.html",
        lang=lang,
        t=t,
        t_json=t_json,
        show_id=show_id,
        title=engine.state.title,
        role=who.role,
        can_review=who.role in REVIEW,
        name=who.name,
        dashboard=who.role in REVIEW,  # the roles that may read the show's numbers
        public_url=hub(request).public_url,
        prompter=request.query_params.get("view") == "prompter",
    )


routes = [
    Route("/", index, methods=["GET"]),
    Route("/shows/{show_id}/control", control, methods=["GET"]),
]
