"""Platform events: ``POST /api/shows/{id}/interactions`` takes a platform
connector's batch (admin or assistant token). Parse → engine → respond; the
core decides (live/core/platform.py).

Rate-limited per show (LIVE_INTERACTIONS_PER_MINUTE batches a minute), counted
only once the token and its role are checked, so nobody else can use up a
show's connector budget.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from live.core import values as v
from live.core.commands import check
from live.core.errors import RateLimited
from live.http.api import engine_for
from live.http.web import json_object, limiter, principal


async def post_interactions(request: Request) -> Response:
    """``200 {seq, accepted, duplicates, dropped}``; 401 / 403 / 404, 429 over the
    rate, 409 unless live, 413 over the batch size, 422 naming ``events[i].field``
    (nothing of the batch written)."""
    who = await principal(request)
    assert who is not None
    engine = await engine_for(request, who)
    check(who.role, "platform.interactions")  # 403 before the body is read
    if not limiter(request, "interactions").allow(engine.show_id):
        raise RateLimited("too many platform batches for this show; send fewer, larger batches "
                          "(LIVE_INTERACTIONS_PER_MINUTE)")
    body = await json_object(request)
    v.no_unknown_keys(body, {"events"}, "")
    return JSONResponse(await engine.interactions(body.get("events")))


routes = [Route("/api/shows/{show_id}/interactions", post_interactions, methods=["POST"])]
