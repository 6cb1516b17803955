"""Fair draws: commitment, entrants hash, winners, rerolls, and no bias."""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Callable

import pytest

from live.lucky_draws import commitment, entrants_hash, mask_nickname, pick_winners

SEED = bytes(range(32))
ENTRANTS = [f"{i:012x}" for i in range(50)]


def test_commitment_is_sha256_of_the_seed() -> None:
    assert commitment(SEED) == hashlib.sha256(SEED).hexdigest()


def test_entrants_hash_ignores_input_order() -> None:
    assert entrants_hash(["b", "a", "c"]) == entrants_hash(["c", "b", "a"])
    assert entrants_hash(["a", "b", "c"]) == hashlib.sha256(b"a\nb\nc").hexdigest()


def test_winners_follow_the_published_procedure_by_hand() -> None:
    pool = sorted(ENTRANTS)
    n = len(pool)
    expected: list[str] = []
    i = 0
    while len(expected) < 3:
        x = int.from_bytes(hmac.new(SEED, f"d1:{i}".encode(), hashlib.sha256).digest()[:8], "big")
        i += 1
        if x >= 2**64 - 2**64 % n:
            continue
        if pool[x % n] not in expected:
            expected.append(pool[x % n])
    got, next_i = pick_winners(SEED, "d1", list(reversed(ENTRANTS)), 3)
    assert got == expected
    assert next_i == i


def test_winners_are_distinct_and_capped_at_the_entrants() -> None:
    got, _ = pick_winners(SEED, "d1", ENTRANTS[:5], 10)
    assert sorted(got) == sorted(ENTRANTS[:5])
    assert pick_winners(SEED, "d1", [], 3) == ([], 0)


def test_the_draw_id_and_seed_change_the_result() -> None:
    a, _ = pick_winners(SEED, "d1", ENTRANTS, 5)
    b, _ = pick_winners(SEED, "d2", ENTRANTS, 5)
    c, _ = pick_winners(b"\x01" * 32, "d1", ENTRANTS, 5)
    assert a != b and a != c


def test_reroll_excludes_earlier_winners_and_continues_the_sequence() -> None:
    first, nxt = pick_winners(SEED, "d1", ENTRANTS, 3)
    again, _ = pick_winners(SEED, "d1", ENTRANTS, 2, exclude=first, start=nxt)
    assert not set(first) & set(again)
    assert len(again) == 2
    # Drawing 5 at once gives the same five people in the same order.
    five, _ = pick_winners(SEED, "d1", ENTRANTS, 5)
    assert five == first + again


@pytest.mark.parametrize("nickname, masked", [("王小明", "王**"), ("Alice", "A**"), ("", "**"), (" 李 ", "李**")])
def test_nicknames_are_masked(nickname: str, masked: str) -> None:
    assert mask_nickname(nickname) == masked


def chi_square_critical(df: int, z: float) -> float:
    """Wilson–Hilferty approximation of the chi-square quantile for a normal z."""
    return df * (1 - 2 / (9 * df) + z * math.sqrt(2 / (9 * df))) ** 3


def counts(pick: Callable[[bytes, list[str]], str], entrants: list[str], draws: int) -> list[int]:
    index = {e: i for i, e in enumerate(sorted(entrants))}
    tally = [0] * len(entrants)
    for d in range(draws):
        seed = hashlib.sha256(d.to_bytes(8, "big")).digest()
        tally[index[pick(seed, entrants)]] += 1
    return tally


def chi_square(tally: list[int]) -> float:
    expected = sum(tally) / len(tally)
    return sum((c - expected) ** 2 / expected for c in tally)


def test_100000_draws_over_1000_entrants_show_no_bias() -> None:
    entrants = [hashlib.sha256(str(i).encode()).hexdigest()[:12] for i in range(1000)]
    tally = counts(lambda seed, e: pick_winners(seed, "draw", e, 1)[0][0], entrants, 100_000)
    stat = chi_square(tally)
    # p = 0.0001 upper critical value for 999 degrees of freedom (≈ 1174)
    assert stat < chi_square_critical(999, 3.719), stat
    # …and not suspiciously uniform either (lower tail, p = 0.0001)
    assert stat > chi_square_critical(999, -3.719), stat


def test_the_chi_square_check_does_catch_a_biased_picker() -> None:
    entrants = [hashlib.sha256(str(i).encode()).hexdigest()[:12] for i in range(1000)]
    pool = sorted(entrants)

    def biased(seed: bytes, e: list[str]) -> str:
        # 11 bits mod 1000 without rejection: entrants 0..47 get 3 chances in 2048, the rest 2
        x = int.from_bytes(hmac.new(seed, b"draw:0", hashlib.sha256).digest()[:2], "big") >> 5
        return pool[x % 1000]

    assert chi_square(counts(biased, entrants, 100_000)) > chi_square_critical(999, 3.719)
