"""``GET /api/shows/{id}/draws/{draw_id}/winners.csv``: a drawn draw's winners
for prize delivery, full nicknames included, so staff only (admin, host,
assistant: those who run the show on air)."""

from __future__ import annotations

from datetime import UTC, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from live.core import winners
from live.core.auth import WINNERS
from live.core.errors import Forbidden
from live.http.api import engine_for
from live.http.web import principal


def show_zone(name: str) -> tzinfo:
    """The show's timezone; UTC when this machine does not know its name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


async def winners_csv(request: Request) -> Response:
    """The CSV (``?lang=en|zh-CN``, default the show's language). Raises
    Unauthorized, Forbidden (another show's token; a role outside WINNERS),
    NotFound (show or draw), Conflict (not drawn yet), Invalid (``lang``)."""
    who = await principal(request)
    assert who is not None
    engine = await engine_for(request, who)
    if who.role not in WINNERS:
        raise Forbidden(f"the {who.role} role may not read the winners' names")
    state = engine.state
    lang = winners.language(request.query_params.get("lang"), state.language)
    draw_id = request.path_params["draw_id"]
    body = winners.to_csv(winners.rows(state, draw_id, show_zone(state.timezone), lang), lang)
    filename = f"{state.id}-{draw_id}-winners.csv"
    return Response(body.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "no-store"})


routes = [
    Route("/api/shows/{show_id}/draws/{draw_id}/winners.csv", winners_csv, methods=["GET"]),
]
