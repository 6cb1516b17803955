"""HTTP helpers shared by the route modules: reading JSON bodies, finding who is
asking (bearer token or session cookie), checking Origin, page language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import ClientDisconnect, HTTPConnection, Request

from live.core.auth import Principal
from live.core.errors import Forbidden, Invalid, LiveError, NotFound, TooLarge, Unauthorized
from live.core.limits import Buckets
from live.core.values import parse_json
from live.runtime.hub import Hub

MAX_BODY = 1024 * 1024
SESSION_COOKIE = "live_session"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# No request of the contract nests deeper than a few levels (a rundown is
# body → segments → segment → talking_points → string).


def hub(conn: HTTPConnection) -> Hub:
    return conn.state.hub  # type: ignore[no-any-return]


class ClientGone(LiveError):
    """The client hung up before its body was read. Not a server error: nothing is
    logged, and the answer (400) goes nowhere."""

    status = 400
    code = "CLIENT_GONE"


async def show_row(conn: HTTPConnection, show_id: str) -> Any:
    """The show's row (id, title, status, overlay key…); raises NotFound."""
    row = await hub(conn).journal.show_row(show_id)
    if row is None:
        raise NotFound(f"no show {show_id[:64]!r}")
    return row


def _too_large(limit: int) -> TooLarge:
    size = f"{limit // (1024 * 1024)} MiB" if limit % (1024 * 1024) == 0 else f"{limit // 1024} KiB"
    return TooLarge(f"request body larger than {size}", "body")


async def body_bytes(request: Request, limit: int = MAX_BODY) -> bytes:
    """The raw body, at most ``limit`` bytes (default ``MAX_BODY``); raises TooLarge
    (413, field ``body``), or ClientGone when the client disconnects mid-upload.

    The declared length is checked first so a huge upload is refused unread;
    the stream is counted too, for chunked bodies that declare nothing."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
    except ClientDisconnect:
        raise ClientGone("the client disconnected before its request body arrived", "body") from None
    return b"".join(chunks)


async def json_body(request: Request) -> Any:
    """The body parsed as JSON; raises Invalid (field ``body``, or the path of a
    bad string) when empty, malformed, nested too deeply or not Unicode."""
    raw = await body_bytes(request)
    if not raw.strip():
        raise Invalid("the request body is empty; send JSON", "body")
    return parse_json(raw)


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object; raises Invalid (field ``body``) for anything else."""
    data = await json_body(request)
    if not isinstance(data, dict):
        raise Invalid("the request body must be a JSON object", "body")
    return data


DEFAULT_PORTS = {"http": 80, "https": 443}
# A socket's scope says ws/wss; its page was served over http/https.
_PAGE_SCHEME = {"ws": "http", "wss": "https", "http": "http", "https": "https"}


