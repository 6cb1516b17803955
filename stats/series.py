"""The minute series of a show, from its journal (pure, numpy).

The definitions, as implemented (docs/stats.md says the same):

- ``start`` is the time of ``show.started``; ``end`` that of ``show.ended``,
  or ``now`` for a live show. Minute ``m`` is ``[start + 60 000·m,
  start + 60 000·(m+1))``; the series runs from minute 0 to the minute that
  holds ``end`` (a show of 839 s has minutes 0–13; one of exactly 840 s has
  0–14, the last holding only the instant ``end``).
- Every event counts in the minute of its own time: ``placed_at`` of an
  order, ``left_at`` of a leave (when the viewer's last socket dropped), else
  the event's ``at``. What happened before ``start`` (the warm-up) counts in
  minute 0; what happened after ``end`` is in no minute (only shop orders and
  link clicks can be: they count in the metrics).
- A visit runs from a viewer's join to their leave, clipped to ``[start,
  end]``: a join in the warm-up counts as a join at ``start``, a visit that
  ended before ``start`` is no visit, and one still open at ``end`` (or left
  after it) closes there and is not a leave. A visit counts when the viewer
  was present at some instant: ``[join, leave)`` for a leave, ``[join, end]``
  for a visit open at the end.
- ``concurrent[m]``: the viewers present at the minute's end (a leave at
  exactly that instant no longer counts, a join does); for the last minute,
  those still watching at ``end``. ``peak[m]``: the most present at any
  instant of the minute (up to ``end``).
- ``joins``, ``leaves``, ``likes`` (the summed counts), ``comments``,
  ``shares``, ``clicks``, ``orders`` (won claims and shop orders), ``units``,
  ``gmv`` (integer hundredths; text with the currency's places in ``rows``);
  ``segment``: the index on air at the minute's end (at ``end`` for the last
  minute; ``show.ended`` does not take it off: the last minute shows the
  segment the show ended on), or None before the first.
- Returns are not in the series; they count in the metrics.
- Staff viewers are not audience: see ``stats.tally``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from stats import money
from stats.tally import NO_SEGMENT, Column, Event, Tally

MINUTE_MS = 60_000
Array = npt.NDArray[np.int64]

FIELDS = ("minute", "at", "concurrent", "peak", "joins", "leaves", "likes", "comments", "shares", "clicks",
          "orders", "units", "gmv", "segment")


class NotStarted(ValueError):
    """The show has not started: it has no minutes yet."""


@dataclass(frozen=True)
class Visits:
    """The counted visits, clipped to ``[start, end]``: ``join``, ``until`` (the
    leave, or ``end`` for a visit open then), ``left`` (a real leave),
    ``viewer`` (index). One row a visit."""

    join: Array
    until: Array
    left: npt.NDArray[np.bool_]
    viewer: npt.NDArray[np.int32]


def window(tally: Tally, now: int | None) -> tuple[int, int]:
    """``(start, end)``: ``end`` is the show's end, else ``now``. Raises NotStarted."""
    if tally.start is None:
        raise NotStarted("the show has not started")
    end = tally.ended if tally.ended is not None else now
    if end is None:
        raise ValueError("a live show needs now")
    return tally.start, max(tally.start, end)


def visits(tally: Tally, start: int, end: int) -> Visits:
    """The show's visits, clipped and filtered as the module's docstring says."""
    n_open = len(tally.open_visits)
    join = np.concatenate([tally.visit_join.array(), np.fromiter(tally.open_visits.values(), np.int64, n_open)])
    leave = np.concatenate([tally.visit_leave.array(), np.full(n_open, np.iinfo(np.int64).max, np.int64)])
    viewer = np.concatenate([tally.visit_viewer.array(), np.fromiter(tally.open_visits.keys(), np.int32, n_open)])
    left = leave <= end
    a = np.maximum(join, start)
    until = np.minimum(leave, end)
    keep = np.where(left, a < until, a <= end)
    return Visits(a[keep], until[keep], left[keep], viewer[keep])


def minute_of(times: Array, start: int) -> Array:
    """The minute of each time (before ``start``: minute 0)."""
    return np.maximum(times - start, 0) // MINUTE_MS


def bounds(ascending: Array, start: int, end: int, n: int) -> Array:
    """For ascending times: ``n + 1`` indexes such that minute ``m`` holds
    ``times[b[m]:b[m+1]]`` (before ``start``: minute 0; after ``end``: none)."""
    firsts = np.searchsorted(ascending, start + MINUTE_MS * np.arange(1, n, dtype=np.int64), side="left")
    last = np.searchsorted(ascending, end, side="right")
    return np.concatenate([[0], np.minimum(firsts, last), [last]]).astype(np.int64)


def per_minute(times: Array, start: int, end: int, n: int, weights: Array | None = None,
               ascending: bool = False) -> Array:
    """How many of ``times`` (or the sum of their ``weights``, exact int64) fall in
    each of the ``n`` minutes; times after ``end`` are in none. ``ascending``
    times are counted by binary search, with no pass over every one."""
    if ascending:
        b = bounds(times, start, end, n)
        if weights is None:
            return np.diff(b)
        total = np.concatenate([[0], np.cumsum(weights, dtype=np.int64)])
        sums: Array = total[b[1:]] - total[b[:-1]]
        return sums
    inside = times <= end
    idx = minute_of(times[inside], start)
    if weights is None:
        return np.bincount(idx, minlength=n).astype(np.int64)
    out = np.zeros(n, np.int64)
    np.add.at(out, idx, weights[inside])
    return out


