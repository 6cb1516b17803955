"""HTTP helpers shared by the route modules: reading JSON bodies, finding who is
asking (bearer token or session cookie), checking Origin, page language."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection, Request

from live.core.auth import Principal
from live.core.errors import Forbidden, Invalid, TooLarge, Unauthorized
from live.core.values import parse_json
from live.runtime.hub import Hub

MAX_BODY = 1024 * 1024
SESSION_COOKIE = "live_session"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# No request of the contract nests deeper than a few levels (a rundown is
# body → segments → segment → talking_points → string).


def hub(conn: HTTPConnection) -> Hub:
    return conn.state.hub  # type: ignore[no-any-return]


async def body_bytes(request: Request) -> bytes:
    """The raw body, at most ``MAX_BODY`` bytes; raises TooLarge (413, field ``body``).

    The declared length is checked first so a huge upload is refused unread;
    the stream is counted too, for chunked bodies that declare nothing."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise TooLarge(f"request body larger than {MAX_BODY // 1024} KiB", "body")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise TooLarge(f"request body larger than {MAX_BODY // 1024} KiB", "body")
        chunks.append(chunk)
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


def origin_allowed(origin: str | None, host: str | None, allowed: frozenset[str]) -> bool:
    """Same-origin (scheme-agnostic host:port match) or listed in LIVE_ALLOWED_ORIGINS.
    A missing Origin is allowed only for non-browser clients, which the caller decides."""
    if origin is None:
        return False
    if origin in allowed:
        return True
    netloc = urlsplit(origin).netloc
    return bool(host) and netloc == host


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
            if method in UNSAFE and not origin_allowed(
                conn.headers.get("origin"), conn.headers.get("host"), h.allowed_origins
            ):
                raise Forbidden("cross-site request refused (Origin does not match)", code="BAD_ORIGIN")
            return who
    if required:
        raise Unauthorized("send Authorization: Bearer <token> or open your login link")
    return None


def page_language(conn: HTTPConnection) -> str:
    """``?lang=`` wins, then Accept-Language; English unless Chinese is preferred."""
    lang = conn.query_params.get("lang", "")
    if lang.lower().startswith("zh"):
        return "zh-CN"
    if lang.lower().startswith("en"):
        return "en"
    for part in conn.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return "en"


class RateLimiter:
    """Token buckets by key (a client address), in memory, on the monotonic clock.
    Bounded: the oldest keys are forgotten past ``max_keys``."""

    def __init__(self, per_minute: float, burst: float, max_keys: int = 100_000) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        tokens, stamp = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - stamp) * self.rate)
        allowed = tokens >= 1
        self._buckets[key] = (tokens - 1 if allowed else tokens, now)
        if len(self._buckets) > self.max_keys:
            self._buckets.pop(next(iter(self._buckets)))
        return allowed


def client_key(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client else "unknown"
