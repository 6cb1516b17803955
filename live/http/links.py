"""Tracked links: ``GET /go/{show_id}/{sku}`` counts the click and redirects to
the product's stored url (never anywhere a request names: no open redirect).

Who clicked is known only from the click cookie that registering on the watch
page sets (``live_click``, HttpOnly, for ``/go/{show_id}`` only; see
``live.core.auth.click_token``): tokens never travel in URLs. A person (or a
bot) clicking more than LIVE_CLICKS_PER_MINUTE from one address is still sent
to the product, but those clicks are not counted.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from live.core.auth import click_viewer
from live.core.errors import NotFound
from live.core.links import target
from live.http.api import wants_json
from live.http.panel import page_strings, render
from live.http.web import client_key, hub, limiter, page_language

CLICK_COOKIE = "live_click"


def not_found(request: Request, exc: NotFound, key: str) -> Response:
    """404: the contract's error for an API client, else a page saying what is wrong."""
    if wants_json(request):
        raise exc
    lang = page_language(request)
    t, _ = page_strings(lang)
    return render("message.html", status=404, lang=lang, t=t, title=t["go_title"], message=t[key], hint="")


async def go(request: Request) -> Response:
    show_id, sku = request.path_params["show_id"], request.path_params["sku"]
    h = hub(request)
    try:
        engine = await h.shows.get(show_id)
    except NotFound as exc:
        return not_found(request, exc, "go_no_show")
    try:
        product = target(engine.state, sku)
        # HEAD is what link previews send: it says where the link goes, and counts nothing.
        if request.method == "GET" and limiter(request, "clicks").allow(client_key(request)):
            viewer_id = click_viewer(h.secret, show_id, request.cookies.get(CLICK_COOKIE))
            command = {"type": "link.click", "sku": product.sku}
            if viewer_id is not None:
                command["_viewer"] = viewer_id
            await engine.submit(command)
    except NotFound as exc:
        return not_found(request, exc, "go_no_url" if engine.state.product(sku) is not None else "go_no_product")
    assert product.url is not None  # target() refuses a product without one
    return RedirectResponse(product.url, status_code=302, headers={"Cache-Control": "no-store"})


routes = [Route("/go/{show_id}/{sku}", go, methods=["GET"])]