def column_per_minute(col: Column, start: int, end: int, n: int, weights: Column | None = None) -> Array:
    """``per_minute`` of a tally's time column (and its weights)."""
    times = col.array()
    return per_minute(times, start, end, n, None if weights is None else weights.array(), col.ascending)


@dataclass(frozen=True)
class Series:
    """The minute series: one int64 array per field of ``FIELDS`` (``gmv`` in
    hundredths; ``segment`` NO_SEGMENT when nothing was on air)."""

    start: int
    end: int
    currency: str
    minute: Array
    at: Array
    concurrent: Array
    peak: Array
    joins: Array
    leaves: Array
    likes: Array
    comments: Array
    shares: Array
    clicks: Array
    orders: Array
    units: Array
    gmv: Array
    segment: Array
    visits: Visits  # what the audience numbers were counted from (the metrics reuse them)
    presence: Presence  # the visits' joins and leaves, sorted
    # the tally it was counted from: the review's tables and analytics read its other
    # columns (skus, moments, segment changes), never past ``end`` (a live tally may grow since)
    tally: Tally

    def __len__(self) -> int:
        return len(self.minute)

    def rows(self, first: int = 0) -> list[dict[str, Any]]:
        """One dict a minute from minute ``first`` on, as the review's ``minutes``
        (gmv as text, segment None when nothing)."""
        cols = [getattr(self, f)[first:].tolist() for f in FIELDS]
        gmv, seg = FIELDS.index("gmv"), FIELDS.index("segment")
        out = []
        for values in zip(*cols, strict=True):
            row = dict(zip(FIELDS, values, strict=True))
            row["gmv"] = money.text(values[gmv], self.currency)
            row["segment"] = None if values[seg] == NO_SEGMENT else values[seg]
            out.append(row)
        return out


@dataclass(frozen=True)
class Presence:
    """The visits' joins and leaves, each sorted: who is present when."""

    joins: Array
    leaves: Array

    @staticmethod
    def of(v: Visits) -> Presence:
        return Presence(np.sort(v.join), np.sort(v.until[v.left]))

    def at(self, times: Array) -> Array:
        """Viewers present at each instant of ``times`` (a join at it counts, a leave at it does not)."""
        joined = np.searchsorted(self.joins, times, side="right")
        gone = np.searchsorted(self.leaves, times, side="right")
        return (joined - gone).astype(np.int64)

    def peaks(self, start: int, n: int) -> Array:
        """The most viewers present at any instant of each of ``n`` minutes.

        Within a minute the count only rises at a join, so its largest value is
        at the minute's first instant or at one of its joins."""
        firsts = start + MINUTE_MS * np.arange(n, dtype=np.int64)
        peak = self.at(firsts)
        if len(self.joins):
            after_join = self.at(self.joins)
            # the joins of minute m are joins[i[m]:i[m+1]]: the largest count of each non-empty run
            i = np.searchsorted(self.joins, firsts, side="left")
            some = i < np.append(i[1:], len(self.joins))
            if some.any():
                peak[some] = np.maximum(peak[some], np.maximum.reduceat(after_join, i[some]))
        return peak


def series(tally: Tally, now: int | None = None) -> Series:
    """The minute series of a tallied show (``now`` is ``end`` while it is live).
    Raises NotStarted before ``show.started``."""
    start, end = window(tally, now)
    n = (end - start) // MINUTE_MS + 1
    minute = np.arange(n, dtype=np.int64)
    ends = np.minimum(start + MINUTE_MS * (minute + 1), end)  # each minute's end; the last: end
    v = visits(tally, start, end)
    presence = Presence.of(v)
    seg_at = tally.segment_at.array()
    seg_order = np.argsort(seg_at, kind="stable")
    on_air = np.searchsorted(seg_at[seg_order], ends, side="right") - 1
    seg_to = tally.segment_to.array()[seg_order].astype(np.int64)
    segment = np.where(on_air >= 0, seg_to[np.maximum(on_air, 0)] if len(seg_to) else NO_SEGMENT, NO_SEGMENT)
    return Series(
        start=start,
        end=end,
        currency=tally.currency,
        minute=minute,
        at=start + MINUTE_MS * minute,
        concurrent=presence.at(ends),
        peak=presence.peaks(start, n),
        joins=per_minute(presence.joins, start, end, n, ascending=True),
        leaves=per_minute(presence.leaves, start, end, n, ascending=True),
        likes=column_per_minute(tally.like_at, start, end, n, tally.like_n),
        comments=column_per_minute(tally.comment_at, start, end, n),
        shares=column_per_minute(tally.share_at, start, end, n),
        clicks=column_per_minute(tally.click_at, start, end, n),
        orders=column_per_minute(tally.order_at, start, end, n),
        units=column_per_minute(tally.order_at, start, end, n, tally.order_qty),
        gmv=column_per_minute(tally.order_at, start, end, n, tally.order_cents),
        segment=segment.astype(np.int64),
        visits=v,
        presence=presence,
        tally=tally,
    )


def minute_series(events: Iterable[Event] | Tally, now: int | None = None) -> Series:
    """The minute series of a show from its journal events (in seq order, as
    ``Journal.load`` returns them) or from a ``Tally`` of them; ``now`` is the
    end of a live show. Raises NotStarted before ``show.started``."""
    tally = events if isinstance(events, Tally) else Tally().add(events)
    return series(tally, now)
