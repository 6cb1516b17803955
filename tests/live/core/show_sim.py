"""A small show for the pure core's command tests: its products and rundown,
and the steps every such test takes (create it, apply commands a second
apart, assert a refusal changed nothing)."""


from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from live.core.commands import Event, apply, create
from live.core.errors import LiveError
from live.core.show import ShowState, parse_show_config

T0 = 1_700_000_000_000

PRODUCTS = [
    {"sku": "A1", "title": "Tea", "list_price": "99.00", "live_price": "59.00", "stock": 10},
    {"sku": "B2", "title": "Cup", "list_price": "30.00", "live_price": "25.00", "stock": 5},
    {"sku": "C3", "title": "Pot", "list_price": "120", "stock": 2},
]
SEGMENTS = [
    {"kind": "warmup", "title": "Hello", "planned_seconds": 60},
    {"title": "Tea", "sku": "A1", "planned_seconds": 120},
    {"title": "Cup", "sku": "B2", "planned_seconds": 90},
    {"kind": "closing", "title": "Bye", "planned_seconds": 30},
]


def new_show(products: Any = None, segments: Any = None, now: int = T0) -> tuple[ShowState, list[Event]]:
    """A draft show and its journal so far (just ``show.created``)."""
    state, first = create(
        "show1",
        parse_show_config({"title": "Spring tea"}),
        PRODUCTS if products is None else products,
        SEGMENTS if segments is None else segments,
        now,
    )
    return state, [first]


def run(state: ShowState, *commands: dict[str, Any], now: int = T0) -> tuple[ShowState, list[Event]]:
    """Apply commands one after another, one second apart; returns state and all events."""
    out: list[Event] = []
    for i, cmd in enumerate(commands):
        state, events = apply(state, cmd, now + i * 1000)
        out += events
    return state, out


def types(events: list[Event]) -> list[str]:
    return [e["type"] for e in events]


def refused(state: ShowState, cmd: Any, error: type[LiveError], now: int = T0 + 10_000) -> LiveError:
    """Assert that ``cmd`` raises ``error`` and leaves the state untouched."""
    before = replace(state)
    with pytest.raises(error) as exc:
        apply(state, cmd, now)
    assert type(exc.value) is error
    assert state == before
    return exc.value


def live_show(*commands: dict[str, Any]) -> ShowState:
    state, _ = new_show()
    state, _ = run(state, {"type": "show.start"}, *commands)
    return state
