"""The noise model under the drop-offs and peaks: the Poisson tail, the
dispersion (not swayed by the minutes it must judge), the scan."""

from __future__ import annotations

import math

import numpy as np
import pytest

from stats.poisson import UNKNOWN_DISPERSION, dispersion, log_tail, scan


def exact(k: int, mean: float) -> float:
    """log P(X ≥ k), summed term by term."""
    terms = [j * math.log(mean) - mean - math.lgamma(j + 1) for j in range(k, k + 20_000)]
    top = max(terms)
    return top + math.log(sum(math.exp(t - top) for t in terms))


@pytest.mark.parametrize(("k", "mean"), [(3, 0.1), (6, 0.5), (10, 0.5), (50, 20.0), (300, 225.0), (2000, 1800.0),
                                         (1, 0.001), (40, 12.5)])
def test_the_tail_is_the_poisson_tail(k: int, mean: float) -> None:
    assert log_tail(np.array([float(k)]), np.array([mean]))[0] == pytest.approx(exact(k, mean), rel=1e-9)


def test_the_tail_below_the_mean_is_not_computed_and_a_zero_mean_is_certain() -> None:
    got = log_tail(np.array([3.0, 0.0, 5.0, 11.0]), np.array([0.0, 0.0, 10.0, 10.0]))
    assert got[0] == -np.inf and got[1] == 0.0 and got[2] == 0.0 and got[3] == 0.0  # 11 < 10 + √10


def test_poisson_counts_have_a_dispersion_of_one_and_noisier_counts_more() -> None:
    rng = np.random.default_rng(3)
    use = np.ones(400, bool)
    plain, twos = [], []
    for _ in range(10):
        mean = rng.uniform(3, 60, 400)
        plain.append(dispersion(rng.poisson(mean).astype(float), mean, use))
        twos.append(dispersion(2.0 * rng.poisson(mean / 2), mean, use))  # people leaving in twos: variance 2 × mean
    assert np.mean(plain) == pytest.approx(1.0, abs=0.08) and max(plain) < 1.4
    assert np.mean(twos) == pytest.approx(2.0, rel=0.15)


def test_the_minutes_looked_for_do_not_raise_the_noise_they_are_judged_by() -> None:
    rng = np.random.default_rng(4)
    mean = np.full(120, 20.0)
    counts = rng.poisson(mean).astype(float)
    counts[40:70] += 25  # a quarter of the show loses twice its usual
    assert dispersion(counts, mean, np.ones(120, bool)) < 1.3


def test_too_few_counts_to_measure_the_noise_assume_some() -> None:
    mean = np.full(60, 0.2)
    assert dispersion(np.zeros(60), mean, np.ones(60, bool)) == UNKNOWN_DISPERSION
    assert dispersion(np.zeros(60), mean, np.ones(60, bool), unknown=1.0) == 1.0


def test_the_scan_sees_a_rise_spread_over_minutes_that_no_single_minute_shows() -> None:
    mean = np.full(90, 30.0)
    counts = mean.copy()
    counts[50:54] = 48.0  # +60 % for four minutes
    tested = np.ones(90, bool)
    alone = log_tail(counts, mean)[50]
    found, threshold = scan(counts, mean, 1.0, tested, 0.001, 1.3, 3.0)
    assert alone > threshold  # no minute would stand out alone
    assert found[50:54].all()  # and the minutes of the runs around them, up to six minutes long
    assert not found[:45].any() and not found[59:].any()


def test_the_scan_stays_quiet_on_noise_and_skips_untested_minutes() -> None:
    rng = np.random.default_rng(9)
    quiet = 0
    for _ in range(200):
        mean = rng.uniform(1, 80, 120)
        found, _ = scan(rng.poisson(mean).astype(float), mean, 1.0, np.ones(120, bool), 0.001, 1.3, 3.0)
        quiet += not found.any()
    assert quiet >= 198  # a Bonferroni family-wise rate of 0.001 per show
    mean = np.full(30, 10.0)
    counts = mean.copy()
    counts[10] = 60
    tested = np.ones(30, bool)
    tested[10] = False
    assert not scan(counts, mean, 1.0, tested, 0.001, 1.3, 3.0)[0].any()
