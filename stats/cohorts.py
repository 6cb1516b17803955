"""Who was watching at one instant and still watching at a later one (pure, numpy).

Retention needs, for pairs of instants ``t ≤ s``, the visits that had begun
by ``t`` and had not ended by ``s`` (the same visit: a viewer who left and
came back starts a new one). ``Cohorts`` answers many such questions without
a pass over the visits for each: a table of the visits by the minute
boundary at or after their join and after their end (a Lexis diagram of
visits, summed into a prefix × suffix table once) counts every visit whose
minutes settle the question, and only the visits that joined or left within
the minute of ``t`` or of ``s`` are checked one by one (grouped by minute
with a radix sort, so each check reads about a minute's worth of visits).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from stats.series import MINUTE_MS, Visits

I64 = npt.NDArray[np.int64]


class Cohorts:
    """``still(t, s)``: how many visits had joined by ``t`` (join ≤ t) and had not
    left by ``s`` (their leave after ``s``, or none: watching at the end)."""

    def __init__(self, v: Visits, start: int, n: int) -> None:
        self.start, self.n = start, n
        never = np.iinfo(np.int64).max
        self.join = v.join
        self.until = np.where(v.left, v.until, never)
        # the first minute boundary at or after the join / the end: join ≤ T[a] ⟺ jc ≤ a; until > T[b] ⟺ uc > b
        jc = -((start - v.join) // MINUTE_MS)
        uc = np.where(v.left, -((start - v.until) // MINUTE_MS), n + 1)
        self.jc, self.uc = jc, uc
        table = np.bincount(jc * (n + 2) + uc, minlength=(n + 1) * (n + 2)).reshape(n + 1, n + 2)
        # settled[a, b] = visits with jc ≤ a and uc ≥ b
        self.settled = np.cumsum(table, axis=0)[:, ::-1].cumsum(axis=1)[:, ::-1]
        small = np.int16 if n + 2 < np.iinfo(np.int16).max else np.int32  # a radix sort for small keys
        self.by_join = np.argsort(jc.astype(small), kind="stable")
        self.by_until = np.argsort(uc.astype(small), kind="stable")
        self.join_edges = np.concatenate([[0], np.cumsum(np.bincount(jc, minlength=n + 2))])
        self.until_edges = np.concatenate([[0], np.cumsum(np.bincount(uc, minlength=n + 2))])

    def still(self, t: int, s: int) -> int:
        """Visits with join ≤ t and not gone by s (s ≥ t, both within the show)."""
        a = min(max((t - self.start) // MINUTE_MS, 0), self.n - 1)
        b = min(max((s - self.start) // MINUTE_MS, 0), self.n - 1)
        count = int(self.settled[a, b + 2]) if b + 2 <= self.n + 1 else 0
        # left within the minute after boundary b (uc = b + 1), joined by boundary a: is the leave after s?
        lo, hi = self.until_edges[b + 1], self.until_edges[b + 2]
        ix = self.by_until[lo:hi]
        count += int(((self.jc[ix] <= a) & (self.until[ix] > s)).sum())
        # joined within the minute after boundary a (jc = a + 1): by t, and still there after s?
        lo, hi = self.join_edges[a + 1], self.join_edges[a + 2]
        ix = self.by_join[lo:hi]
        count += int(((self.join[ix] <= t) & (self.until[ix] > s)).sum())
        return count

    def present(self, t: int) -> int:
        """Viewers present at ``t`` (a join at it counts, a leave at it does not)."""
        return self.still(t, t)
