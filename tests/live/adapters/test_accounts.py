"""Tokens, login links, sessions and kept secrets, on SQLite and PostgreSQL (``db_url``)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from live.adapters.accounts import LOGIN_TTL_MS, SESSION_TTL_MS, Accounts, kept_secret
from live.adapters.db import metadata, open_database
from live.core.auth import hash_token
from tests.conftest import FakeClock

ADMIN_TOKEN = "ad_the-admin-token-for-these-tests"


@pytest.fixture
def accounts(db: AsyncEngine, clock: FakeClock) -> Accounts:
    return Accounts(db, clock, hash_token(ADMIN_TOKEN))


async def all_cells(db: AsyncEngine) -> list[str]:
    """Every value in every table, as text."""
    cells: list[str] = []
    async with db.connect() as conn:
        for table in metadata.sorted_tables:
            for row in (await conn.execute(select(table))).all():
                cells.extend(str(value) for value in row)
    return cells


async def test_staff_token_identifies_the_staff_member_and_role(accounts: Accounts) -> None:
    staff_id, token, _code = await accounts.add_staff("s1", "小王", "host")

    who = await accounts.identify(token)

    assert who is not None
    assert (who.role, who.show_id, who.name, who.staff_id) == ("host", "s1", "小王", staff_id)


@pytest.mark.parametrize("token", [None, "", "st_not-a-real-token", "se_not-a-real-token", "random", "x" * 500])
async def test_an_unknown_token_identifies_nobody(accounts: Accounts, token: str | None) -> None:
    await accounts.add_staff("s1", "host", "host")

    assert await accounts.identify(token) is None


async def test_admin_token_identifies_admin(accounts: Accounts) -> None:
    who = await accounts.identify(ADMIN_TOKEN)

    assert who is not None
    assert (who.role, who.show_id) == ("admin", None)
    assert await accounts.identify(ADMIN_TOKEN + "x") is None


async def test_a_login_code_works_exactly_once(accounts: Accounts) -> None:
    staff_id, _token, code = await accounts.add_staff("s1", "Ana", "analyst")

    first = await accounts.redeem(code)
    second = await accounts.redeem(code)

    assert first is not None
    _session, who = first
    assert (who.role, who.show_id, who.name, who.staff_id) == ("analyst", "s1", "Ana", staff_id)
    assert second is None


async def test_racing_redemptions_of_one_code_open_one_session(accounts: Accounts) -> None:
    code = await accounts.login_code("admin", None, "admin")

    results = await asyncio.gather(*(accounts.redeem(code) for _ in range(5)))

    assert sum(r is not None for r in results) == 1


async def test_a_login_code_expires(accounts: Accounts, clock: FakeClock) -> None:
    fresh = await accounts.login_code("admin", None, "admin")
    stale = await accounts.login_code("admin", None, "admin")

    clock.advance(LOGIN_TTL_MS / 1000 - 1)
    assert await accounts.redeem(fresh) is not None
    clock.advance(1)
    assert await accounts.redeem(stale) is None


async def test_a_session_token_identifies_until_it_expires_or_ends(accounts: Accounts, clock: FakeClock) -> None:
    code = await accounts.login_code("assistant", "s1", "Bo")
    redeemed = await accounts.redeem(code)
    assert redeemed is not None
    session, _ = redeemed

    who = await accounts.identify(session)
    assert who is not None
    assert (who.role, who.show_id, who.name) == ("assistant", "s1", "Bo")

    clock.advance(SESSION_TTL_MS / 1000)
    assert await accounts.identify(session) is None


async def test_ending_a_session_logs_it_out(accounts: Accounts) -> None:
    code = await accounts.login_code("admin", None, "admin")
    redeemed = await accounts.redeem(code)
    assert redeemed is not None
    session, _ = redeemed

    await accounts.end_session(session)

    assert await accounts.identify(session) is None


async def test_tokens_and_codes_are_stored_only_as_hashes(accounts: Accounts, db: AsyncEngine) -> None:
    _sid, staff_token, staff_code = await accounts.add_staff("s1", "Host", "host")
    admin_code = await accounts.login_code("admin", None, "admin")
    redeemed = await accounts.redeem(admin_code)
    assert redeemed is not None
    session, _ = redeemed
    secrets_made = [staff_token, staff_code, admin_code, session, ADMIN_TOKEN]

    cells = await all_cells(db)

    assert len(cells) > 10  # the rows are there…
    for raw in secrets_made:
        assert not any(raw in cell for cell in cells), "a raw token is stored"
    # …and what is stored is the hash.
    assert hash_token(staff_token) in cells
    assert hash_token(session) in cells


async def test_kept_secret_is_made_once_and_then_kept(db: AsyncEngine, db_url: str) -> None:
    made = iter(["first", "second", "third"])

    value, made_now = await kept_secret(db, "secret", lambda: next(made))
    again, made_again = await kept_secret(db, "secret", lambda: next(made))

    assert (value, made_now) == ("first", True)
    assert (again, made_again) == ("first", False)
    # Another process (another engine on the same database) gets the same value.
    other = await open_database(db_url)
    try:
        assert await kept_secret(other, "secret", lambda: "other") == ("first", False)
        assert await kept_secret(other, "another", lambda: "x") == ("x", True)
    finally:
        await other.dispose()


async def test_racing_first_calls_agree_on_one_secret(db: AsyncEngine) -> None:
    values = iter(range(100))

    results = await asyncio.gather(*(kept_secret(db, "k", lambda: f"v{next(values)}") for _ in range(8)))

    assert len({value for value, _ in results}) == 1
    assert sum(made for _, made in results) == 1


async def test_hosts_are_the_names_of_each_shows_host_staff(accounts: Accounts) -> None:
    await accounts.add_staff("s1", "Ann", "host")
    await accounts.add_staff("s1", "Bo", "assistant")
    await accounts.add_staff("s1", "Ann", "host")  # a second login of the same host
    await accounts.add_staff("s2", "小雅", "host")
    await accounts.add_staff("s2", "Ann", "host")
    await accounts.add_staff("s3", "Cy", "analyst")
    assert await accounts.hosts() == {"s1": ["Ann"], "s2": ["Ann", "小雅"]}
