"""The Hub: the resources a running server shares (made by ``server.py``'s
lifespan, reached by handlers through ``request.state.hub``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from live.adapters.accounts import Accounts
from live.adapters.bus import MemoryBus
from live.adapters.journal import Journal
from live.runtime.shows import Shows


@dataclass
class Hub:
    shows: Shows
    journal: Journal
    accounts: Accounts
    bus: MemoryBus
    clock: Callable[[], int]
    secret: bytes
    claims: tuple[str, ...]
    public_url: str
    allowed_origins: frozenset[str] = field(default_factory=frozenset)
    registrations_per_minute: int = 120
    claims_per_minute: int = 600
    hellos_per_minute: int = 240
    clicks_per_minute: int = 60
    interactions_per_minute: int = 120
    open_sockets: int = 0  # accepted show sockets not yet finished (a graceful shutdown waits for them)
    # rate limiters by name (live/http/viewers.py): per app, so two apps never share buckets
    limits: dict[str, Any] = field(default_factory=dict)
