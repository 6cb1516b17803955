"""The review's per-product and per-segment tables, and each segment's retention curve (pure, numpy).

Definitions (docs/stats.md says the same):

- A segment's **air time** is the sum of its airings (``stats.airings``);
  ``actual_seconds`` is None for a segment never aired; ``overrun_seconds``
  is how far its air time went past ``planned_seconds`` (0 if not).
- **Viewers at start / end**: those present at the instant its first airing
  began / its last airing ended (as ``concurrent``: a join at that instant
  counts, a leave does not).
- **Retention**: of the viewers present when the segment (first) went on air,
  the share still watching, without a break, when that airing ended;
  ``retention_curve`` is that share at each whole minute into the airing
  (1.0 at 0) and at its end; ``retention_change`` is the net change of the
  audience, (end − start) ÷ start, joiners included. ``lost_after_plan``:
  for a first airing that ran past its plan, the share of those watching at
  the planned end who left before it did.
- **Interactions per minute**: likes (the tapped counts), comments and shares
  during its airings, per minute of air time; likes and comments also apart;
  ``average_viewers`` (viewer-time over air time) and
  ``interactions_per_viewer_minute``, the same per viewer (fair between a
  crowded segment and an empty one).
- A product's **planned / aired seconds** are those of the segments that
  feature its sku; its viewers at start / end are at the first and the last of
  them; ``viewers_reached`` are the viewers present at some instant of them.
  ``clicks``, ``orders``, ``units``, ``gmv``, ``buyers`` and
  ``returned_units`` count all of its orders and tracked-link clicks,
  wherever they fall (as the metrics do). ``conversion`` is the share of the
  viewers reached who bought it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from stats import money
from stats.airings import Airings, Plan
from stats.cohorts import Cohorts
from stats.metrics import ratio
from stats.series import MINUTE_MS, Series
from stats.tally import NO_VIEWER, Column

I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]
FEW_SKUS = 6  # up to this many, the reach is found sku by sku when visits span several stretches


class Sorted:
    """A time column sorted once, with the running sum of its weights: what falls in intervals, fast."""

    def __init__(self, column: Column, weights: I64 | None = None) -> None:
        times = column.array()
        if not column.ascending:  # it mostly is already (journal order)
            order = np.argsort(times, kind="stable")
            times, weights = times[order], None if weights is None else weights[order]
        self.times = times
        self.running = None if weights is None else np.concatenate([[0], np.cumsum(weights, dtype=np.int64)])

    @staticmethod
    def of(times: I64) -> Sorted:
        out = object.__new__(Sorted)
        out.times, out.running = times, None
        return out

    def count(self, begin: I64, until: I64) -> int:
        """How many fall in the intervals ``[begin, until)``."""
        return int((np.searchsorted(self.times, until, side="left")
                    - np.searchsorted(self.times, begin, side="left")).sum())

    def total(self, begin: I64, until: I64) -> int:
        """The sum of the weights of those in the intervals."""
        assert self.running is not None
        lo = np.searchsorted(self.times, begin, side="left")
        hi = np.searchsorted(self.times, until, side="left")
        return int((self.running[hi] - self.running[lo]).sum())


class Tables:
    """The shared sorted columns both tables read (each sorted once)."""

    def __init__(self, minutes: Series, plan: Plan, airings: Airings) -> None:
        self.minutes, self.plan, self.airings = minutes, plan, airings
        self.presence = minutes.presence
        self.cohorts = Cohorts(minutes.visits, minutes.start, len(minutes))
        tally = minutes.tally
        self.likes = Sorted(tally.like_at, tally.like_n.array())
        self.comments = Sorted(tally.comment_at)
        self.shares = Sorted(tally.share_at)
        self.orders = Sorted(tally.order_at, tally.order_cents.array())
        self.joins, self.leaves = Sorted.of(self.presence.joins), Sorted.of(self.presence.leaves)
        self._joins, self._leaves = self.joins, self.leaves
        self._joins_sum = np.concatenate([[0], np.cumsum(self.presence.joins)])
        self._leaves_sum = np.concatenate([[0], np.cumsum(self.presence.leaves)])

    def viewer_ms(self, begin: I64, until: I64) -> int:
        """Viewer-time (ms) in the intervals ``[begin, until)``: the integral of the
        present count, from the running sums of the sorted joins and leaves."""
        return int((self._before(until) - self._before(begin)).sum())

    def _before(self, t: I64) -> I64:
        """Viewer-time up to each instant: Σ min(leave or end, t) − Σ min(join, t)."""
        def capped(times: I64, running: I64) -> I64:
            k = np.searchsorted(times, t, side="left")
            out: I64 = running[k] + t * (len(times) - k)
            return out
        opened = len(self._joins.times) - len(self._leaves.times)
        out: I64 = (capped(self._leaves.times, self._leaves_sum) + opened * np.minimum(t, self.minutes.end)
                    - capped(self._joins.times, self._joins_sum))
        return out

    def present_at(self, t: int) -> int:
        return self.cohorts.present(t)

    def reach(self, skus: list[str]) -> tuple[B, int]:
        """Which viewers were present at some instant while each sku's segments were on
        air: a (viewers + 1) × skus boolean table (flattened), and the table's width.
        The airings are merged into runs of one sku (back-to-back airings of the
        same product are one stretch); each visit overlaps a run of consecutive
        stretches (found by binary search), so the visits are expanded into
        (visit, stretch) pairs once, for every sku at once."""
        v, a = self.minutes.visits, self.airings
        column = {sku: k for k, sku in enumerate(skus)}
        sku = np.array([column.get(self.plan.skus[g], -1) if 0 <= g < len(self.plan) else -1
                        for g in a.segment.tolist()], np.int64)
        width = max(1, len(skus))
        out = np.zeros((len(self.minutes.tally.viewers) + 1) * width, bool)
        if not len(a) or not (sku >= 0).any():
            return out, width
        # stretches: a new one wherever the sku changes or the air has a gap
        new = np.ones(len(sku), bool)
        new[1:] = (sku[1:] != sku[:-1]) | (a.begin[1:] != a.until[:-1])
        begin, sku = a.begin[new], sku[new]
        until = a.until[np.append(np.flatnonzero(new)[1:] - 1, len(new) - 1)]
        first = np.searchsorted(until, v.join, side="right")
        last = np.searchsorted(begin, np.where(v.left, v.until, self.minutes.end + 1), side="left") - 1
        count = np.maximum(last - first + 1, 0)
        viewer = v.viewer.astype(np.int64)
        pairs = int(count.sum())
        if len(skus) <= FEW_SKUS and pairs > len(count):
            # few skus, long visits: per sku, whether any of its stretches falls in the visit's run
            for k in range(len(skus)):
                seen = np.concatenate([[0], np.cumsum(sku == k)])
                hit = seen[np.minimum(last + 1, len(sku))] - seen[np.minimum(first, len(sku))] > 0
                out[viewer[hit] * width + k] = True
            return out, width
        some = count > 0
        first, count, viewer = first[some], count[some], viewer[some]
        stretch = np.repeat(first - np.cumsum(count) + count, count) + np.arange(pairs)
        of = sku[stretch]
        keep = of >= 0
        out[np.repeat(viewer, count)[keep] * width + of[keep]] = True
        return out, width

    def segments(self) -> list[dict[str, Any]]:
        out = []
        for i in range(len(self.plan)):
            out.append(self.segment(i))
        return out

    def segment(self, i: int) -> dict[str, Any]:
        plan = self.plan
        planned = int(plan.planned_ms[i]) // 1000
        row: dict[str, Any] = {
            "index": i, "kind": plan.kinds[i], "title": plan.titles[i], "sku": plan.skus[i],
            "planned_seconds": planned, "extended_seconds": plan.extended_seconds[i],
            "actual_seconds": None, "overrun_seconds": 0, "started_at": None, "ended_at": None,
            "viewers_start": None, "viewers_end": None, "retention": None, "retention_change": None,
            "retention_curve": [], "joins": 0, "leaves": 0, "likes_per_minute": None, "comments_per_minute": None,
            "interactions_per_minute": None, "average_viewers": None, "interactions_per_viewer_minute": None,
            "orders": 0, "gmv": money.text(0, plan.currency), "lost_after_plan": None,
        }
        b, u = self.airings.of_segment(i)
        if not len(b):
            return row
        air_ms = int((u - b).sum())
        minutes_on = air_ms / MINUTE_MS
        first, first_end = int(b[0]), int(u[0])
        start, end = self.present_at(first), self.present_at(int(u[-1]))
        cohort = start
        marks = first + MINUTE_MS * np.arange((first_end - first) // MINUTE_MS + 1)
        if marks[-1] != first_end:
            marks = np.append(marks, first_end)
        still = [self.cohorts.still(first, int(t)) for t in marks.tolist()]
        planned_end = first + planned * 1000
        if planned_end < first_end:  # its first airing ran past the plan: who left after the planned end
            there = self.present_at(planned_end)
            if there:
                row["lost_after_plan"] = round(1 - self.cohorts.still(planned_end, first_end) / there, 4)
        likes, comments, shares = self.likes.total(b, u), self.comments.count(b, u), self.shares.count(b, u)
        watched = self.viewer_ms(b, u)
        row.update({
            "actual_seconds": round(air_ms / 1000),
            "overrun_seconds": max(0, round(air_ms / 1000) - planned),
            "started_at": int(b[0]),
            "ended_at": int(u[-1]),
            "viewers_start": start,
            "viewers_end": end,
            "retention": None if cohort == 0 else round(still[-1] / cohort, 4),
            "retention_change": None if start == 0 else round((end - start) / start, 4),
            "retention_curve": [] if cohort == 0 else [round(x / cohort, 4) for x in still],
            "joins": self.joins.count(b, u),
            "leaves": self.leaves.count(b, u),
            "likes_per_minute": None if minutes_on == 0 else round(likes / minutes_on, 2),
            "comments_per_minute": None if minutes_on == 0 else round(comments / minutes_on, 2),
            "interactions_per_minute": None if minutes_on == 0 else round((likes + comments + shares) / minutes_on, 2),
            "average_viewers": round(watched / air_ms, 1) if air_ms else None,
            "interactions_per_viewer_minute": round((likes + comments + shares) / (watched / MINUTE_MS), 3)
            if watched else None,
            "orders": self.orders.count(b, u),
            "gmv": money.text(self.orders.total(b, u), plan.currency),
        })
        return row

    def products(self) -> list[dict[str, Any]]:
        plan, tally = self.plan, self.minutes.tally
        skus = list(plan.products) + sorted(s for s in tally.skus if s not in plan.products)
        order_sku, click_sku = tally.order_sku.array(), tally.click_sku.array()
        clicks = np.bincount(click_sku[click_sku >= 0], minlength=len(tally.skus))
        qty, cents, viewer = tally.order_qty.array(), tally.order_cents.array(), tally.order_viewer.array()
        returned = np.zeros(len(qty), np.int64)
        if tally.returned:
            returned[np.fromiter(tally.returned.keys(), np.int64)] = np.fromiter(tally.returned.values(), np.int64)
        known = viewer != NO_VIEWER
        reached, width = self.reach(skus)
        reached2 = reached.reshape(-1, width)
        out = []
        for k, sku in enumerate(skus):
            ix = tally.skus.get(sku, -2)
            mine = order_sku == ix
            bought = np.zeros(len(tally.viewers) + 1, bool)
            bought[viewer[mine & known]] = True
            segs = [i for i in range(len(plan)) if plan.skus[i] == sku]
            b, u = self.airings.of_segments(segs)
            seen = reached2[:, k]
            row: dict[str, Any] = {
                "sku": sku,
                "title": plan.product_title(sku),
                "segments": segs,
                "planned_seconds": int(sum(int(plan.planned_ms[i]) for i in segs)) // 1000,
                "aired_seconds": round(int((u - b).sum()) / 1000),
                "viewers_start": None if not len(b) else self.present_at(int(b[0])),
                "viewers_end": None if not len(b) else self.present_at(int(u[-1])),
                "viewers_reached": int(seen.sum()),
                "clicks": int(clicks[ix]) if 0 <= ix < len(clicks) else 0,
                "orders": int(mine.sum()),
                "units": int(qty[mine].sum()),
                "gmv": money.text(int(cents[mine].sum()), plan.currency),
                "buyers": int(bought.sum()) + int((mine & ~known).sum()),
                "conversion": None if not len(b) else ratio(int((seen & bought).sum()), int(seen.sum())),
                "returned_units": int(returned[mine].sum()),
                "return_rate": ratio(int(returned[mine].sum()), int(qty[mine].sum())),
            }
            out.append(row)
        return out
