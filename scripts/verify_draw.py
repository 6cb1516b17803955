#!/usr/bin/env python3
"""Recompute a lucky draw's winners from its public record alone (docs/draws.md,
"Why the draw is fair").

    python3 scripts/verify_draw.py record.json
    curl -s http://host/api/shows/ID/draws/DRAW_ID | python3 scripts/verify_draw.py -

Checks sha256(seed) == commitment, sha256(sorted entrants joined by "\\n") ==
entrants_hash, and that the HMAC-SHA256 rejection-sampling procedure gives
the published winners in order (rerolls included). Exit 0 when all hold.
Uses only the standard library, so anyone can run it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
from typing import Any


def winners(seed: bytes, draw_id: str, entrants: list[str], k: int, exclude: set[str], start: int) -> tuple[list[str], int]:
    pool = sorted(entrants)
    n = len(pool)
    taken = set(exclude)
    want = min(k, n - len(taken & set(pool)))
    out: list[str] = []
    if n == 0 or want <= 0:
        return out, start
    limit = 2**64 - 2**64 % n
    i = start
    while len(out) < want:
        x = int.from_bytes(hmac.new(seed, f"{draw_id}:{i}".encode(), hashlib.sha256).digest()[:8], "big")
        i += 1
        if x >= limit:
            continue
        who = pool[x % n]
        if who not in taken:
            taken.add(who)
            out.append(who)
    return out, i


def verify(record: dict[str, Any]) -> list[str]:
    """Problems found in the record; empty when it checks out."""
    problems: list[str] = []
    if record.get("seed") is None:
        return ["the draw is not closed yet: no seed published"]
    seed = bytes.fromhex(record["seed"])
    if hashlib.sha256(seed).hexdigest() != record["commitment"]:
        problems.append("sha256(seed) does not match the commitment published at opening")
    entrants = list(record["entrants"])
    digest = hashlib.sha256("\n".join(sorted(entrants)).encode()).hexdigest()
    if digest != record["entrants_hash"]:
        problems.append("the entrants do not hash to entrants_hash")
    start = 0
    taken: set[str] = set()
    rounds = record.get("rounds") or [{"winners": record["winners"], "count": record["winners_wanted"]}]
    for r, rnd in enumerate(rounds):
        expected = [w if isinstance(w, str) else w["pseudonym"] for w in rnd["winners"]]
        got, start = winners(seed, record["id"], entrants, rnd["count"], taken, start)
        if got != expected:
            problems.append(f"round {r}: recomputed winners {got} differ from published {expected}")
        taken |= set(got)
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    if argv[1] == "-":
        text = sys.stdin.read()
    else:
        with open(argv[1], encoding="utf-8") as f:
            text = f.read()
    record = json.loads(text)
    record = record.get("draw", record)
    problems = verify(record)
    for p in problems:
        print("FAIL:", p)
    if not problems:
        n = sum(len(r["winners"]) for r in record.get("rounds") or [{"winners": record["winners"]}])
        print(f"OK: draw {record['id']}: commitment, entrants ({len(record['entrants'])}) and {n} winner(s) verified")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
