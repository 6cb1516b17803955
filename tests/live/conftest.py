"""Fixtures for the adapter tests in tests/live: an open database on each twin."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from live.adapters.db import open_database
from live.adapters.journal import Journal


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[AsyncEngine]:
    """The tables, created on a fresh SQLite file or an emptied PostgreSQL database."""
    engine = await open_database(db_url)
    yield engine
    await engine.dispose()


async def show_row(journal: Journal, show_id: str) -> Any:
    """The show's projection row, which must exist."""
    row = await journal.show_row(show_id)
    assert row is not None
    return row
