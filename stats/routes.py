"""The review endpoints and the ``stats.tick`` publisher: the stats' only I/O.

``Stats`` keeps a ``Tally`` per show (the few most recently used), brought
up to date before each use from the engine's reconnect history when it holds
the missing events (they are journaled events, so it is the journal) and
from the journal otherwise. The review and ``stats.tick`` read the same
tally with the same ``now``, so they say the same numbers.

``Stats.run`` (started by the app's lifespan) looks every POLL_SECONDS for
live shows followed by staff sockets and sends each one ``stats.tick``
through the bus (``notify``: staff subscribers only, no seq, not journaled)
when a second of the show's clock has passed since its last one. Each tick
reads only the events since the last (the tally grows) and recomputes the
series vectorised over the tally's columns; if that ever costs more than
BUDGET of a second, the show's ticks space out so they never take more.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import OrderedDict
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from live.adapters.accounts import Accounts
from live.adapters.journal import Journal
from live.core.auth import REVIEW
from live.core.errors import Conflict, Forbidden, LiveError, Unauthorized
from live.core.failures import describe
from live.core.i18n import strings
from live.core.protocol import STAFF
from live.core.show import ShowState
from live.http.api import engine_for
from live.http.panel import render
from live.http.web import hub, page_language, principal
from live.runtime.engine import ShowEngine
from live.runtime.hub import Hub
from stats import compare, report
from stats.benchmarks import Benchmarks
from stats.benchmarks import load as load_benchmarks
from stats.i18n_page import strings as page_strings
from stats.metrics import metrics
from stats.review import minutes_csv, numbers, review, tick
from stats.series import series
from stats.tally import Tally

log = logging.getLogger("stats")

POLL_SECONDS = 0.25  # how often the publisher looks (real time)
TICK_MS = 1_000  # at most one stats.tick a second of the show's clock
BUDGET = 0.1  # the share of the time a show's ticks may spend computing
KEEP = 8  # tallies kept (shows reviewed or followed recently)
PREVIOUS = 10  # the most recent earlier shows a review compares with
PAST_KEEP = 256  # earlier shows' metrics kept, each until its journal grows


class Stats:
    """Tallies by show, and the ``stats.tick`` publisher (see the module's docstring)."""

    def __init__(self, hub: Hub, keep: int = KEEP, benchmarks: Benchmarks | None = None) -> None:
        self.hub = hub
        self.keep = keep
        self.benchmarks = benchmarks if benchmarks is not None else load_benchmarks()
        self._past: OrderedDict[str, tuple[int, dict[str, Any] | None]] = OrderedDict()  # show → (last_seq, figures)
        self._tallies: OrderedDict[str, Tally] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}
        self._last_tick: dict[str, int] = {}  # show → the show-clock time of its last tick
        self._interval: dict[str, int] = {}  # show → ms between its ticks (TICK_MS, or more when costly)
        self.cost_seconds: dict[str, float] = {}  # show → what its last tick took (for the benchmark and logs)

    async def tally(self, engine: ShowEngine) -> Tally:
        """The show's tally, up to date with its journal."""
        show_id = engine.show_id
        lock = self._locks.setdefault(show_id, asyncio.Lock())
        async with lock:
            tally = self._tallies.get(show_id)
            if tally is None or tally.broken:
                tally = Tally()
            try:
                await self._catch_up(engine, tally)
            finally:
                self._tallies[show_id] = tally
                self._tallies.move_to_end(show_id)
                while len(self._tallies) > self.keep:
                    gone, _ = self._tallies.popitem(last=False)
                    self._locks.pop(gone, None)
            return tally

    async def _catch_up(self, engine: ShowEngine, tally: Tally) -> None:
        history = engine.history  # the latest journaled events, contiguous, in seq order
        missing = engine.state.seq - tally.seq
        if missing <= 0:
            return
        if missing <= len(history) and history[-1]["seq"] == engine.state.seq:
            tally.add(itertools.islice(history, len(history) - missing, None))
            return
        async for chunk in self.hub.journal.scan(engine.show_id, after=tally.seq):
            tally.add(chunk)

    async def compared(self, state: ShowState, body: dict[str, Any]) -> dict[str, Any]:
        """The review ``body`` with its ``benchmark`` and ``previous`` (``compared``)."""
        found = await compared(self.hub.journal, self.hub.accounts, self.benchmarks, state, body, self._past)
        while len(self._past) > PAST_KEEP:
            self._past.popitem(last=False)
        return found

    # -- stats.tick ----------------------------------------------------------------

    async def run(self) -> None:
        """Publish ticks until cancelled."""
        while True:
            await asyncio.sleep(POLL_SECONDS)
            await self.tick_all()

    async def tick_all(self) -> int:
        """One round: a tick to the staff of each live show that is due; returns how many."""
        sent = 0
        for show_id in self.hub.bus.followed(STAFF):
            try:
                sent += await self.tick(show_id)
            except Exception as exc:  # noqa: BLE001 - one show's failure must not stop the others' ticks
                log.error("stats.tick of show %s failed: %s", show_id, describe(exc))
        return sent

    async def tick(self, show_id: str) -> bool:
        """Send the show's staff a ``stats.tick`` if it is live and due; returns whether it was sent."""
        engine = await self.hub.shows.get(show_id)
        if engine.state.status != "live":
            self._last_tick.pop(show_id, None)
            return False
        last = self._last_tick.get(show_id)
        if last is not None and engine.now() - last < self._interval.get(show_id, TICK_MS):
            return False
        began = time.perf_counter()
        tally = await self.tally(engine)
        now = engine.now()  # after the catch-up: no event the tally holds is later
        message = tick(*numbers(tally, now))
        cost = time.perf_counter() - began
        self.cost_seconds[show_id] = cost
        self._interval[show_id] = max(TICK_MS, round(cost / BUDGET * 1000))
        self._last_tick[show_id] = now
        self.hub.bus.notify(show_id, message, STAFF, REVIEW)
        return True


