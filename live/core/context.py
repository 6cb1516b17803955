"""Helpers the audience modules share: the shell's context keys, and checks.

Pure. The shell injects context under keys that start with ``_`` (``_viewer``:
the authenticated viewer; ``_seed``: 32 fresh bytes in hex; ``_likes``/``_left``:
what the engine gathered since the last tick). Clients can never send such
keys: the engine refuses them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from live.core.errors import Conflict, NotFound
from live.core.ledger import Ledger, Viewer

Event = dict[str, Any]
R = TypeVar("R")
Ctx = dict[str, Any]


def lookup(table: Mapping[str, R], key: Any, what: str, field: str | None) -> R:
    """``table[key]`` for a key a client sent; raises NotFound ("no <what> <key>",
    naming ``field``) when it is not there or not even a string."""
    found = table.get(key) if isinstance(key, str) else None
    if found is None:
        raise NotFound(f"no {what} {str(key)[:64]!r}", field)
    return found


def ctx_viewer(ledger: Ledger, ctx: Ctx) -> Viewer:
    """The viewer the shell authenticated; raises NotFound when unknown."""
    vid = ctx.get("_viewer")
    if not isinstance(vid, str) or vid not in ledger.viewers:
        raise NotFound("unknown viewer; register again")
    return ledger.viewers[vid]


def need_live(status: str, what: str) -> None:
    """Raises Conflict unless the show is live, saying what to do about it."""
    if status == "draft":
        raise Conflict(f"{what}: the show has not started yet (send show.start first)")
    if status != "live":
        raise Conflict(f"{what}: the show has ended")


def ctx_str(ctx: Ctx, key: str) -> str:
    """A context value the shell must inject; a missing one is a server bug, so
    it raises ValueError (not a LiveError: no client caused it)."""
    value = ctx.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"the shell did not inject {key}")
    return value


def seed_hex(ctx: Ctx) -> str:
    """The shell's 32 fresh random bytes (64 hex digits); raises ValueError."""
    seed = ctx_str(ctx, "_seed")
    if len(seed) != 64:
        raise ValueError("_seed must be 32 bytes in hex")
    bytes.fromhex(seed)  # raises ValueError when not hex
    return seed
