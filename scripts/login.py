#!/usr/bin/env python3
"""Print a fresh one-time login link, read straight from the server's database.

Run it with the project's Python (the system one has no SQLAlchemy), from the
checkout:

    .venv/bin/python scripts/login.py                  admin, lands on the show list
    .venv/bin/python scripts/login.py --show ID        admin, lands on that show's control panel
    .venv/bin/python scripts/login.py --show ID --role host --name 小王
                                                       a new staff member of that show

Reads DATABASE_URL, LIVE_PUBLIC_URL, LIVE_HOST and LIVE_PORT like ``server.py``.
The link works once, for 24 hours; opening it sets the browser's session cookie.
Exit status: 0 printed, 1 no database yet, 2 bad arguments or unknown show.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a file: make server.py and live/ importable
    sys.path.insert(0, str(ROOT))

from sqlalchemy.engine import make_url

from live.adapters.accounts import Accounts
from live.adapters.db import open_database
from live.adapters.journal import Journal
from live.core.auth import STAFF_ROLES
from live.settings import Settings


class Refused(Exception):
    """A reason to print instead of a link; ``status`` is the exit status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=".venv/bin/python scripts/login.py",
        description="Print a one-time login link (it works once, for 24 hours).",
        epilog="Without --show: an admin link to the list of shows. "
        "Reads DATABASE_URL, LIVE_PUBLIC_URL, LIVE_HOST and LIVE_PORT like server.py.",
    )
    parser.add_argument("--show", help="show id: land on its control panel (admin) or join its staff (--role)")
    parser.add_argument("--role", choices=STAFF_ROLES, help="a staff login of --show instead of admin")
    parser.add_argument("--name", help="the staff member's name (default: the role)")
    args = parser.parse_args(argv)
    if args.role and not args.show:
        parser.error("--role needs --show")
    if args.name and not args.role:
        parser.error("--name goes with --role")
    return args


def database_missing(url: str) -> str | None:
    """Why there is no database to log in to yet, or None. Opening a missing
    SQLite file would create an empty one, which helps nobody."""
    u = make_url(url)
    path = u.database
    if u.get_backend_name() == "sqlite" and path and path != ":memory:" and not os.path.exists(path):
        return f"no database at {path}: start the server first (scripts/serve)"
    return None


async def make_link(settings: Settings, show: str | None, role: str | None, name: str | None) -> str:
    """The login URL; raises Refused when the database or the show is missing."""
    why = database_missing(settings.database_url)
    if why is not None:
        raise Refused(why, 1)
    base = (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")
    engine = await open_database(settings.database_url)
    try:
        if show is not None and await Journal(engine).show_row(show) is None:
            raise Refused(f"no show {show!r} in {settings.database_url.split('://')[0]} database", 2)
        # The admin token's hash is not needed to make a code.
        accounts = Accounts(engine, lambda: int(time.time() * 1000), admin_hash="")
        if role is not None:
            assert show is not None
            _staff_id, _token, code = await accounts.add_staff(show, name or role, role)
            return f"{base}/login/{code}"
        code = await accounts.login_code("admin", None, "admin")
        return f"{base}/login/{code}" + (f"?next=/shows/{show}/control" if show else "")
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        link = asyncio.run(make_link(Settings.from_env(), args.show, args.role, args.name))
    except Refused as refused:
        print(refused, file=sys.stderr)
        return refused.status
    print(link)
    return 0


if __name__ == "__main__":
    sys.exit(main())