def stats_of(conn: HTTPConnection) -> Stats:
    found: Stats = conn.state.stats
    return found


# -- the previous shows and the benchmark ---------------------------------------------


async def show_metrics(journal: Journal, row: Any) -> dict[str, Any] | None:
    """An ended show's ``{id, title, started_at, metrics}`` (None if it never
    started), tallied from its journal: the one place that reads a previous
    show's numbers (a stored review would be read here)."""
    tally = Tally()
    async for chunk in journal.scan(row.id):
        tally.add(chunk)
    if tally.start is None:
        return None
    return {"id": row.id, "title": row.title, "started_at": tally.start, "metrics": metrics(tally)}


async def earlier_shows(journal: Journal, accounts: Accounts, show_id: str,
                        cache: OrderedDict[str, tuple[int, dict[str, Any] | None]] | None = None,
                        ) -> tuple[str, list[str], list[dict[str, Any]]]:
    """``(basis, hosts, shows)``: the show's hosts (the names of its staff with
    the host role) and the metrics of the same host's earlier shows, newest
    first, at most PREVIOUS: ended shows created before this one with a host of
    the same name (basis ``host``). A show with no named host compares with
    every earlier ended show in the database, all made by its one admin
    account (basis ``account``). ``cache`` keeps each show's metrics until its
    journal grows (a late order or return)."""
    rows = await journal.list_shows()  # newest first
    this = next((r for r in rows if r.id == show_id), None)
    if this is None:
        return "account", [], []
    hosts = await accounts.hosts()
    mine = hosts.get(show_id, [])
    earlier = [r for r in rows if r.id != show_id and r.status == "ended" and r.created_at < this.created_at]
    if mine:
        earlier = [r for r in earlier if set(hosts.get(r.id, ())) & set(mine)]
    found = []
    for row in earlier[:PREVIOUS]:
        hit = None if cache is None else cache.get(row.id)
        if hit is None or hit[0] != row.last_seq:
            hit = (row.last_seq, await show_metrics(journal, row))
        if cache is not None:
            cache[row.id] = hit
            cache.move_to_end(row.id)
        if hit[1] is not None:
            found.append(hit[1])
    return ("host" if mine else "account"), mine, found


async def compared(journal: Journal, accounts: Accounts, benchmarks: Benchmarks, state: ShowState,
                   body: dict[str, Any],
                   cache: OrderedDict[str, tuple[int, dict[str, Any] | None]] | None = None) -> dict[str, Any]:
    """The review ``body`` with ``benchmark`` (the one the show's ``benchmark``
    field picks) and ``previous`` (the same host's earlier shows)."""
    figures = body["metrics"]
    basis, hosts, earlier = await earlier_shows(journal, accounts, state.id, cache)
    return {
        **body,
        "benchmark": compare.benchmark(benchmarks.pick(state.benchmark), figures, state.benchmark),
        "previous": compare.previous(figures, earlier, basis, hosts),
    }


# -- the endpoints ------------------------------------------------------------------


async def _reviewed(request: Request) -> tuple[ShowEngine, Tally, int]:
    """The show's engine, its tally and the time it runs to; raises
    Unauthorized, Forbidden (not a reviewer, or another show's token),
    NotFound, or Conflict for a show that has not started."""
    who = await principal(request)
    assert who is not None
    engine = await engine_for(request, who)
    if who.role not in REVIEW:
        raise Forbidden(f"the {who.role} role may not read the review")
    if engine.state.status == "draft":
        raise Conflict("the show has not started: there is nothing to review yet")
    tally = await stats_of(request).tally(engine)
    return engine, tally, engine.now()


async def full_review(request: Request) -> tuple[ShowEngine, dict[str, Any]]:
    engine, tally, now = await _reviewed(request)
    minutes, figures = numbers(tally, now)
    return engine, await stats_of(request).compared(engine.state, review(engine.state, minutes, figures))


async def get_review(request: Request) -> Response:
    _, body = await full_review(request)
    return JSONResponse(body)


async def get_review_csv(request: Request) -> Response:
    engine, tally, now = await _reviewed(request)
    body = minutes_csv(engine.state, series(tally, now).rows())
    headers = {"Content-Disposition": f'attachment; filename="review-{engine.show_id}.csv"'}
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
        engine, body = await full_review(request)
    except LiveError as exc:
        lang = page_language(request)
        t = strings(lang)
        message = page_strings(lang)["error_not_started"] if isinstance(exc, Conflict) else exc.message
        if isinstance(exc, (Unauthorized, Forbidden)):  # as the control panel: with the login hint
            return render("message.html", status=exc.status, lang=lang, t=t, title=t["error"], message=message)
        return render("message.html", status=exc.status, lang=lang, t=t, title=t["error"], message=message, hint="")
    html = report.page(body, review_language(request, engine.state.language),
                       titles=[s.title for s in engine.state.segments], generated_at=hub(request).clock())
    return HTMLResponse(html, headers=page_headers())


routes = [
    Route("/api/shows/{show_id}/review", get_review, methods=["GET"]),
    Route("/api/shows/{show_id}/review.csv", get_review_csv, methods=["GET"]),
    Route("/shows/{show_id}/review", review_page, methods=["GET"]),
]


def start(hub: Hub, benchmarks: Benchmarks | None = None) -> tuple[Stats, asyncio.Task[Any]]:
    """The app's Stats and its running publisher (the lifespan cancels it)."""
    stats = Stats(hub, benchmarks=benchmarks)
    return stats, asyncio.ensure_future(stats.run())