def _origin(scheme: str, netloc: str) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` with the default port filled in, or None when
    the scheme is not http(s) or the host or port is malformed."""
    if scheme not in DEFAULT_PORTS or not netloc or any(c in netloc for c in "/?#@\\"):
        return None
    parts = urlsplit(f"//{netloc}")
    try:
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return scheme, parts.hostname, DEFAULT_PORTS[scheme] if port is None else port


def parse_origin(origin: str) -> tuple[str, str, int] | None:
    """An Origin header (``scheme://host[:port]``) as ``(scheme, host, port)``, or None."""
    parts = urlsplit(origin.strip())
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    return _origin(parts.scheme.lower(), parts.netloc)


def origin_allowed(origin: str | None, conn: HTTPConnection, allowed: frozenset[str]) -> bool:
    """Same origin (scheme, host and port; a default port may be left out) or listed
    in LIVE_ALLOWED_ORIGINS. A missing Origin is allowed only for non-browser
    clients, which the caller decides.

    The request's scheme is the ASGI scope's (``ws`` → ``http``, ``wss`` →
    ``https``), which uvicorn takes from X-Forwarded-Proto of a trusted proxy
    (LIVE_TRUSTED_PROXIES); the host and port are the Host header's."""
    if not origin:
        return False
    theirs = parse_origin(origin)
    if theirs is None:
        return False
    if theirs in {parse_origin(a) for a in allowed}:
        return True
    scheme = _PAGE_SCHEME.get(str(conn.scope.get("scheme", "")), "")
    ours = _origin(scheme, conn.headers.get("host", ""))
    return ours is not None and theirs == ours


def bearer(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


async def principal(conn: HTTPConnection, required: bool = True) -> Principal | None:
    """Who sends this request. Bearer tokens first; else the session cookie, and
    then an unsafe method must come from an allowed Origin (CSRF)."""
    h = hub(conn)
    token = bearer(conn)
    if token is not None:
        who = await h.accounts.identify(token)
        if who is None:
            raise Unauthorized("the bearer token is not valid")
        return who
    cookie = conn.cookies.get(SESSION_COOKIE)
    if cookie:
        who = await h.accounts.identify(cookie)
        if who is not None:
            method = conn.scope.get("method", "GET")
            if method in UNSAFE and not origin_allowed(conn.headers.get("origin"), conn, h.allowed_origins):
                raise Forbidden("cross-site request refused (Origin does not match)", code="BAD_ORIGIN")
            return who
    if required:
        raise Unauthorized("send Authorization: Bearer <token> or open your login link")
    return None


def page_language(conn: HTTPConnection, show_language: str | None = None) -> str:
    """``?lang=`` wins; then the show's own language when the page belongs to a show
    (an OBS browser source or a viewer's phone says nothing useful about the show);
    else Accept-Language, English unless Chinese is preferred."""
    lang = conn.query_params.get("lang", "")
    if lang.lower().startswith("zh"):
        return "zh-CN"
    if lang.lower().startswith("en"):
        return "en"
    if show_language in ("en", "zh-CN"):
        return show_language
    for part in conn.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return "en"


class RateLimiter:
    """Token buckets by key (a client address) on ``clock`` (the app's, in
    milliseconds: tests move it by hand); see ``live.core.limits.Buckets``."""

    def __init__(self, per_minute: float, burst: float, clock: Callable[[], int], max_keys: int = 100_000) -> None:
        self.buckets = Buckets(per_minute, burst, max_keys)
        self.clock = clock

    def allow(self, key: str) -> bool:
        """Takes a token from ``key``'s bucket; returns False when it has none."""
        return self.buckets.allow(key, self.clock())


# A person registers once per show; a script registering thousands is refused.
# Generous, because many real viewers share one address behind carrier NAT.
# The rates a minute are settings (LIVE_REGISTRATIONS_PER_MINUTE,
# LIVE_CLAIMS_PER_MINUTE, LIVE_HELLOS_PER_MINUTE); this many may come at once,
# or the rate when lower.
REGISTRATIONS_BURST = 60
CLAIMS_BURST = 60
HELLOS_BURST = 60
# A person clicks a product link a few times; a bot clicking it thousands of
# times would inflate the show's clicks (LIVE_CLICKS_PER_MINUTE).
CLICKS_BURST = 20
# A platform connector sends a batch every second or so; a burst after a
# reconnect catches up (LIVE_INTERACTIONS_PER_MINUTE, per show).
INTERACTIONS_BURST = 30


def limiter(conn: HTTPConnection, name: str) -> RateLimiter:
    """This app's limiter ``name`` (``registrations``, ``claims``, ``hellos``, ``clicks``,
    ``interactions``),
    made on first use: each app has its own buckets."""
    h = hub(conn)
    if name not in h.limits:
        rate, burst = {"registrations": (h.registrations_per_minute, REGISTRATIONS_BURST),
                       "claims": (h.claims_per_minute, CLAIMS_BURST),
                       "hellos": (h.hellos_per_minute, HELLOS_BURST),
                       "clicks": (h.clicks_per_minute, CLICKS_BURST),
                       "interactions": (h.interactions_per_minute, INTERACTIONS_BURST)}[name]
        # A rate set past a burst a second (a load test's LIVE_HELLOS_PER_MINUTE)
        # lets a second's worth come at once: a server that handles hellos faster
        # than its clock's millisecond would otherwise refuse a burst of them.
        h.limits[name] = RateLimiter(per_minute=rate, burst=max(min(burst, rate), rate / 60), clock=h.clock)
    found: RateLimiter = h.limits[name]
    return found


def client_key(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client else "unknown"
