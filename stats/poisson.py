"""Counts against an expected rate: the noise model of drop-offs and conversion peaks (pure, numpy).

A minute's count (leaves, orders) is compared with what the show's own
baseline expects of it, ``expected``. Counts of people are noisier than a
Poisson law (friends leave together, a comment wave moves many), so the
spread is a quasi-Poisson one: variance = ``dispersion`` × mean, the
dispersion estimated from the show's own ordinary minutes (``dispersion``,
never below 1). The tail probability of a count ``k`` is then that of
``k / dispersion`` under a Poisson law of mean ``expected / dispersion``
(``log_tail``: the regularised lower incomplete gamma function ``P(k, λ)``,
which equals ``P(X ≥ k)`` for whole ``k`` and extends it to the scaled,
fractional ones).

Many minutes are tested at once, so a minute stands out only when its tail
probability is below ``alpha`` over the number of tests (Bonferroni: the
chance that a show with no effect at all shows any is at most ``alpha``);
``scan`` tests runs of consecutive minutes too, so that a rise spread over a
few minutes is seen as surely as one packed in one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]
_lgamma = np.frompyfunc(math.lgamma, 1, 1)
CELLS = 1 << 20  # the most series terms log_tail holds at once
MIN_MEAN_FOR_DISPERSION = 2.0  # minutes expecting fewer are too discrete to measure the noise by
MIN_EXPECTED_FOR_DISPERSION = 20.0  # and those minutes must expect this many in all
UNKNOWN_DISPERSION = 1.5  # too few to measure: as if people came and went in twos now and then, as friends do
Z_TRIM = 2.0  # counts more than two of the noise's standard deviations above the expected are left out
# E[Z² | Z < Z_TRIM] for a standard normal Z: 1 − z φ(z) / Φ(z)
TRUNCATED = 1 - Z_TRIM * math.exp(-Z_TRIM**2 / 2) / math.sqrt(2 * math.pi) / (0.5 * (1 + math.erf(Z_TRIM / math.sqrt(2))))


def log_tail(k: F64, mean: F64) -> F64:
    """``log P(X ≥ k)`` for ``X ~ Poisson(mean)``, elementwise, for real ``k ≥ 0``
    (the regularised lower incomplete gamma function ``P(k, mean)``).

    Only the upper tail the review tests is computed: where ``k`` is below
    ``mean + √mean`` (a probability above about 0.15, which no threshold here
    comes near) 0.0 is returned, i.e. probability 1. A zero mean with ``k > 0``
    gives ``-inf``."""
    k = np.asarray(k, np.float64)
    mean = np.asarray(mean, np.float64)
    out = np.zeros(np.broadcast(k, mean).shape, np.float64)
    k, mean = np.broadcast_to(k, out.shape), np.broadcast_to(mean, out.shape)
    far = (k > 0) & (k >= mean + np.sqrt(mean))
    out[far & (mean <= 0)] = -np.inf
    where = np.flatnonzero(far & (mean > 0))
    if not len(where):
        return out
    a, x = k.ravel()[where], mean.ravel()[where]
    # P(a, x) = x^a e^-x / Γ(a+1) · Σ_n x^n / ((a+1)…(a+n)): the terms shrink (x < a), fast enough
    # that 10·√a + 30 of them leave out less than e^-50 of the sum
    total = np.empty(len(a))
    order = np.argsort(a)
    i = 0
    while i < len(order):  # rows in chunks of at most CELLS terms, the smaller a first
        terms = int(10 * math.sqrt(a[order[min(i + 255, len(order) - 1)]]) + 30)
        rows = order[i:i + max(1, min(256, CELLS // terms))]
        terms = int(10 * math.sqrt(a[rows].max()) + 30)
        steps = np.log(x[rows])[:, None] - np.log(a[rows][:, None] + np.arange(1, terms + 1)[None, :])
        total[rows] = np.log1p(np.exp(np.cumsum(steps, axis=1)).sum(axis=1))
        i += len(rows)
    flat = out.ravel()
    log_gamma = np.asarray(_lgamma(a + 1), np.float64)
    flat[where] = np.minimum(a * np.log(x) - x - log_gamma + total, 0.0)
    return flat.reshape(out.shape)


def dispersion(counts: F64, expected: F64, use: B, unknown: float = UNKNOWN_DISPERSION) -> float:
    """How much noisier than Poisson the counts of the ``use`` minutes are: the
    variance over the mean, ``Σ (k − μ)² / Σ μ`` (each minute weighted by what
    it expects, sound when counts are tiny), over the minutes whose count is
    no more than Z_TRIM standard deviations of the noise so estimated above it,
    divided by what that truncation leaves of a normal's variance
    (``TRUNCATED``), iterated from Poisson's 1 to its fixed point. The minutes
    the review looks for have *more* than expected: truncated, each weighs at
    most as much as an ordinary high minute, so however many there are they
    cannot raise the noise they are judged against and mask themselves. Only
    minutes expecting MIN_MEAN_FOR_DISPERSION or more say (smaller counts are
    too discrete); when those expect fewer than MIN_EXPECTED_FOR_DISPERSION in
    all, the noise cannot be measured and ``unknown`` is assumed (by default
    UNKNOWN_DISPERSION: a small audience's counts are the easiest to sway by a
    few who leave together). Never below 1."""
    ok = use & (expected >= MIN_MEAN_FOR_DISPERSION)
    k, mu = counts[ok], expected[ok]
    if float(mu.sum()) < MIN_EXPECTED_FOR_DISPERSION:
        return unknown
    phi = 1.0
    for _ in range(50):
        kept = (k - mu) < Z_TRIM * np.sqrt(phi * mu)
        new = max(1.0, float(((k[kept] - mu[kept]) ** 2).sum()) / max(float(mu[kept].sum()), 1e-12) / TRUNCATED)
        if abs(new - phi) < 1e-4:
            return new
        phi = new
    return phi


@dataclass(frozen=True)
class Test:
    """The minutes' counts against their expectation: ``log_p`` (the log tail
    probability, scaled by ``dispersion``) and the Bonferroni ``log_threshold``."""

    expected: F64
    dispersion: float
    log_p: F64
    log_threshold: float

    def significant(self) -> B:
        out: B = self.log_p < self.log_threshold
        return out


def test(counts: F64, expected: F64, phi: float, tested: B, alpha: float) -> Test:
    """The tail test of each minute's count against its ``expected``, with
    dispersion ``phi`` and the Bonferroni threshold for the ``tested`` minutes."""
    log_p = log_tail(counts / phi, expected / phi)
    tests = max(1, int(tested.sum()))
    return Test(expected, phi, log_p, math.log(alpha / tests))


WINDOWS = (1, 2, 3, 4, 6)  # the scan's window lengths, in minutes


def scan(counts: F64, expected: F64, phi: float, tested: B, alpha: float, min_ratio: float,
         min_excess: float, windows: tuple[int, ...] = WINDOWS) -> tuple[B, float]:
    """A scan statistic: every run of ``w`` consecutive tested minutes (``w`` in
    ``windows``) is tested as one count against its summed expectation, so a
    rise spread over a few minutes is seen as clearly as one packed in one.
    A run stands out when its tail probability is below ``alpha`` over the
    number of runs tested (Bonferroni) and its count is at least
    ``min_ratio`` × and ``min_excess`` above what it expects. Returns the
    minutes inside a run that stands out, and the log threshold."""
    n = len(counts)
    c = np.concatenate([[0.0], np.cumsum(np.where(tested, counts, 0.0))])
    e = np.concatenate([[0.0], np.cumsum(np.where(tested, expected, 0.0))])
    t = np.concatenate([[0], np.cumsum(tested)])
    runs = [(w, (t[w:] - t[:-w]) == w) for w in windows if w <= n]
    total = sum(int(valid.sum()) for _, valid in runs)
    threshold = math.log(alpha / max(1, total))
    inside = np.zeros(n + 1, np.int64)
    for w, valid in runs:
        cw, ew = c[w:] - c[:-w], e[w:] - e[:-w]
        hit = valid & (cw >= min_ratio * ew) & (cw - ew >= min_excess)
        if hit.any():
            hit[hit] = log_tail(cw[hit] / phi, ew[hit] / phi) < threshold
        starts = np.flatnonzero(hit)
        np.add.at(inside, starts, 1)  # mark [s, s + w) with a difference array
        np.add.at(inside, starts + w, -1)
    out: B = np.cumsum(inside[:n]) > 0
    return out, threshold
