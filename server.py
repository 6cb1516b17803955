"""live-companion server: settings, lifespan, error rendering, routes, main().

``python server.py`` serves on the embedded default (SQLite file under
``data/``, in-memory bus) and plans a demo show on an empty database.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from live.adapters.accounts import Accounts, kept_secret
from live.adapters.broker import open_broker
from live.adapters.bus import MemoryBus, open_bus
from live.adapters.db import open_database
from live.adapters.journal import FencingError, Journal
from live.core.auth import hash_token
from live.core.compliance import parse_word_list
from live.core.demo import DEMO
from live.core.errors import LiveError, Unavailable
from live.core.failures import describe
from live.core.show import parse_show_config
from live.http.serving import DrainingServer, drain, reuse_port_socket
from live.runtime.fleet import FleetShows
from live.runtime.hub import Hub
from live.runtime.node import Node
from live.runtime.shows import Shows
from live.settings import Settings

ROOT = Path(__file__).resolve().parent
log = logging.getLogger("live")


def wall_clock() -> int:
    return int(time.time() * 1000)


def announce(text: str) -> None:
    """Startup lines for the person at the terminal (stdout, not the log)."""
    print(text, flush=True)


async def plan_demo(hub: Hub) -> None:
    config = parse_show_config({k: val for k, val in DEMO.items() if k not in ("products", "segments")})
    overlay_key = "ov_" + secrets.token_urlsafe(16)
    show_id = "demo"
    await hub.shows.create(show_id, overlay_key, config, DEMO["products"], DEMO["segments"],
                           webhook_secret="wh_" + secrets.token_urlsafe(24))
    announce(f"Planned the demo show {show_id!r}.")


# The finished demo show: a simulated recording (scripts/simulate.py) with a
# fixed seed, imported on an empty database. Small enough to take about a second.
PAST_DEMO = {"seed": 2024, "minutes": 40, "viewers": 250}


async def import_past_demo(hub: Hub) -> None:
    """Import one finished demo show, as ``POST /api/shows/import`` would, dated
    three days back (its returns two days after it, so before now)."""
    from live.core.recording import parse_recording
    from live.runtime.replay import replay
    from scripts.simulate import REALISTIC, ndjson, simulate

    start = (hub.clock() - 3 * 86_400_000) // 60_000 * 60_000
    lines, _ = simulate(start=start, **PAST_DEMO, **REALISTIC)
    show_id = "demo-past"
    await replay(hub.journal, parse_recording(ndjson(lines)), show_id, "ov_" + secrets.token_urlsafe(16),
                 "wh_" + secrets.token_urlsafe(24), secret=hub.secret, banned=hub.shows.banned,
                 comment_interval_ms=hub.shows.comment_interval_ms)
    announce(f"Imported the finished demo show {show_id!r} from a simulated recording.")


def login_command() -> str:
    """The shell command that prints a new login link on this machine
    (``.venv/bin/python scripts/login.py`` when started from the checkout)."""
    here = Path.cwd()

    def shown(path: Path) -> str:
        return str(path.relative_to(here)) if path.is_relative_to(here) else str(path)

    return f"{shown(Path(sys.executable))} {shown(ROOT / 'scripts' / 'login.py')}"


async def print_links(hub: Hub) -> None:
    """One-time admin login links to each show's control panel (up to 5), and its overlay URL.

    Each link is a credential written to stdout, which is the log under Docker
    or systemd: the lifespan prints them at the first start only."""
    rows = await hub.journal.list_shows()
    for row in rows[:5]:
        code = await hub.accounts.login_code("admin", None, "admin")
        announce(f"\n  {row.title}  [{row.status}]")
        announce(f"  control panel (one-time admin login, 24 h): {hub.public_url}/login/{code}?next=/shows/{row.id}/control")
        announce(f"  overlay for OBS:  {hub.public_url}/shows/{row.id}/overlay?key={row.overlay_key}")
        announce(f"  vertical (9:16):  {hub.public_url}/shows/{row.id}/overlay?key={row.overlay_key}&stage=9x16")
    announce("")


def open_shows(settings: Settings, journal: Journal, bus: MemoryBus, clock: Any, **options: Any) -> Shows:
    """The registry of shows: this process's alone, or, with REDIS_URL, shared
    with the other processes through Redis (``FleetShows``)."""
    if settings.redis_url is None:
        return Shows(journal, bus, clock, **options)
    node = Node(open_broker(settings.redis_url, timeout=settings.forward_timeout_ms / 1000),
                prefix=settings.redis_prefix, timeout=settings.forward_timeout_ms / 1000,
                stream_length=settings.stream_length)
    return FleetShows(journal, bus, clock, node, lease_ms=settings.lease_ms, **options)


def create_app(settings: Settings | None = None, clock: Any = wall_clock) -> Starlette:
    settings = settings or Settings.from_env()
    from stats.benchmarks import BenchmarkError
    from stats.benchmarks import load as load_benchmarks

    try:  # checked now, like the settings: a bad file stops the start, never a review
        benchmarks = load_benchmarks(settings.benchmarks_dir)
    except BenchmarkError as exc:
        raise SystemExit(f"benchmark file: {exc}") from None
    public_url = (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        bus = open_bus(settings.redis_url)
        engine = await open_database(settings.database_url)
        journal = Journal(engine)
        generated_admin = None
        if settings.admin_token:
            admin_hash = hash_token(settings.admin_token)
        else:
            candidate = "ad_" + secrets.token_urlsafe(24)
            admin_hash, made = await kept_secret(engine, "admin_token_sha256", lambda: hash_token(candidate))
            generated_admin = candidate if made else None
        secret = settings.secret or (await kept_secret(engine, "secret", lambda: secrets.token_hex(32)))[0]
        claims_path = Path(settings.claims_file) if settings.claims_file else ROOT / "live" / "data" / "claims.txt"
        claims = parse_word_list(claims_path.read_text(encoding="utf-8"))
        banned_path = (Path(settings.banned_words_file) if settings.banned_words_file
                       else ROOT / "live" / "data" / "banned_words.txt")
        banned = parse_word_list(banned_path.read_text(encoding="utf-8"))
        accounts = Accounts(engine, clock, admin_hash)
        hub = Hub(
            shows=open_shows(settings, journal, bus, clock, secret=secret.encode(), banned=banned,
                             comment_interval_ms=settings.comment_interval_ms),
            journal=journal,
            accounts=accounts,
            bus=bus,
            clock=clock,
            secret=secret.encode(),
            claims=claims,
            public_url=public_url,
            allowed_origins=settings.allowed_origins,
            registrations_per_minute=settings.registrations_per_minute,
            claims_per_minute=settings.claims_per_minute,
            hellos_per_minute=settings.hellos_per_minute,
            clicks_per_minute=settings.clicks_per_minute,
            interactions_per_minute=settings.interactions_per_minute,
        )
        hub.shows.start()
        resumed = await hub.shows.load_live()
        if resumed:
            log.info("resumed %d live show(s) from the journal: %s", len(resumed), ", ".join(resumed))
        no_shows = not await journal.show_ids()
        # The first start: the admin token was just made, or there is no show yet.
        first_start = generated_admin is not None or no_shows
        if settings.demo and no_shows:
            try:
                await plan_demo(hub)
                await import_past_demo(hub)
            except FencingError:
                pass  # several processes started on an empty database: another one planned it
            except Unavailable:
                log.warning("no demo show planned: Redis is unreachable")
        app.state.hub = hub
        if generated_admin is not None:
            announce(f"Admin token (shown once; keep it, or set LIVE_ADMIN_TOKEN): {generated_admin}")
        if settings.print_links:
            if first_start:
                await print_links(hub)
            announce(f"New login link: {login_command()} --show ID   ·   API: {public_url}/api/shows")
        stats, publisher = start_stats(hub, benchmarks)
        app.state.stats = stats
        app.state.drain = lambda: drain(hub)  # a graceful shutdown's first step (DrainingServer)
        try:
            yield {"hub": hub, "stats": stats}
        finally:
            publisher.cancel()
            await asyncio.gather(publisher, return_exceptions=True)
            await hub.shows.close()  # in the scaled mode: hands the shows over, if drain did not
            await bus.close()
            await engine.dispose()

    from live.http.api import routes as api_routes
    from live.http.health import routes as health_routes
    from live.http.interactions import routes as interaction_routes
    from live.http.links import routes as link_routes
    from live.http.panel import routes as panel_routes
    from live.http.recordings import routes as recording_routes
    from live.http.shop import routes as shop_routes
    from live.http.socket import routes as socket_routes
    from live.http.viewers import routes as viewer_routes
    from live.http.winners import routes as winner_routes
    from overlays.pages import routes as page_routes
    from stats.keeper import start as start_stats
    from stats.routes import routes as stats_routes

    routes = [
        *health_routes,
        *recording_routes,  # before api_routes: /api/shows/import is not a show id
        *api_routes,
        *shop_routes,
        *interaction_routes,
        *link_routes,
        *socket_routes,
        *viewer_routes,
        *winner_routes,
        *stats_routes,
        *page_routes,
        *panel_routes,
        Mount("/static", app=StaticFiles(directory=ROOT / "static"), name="static"),
    ]
    return App(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={LiveError: live_error, HTTPException: http_error, Exception: server_error},
    )


# The scope key ``server_error`` marks an error it has logged and answered.
LOGGED = "live.logged_error"


class App(Starlette):
    """Starlette, but an unhandled error of a request ends with ``server_error``.

    Starlette re-raises it after the 500 has been sent "so that servers can log
    it", and uvicorn then logs its traceback with its message, which for a
    database error holds the statement's parameters. ``server_error`` has
    logged it already, by kind and place only."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except Exception as exc:
            if scope.get(LOGGED) is not exc:
                raise


