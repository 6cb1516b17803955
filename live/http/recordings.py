"""Recordings: ``POST /api/shows/import`` replays one into a new show;
``GET /api/shows/{id}/events`` exports a show's journal as NDJSON.

The export carries no viewer id: every ``viewer_id`` is replaced by the
viewer's pseudonym (DESIGN.md 6.3), and keys starting with ``_`` (a draw's
seed before the reveal, who liked) are dropped, as on every other way out.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from live.core.auth import REVIEW, pseudonym
from live.core.errors import Forbidden, Invalid
from live.core.protocol import without_private
from live.core.recording import MAX_RECORDING_BYTES, parse_recording
from live.http.api import new_show_id, new_webhook_secret, require_admin
from live.http.web import body_bytes, hub, principal, show_row
from live.runtime.replay import replay

NDJSON = "application/x-ndjson"
EXPORT_CHUNK = 5_000  # journal rows read at a time
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


async def import_recording(request: Request) -> Response:
    """``201 {id, events}``; a bad line → 422 naming it, nothing imported."""
    who = await principal(request)
    assert who is not None
    require_admin(who)
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in (NDJSON, "application/ndjson"):
        raise Invalid(f"send the recording as NDJSON, with Content-Type: {NDJSON}", "Content-Type")
    recording = parse_recording(await body_bytes(request, MAX_RECORDING_BYTES))
    h = hub(request)
    engine = await replay(h.journal, recording, new_show_id(), "ov_" + secrets.token_urlsafe(16),
                          new_webhook_secret(), secret=h.secret, banned=h.shows.banned,
                          comment_interval_ms=h.shows.comment_interval_ms)
    return JSONResponse({"id": engine.show_id, "events": engine.state.seq}, status_code=201)


def pseudonymous(value: Any, names: dict[str, str], secret: bytes) -> Any:
    """``value`` with every ``viewer_id`` replaced by that viewer's pseudonym."""
    if isinstance(value, dict):
        out = {}
        for k, val in value.items():
            if k == "viewer_id" and isinstance(val, str):
                out[k] = names.get(val) or pseudonym(secret, val)
            else:
                out[k] = pseudonymous(val, names, secret) if isinstance(val, (dict, list)) else val
        return out
    if isinstance(value, list):
        return [pseudonymous(x, names, secret) if isinstance(x, (dict, list)) else x for x in value]
    return value


async def export_events(request: Request) -> Response:
    """The journal, one event a line, read in chunks; analyst and up."""
    who = await principal(request)
    assert who is not None
    show_id = request.path_params["show_id"]
    who.require_show(show_id)
    if who.role not in REVIEW:
        raise Forbidden(f"the {who.role} role may not export the journal")
    await show_row(request, show_id)
    h = hub(request)

    async def lines() -> AsyncIterator[str]:
        names: dict[str, str] = {}  # our viewer id → pseudonym, from the registrations
        after = 0
        while True:
            chunk = await h.journal.load(show_id, after=after, limit=EXPORT_CHUNK)
            if not chunk:
                return
            out = []
            for event in chunk:
                if event["type"] == "viewer.registered":
                    names[event["viewer_id"]] = event["pseudonym"]
                out.append(_encode(pseudonymous(without_private(event), names, h.secret)))
            out.append("")
            yield "\n".join(out)
            after = chunk[-1]["seq"]

    return StreamingResponse(lines(), media_type=NDJSON,
                             headers={"Content-Disposition": f'attachment; filename="{show_id}-events.ndjson"'})


routes = [
    Route("/api/shows/import", import_recording, methods=["POST"]),
    Route("/api/shows/{show_id}/events", export_events, methods=["GET"]),
]
