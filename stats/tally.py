"""A show's journal, tallied in one pass into columns that numpy can count.

``Tally.add(events)`` is the only per-event Python in the stats: it reads
each event once and appends a few numbers to typed columns (times, counts,
hundredths of money, viewer indexes). Everything else — the minute series,
the metrics, ``stats.tick`` — is vectorised over those columns
(``stats.series``, ``stats.metrics``). A tally only grows: feed it the events
after ``seq`` and it is the tally of the longer journal, which is what keeps
the live numbers cheap (each tick reads only the new events).

Staff viewers (``viewer.registered`` with ``staff: true``, i.e. a team member
who opened the watch page with their staff login) are not audience: their
visits, likes, comments, shares, clicks and claims are left out entirely, as
draws leave them out. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from stats import money

Event = dict[str, Any]
# (at, kind, id, sku, detail): a pin, a flash sale opening (at = its opens_at) or
# closing, a draw opened or drawn, a segment extended; see Tally.moments
Moment = tuple[int, str, str | None, str | None, str | None]
NO_VIEWER = -1  # an order without a viewer
NO_SEGMENT = -1  # nothing on air
NO_SKU = -1  # an order or click without a sku
# The event types whose fields a tally reads (it skips every other).
READS = frozenset({"comment.new", "viewer.joined", "viewer.left", "link.clicked", "viewer.shared",
                   "viewer.registered", "likes.tick", "flash_sale.claimed", "order.placed", "order.returned",
                   "segment.changed", "show.started", "show.ended", "show.created", "product.pinned",
                   "product.unpinned", "flash_sale.opened", "flash_sale.closed", "draw.opened", "draw.closed",
                   "segment.extended", "flash_sale.extended", "flash_sale.restocked"})
FLUSH_AT = 65_536  # appended values a column holds as Python ints at most between two add()s


class Column:
    """An append-only numpy array: appends go to a list, ``array()`` moves them
    into a buffer that doubles when full (amortised O(1) per append, however
    often it is read). ``ascending``: no value is below an earlier one (journal
    times mostly are: then counting them per minute is a binary search)."""

    __slots__ = ("_ascending", "_data", "_n", "append", "buffer", "dtype")

    def __init__(self, dtype: type[np.generic]) -> None:
        self.dtype = dtype
        self.buffer: list[int] = []
        self.append = self.buffer.append
        self._data: npt.NDArray[Any] = np.empty(0, dtype)
        self._n = 0
        self._ascending = True

    def __len__(self) -> int:
        return self._n + len(self.buffer)

    def load(self, values: npt.NDArray[Any], ascending: bool) -> None:
        """Replace the column with ``values`` (a stored column: ``stats.stored``)."""
        self.buffer.clear()
        data = np.ascontiguousarray(values, dtype=self.dtype)
        self._data = data if data.flags.writeable else data.copy()  # a later append may write into it
        self._n = len(values)
        self._ascending = ascending

    def flush(self) -> None:
        """Move the appended values into the array: as Python ints in a list they
        take about five times the memory."""
        if self.buffer:
            new = np.asarray(self.buffer, dtype=self.dtype)
            if self._ascending and (bool(np.any(new[1:] < new[:-1])) or (self._n and new[0] < self._data[self._n - 1])):
                self._ascending = False
            need = self._n + len(new)
            if need > len(self._data):
                grown = np.empty(max(need, 2 * len(self._data), 1024), self.dtype)
                grown[: self._n] = self._data[: self._n]
                self._data = grown
            self._data[self._n : need] = new
            self._n = need
            self.buffer.clear()

    @property
    def ascending(self) -> bool:
        self.flush()
        return self._ascending

    def array(self) -> npt.NDArray[Any]:
        """The column so far (a read-only view: later appends never change it)."""
        self.flush()
        view = self._data[: self._n]
        view.flags.writeable = False
        return view


def _i64() -> Column:
    return Column(np.int64)


class Tally:
    """The countable facts of one show's journal (see the module's docstring).

    ``start``/``ended``: the times of ``show.started``/``show.ended``;
    ``currency``: the show's. Columns (numpy via ``.array()``): visits that
    ended (``visit_join``, ``visit_leave``, ``visit_viewer``) — a visit still
    open is in ``open_visits`` (viewer index → join time); likes (``like_at``,
    ``like_n``); ``comment_at``, ``share_at``, ``click_at``; orders (``order_at``
    its own time, ``order_qty``, ``order_cents`` hundredths of its total,
    ``order_viewer`` or NO_VIEWER) and ``returned`` (order index → returned
    units, capped at the order's); segment changes (``segment_at``,
    ``segment_to`` or NO_SEGMENT). ``interacted()``: viewer indexes that liked,
    commented, shared or claimed. For the review's tables: ``order_sku`` and
    ``click_sku`` (indexes into ``skus``, sku → index; NO_SKU when none), and
    ``moments``: the rare events that say what happened on air (``Moment``).
    A tally read back from the database (``stats.stored``) decodes its id maps
    (``viewers``, ``order_index``, ``skus``) only when it grows:
    ``viewer_count()`` says how many viewers."""

    def __init__(self) -> None:
        self.seq = 0
        self.start: int | None = None
        self.ended: int | None = None
        self.currency = "CNY"
        self.viewers: dict[str, int] = {}  # viewer id → index (ids stay in here: never in any output)
        self.staff: set[str] = set()
        self.open_visits: dict[int, int] = {}
        self.visit_join, self.visit_leave = _i64(), _i64()
        self.visit_viewer = Column(np.int32)
        self.like_at, self.like_n = _i64(), _i64()
        self.comment_at, self.share_at, self.click_at = _i64(), _i64(), _i64()
        self.order_at, self.order_qty, self.order_cents = _i64(), _i64(), _i64()
        self.order_viewer = Column(np.int32)
        self.order_sku, self.click_sku = Column(np.int32), Column(np.int32)
        self.skus: dict[str, int] = {}
        self.moments: list[Moment] = []
        self.order_index: dict[str, int] = {}  # order id → row: an order counts once
        self.returned: dict[int, int] = {}
        self.segment_at = _i64()
        self.segment_to = Column(np.int32)
        self._interacted = bytearray()  # by viewer index: 1 if they interacted
        # ids of viewers who liked, commented or shared, indexed when read (a set add is C-fast)
        self._interacting: set[str] = set()
        self.broken = False
        self._columns = [c for c in vars(self).values() if isinstance(c, Column)]
        # id maps a stored tally decodes when it first grows: name → (how many, loader)
        self._deferred: dict[str, tuple[int, Callable[[], dict[str, int]]]] = {}
        self._handlers = {
            "likes.tick": self._likes,
            "flash_sale.claimed": self._claimed,
            "order.placed": self._placed,
            "order.returned": self._returned,
            "segment.changed": self._segment,
            "show.started": self._started,
            "show.ended": self._ended,
            "show.created": self._created,
            "product.pinned": self._pinned,
            "product.unpinned": self._unpinned,
            "flash_sale.opened": self._sale_opened,
            "flash_sale.closed": self._sale_closed,
            "flash_sale.extended": self._sale_extended,
            "flash_sale.restocked": self._sale_restocked,
            "draw.opened": self._draw_opened,
            "draw.closed": self._draw_closed,
            "segment.extended": self._extended,
        }

    # -- the one pass ------------------------------------------------------------

    def add(self, events: Iterable[Event]) -> Tally:
        """Tally the events after ``seq`` (earlier ones are skipped: feeding the
        same events twice counts them once); returns self. Raises KeyError,
        TypeError or ValueError for an event without the fields its type has;
        the tally is then ``broken`` (partly added) and must be rebuilt."""
        if self.broken:
            raise ValueError("this tally is broken: rebuild it")
        if self._deferred:
            self.undefer()
        # The hot types are inlined with local names: this loop is the one
        # per-event Python of the stats (10 M events in a long show).
        seq = self.seq
        staff, viewers, open_visits = self.staff, self.viewers, self.open_visits
        interacting = self._interacting.add
        comment_at, share_at, click_at = self.comment_at.append, self.share_at.append, self.click_at.append
        click_sku, sku_index = self.click_sku.append, self.sku_index
        visit_join, visit_leave, visit_viewer = (self.visit_join.append, self.visit_leave.append,
                                                 self.visit_viewer.append)
        rare = self._handlers.get
        try:
            for e in events:
                s = e["seq"]
                if s <= seq:
                    continue
                kind = e["type"]
                if kind == "comment.new":
                    vid = e["viewer_id"]
                    if vid not in staff:
                        comment_at(t if (t := e.get("commented_at")) is not None else e["at"])  # a platform comment: its own time
                        interacting(vid)
                elif kind == "viewer.joined":
                    vid = e["viewer_id"]
                    if vid not in staff:
                        ix = viewers.get(vid)
                        if ix is None:
                            ix = viewers[vid] = len(viewers)
                        # as the fold: a join of a present viewer changes nothing
                        if ix not in open_visits:
                            open_visits[ix] = (t if (t := e.get("joined_at")) is not None else e["at"])
                elif kind == "viewer.left":
                    ix = viewers.get(e["viewer_id"])  # None: staff, or never joined
                    joined = None if ix is None else open_visits.pop(ix, None)
                    if ix is not None and joined is not None:  # as the fold: a leave of one absent is nothing
                        visit_join(joined)
                        # its own time: when the last socket dropped, not when the grace ran out
                        left_at = e.get("left_at")
                        visit_leave(max(joined, e["at"] if left_at is None else left_at))
                        visit_viewer(ix)
                elif kind == "link.clicked":
                    vid = e.get("viewer_id")
                    if vid is None or vid not in staff:
                        click_at(e["at"])
                        click_sku(sku_index(e.get("sku")))
                elif kind == "viewer.shared":
                    vid = e["viewer_id"]
                    if vid not in staff:
                        share_at(t if (t := e.get("shared_at")) is not None else e["at"])
                        interacting(vid)
                elif kind == "viewer.registered":
                    if e.get("staff"):
                        staff.add(e["viewer_id"])
                else:
                    handler = rare(kind)
                    if handler is not None:
                        handler(e)
                seq = s
        except Exception:
            self.broken = True
            raise
        finally:
            self.seq = seq
        for column in self._columns:
            if len(column.buffer) >= FLUSH_AT:
                column.flush()
        return self

    def _viewer(self, viewer_id: str) -> int:
        ix = self.viewers.get(viewer_id)
        if ix is None:
            ix = self.viewers[viewer_id] = len(self.viewers)
        return ix

    def defer(self, name: str, count: int, load: Callable[[], dict[str, int]]) -> None:
        """Leave id map ``name`` (``count`` entries) to ``load`` until the tally grows."""
        self._deferred[name] = (count, load)

    def undefer(self, only: str | None = None) -> None:
        """Decode the id maps left for later (``defer``): all, or ``only`` that one."""
        for name, (count, load) in list(self._deferred.items()):
            if only is not None and name != only:
                continue
            ids = load()
            if len(ids) != count:
                raise ValueError(f"the stored {name} hold {len(ids)} ids, not {count}")
            setattr(self, name, ids)
            del self._deferred[name]

    def sku_map(self) -> dict[str, int]:
        """``skus`` (sku → index), decoded if it was left for later (it is small)."""
        self.undefer("skus")
        return self.skus

    def viewer_count(self) -> int:
        """How many viewers the tally has met (audience or not yet known to be staff)."""
        deferred = self._deferred.get("viewers")
        return deferred[0] if deferred is not None else len(self.viewers)

    def sku_index(self, sku: Any) -> int:
        """The index of ``sku`` in ``skus`` (added when new); NO_SKU for None."""
        if sku is None:
            return NO_SKU
        ix = self.skus.get(sku)
        if ix is None:
            ix = self.skus[sku] = len(self.skus)
        return ix

    def _interact(self, ix: int) -> None:
        flags = self._interacted
        if ix >= len(flags):
            flags.extend(bytes(max(ix + 1 - len(flags), len(flags))))
        flags[ix] = 1

    def _created(self, e: Event) -> None:
        self.currency = e["show"].get("currency") or "CNY"

    def _started(self, e: Event) -> None:
        if self.start is None:
            self.start = e["at"]

    def _ended(self, e: Event) -> None:
        if self.ended is None:
            self.ended = e["at"]

    def _segment(self, e: Event) -> None:
        self.segment_at.append(e["at"])
        to = e.get("to")
        self.segment_to.append(NO_SEGMENT if to is None else to)

    def _likes(self, e: Event) -> None:
        added = e["added"]
        by = e.get("_by") or {}
        if self.staff:
            added -= sum(by.get(vid, 0) for vid in self.staff)
        self._interacting.update(by)
        if added:
            self.like_at.append(t if (t := e.get("liked_at")) is not None else e["at"])
            self.like_n.append(added)

    def _order(self, order_id: str, at: int, qty: int, cents: int, viewer_id: Any, sku: Any) -> None:
        if order_id in self.order_index or (viewer_id is not None and viewer_id in self.staff):
            return
        ix = None if viewer_id is None else self._viewer(viewer_id)
        self.order_index[order_id] = len(self.order_at)
        self.order_at.append(at)
        self.order_qty.append(qty)
        self.order_cents.append(cents)
        self.order_viewer.append(NO_VIEWER if ix is None else ix)
        self.order_sku.append(self.sku_index(sku))

    def _claimed(self, e: Event) -> None:
        vid = e["viewer_id"]
        qty = e["qty"]
        self._order(e["order_id"], e["at"], qty, money.hundredths(e["price"]) * qty, vid, e.get("sku"))
        if vid not in self.staff:
            self._interact(self._viewer(vid))

    def _placed(self, e: Event) -> None:
        at = e.get("placed_at")
        self._order(e["order_id"], e["at"] if at is None else at, e["qty"], money.hundredths(e["amount"]),
                    e.get("viewer_id"), e.get("sku"))

    def _pinned(self, e: Event) -> None:
        self.moments.append((e["at"], "pinned", None, e["sku"], None))

    def _unpinned(self, e: Event) -> None:
        self.moments.append((e["at"], "unpinned", None, None, None))

    def _sale_opened(self, e: Event) -> None:
        sale = e["sale"]
        self.moments.append((sale.get("opens_at", e["at"]), "sale_opened", sale["id"], sale["sku"], sale["price"]))
        self.moments.append((sale["deadline"], "sale_deadline", sale["id"], sale["sku"], None))

    def _sale_closed(self, e: Event) -> None:
        self.moments.append((e["at"], "sale_closed", e["sale_id"], None, e.get("reason")))

    def _sale_extended(self, e: Event) -> None:
        # a later deadline moment replaces the earlier (OnAir reads them in journal order)
        self.moments.append((e["deadline"], "sale_deadline", e["sale_id"], None, None))

    def _sale_restocked(self, e: Event) -> None:
        if e.get("reopened"):  # sold out, restocked before its deadline: selling again
            self.moments.append((e["at"], "sale_reopened", e["sale_id"], None, None))

    def _draw_opened(self, e: Event) -> None:
        draw = e["draw"]
        self.moments.append((e["at"], "draw_opened", draw["id"], None, draw.get("prize")))

    def _draw_closed(self, e: Event) -> None:
        self.moments.append((e["at"], "draw_closed", e["draw_id"], None, None))

    def _extended(self, e: Event) -> None:
        self.moments.append((e["at"], "extended", str(e["index"]), None, str(e["seconds"])))

    def _returned(self, e: Event) -> None:
        row = self.order_index.get(e["order_id"])
        if row is None:  # an order this tally does not count (unknown, or a staff viewer's)
            return
        qty = int(self.order_qty.array()[row])  # returns are rare: reading the column is cheap enough
        self.returned[row] = min(qty, self.returned.get(row, 0) + e["qty"])

    # -- reading -----------------------------------------------------------------

    def interacted(self) -> npt.NDArray[np.int32]:
        """Indexes of the audience viewers who liked, commented, shared or claimed, each once."""
        if self._interacting:
            self.undefer()
            for vid in self._interacting - self.staff:
                self._interact(self._viewer(vid))
            self._interacting.clear()
        return np.flatnonzero(np.frombuffer(bytes(self._interacted), np.uint8)).astype(np.int32)
