"""Shared fixtures: databases (SQLite and PostgreSQL twins), the app, a fake
clock, and a real server on a real socket.

PostgreSQL tests skip when no server answers, and browser tests when Chromium
or Playwright is missing, unless LIVE_REQUIRE_SERVICES=1 (set by .ci/run),
which makes them fail instead.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from live.settings import Settings
from server import create_app
from tests.waiting import CEILING, wait_until

ADMIN = "test-admin-token"
PG_URL = os.environ.get("LIVE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("LIVE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_SERVICES = os.environ.get("LIVE_REQUIRE_SERVICES") == "1"


def service_missing(what: str, why: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (LIVE_REQUIRE_SERVICES=1) but unavailable: {why}")
    pytest.skip(f"{what} unavailable: {why}")


class FakeClock:
    """Server time in ms that tests move by hand."""

    def __init__(self, start: int = 1_700_000_000_000) -> None:
        self.t = start

    def __call__(self) -> int:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += round(seconds * 1000)

    def advance_ms(self, ms: int) -> None:
        self.t += ms


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def _pg_admin(sql: str, database: str = "test") -> None:
    import asyncpg

    base = PG_URL.rsplit("/", 1)[0].replace("postgresql://", "postgres://")
    conn = await asyncpg.connect(f"{base}/{database}", timeout=CEILING)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session; dropped at the end."""
    name = f"live_test_{secrets.token_hex(4)}"
    try:
        asyncio.run(_pg_admin(f"CREATE DATABASE {name}"))
    except Exception as exc:  # noqa: BLE001 - no server, no driver, refused: all mean "unavailable"
        service_missing("PostgreSQL", repr(exc))
    yield PG_URL.rsplit("/", 1)[0] + "/" + name
    try:
        asyncio.run(_pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    except Exception as exc:  # noqa: BLE001 - cleanup must not fail the run
        print(f"could not drop test database {name}: {exc!r}")


TABLES = ("events", "shows", "staff", "logins", "sessions", "settings", "tallies")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on both twins: a new SQLite file, or an emptied PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'live.db'}"
    return emptied(request.getfixturevalue("pg_database"))


def emptied(url: str) -> str:
    """The session's PostgreSQL database with every table emptied; returns its URL."""
    name = url.rsplit("/", 1)[1]

    async def truncate() -> None:
        import asyncpg

        conn = await asyncpg.connect(url.replace("postgresql://", "postgres://"), timeout=CEILING)
        try:
            exists = await conn.fetchval("SELECT to_regclass('public.events') IS NOT NULL")
            if exists:
                await conn.execute("TRUNCATE " + ", ".join(TABLES))
        finally:
            await conn.close()

    asyncio.run(truncate())
    assert name.startswith("live_test_")
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'live.db'}"


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "admin_token": ADMIN,
        "secret": "test-secret",
        "demo": False,
        "public_url": "http://testserver",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def app(sqlite_url: str, clock: FakeClock) -> Any:
    return create_app(make_settings(sqlite_url), clock=clock)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN}"}


PRODUCTS = [
    {"sku": "A1", "title": "Serum 30ml", "list_price": "299.00", "live_price": "199.00", "stock": 100,
     "url": "https://shop.example.com/a1"},
    {"sku": "B2", "title": "Cream 50g", "list_price": "159", "live_price": "99.5", "stock": 50},
]
SEGMENTS = [
    {"kind": "warmup", "title": "Warm-up", "planned_seconds": 600, "talking_points": ["hello"]},
    {"kind": "product", "title": "Serum", "sku": "A1", "planned_seconds": 900},
    {"kind": "product", "title": "Cream", "sku": "B2", "planned_seconds": 900},
    {"kind": "closing", "title": "Bye", "planned_seconds": 300},
]


def new_show(client: TestClient, **extra: Any) -> dict[str, Any]:
    body = {"title": "Test show", "products": PRODUCTS, "segments": SEGMENTS, **extra}
    r = client.post("/api/shows", json=body, headers=admin_headers())
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class LiveServer:
    """uvicorn serving the app on a real port in a background thread."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int | None = None, **options: Any) -> None:
        """``options`` go to ``uvicorn.Config`` (``server.uvicorn_options(settings)``
        serves as ``python server.py`` does)."""
        import uvicorn

        self.host = host
        self.port = port or free_port(host)
        config = uvicorn.Config(
            app, **{"log_level": "warning", "ws_max_size": 64 * 1024, "ws_per_message_deflate": False,
                    **options, "host": host, "port": self.port, "lifespan": "on"},
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def start(self) -> LiveServer:
        self.thread.start()
        wait_until(lambda: self.server.started or not self.thread.is_alive(), "uvicorn to start")
        if not self.server.started:
            raise RuntimeError("server did not start (its thread ended)")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(CEILING)


@pytest.fixture
def live_server(sqlite_url: str) -> Iterator[LiveServer]:
    """The app on a real socket with the wall clock (for socket and browser tests)."""
    server = LiveServer(create_app(make_settings(sqlite_url))).start()
    yield server
    server.stop()


@pytest.fixture
def clocked_server(sqlite_url: str, clock: FakeClock) -> Iterator[LiveServer]:
    """The app on a real socket whose server time is the test's ``clock``: grace
    periods, rate windows and sale openings move only when the test advances it."""
    server = LiveServer(create_app(make_settings(sqlite_url), clock=clock)).start()
    yield server
    server.stop()
