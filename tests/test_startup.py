"""What a start prints on stdout (the log, under Docker or systemd): the admin
token and one-time login links at the first start only; later starts say how
to get a link instead of minting new ones."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from live.adapters.db import logins, open_database
from server import create_app
from tests.conftest import FakeClock, make_settings

LINK = re.compile(r"/login/[A-Za-z0-9_-]{16,}")


def start(sqlite_url: str, clock: FakeClock, capsys: pytest.CaptureFixture[str], **settings: Any) -> str:
    """Start and stop the app once; returns what it printed."""
    capsys.readouterr()
    app = create_app(make_settings(sqlite_url, print_links=True, demo=True, **settings), clock=clock)
    with TestClient(app):
        pass
    return capsys.readouterr().out


def login_codes(sqlite_url: str) -> int:
    import asyncio

    async def count() -> int:
        engine = await open_database(sqlite_url)
        try:
            async with engine.connect() as conn:
                return int((await conn.execute(select(func.count()).select_from(logins))).scalar_one())
        finally:
            await engine.dispose()

    return asyncio.run(count())


@pytest.mark.parametrize("admin_token", [None, "set-by-LIVE_ADMIN_TOKEN"], ids=["generated-admin", "admin-from-env"])
def test_login_links_are_printed_at_the_first_start_only(
    sqlite_url: str, clock: FakeClock, capsys: pytest.CaptureFixture[str], admin_token: str | None
) -> None:
    first = start(sqlite_url, clock, capsys, admin_token=admin_token)
    assert len(LINK.findall(first)) == 2  # the control panels of the demo show and the finished one
    assert ("Admin token" in first) == (admin_token is None)
    codes = login_codes(sqlite_url)
    for _ in range(2):
        later = start(sqlite_url, clock, capsys, admin_token=admin_token)
        assert LINK.findall(later) == [] and "Admin token" not in later
        assert "scripts/login.py --show ID" in later  # how to get one
        assert "/shows/demo/overlay" not in later  # nor the overlay key
    assert login_codes(sqlite_url) == codes  # and no unused codes piled up


def test_a_start_that_is_not_asked_to_prints_no_link(
    sqlite_url: str, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    with TestClient(create_app(make_settings(sqlite_url, demo=True), clock=clock)):
        pass
    assert LINK.findall(capsys.readouterr().out) == []


def test_an_empty_database_gets_the_demo_show_and_a_finished_one_quickly(
    sqlite_url: str, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    import time

    began = time.perf_counter()
    app = create_app(make_settings(sqlite_url, demo=True), clock=clock)
    with TestClient(app) as client:
        took = time.perf_counter() - began
        headers = {"Authorization": "Bearer test-admin-token"}
        shows = {s["id"]: s for s in client.get("/api/shows", headers=headers).json()["shows"]}
        assert shows["demo"]["status"] == "draft"
        assert shows["demo-past"]["status"] == "ended" and shows["demo-past"]["seq"] > 1000
        state = client.get("/api/shows/demo-past/state", headers=headers).json()
        assert state["show"]["ended_at"] < clock() - 2 * 86_400_000
        export = client.get("/api/shows/demo-past/events", headers=headers)
        assert len(export.text.splitlines()) == shows["demo-past"]["seq"]
    assert took < 10  # about a second on a quiet machine (the budget: a couple of seconds)
    with TestClient(create_app(make_settings(sqlite_url, demo=True), clock=clock)) as client:  # not again
        assert len(client.get("/api/shows", headers={"Authorization": "Bearer test-admin-token"}).json()["shows"]) == 2
