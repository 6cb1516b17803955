"""Every setting, declared once as data; ``Settings.from_env`` reads them.

``server.py`` reads the environment once, at start; README.md documents each
setting (a test checks that).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    help: str


# Every setting, declared once; README.md documents each (a test checks).
SETTINGS = (
    Setting("LIVE_HOST", "127.0.0.1", "address to listen on"),
    Setting("LIVE_PORT", "8000", "port to listen on"),
    Setting("DATABASE_URL", "sqlite:///data/live.db", "journal database: sqlite:///… or postgresql://…"),
    Setting("REDIS_URL", None, "unset (or memory://): one process with the in-memory bus; redis://…: the scaled "
            "mode, several processes sharing the shows (docs/deploy.md)"),
    Setting("LIVE_REDIS_PREFIX", "live:", "scaled mode: prefix of every Redis key, so several installations can share a Redis"),
    Setting("LIVE_LEASE_MS", "5000", "scaled mode: how long a show's lease lasts unrenewed (renewed every third): "
            "a dead owner's shows move within about 1.3 times this"),
    Setting("LIVE_FORWARD_TIMEOUT_MS", "1500", "scaled mode: how long a request waits for the show's owner (or Redis) "
            "before it fails with 503 UNAVAILABLE"),
    Setting("LIVE_STREAM_LENGTH", "1000", "scaled mode: journaled batches kept in a show's Redis event stream"),
    Setting("LIVE_REUSE_PORT", "0", "1: listen with SO_REUSEPORT, so several processes on one host share LIVE_PORT"),
    Setting("LIVE_ADMIN_TOKEN", None, "admin bearer token; generated, printed once and kept (hashed) when unset"),
    Setting("LIVE_SECRET", None, "secret for signatures and pseudonyms; generated and kept when unset"),
    Setting("LIVE_PUBLIC_URL", None, "base URL printed in links (default http://LIVE_HOST:LIVE_PORT)"),
    Setting("LIVE_ALLOWED_ORIGINS", "", "extra browser origins allowed, comma-separated"),
    Setting("LIVE_TRUSTED_PROXIES", "", "reverse proxies (addresses or networks, comma-separated; * for any) "
            "whose X-Forwarded-For/-Proto are believed; empty: none"),
    Setting("LIVE_REGISTRATIONS_PER_MINUTE", "120", "viewer registrations a minute from one address"),
    Setting("LIVE_CLAIMS_PER_MINUTE", "600", "flash-sale claims over HTTP a minute from one viewer and address"),
    Setting("LIVE_COMMENT_INTERVAL_MS", "1000", "least time between two comments of one viewer"),
    Setting("LIVE_HELLOS_PER_MINUTE", "240", "socket hellos (connects and reconnects) a minute from one address"),
    Setting("LIVE_CLICKS_PER_MINUTE", "60", "tracked-link clicks counted a minute from one address (more still redirect)"),
    Setting("LIVE_INTERACTIONS_PER_MINUTE", "120", "platform event batches (POST …/interactions) a minute per show"),
    Setting("LIVE_CLAIMS_FILE", None, "word list for the compliance check (default live/data/claims.txt)"),
    Setting("LIVE_BANNED_WORDS_FILE", None, "words that hide a comment (default live/data/banned_words.txt)"),
    Setting("LIVE_BENCHMARKS_DIR", None, "a folder of your own benchmark files (*.json) beside the shipped stats/benchmarks/"),
    Setting("LIVE_DEMO", "1", "1: plan a demo show, and import a finished one, when the database has no show"),
    Setting("LIVE_LOG_LEVEL", "INFO", "logging level"),
    Setting("LIVE_REQUIRE_SERVICES", "0", "tests only: 1 makes PostgreSQL, Redis and browser tests fail instead of skip"),
    Setting("LIVE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test", "tests only: PostgreSQL"),
    Setting("LIVE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0", "tests only: Redis"),
    Setting("LIVE_CHROMIUM", "/usr/bin/chromium", "tests only: the Chromium binary Playwright drives"),
)


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = "sqlite:///data/live.db"
    redis_url: str | None = None
    redis_prefix: str = "live:"
    lease_ms: int = 5000
    forward_timeout_ms: int = 1500
    stream_length: int = 1000
    reuse_port: bool = False
    admin_token: str | None = None
    secret: str | None = None
    public_url: str | None = None
    allowed_origins: frozenset[str] = frozenset()
    trusted_proxies: tuple[str, ...] = ()
    registrations_per_minute: int = 120
    claims_per_minute: int = 600
    hellos_per_minute: int = 240
    clicks_per_minute: int = 60
    interactions_per_minute: int = 120
    comment_interval_ms: int = 1000
    claims_file: str | None = None
    banned_words_file: str | None = None
    benchmarks_dir: str | None = None
    demo: bool = True
    log_level: str = "INFO"
    print_links: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            for s in SETTINGS:
                if s.name == name:
                    value = env.get(name)
                    return value if value not in (None, "") else s.default
            raise KeyError(name)

        def number(name: str, lo: int, hi: int) -> int:
            value = (get(name) or "").strip()
            if not value.isdigit() or not lo <= int(value) <= hi:
                raise SystemExit(f"{name} must be a whole number from {lo} to {hi}, not {value!r}")
            return int(value)

        port = get("LIVE_PORT") or "8000"
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise SystemExit(f"LIVE_PORT must be a port number, not {port!r}")
        database_url = get("DATABASE_URL") or "sqlite:///data/live.db"
        if database_url == "sqlite:///data/live.db":
            database_url = f"sqlite:///{ROOT / 'data' / 'live.db'}"
        return cls(
            host=get("LIVE_HOST") or "127.0.0.1",
            port=int(port),
            database_url=database_url,
            redis_url=redis_url(get("REDIS_URL")),
            redis_prefix=get("LIVE_REDIS_PREFIX") or "live:",
            lease_ms=number("LIVE_LEASE_MS", 300, 600_000),
            forward_timeout_ms=number("LIVE_FORWARD_TIMEOUT_MS", 50, 60_000),
            stream_length=number("LIVE_STREAM_LENGTH", 10, 1_000_000),
            reuse_port=get("LIVE_REUSE_PORT") in ("1", "true", "yes"),
            admin_token=get("LIVE_ADMIN_TOKEN"),
            secret=get("LIVE_SECRET"),
            public_url=get("LIVE_PUBLIC_URL"),
            allowed_origins=frozenset(o.strip().rstrip("/") for o in (get("LIVE_ALLOWED_ORIGINS") or "").split(",") if o.strip()),
            trusted_proxies=trusted_proxies(get("LIVE_TRUSTED_PROXIES") or ""),
            registrations_per_minute=number("LIVE_REGISTRATIONS_PER_MINUTE", 1, 1_000_000),
            claims_per_minute=number("LIVE_CLAIMS_PER_MINUTE", 1, 1_000_000),
            hellos_per_minute=number("LIVE_HELLOS_PER_MINUTE", 1, 1_000_000),
            clicks_per_minute=number("LIVE_CLICKS_PER_MINUTE", 1, 1_000_000),
            interactions_per_minute=number("LIVE_INTERACTIONS_PER_MINUTE", 1, 1_000_000),
            comment_interval_ms=number("LIVE_COMMENT_INTERVAL_MS", 0, 3_600_000),
            claims_file=get("LIVE_CLAIMS_FILE"),
            banned_words_file=get("LIVE_BANNED_WORDS_FILE"),
            benchmarks_dir=get("LIVE_BENCHMARKS_DIR"),
            demo=get("LIVE_DEMO") not in ("0", "false", "no"),
            log_level=(get("LIVE_LOG_LEVEL") or "INFO").upper(),
        )


def redis_url(value: str | None) -> str | None:
    """REDIS_URL: None (one process) for unset or ``memory://``; a ``redis://``,
    ``rediss://`` or ``unix://`` URL as it is; stops the server on anything else."""
    if value is None or value.startswith("memory://"):
        return None
    if not value.startswith(("redis://", "rediss://", "unix://")):
        raise SystemExit(f"REDIS_URL must be redis://…, rediss://…, unix://… or memory://, not {value.split('://')[0]!r}://…")
    return value


def trusted_proxies(value: str) -> tuple[str, ...]:
    """LIVE_TRUSTED_PROXIES as a tuple of addresses and networks (``*``: any);
    stops the server with a message on anything else.

    uvicorn believes X-Forwarded-For and X-Forwarded-Proto only from these peers
    (``forwarded_allow_ips``); by default from none, so a client cannot pick its
    own rate-limit bucket or scheme by sending the headers itself."""
    out: list[str] = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        if item != "*":
            try:
                ipaddress.ip_network(item, strict=False) if "/" in item else ipaddress.ip_address(item)
            except ValueError:
                raise SystemExit(f"LIVE_TRUSTED_PROXIES: {item!r} is not an IP address, a network or *") from None
        out.append(item)
    return tuple(out)
