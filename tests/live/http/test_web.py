"""The HTTP helpers of live.http.web that decide alone: the Origin check and
the rate limiter (on a hand-moved clock, so no test depends on machine speed)."""

from __future__ import annotations

import pytest
from starlette.requests import HTTPConnection

from live.http.web import RateLimiter, origin_allowed
from tests.conftest import FakeClock


def conn(scheme: str, host: str | None) -> HTTPConnection:
    headers = [(b"host", host.encode())] if host is not None else []
    return HTTPConnection({"type": "http" if scheme.startswith("http") else "websocket", "scheme": scheme,
                           "headers": headers, "path": "/", "query_string": b""})


@pytest.mark.parametrize(
    ("origin", "scheme", "host"),
    [
        ("http://live.example", "http", "live.example"),
        ("http://live.example:80", "http", "live.example"),  # the default port, spelled out
        ("http://live.example", "http", "live.example:80"),
        ("https://live.example", "https", "live.example"),
        ("https://live.example:443", "https", "live.example"),
        ("https://live.example", "wss", "live.example"),  # a socket behind TLS
        ("http://live.example", "ws", "live.example"),
        ("http://127.0.0.1:8000", "http", "127.0.0.1:8000"),
        ("http://[::1]:8000", "ws", "[::1]:8000"),
        ("http://LIVE.example", "http", "live.EXAMPLE"),  # host names are case-insensitive
    ],
)
def test_the_same_scheme_host_and_port_is_same_origin(origin: str, scheme: str, host: str) -> None:
    assert origin_allowed(origin, conn(scheme, host), frozenset())


@pytest.mark.parametrize(
    ("origin", "scheme", "host"),
    [
        ("http://live.example", "https", "live.example"),  # plain http page driving an https site
        ("https://live.example", "http", "live.example"),
        ("http://live.example", "wss", "live.example"),
        ("http://live.example:8080", "http", "live.example"),  # another port
        ("http://live.example", "http", "live.example:8080"),
        ("https://live.example:8443", "https", "live.example"),
        ("http://127.0.0.1:8001", "http", "127.0.0.1:8000"),
        ("http://live.example.evil.example", "http", "live.example"),
        ("http://live.example:99999", "http", "live.example"),  # not a port
        ("null", "http", "live.example"),
        ("", "http", "live.example"),
        (None, "http", "live.example"),
        ("http://live.example", "http", None),  # no Host header to compare with
        ("http://live.example", "http", "live.example:x"),
    ],
)
def test_another_scheme_host_or_port_is_foreign(origin: str | None, scheme: str, host: str | None) -> None:
    assert not origin_allowed(origin, conn(scheme, host), frozenset())


def test_listed_origins_are_allowed_by_scheme_host_and_port() -> None:
    allowed = frozenset({"https://panel.example", "http://localhost:3000"})
    here = conn("https", "live.example")
    assert origin_allowed("https://panel.example", here, allowed)
    assert origin_allowed("https://panel.example:443", here, allowed)
    assert origin_allowed("http://localhost:3000", here, allowed)
    assert not origin_allowed("http://panel.example", here, allowed)
    assert not origin_allowed("http://localhost:3001", here, allowed)


# -- the rate limiter ---------------------------------------------------------------------------------


def drain(limiter: RateLimiter, key: str) -> int:
    """How many ``allow`` calls succeed now, in a row."""
    n = 0
    while limiter.allow(key):
        n += 1
        assert n < 10_000
    return n


def test_a_full_bucket_allows_the_burst_then_refuses() -> None:
    limiter = RateLimiter(per_minute=120, burst=5, clock=FakeClock())
    assert [limiter.allow("a") for _ in range(6)] == [True] * 5 + [False]


def test_the_bucket_refills_at_the_rate_on_the_given_clock() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=120, burst=5, clock=clock)  # two a second
    assert drain(limiter, "a") == 5
    clock.advance(0.499)
    assert not limiter.allow("a")  # not a whole token yet
    clock.advance(0.001)
    assert limiter.allow("a") and not limiter.allow("a")
    clock.advance(1.5)
    assert drain(limiter, "a") == 3


def test_refill_stops_at_the_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=120, burst=5, clock=clock)
    drain(limiter, "a")
    clock.advance(3600)
    assert drain(limiter, "a") == 5


def test_a_clock_set_back_neither_refills_nor_drains() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=60, burst=2, clock=clock)
    assert limiter.allow("a")
    clock.advance(-3600)
    assert limiter.allow("a") and not limiter.allow("a")
    clock.advance(1)
    assert limiter.allow("a")


def test_keys_have_their_own_buckets_and_the_oldest_are_forgotten() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=1, burst=1, clock=clock, max_keys=2)
    assert limiter.allow("a") and limiter.allow("b")
    assert not limiter.allow("a") and not limiter.allow("b")
    assert limiter.allow("c")  # a third key: the oldest ("a") is forgotten
    assert limiter.allow("a")
