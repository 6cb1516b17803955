"""Staff tokens, one-time login links, browser sessions and kept secrets.

Only SHA-256 hashes of tokens and codes are stored. Tokens are made here with
``secrets``; nothing in this module logs a token.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from live.adapters.db import logins, sessions, settings, staff
from live.core.auth import Principal, hash_token

LOGIN_TTL_MS = 24 * 3600 * 1000
SESSION_TTL_MS = 14 * 24 * 3600 * 1000


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(24)}"


class Accounts:
    def __init__(self, engine: AsyncEngine, clock: Callable[[], int], admin_hash: str) -> None:
        self.engine = engine
        self.clock = clock
        self._admin_hash = admin_hash  # SHA-256 of the admin token

    async def add_staff(self, show_id: str, name: str, role: str) -> tuple[str, str, str]:
        """Returns ``(staff_id, token, login_code)``."""
        staff_id = "u_" + secrets.token_hex(6)
        token = new_token("st")
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(staff).values(
                    id=staff_id,
                    show_id=show_id,
                    name=name,
                    role=role,
                    token_hash=hash_token(token),
                    created_at=self.clock(),
                )
            )
        code = await self.login_code(role, show_id, name, staff_id)
        return staff_id, token, code

    async def login_code(self, role: str, show_id: str | None, name: str, staff_id: str | None = None) -> str:
        code = secrets.token_urlsafe(24)
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(logins).values(
                    code_hash=hash_token(code),
                    role=role,
                    show_id=show_id,
                    staff_id=staff_id,
                    name=name,
                    expires_at=self.clock() + LOGIN_TTL_MS,
                )
            )
        return code

    async def redeem(self, code: str) -> tuple[str, Principal] | None:
        """Use a login code once; returns ``(session_token, principal)`` or None."""
        now = self.clock()
        h = hash_token(code)
        async with self.engine.begin() as conn:
            used = await conn.execute(
                update(logins)
                .where(logins.c.code_hash == h, logins.c.used_at.is_(None), logins.c.expires_at > now)
                .values(used_at=now)
            )
            if used.rowcount != 1:
                return None
            row = (await conn.execute(select(logins).where(logins.c.code_hash == h))).one()
            token = new_token("se")
            await conn.execute(
                insert(sessions).values(
                    token_hash=hash_token(token),
                    role=row.role,
                    show_id=row.show_id,
                    staff_id=row.staff_id,
                    name=row.name,
                    expires_at=now + SESSION_TTL_MS,
                )
            )
        return token, Principal(row.role, row.show_id, row.name, row.staff_id)

    async def identify(self, token: str | None) -> Principal | None:
        """The principal behind an admin, staff or session token, or None."""
        if not token or len(token) > 200:
            return None
        h = hash_token(token)
        if hmac.compare_digest(h, self._admin_hash):
            return Principal("admin", None, "admin")
        async with self.engine.connect() as conn:
            if token.startswith("st_"):
                row = (await conn.execute(select(staff).where(staff.c.token_hash == h))).first()
                if row is not None:
                    return Principal(row.role, row.show_id, row.name, row.id)
            elif token.startswith("se_"):
                row = (await conn.execute(select(sessions).where(sessions.c.token_hash == h))).first()
                if row is not None and row.expires_at > self.clock():
                    return Principal(row.role, row.show_id, row.name, row.staff_id)
        return None

    async def hosts(self) -> dict[str, list[str]]:
        """The names of each show's staff members with the ``host`` role (sorted,
        each once), by show id; a show without one is not in it."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(staff.c.show_id, staff.c.name).where(staff.c.role == "host"))).all()
        found: dict[str, set[str]] = {}
        for row in rows:
            found.setdefault(row.show_id, set()).add(row.name)
        return {show_id: sorted(names) for show_id, names in found.items()}

    async def end_session(self, token: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(sessions).where(sessions.c.token_hash == hash_token(token)))


async def kept_secret(engine: AsyncEngine, key: str, make: Callable[[], str]) -> tuple[str, bool]:
    """The value stored under ``key``, made and stored on first use.
    Returns ``(value, made_now)``; safe when two processes race."""
    async with engine.connect() as conn:
        row = (await conn.execute(select(settings.c.value).where(settings.c.key == key))).first()
    if row is not None:
        return row.value, False
    value = make()
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(settings).values(key=key, value=value))
    except IntegrityError:
        return await kept_secret(engine, key, make)
    return value, True
