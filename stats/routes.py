"""The review's endpoints: ``GET /api/shows/{id}/review`` (JSON), its
``.csv`` (the minute series) and the page ``/shows/{id}/review``, for the
roles that may read the review. The numbers come from the app's ``Stats``
(``stats.keeper``), the comparisons from ``stats.previous``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from live.core.auth import REVIEW
from live.core.errors import Conflict, Forbidden, LiveError, Unauthorized
from live.core.i18n import strings
from live.core.show import ShowState
from live.http.panel import render
from live.http.web import hub, page_language, principal
from stats import report
from stats.i18n_page import strings as page_strings
from stats.keeper import stats_of
from stats.review import minutes_csv, numbers, review
from stats.series import series
from stats.tally import Tally


async def _reviewed(request: Request) -> tuple[ShowState, Tally, int]:
    """The show's review state, its tally and the time it runs to; raises
    Unauthorized, Forbidden (not a reviewer, or another show's token),
    NotFound, or Conflict for a show that has not started."""
    who = await principal(request)
    assert who is not None
    show_id = request.path_params["show_id"]
    if who.role != "admin" and who.show_id != show_id:
        raise Forbidden("this token belongs to another show")  # as engine_for: nothing learnt of this one
    if who.role not in REVIEW:
        raise Forbidden(f"the {who.role} role may not read the review")
    return await stats_of(request).reviewed(show_id)


async def full_review(request: Request) -> tuple[ShowState, dict[str, Any]]:
    state, tally, now = await _reviewed(request)
    minutes, figures = numbers(tally, now)
    return state, await stats_of(request).compared(state, review(state, minutes, figures))


async def get_review(request: Request) -> Response:
    _, body = await full_review(request)
    return JSONResponse(body)


async def get_review_csv(request: Request) -> Response:
    state, tally, now = await _reviewed(request)
    body = minutes_csv(state, series(tally, now).rows())
    headers = {"Content-Disposition": f'attachment; filename="review-{state.id}.csv"'}
    return Response(body.encode("utf-8"), media_type="text/csv; charset=utf-8", headers=headers)


def review_language(request: Request, show_language: str) -> str:
    """``?lang=`` wins; else the show's language."""
    lang = request.query_params.get("lang", "").lower()
    return "zh-CN" if lang.startswith("zh") else "en" if lang.startswith("en") else show_language


def page_headers() -> dict[str, str]:
    return {"Content-Security-Policy": report.csp(), "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer", "Cache-Control": "private, no-store"}


async def review_page(request: Request) -> Response:
    """``/shows/{id}/review``: the review as one printable page, for the REVIEW
    roles with the control panel's login; anyone else gets the panel's page
    for the error (a login hint when not logged in)."""
    try:
        state, body = await full_review(request)
    except LiveError as exc:
        lang = page_language(request)
        t = strings(lang)
        message = page_strings(lang)["error_not_started"] if isinstance(exc, Conflict) else exc.message
        if isinstance(exc, (Unauthorized, Forbidden)):  # as the control panel: with the login hint
            return render("message.html", status=exc.status, lang=lang, t=t, title=t["error"], message=message)
        return render("message.html", status=exc.status, lang=lang, t=t, title=t["error"], message=message, hint="")
    html = report.page(body, review_language(request, state.language),
                       titles=[s.title for s in state.segments], generated_at=hub(request).clock())
    return HTMLResponse(html, headers=page_headers())


routes = [
    Route("/api/shows/{show_id}/review", get_review, methods=["GET"]),
    Route("/api/shows/{show_id}/review.csv", get_review_csv, methods=["GET"]),
    Route("/shows/{show_id}/review", review_page, methods=["GET"]),
]
