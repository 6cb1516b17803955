"""Fair draws (docs/draws.md): commit to a seed, freeze the entrants, pick winners
with HMAC-SHA256 and rejection sampling. Anyone can recompute the result from
the published record (``scripts/verify_draw.py``).

Pure: the seed is a parameter (the shell draws it from ``secrets``); no
``random`` and no numpy anywhere in this path.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

TWO64 = 2**64


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
