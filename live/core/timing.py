"""Rundown timing: moving the air between segments, time left, over-run and drift.

Times are server milliseconds; every function takes ``now`` as a parameter.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from live.core.show import Segment, ShowState


def switch(segments: tuple[Segment, ...], current: int | None, to: int | None, at: int) -> tuple[Segment, ...]:
    """Take ``current`` off the air and put ``to`` on it at time ``at``; returns the
    new segments (``started_at`` keeps the first airing, ``aired_ms`` accumulates)."""
    out = list(segments)
    if current is not None and current < len(out):
        seg = out[current]
        if seg.on_air_since is not None:
            out[current] = replace(
                seg, aired_ms=seg.aired_ms + max(0, at - seg.on_air_since), ended_at=at, on_air_since=None
            )
    if to is not None:
        seg = out[to]
        out[to] = replace(
            seg, started_at=seg.started_at if seg.started_at is not None else at, on_air_since=at, ended_at=None
        )
    return tuple(out)


def aired_ms(seg: Segment, now: int) -> int:
    """Total air time of a segment up to ``now``, across all its airings."""
    live = max(0, now - seg.on_air_since) if seg.on_air_since is not None else 0
    return seg.aired_ms + live


def deadline(seg: Segment) -> int | None:
    """Server time at which the on-air segment runs out (planned + extensions)."""
    if seg.on_air_since is None:
        return None
    return seg.on_air_since + (seg.planned_seconds + seg.extended_seconds) * 1000 - seg.aired_ms


def time_left_ms(state: ShowState, now: int) -> int | None:
    """Milliseconds left in the on-air segment; negative when it over-runs."""
    if state.current is None:
        return None
    end = deadline(state.segments[state.current])
    return None if end is None else end - now


def drift_seconds(state: ShowState, now: int) -> int:
    """How far the show is behind its plan (negative: ahead).

    The plan puts segment *k* on air at ``started_at + sum(planned[:k])``.
    Drift is the show's elapsed time minus the planned time for where it is:
    all segments before the current one plus the current one's air time
    (across all its airings, as ``aired_ms``), capped at its plan. An
    over-running segment makes drift grow by the second; finishing early makes
    it shrink; extending does not hide it (only ``planned_seconds`` counts).
    Going back to a segment that already used its plan is over-run at once.

    Before the start it is 0. Once ended it is frozen: the show's length
    minus the plan of every segment up to the last one that was on air.
    Returns whole seconds.
    """
    if state.started_at is None:
        return 0
    end = state.ended_at if state.ended_at is not None else now
    elapsed = end - state.started_at
    if state.current is None:
        if state.status == "ended":
            aired = [i for i, s in enumerate(state.segments) if s.ended_at is not None]
            # The last segment to leave the air (ties: the later one in the rundown).
            last = max(aired, key=lambda i: (state.segments[i].ended_at, i)) if aired else -1
            planned = sum(s.planned_seconds for s in state.segments[: last + 1]) * 1000
        else:
            planned = 0
    else:
        seg = state.segments[state.current]
        planned = sum(s.planned_seconds for s in state.segments[: state.current]) * 1000
        # Earlier airings count: returning to a finished segment is not "new" time.
        planned += min(aired_ms(seg, now), seg.planned_seconds * 1000)
    return round((elapsed - planned) / 1000)


def segment_view(index: int, seg: Segment, now: int, *, staff: bool) -> dict[str, Any]:
    """A segment as the snapshot shows it (talking points and actions for staff only)."""
    view: dict[str, Any] = {
        "index": index,
        "kind": seg.kind,
        "title": seg.title,
        "sku": seg.sku,
        "planned_seconds": seg.planned_seconds,
        "extended_seconds": seg.extended_seconds,
        "started_at": seg.started_at,
        "ended_at": seg.ended_at,
        "on_air_since": seg.on_air_since,
        "actual_seconds": round(aired_ms(seg, now) / 1000) if seg.started_at is not None else None,
        "deadline": deadline(seg),
    }
    if staff:
        view["talking_points"] = list(seg.talking_points)
        view["actions"] = seg.plan_dict()["actions"]
    return view


def rundown_view(state: ShowState, now: int, *, staff: bool) -> dict[str, Any]:
    """The snapshot's ``rundown``: current, drift, time left, over-run, and every
    segment planned vs actual at ``now``."""
    left = time_left_ms(state, now)
    return {
        "current": state.current,
        "drift_seconds": drift_seconds(state, now),
        # Floor, so that a negative value and "overrun" always agree (round() would
        # show 0 for half a second of over-run).
        "time_left_seconds": None if left is None else left // 1000,
        "overrun": left is not None and left < 0,
        "planned_total_seconds": sum(s.planned_seconds for s in state.segments),
        "segments": [segment_view(i, s, now, staff=staff) for i, s in enumerate(state.segments)],
    }
