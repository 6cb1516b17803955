"""What was on air when: the plan, the segments' airings, flash sales, draws, pins (pure, numpy).

The review's analytics read the show's plan from its state (``Plan``: each
segment's kind, title, sku and planned seconds; each product's title and live
price; the language) and what happened from the journal's tally: every
``segment.changed`` (``Airings``: one row each time a segment went on air,
clipped to ``[start, end]``) and the rare events of ``Tally.moments``
(``OnAir``: pins, flash sales, draws). A segment's over-run at an instant is
its air time up to then (across all its airings, as the rundown's drift counts
it) past its ``planned_seconds``; extensions do not move the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from live.core.show import ShowState
from stats.tally import NO_SEGMENT, Tally

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Plan:
    """The show's plan as the review names things (from its state)."""

    language: str
    currency: str
    ended: bool
    kinds: tuple[str, ...]
    titles: tuple[str, ...]
    skus: tuple[str | None, ...]
    planned_ms: I64
    extended_seconds: tuple[int, ...]
    products: dict[str, tuple[str, str]]  # sku → (title, live price)

    @staticmethod
    def of(state: ShowState) -> Plan:
        segs = state.segments
        return Plan(
            language=state.language,
            currency=state.currency,
            ended=state.status == "ended",
            kinds=tuple(s.kind for s in segs),
            titles=tuple(s.title for s in segs),
            skus=tuple(s.sku for s in segs),
            planned_ms=np.array([s.planned_seconds * 1000 for s in segs], np.int64),
            extended_seconds=tuple(s.extended_seconds for s in segs),
            products={p.sku: (p.title, p.live_price) for p in state.products},
        )

    @staticmethod
    def of_review(body: dict[str, Any], language: str) -> Plan:
        """The plan as a review ``body`` names it (its segment rows and its
        products' titles), for saying the review's sentences in ``language``
        (``stats.review.in_language``). The body has no product price; no
        sentence needs one (a drop-off's causes carry the prices shown)."""
        show, rows = body["show"], body["segments"]
        return Plan(
            language=language,
            currency=str(show["currency"]),
            ended=show["status"] == "ended",
            kinds=tuple(r["kind"] for r in rows),
            titles=tuple(r["title"] for r in rows),
            skus=tuple(r["sku"] for r in rows),
            planned_ms=np.array([r["planned_seconds"] * 1000 for r in rows], np.int64),
            extended_seconds=tuple(r["extended_seconds"] for r in rows),
            products={p["sku"]: (p["title"], "") for p in body["products"]},
        )

    def __len__(self) -> int:
        return len(self.kinds)

    def segment(self, index: int) -> dict[str, Any] | None:
        """``{index, title, sku}`` of a segment (None for NO_SEGMENT or one the plan no longer has)."""
        if not 0 <= index < len(self):
            return None
        return {"index": index, "title": self.titles[index], "sku": self.skus[index]}

    def product_title(self, sku: str | None) -> str:
        if sku is None:
            return ""
        found = self.products.get(sku)
        return sku if found is None else found[0]


