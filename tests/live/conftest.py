"""Fixtures for the adapter tests in tests/live: an open database on each
twin, and brokers on each twin (memory, and Redis under a key prefix of the
test's own, deleted afterwards)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from live.adapters.broker import Broker, BrokerDown, MemoryBroker
from live.adapters.db import open_database
from live.adapters.journal import Journal
from live.adapters.redisbroker import RedisBroker
from tests.conftest import REDIS_URL, service_missing


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


class Brokers:
    """Makes brokers on one service, each as another process would connect to it
    (in memory: the same one). ``prefix`` is the test's own."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.prefix = f"t{secrets.token_hex(5)}:"
        self.memory = MemoryBroker()
        self.made: list[Broker] = []

    def __call__(self) -> Broker:
        broker: Broker = self.memory if self.kind == "memory" else RedisBroker(REDIS_URL, timeout=1.0, block_ms=200)
        self.made.append(broker)
        return broker

    async def close(self) -> None:
        if self.kind == "redis":
            import redis.asyncio as redis

            client = redis.from_url(REDIS_URL)
            try:
                keys = [key async for key in client.scan_iter(match=f"{self.prefix}*")]
                if keys:
                    await client.delete(*keys)
            finally:
                await client.aclose()
        for broker in self.made:
            await broker.close()


@pytest.fixture(params=["memory", "redis"])
async def brokers(request: pytest.FixtureRequest) -> AsyncIterator[Brokers]:
    """The same test on both twins; Redis at LIVE_TEST_REDIS_URL."""
    made = Brokers(request.param)
    if request.param == "redis":
        try:
            await made().ping()
        except BrokerDown as exc:
            await made.close()
            service_missing("Redis", repr(exc))
    yield made
    await made.close()
