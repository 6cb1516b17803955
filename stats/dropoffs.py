"""Drop-offs: the minutes that lost viewers beyond the show's own baseline (pure, numpy).

The method (docs/stats.md says why) is the indirect standardisation of
survival analysis, the standardised mortality ratio of epidemiology, with a
scan statistic for runs of minutes:

1. **Exposure by tenure** (``exposure``). How likely a viewer is to leave
   depends above all on how long they have watched. The visits are tabulated
   once on a Lexis diagram (minute joined × minute of the show, viewer-ms);
   its diagonals give each minute's viewer-time by tenure band
   (TENURE_MINUTES), ``X[m, k]``; each leave is counted in its minute and
   band, ``L[m, k]``.
2. **The show's own baseline** (``_expected``). A leave rate per band over
   the show's ordinary minutes (shrunk towards the pooled rate by PRIOR
   leaves), so ``E[m] = Σ_k h[k] X[m, k]``, times a slow factor (the ordinary
   minutes' observed ÷ expected within LOCAL minutes, shrunk by SHRINK): a
   wave of newcomers who leave quickly, or an audience growing slowly
   restless, is expected, not a drop-off.
3. **Noise and leaving out** (``baseline``). Leaves are tested against ``E``
   with a quasi-Poisson tail (``stats.poisson``); minutes that stand out even
   leniently (LENIENT) are left out of the rates and of the dispersion and
   everything is refitted, up to ROUNDS rounds, so an exodus does not raise
   the bar it is judged by.
4. **Not tested**: minutes with fewer than MIN_AUDIENCE viewers, the last
   minute (it holds the end) and, once the show has ended, the wind-down: the
   run of elevated minutes reaching the end and a closing segment aired last.
5. **A drop-off** (``Baseline.drop_offs``) is a minute inside a run of 1–6
   tested minutes whose leaves pass the Bonferroni threshold (ALPHA for the
   whole show), that stands out a little on its own, lost at least MIN_RATIO ×
   its expectation and at least MIN_EXCESS viewers and MIN_EXCESS_SHARE of
   those present beyond it. Worst (most leaves beyond the expected) first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from stats import poisson
from stats.airings import Airings, OnAir, Plan
from stats.causes import causes, note
from stats.series import MINUTE_MS, Series

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

# the tenure bands' lower edges, in whole minutes since the minute joined: fine at first, when
# the rate of leaving changes fastest
TENURE_MINUTES = np.array([0, 1, 2, 3, 5, 8, 13, 20, 30, 45, 60, 90], np.int64)
ALPHA = 0.001  # the chance that a show churning only as usual shows any drop-off
LENIENT = 0.01  # a minute this unlikely is kept out of the baseline and may extend the wind-down
MIN_RATIO = 1.3
MIN_EXCESS = 3.0
MIN_EXCESS_SHARE = 0.01
MIN_AUDIENCE = 10  # in a smaller crowd one family leaving together cannot be told from a drop-off
WIND_DOWN_SHARE = 0.25  # the wind-down is looked for in the last quarter of the show (5 minutes at least)
ROUNDS = 5
LOCAL = 8  # minutes either side that the slow factor of the baseline looks at
SHRINK = 10.0
PRIOR = 2.0


@dataclass(frozen=True)
class Exposure:
    """Per minute: ``at_risk`` viewer-ms by tenure band (n × bands), ``leaves`` likewise, and
    ``audience``: the visits present at some instant of the minute."""

    at_risk: F64
    leaves: F64
    audience: I64

    @property
    def viewer_ms(self) -> F64:
        out: F64 = self.at_risk.sum(axis=1)
        return out


def exposure(minutes: Series) -> Exposure:
    """The visits' time at risk and leaves, by minute and tenure band, from a
    Lexis diagram (minute joined × minute of the show): one pass over the
    visits (``bincount``), then the diagram's diagonals summed by band."""
    v, start, end, n = minutes.visits, minutes.start, minutes.end, len(minutes)
    ends = np.minimum(start + MINUTE_MS * (np.arange(n, dtype=np.int64) + 1), end)
    lengths = np.diff(np.concatenate([[start], ends])).astype(np.float64)
    mj = np.minimum((v.join - start) // MINUTE_MS, n - 1)
    mu = np.minimum((v.until - start) // MINUTE_MS, n - 1)
    # each visit is a +1 step at its join and a -1 step at its end, on its own row j of the diagram:
    # within the minute of a step, the part after it; in the minutes between, whole minutes
    cells = n * n
    row = mj * n
    own = (np.bincount(row + mj, weights=(ends[mj] - v.join).astype(np.float64), minlength=cells)
           - np.bincount(row + mu, weights=(ends[mu] - v.until).astype(np.float64), minlength=cells)).reshape(n, n)
    steps = (np.bincount(row + mj, minlength=cells) - np.bincount(row + mu, minlength=cells)).reshape(n, n)
    diagram = own + lengths[None, :] * (np.cumsum(steps, axis=1) - steps)  # [j, m]: viewer-ms
    tenure = np.arange(n)[None, :] - np.arange(n)[:, None]  # m - j, in whole minutes
    band = np.searchsorted(TENURE_MINUTES, np.maximum(tenure, 0), side="right") - 1
    bands = len(TENURE_MINUTES)
    m_index = np.broadcast_to(np.arange(n)[None, :], (n, n))
    later = tenure >= 0
    at_risk = np.bincount((m_index[later] * bands + band[later]), weights=diagram[later],
                          minlength=n * bands).reshape(n, bands)
    left = v.left
    gone_band = np.searchsorted(TENURE_MINUTES, mu[left] - mj[left], side="right") - 1
    leaves = np.bincount(mu[left] * bands + gone_band, minlength=n * bands).reshape(n, bands).astype(np.float64)
    # the visits present at some instant of the minute: joined before its end, not gone by its start
    first = start + MINUTE_MS * np.arange(n, dtype=np.int64)
    joins, gone = minutes.presence.joins, minutes.presence.leaves
    joined = np.searchsorted(joins, ends, side="left")
    joined[-1] = np.searchsorted(joins, end, side="right")
    gone_before = np.searchsorted(gone, first, side="right")
    return Exposure(np.maximum(at_risk, 0), leaves, (joined - gone_before).astype(np.int64))


@dataclass(frozen=True)
class Baseline:
    """The fitted baseline: per minute ``expected`` leaves and the test of the
    observed ones; ``tested`` minutes; ``rate``: leaves per viewer-minute over
    the ordinary minutes; ``wind_down``: the first minute of the wind-down (None: none found)."""

    leaves: F64
    test: poisson.Test
    tested: B
    rate: float | None
    wind_down: int | None

    def drop_offs(self, audience: I64) -> B:
        """The drop-off minutes: inside a run the scan finds, and each big enough on its own."""
        e, obs = self.test.expected, self.leaves
        runs, _ = poisson.scan(obs, e, self.test.dispersion, self.tested, ALPHA, MIN_RATIO, MIN_EXCESS)
        excess = obs - e
        big = (excess >= MIN_EXCESS) & (excess >= MIN_EXCESS_SHARE * np.maximum(audience, 1))
        # inside a run, a minute counts only if it stands out a little on its own too
        alone = self.test.log_p < math.log(LENIENT)
        out: B = self.tested & runs & alone & (obs >= MIN_RATIO * e) & big
        return out


def _wind_down(elevated: B, last: int, cap: int) -> int | None:
    """The first minute of the run of elevated minutes that reaches the end
    (starting one of the two minutes before ``last``), no longer than ``cap``."""
    first = None
    for m in range(last - 1, max(-1, last - 1 - cap), -1):
        if elevated[m]:
            first = m
        elif first is not None or m < last - 2:
            break
    return first


def _expected(x: F64, leaves: F64, obs: F64, use: B) -> F64:
    """Each minute's expected leaves: the ``use`` minutes' leave rate by tenure band
    times the minute's viewer-time in each band, times a slowly varying factor
    (the ``use`` minutes' observed over expected leaves within LOCAL minutes
    either side, shrunk towards 1 by SHRINK leaves) that follows a show whose
    audience grows slowly more, or less, restless."""
    exposed = x[use].sum(axis=0)
    left = leaves[use].sum(axis=0)
    pooled = left.sum() / max(exposed.sum(), 1e-9)
    # each band's rate shrunk towards the pooled one by PRIOR leaves: a band seen briefly is not "never leaves"
    h = (left + PRIOR) / (exposed + PRIOR / max(pooled, 1e-12)) if pooled > 0 else np.zeros(x.shape[1])
    plain = x @ h
    n = len(plain)
    seen = np.concatenate([[0.0], np.cumsum(np.where(use, obs, 0.0))])
    want = np.concatenate([[0.0], np.cumsum(np.where(use, plain, 0.0))])
    lo = np.clip(np.arange(n) - LOCAL, 0, n)
    hi = np.clip(np.arange(n) + LOCAL + 1, 0, n)
    factor = (seen[hi] - seen[lo] + SHRINK) / (want[hi] - want[lo] + SHRINK)
    out: F64 = plain * factor
    return out


def baseline(ex: Exposure, minutes: Series, plan: Plan, airings: Airings) -> Baseline:
    """Fit the show's own leave rates by tenure, leaving out what stands out (see the module's docstring)."""
    n = len(minutes)
    x, obs = ex.at_risk, ex.leaves.sum(axis=1)
    exposed = (x.sum(axis=1) > 0) & (np.arange(n) < n - 1)
    base = exposed & (ex.audience >= MIN_AUDIENCE)
    closing = np.zeros(n, bool)
    if plan.ended and len(airings) and 0 <= airings.segment[-1] < len(plan) \
            and plan.kinds[airings.segment[-1]] == "closing":
        closing[(airings.begin[-1] - minutes.start) // MINUTE_MS:] = True
    tested = base & ~closing
    use = exposed & ~closing  # the rates are fitted on every ordinary minute, small crowds too
    cap = max(5, math.ceil(n * WIND_DOWN_SHARE))
    wind: int | None = None
    phi = 1.0  # Poisson's, at first: so that what stands out is left out first
    for _ in range(ROUNDS):
        expected = _expected(x, ex.leaves, obs, use)
        result = poisson.test(obs, expected, phi, tested, ALPHA)
        elevated = (result.log_p < math.log(LENIENT)) & (obs > 1.2 * expected)
        wind = _wind_down(elevated, n - 1, cap) if plan.ended else None
        tested = base & ~closing
        if wind is not None:
            tested[wind:] = False
        new = exposed & ~closing & ~elevated
        if wind is not None:
            new[wind:] = False
        if not new.any():
            break
        # the noise of the ordinary minutes: starting from Poisson's, so that what stands out is left out first
        new_phi = poisson.dispersion(obs, expected, new)
        if (new == use).all() and abs(new_phi - phi) < 0.01:
            break
        use, phi = new, new_phi
    expected = _expected(x, ex.leaves, obs, use)
    result = poisson.test(obs, expected, phi, tested, ALPHA)
    exposed_all = float(x[use].sum())
    rate = None if exposed_all <= 0 else float(obs[use].sum()) / exposed_all * MINUTE_MS
    closing_from = int(np.argmax(closing)) if closing.any() else None
    starts = [m for m in (wind, closing_from) if m is not None]
    return Baseline(obs, result, tested, rate, min(starts) if starts else None)


def drop_offs(minutes: Series, plan: Plan, airings: Airings, on_air: OnAir,
              ex: Exposure | None = None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The review's ``drop_offs`` (worst first) and ``drop_off_baseline`` (the
    model's figures: the usual leave rate, the dispersion, what was tested)."""
    ex = ex if ex is not None else exposure(minutes)
    fit = baseline(ex, minutes, plan, airings)
    flagged = np.flatnonzero(fit.drop_offs(ex.audience))
    about = {
        "leaves_per_viewer_minute": None if fit.rate is None else round(fit.rate, 5),
        "dispersion": round(fit.test.dispersion, 3),
        "minutes_tested": int(fit.tested.sum()),
        "wind_down_from_minute": fit.wind_down,
        "alpha": ALPHA,
    }
    if not len(flagged):
        return [], about
    # when in the minute they left: the median leave time names the segment on air and the over-run
    gone = minutes.presence.leaves
    lo = np.searchsorted(gone, minutes.at[flagged], side="left")
    hi = np.searchsorted(gone, minutes.at[flagged] + MINUTE_MS, side="left")
    when = np.array([gone[(a + b - 1) // 2] if b > a else t for a, b, t in zip(lo, hi, minutes.at[flagged],
                                                                                 strict=True)], np.int64)
    seg, over = airings.overrun_ms(plan, when)
    out: list[dict[str, Any]] = []
    e = fit.test.expected
    for i, m in enumerate(flagged.tolist()):
        found = causes(plan, airings, on_air, int(when[i]), int(seg[i]), int(over[i]))
        out.append({
            "minute": m,
            "at": int(minutes.at[m]),
            "viewers_lost": int(fit.leaves[m]),
            "expected_lost": round(float(e[m]), 1),
            "share_lost": round(float(fit.leaves[m]) / max(int(ex.audience[m]), 1), 4),
            "times_usual": None if e[m] <= 0 else round(float(fit.leaves[m] / e[m]), 1),
            "segment": plan.segment(int(seg[i])),
            "segment_overrun_seconds": int(over[i]) // 1000,
            "note": note(plan, found),
            "causes": found,
        })
    # worst first: the most viewers lost beyond what the minute expects
    excess = {d["minute"]: float(fit.leaves[d["minute"]] - e[d["minute"]]) for d in out}
    out.sort(key=lambda d: (-excess[d["minute"]], d["minute"]))
    return out, about
