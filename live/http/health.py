"""``/healthz`` (the process answers) and ``/readyz`` (it can serve: the database
answers and, in the scaled mode, Redis too and the lease loop runs). A load
balancer sends traffic only to ready processes; a process shutting down
stops being ready first."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from live.http.web import hub

CHECK_SECONDS = 2.0  # a check that takes longer counts as failed


async def healthz(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def readyz(request: Request) -> Response:
    """200 ``{ok: true, checks, node?}``; 503 with the contract's error and ``checks``
    (each ``ok`` or why not) when something this process needs does not answer.
    ``node``: this process's id in the scaled mode."""
    h = hub(request)
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(h.journal.ping(), CHECK_SECONDS)
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready; its kind is enough to say so
        checks["database"] = f"unreachable ({type(exc).__name__})"
    try:
        checks.update(await asyncio.wait_for(h.shows.readiness(), CHECK_SECONDS))
    except TimeoutError:
        checks["redis"] = "no answer"
    # which process this is, in the scaled mode (a show's lease in Redis names its owner's)
    node = {"node": h.shows.node_id} if h.shows.node_id is not None else {}
    if all(value == "ok" for value in checks.values()):
        return JSONResponse({"ok": True, "checks": checks, **node})
    failing = ", ".join(f"{name}: {value}" for name, value in checks.items() if value != "ok")
    return JSONResponse({"error": {"code": "NOT_READY", "message": f"not ready ({failing})"}, "checks": checks, **node},
                        status_code=503)


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
]
