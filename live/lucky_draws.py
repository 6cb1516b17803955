"""Fair draws (DESIGN §5): commit to a seed, freeze the entrants, pick winners
with HMAC-SHA256 and rejection sampling. Anyone can recompute the result from
the published record (``scripts/verify_draw.py``).

Pure: the seed is a parameter (the shell draws it from ``secrets``); no
``random`` and no numpy anywhere in this path.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

from live import values as v
from live.errors import Invalid

TWO64 = 2**64
MAX_DRAW_WINNERS = 1000
ELIGIBILITY_KEYS = {"present", "keyword", "liked", "watched_seconds", "bought_items", "exclude_staff"}


def commitment(seed: bytes) -> str:
    """``sha256(seed)`` in hex: published when the draw opens."""
    return hashlib.sha256(seed).hexdigest()


def entrants_hash(pseudonyms: Sequence[str]) -> str:
    """sha256 of the sorted pseudonyms joined with newlines, in hex."""
    return hashlib.sha256("\n".join(sorted(pseudonyms)).encode()).hexdigest()


def pick_winners(
    seed: bytes, draw_id: str, entrants: Sequence[str], k: int, exclude: Sequence[str] = (), start: int = 0
) -> tuple[list[str], int]:
    """Winners among ``entrants`` (sorted here, so order of input does not matter).

    For i = start, start+1, …: x = first 8 bytes of HMAC-SHA256(seed, f"{draw_id}:{i}")
    as a big-endian integer; x is rejected when ``x >= 2**64 - 2**64 % n`` (no
    modulo bias); otherwise ``entrants[x % n]`` wins unless already taken or in
    ``exclude``. Stops at ``k`` winners or when nobody is left.

    Returns ``(winners, next_i)``; a reroll continues from ``next_i`` with the
    earlier winners in ``exclude``, so it is verifiable from the same seed.
    """
    pool = sorted(entrants)
    n = len(pool)
    taken = set(exclude)
    available = n - len(taken & set(pool))
    want = min(k, available)
    winners: list[str] = []
    if n == 0 or want <= 0:
        return winners, start
    limit = TWO64 - TWO64 % n
    i = start
    while len(winners) < want:
        digest = hmac.new(seed, f"{draw_id}:{i}".encode(), hashlib.sha256).digest()
        i += 1
        x = int.from_bytes(digest[:8], "big")
        if x >= limit:
            continue
        who = pool[x % n]
        if who in taken:
            continue
        taken.add(who)
        winners.append(who)
    return winners, i


def mask_nickname(nickname: str) -> str:
    """``王小明`` → ``王**``: the first character, then two stars."""
    nickname = nickname.strip()
    if not nickname:
        return "**"
    return nickname[0] + "**"


# -- parsing draw.open -----------------------------------------------------------


def parse_eligibility(raw: Any, field: str) -> dict[str, Any]:
    if raw is None:
        return {"present": True, "exclude_staff": True}
    raw = v.obj(raw, field)
    v.no_unknown_keys(raw, ELIGIBILITY_KEYS, field)
    out: dict[str, Any] = {"exclude_staff": raw.get("exclude_staff", True) is not False}
    if raw.get("present"):
        out["present"] = True
    if raw.get("liked"):
        out["liked"] = True
    if raw.get("keyword") is not None:
        out["keyword"] = v.text(raw["keyword"], f"{field}.keyword", max_len=50)
    if raw.get("watched_seconds") is not None:
        out["watched_seconds"] = v.integer(raw["watched_seconds"], f"{field}.watched_seconds", lo=1, hi=24 * 3600)
    if raw.get("bought_items") is not None:
        out["bought_items"] = v.integer(raw["bought_items"], f"{field}.bought_items", lo=1, hi=10**6)
    return out


def parse_draw(cmd: dict[str, Any], field: str = "") -> dict[str, Any]:
    v.no_unknown_keys(cmd, {"type", "prize", "winners", "eligibility", "entry_seconds", "trigger", "kind"}, field)
    pre = f"{field}." if field else ""
    kind = cmd.get("kind", "draw")
    if kind not in ("draw", "lucky_bag"):
        raise Invalid("kind must be 'draw' or 'lucky_bag'", f"{pre}kind")
    entry = cmd.get("entry_seconds")
    return {
        "prize": v.text(cmd.get("prize"), f"{pre}prize", max_len=100),
        "winners": v.integer(cmd.get("winners"), f"{pre}winners", lo=1, hi=MAX_DRAW_WINNERS, default=1),
        "eligibility": parse_eligibility(cmd.get("eligibility"), f"{pre}eligibility"),
        "entry_seconds": None if entry is None else v.integer(entry, f"{pre}entry_seconds", lo=5, hi=6 * 3600),
        "kind": kind,
    }