@dataclass(frozen=True)
class Airings:
    """Each time a segment went on air: ``segment``, ``begin``, ``until`` (ms,
    clipped to ``[start, end]``, in time order; the last runs to ``end``)."""

    segment: I64
    begin: I64
    until: I64
    end: int

    @staticmethod
    def of(tally: Tally, start: int, end: int) -> Airings:
        at = tally.segment_at.array()
        order = np.argsort(at, kind="stable")
        at = np.clip(at[order], start, end)
        to = tally.segment_to.array()[order].astype(np.int64)
        until = np.append(at[1:], end)
        keep = (to != NO_SEGMENT) & (until > at)
        return Airings(to[keep], at[keep], until[keep], end)

    def __len__(self) -> int:
        return len(self.segment)

    def on_air(self, times: I64) -> I64:
        """The segment on air at each time (NO_SEGMENT before the first or between;
        at ``end``, the one the show ended on)."""
        i = np.searchsorted(self.begin, times, side="right") - 1
        if not len(self):
            return np.full(len(times), NO_SEGMENT, np.int64)
        j = np.maximum(i, 0)
        inside = (i >= 0) & ((times < self.until[j]) | ((times == self.end) & (self.until[j] == self.end)))
        return np.where(inside, self.segment[j], NO_SEGMENT)

    def of_segment(self, index: int) -> tuple[I64, I64]:
        """The airings of one segment: ``(begin, until)``."""
        mine = self.segment == index
        return self.begin[mine], self.until[mine]

    def of_segments(self, indexes: list[int]) -> tuple[I64, I64]:
        """The airings of any of these segments, in time order: ``(begin, until)``."""
        wanted = set(indexes)  # (np.isin would import numpy.ma, a tenth of a second, on a first review)
        mine = np.array([g in wanted for g in self.segment.tolist()], bool)
        return self.begin[mine], self.until[mine]

    def air_ms(self, index: int, times: I64) -> I64:
        """How long segment ``index`` had been on air, in all, at each time."""
        b, u = self.of_segment(index)
        if not len(b):
            return np.zeros(len(times), np.int64)
        ran: I64 = np.clip(times[:, None] - b[None, :], 0, (u - b)[None, :]).sum(axis=1)
        return ran

    def overrun_ms(self, plan: Plan, times: I64) -> tuple[I64, I64]:
        """At each time: the segment on air and how far it had run past its plan (ms, 0 if not)."""
        seg = self.on_air(times)
        over = np.zeros(len(times), np.int64)
        for index in sorted(set(seg[(seg >= 0) & (seg < len(plan))].tolist())):
            mine = seg == index
            over[mine] = np.maximum(0, self.air_ms(int(index), times[mine]) - plan.planned_ms[index])
        return seg, over


@dataclass(frozen=True)
class Sale:
    id: str
    sku: str
    price: str
    opens: int
    closes: int  # its close, or its deadline (the show's end at most) while open
    reason: str | None  # why it closed: sold_out, ended, closed, show_ended; None while open


@dataclass(frozen=True)
class Draw:
    id: str
    prize: str
    opened: int
    drawn: int | None


@dataclass(frozen=True)
class OnAir:
    """The show's pins, flash sales and draws, from ``Tally.moments`` up to ``end``."""

    pins: list[tuple[int, str]]  # (at, sku)
    sales: list[Sale]
    draws: list[Draw]

    @staticmethod
    def of(tally: Tally, end: int) -> OnAir:
        pins: list[tuple[int, str]] = []
        opened: dict[str, tuple[int, str, str]] = {}
        deadline: dict[str, int] = {}
        closed: dict[str, tuple[int, str | None]] = {}
        draws: dict[str, tuple[int, str]] = {}
        drawn: dict[str, int] = {}
        for at, kind, ref, sku, detail in tally.moments:
            if kind == "pinned" and sku is not None and at <= end:
                pins.append((at, sku))
            elif kind == "sale_opened" and ref is not None:
                opened[ref] = (at, sku or "", detail or "")
            elif kind == "sale_deadline" and ref is not None:
                deadline[ref] = at
            elif kind == "sale_closed" and ref is not None and at <= end:
                closed.setdefault(ref, (at, detail))
            elif kind == "sale_reopened" and ref is not None and at <= end:
                closed.pop(ref, None)  # its sold-out close did not end it: the next close does
            elif kind == "draw_opened" and ref is not None and at <= end:
                draws[ref] = (at, detail or "")
            elif kind == "draw_closed" and ref is not None and at <= end:
                drawn.setdefault(ref, at)
        sales = []
        for ref, (at, sku, price) in opened.items():
            close, reason = closed.get(ref, (min(deadline.get(ref, end), end), None))
            if at <= end:
                sales.append(Sale(ref, sku, price, at, close, reason))
        return OnAir(
            pins=sorted(pins),
            sales=sorted(sales, key=lambda s: s.opens),
            draws=sorted((Draw(ref, prize, at, drawn.get(ref)) for ref, (at, prize) in draws.items()),
                         key=lambda d: d.opened),
        )

    def sale_during(self, a: int, b: int) -> Sale | None:
        """The first flash sale open at some instant of ``[a, b)``."""
        return next((s for s in self.sales if s.opens < b and s.closes > a), None)

    def draw_during(self, a: int, b: int) -> Draw | None:
        """The first draw open (entries taken, not yet drawn) at some instant of ``[a, b)``."""
        return next((d for d in self.draws if d.opened < b and (d.drawn is None or d.drawn > a)), None)