async def live_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LiveError)
    return JSONResponse({"error": exc.to_dict()}, status_code=exc.status)


_HTTP_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
}


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (unknown route, wrong method…) in the contract's shape."""
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
    message = exc.detail if isinstance(exc.detail, str) and exc.detail else "error"
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=exc.status_code, headers=exc.headers)


def loggable_path(path: str) -> str:
    """The path with one-time login codes masked: they are credentials."""
    if path.startswith("/login/"):
        return "/login/***"
    return path[:200]


async def server_error(request: Request, exc: Exception) -> Response:
    """500 in the contract's shape; the log gets the error's kind and place, not its
    message nor traceback text (a message may hold a client's text or a secret)."""
    log.error("unhandled error on %s %s: %s", request.method, loggable_path(request.url.path), describe(exc))
    request.scope[LOGGED] = exc
    return JSONResponse({"error": {"code": "INTERNAL", "message": "internal error; see the server log"}}, status_code=500)


class NoPayloads(logging.Filter):
    """Drops the DEBUG lines of the websockets library that echo what crossed
    the wire: every frame (a hello carries its token) and every handshake
    header (the session cookie). Returns False for those records."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg[:2] in ("< ", "> "))


class NoExceptionText(logging.Filter):
    """On a handler: a record carrying a traceback gets the error's kind and place
    instead (``describe``), for every logger, ours and the libraries'. An
    exception's text may hold a client's text or a secret (a database error
    repeats the statement's parameters). Returns True: the record is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None:
            record.msg = f"{record.getMessage()}: {describe(exc)}"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


def keep_secrets_out_of_logs() -> None:
    """Even at LIVE_LOG_LEVEL=DEBUG no token, login code, overlay key or viewer
    text reaches the log: aiosqlite logs every statement with its parameters
    (the overlay key, nicknames, comments), so it stays at INFO; websockets'
    frame and header lines are filtered out; and no handler writes an
    exception's text (``NoExceptionText``). uvicorn logs through the same
    handlers (``log_config=None``)."""
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, logging.getLogger().getEffectiveLevel()))
    for name in ("uvicorn.error", "websockets", "websockets.server", "websockets.protocol"):
        logging.getLogger(name).addFilter(NoPayloads())
    for handler in logging.getLogger().handlers:
        handler.addFilter(NoExceptionText())


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How ``main`` runs uvicorn (tests serve with the same options)."""
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level.lower(),
        # uvicorn's sans-I/O websockets protocol (its "auto" choice today, named so
        # it stays): the one whose transport the direct lane writes to (live/http/wire.py).
        "ws": "websockets-sansio",
        "ws_max_size": 64 * 1024,
        "ws_per_message_deflate": False,
        # Keepalive pings every 20 s; a viewer on a busy phone network gets a
        # minute to answer before the socket is declared dead.
        "ws_ping_interval": 20.0,
        "ws_ping_timeout": 60.0,
        # Login links carry a one-time code in the path: keep URLs out of logs.
        "access_log": False,
        "server_header": False,
        # X-Forwarded-For / -Proto are believed from LIVE_TRUSTED_PROXIES only.
        # uvicorn's own default believes them from 127.0.0.1, where any local
        # client (or a proxy passing the client's header through) could pick its
        # own address and so its own rate-limit bucket.
        "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": list(settings.trusted_proxies),
        # uvicorn's records go to the root handlers main() configured (and
        # filtered): no handlers of its own.
        "log_config": None,
    }


def main() -> None:
    import uvicorn

    from live.runtime import collector

    settings = Settings.from_env()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    keep_secrets_out_of_logs()
    app = create_app(replace(settings, print_links=True))
    base = (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")
    bus = f"redis, keys {settings.redis_prefix}*" if settings.redis_url else "memory"
    announce(f"live-companion on {base}  (database: {settings.database_url.split('://')[0]}, bus: {bus})")
    server = DrainingServer(uvicorn.Config(app, **uvicorn_options(settings)))
    collector.tune()
    server.run(sockets=[reuse_port_socket(settings.host, settings.port)] if settings.reuse_port else None)
    sys.exit(0 if server.started else 3)


if __name__ == "__main__":
    main()
