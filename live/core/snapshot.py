"""A show's state as JSON-ready values and back: ``dump(state)``, ``load(data)``.

What a cache keeps so that it need not fold the journal again (the stored
review, ``stats.stored``); the journal stays the truth, so a snapshot that
cannot be read is refolded, never patched. Records are stored as rows of
their fields' values under one list of field names per record type, taken
from the dataclasses themselves: a snapshot written before a field was added
or renamed no longer matches and ``load`` refuses it (``SnapshotMismatch``),
so no version number has to be remembered by hand. The ledger's
configuration (``banned``, ``comment_interval_ms``) is not journaled and not
kept: the engine sets it. Pure.
"""

from __future__ import annotations

from dataclasses import fields
from operator import attrgetter
from typing import Any

from live.core.ledger import Comment, Draw, FlashSale, Ledger, Order, Viewer
from live.core.show import Product, Segment, ShowState

_RECORDS: dict[str, type] = {"Product": Product, "Segment": Segment, "Viewer": Viewer, "Comment": Comment,
                             "FlashSale": FlashSale, "Draw": Draw, "Order": Order}
# Values kept as they are (JSON-ready). ledger: what the engine configures is left out.
_STATE = tuple(f.name for f in fields(ShowState) if f.name not in ("products", "segments", "ledger"))
_LEDGER = tuple(f.name for f in fields(Ledger) if f.name not in ("banned", "comment_interval_ms") and f.compare)
# the ledger's maps of id → record
_RECORD_MAPS: dict[str, type] = {"viewers": Viewer, "sales": FlashSale, "draws": Draw, "orders_by_id": Order}
_COMPUTED = ("comments", "comment_index")  # comments as rows; the index is rebuilt from them


class SnapshotMismatch(ValueError):
    """The snapshot was written by a version whose records have other fields."""


def _names(cls: type) -> list[str]:
    return [f.name for f in fields(cls) if f.init]


def _rows(cls: type, records: Any) -> list[Any]:
    get = attrgetter(*_names(cls))
    return [list(get(r)) for r in records]


def _make(cls: type, rows: list[Any]) -> list[Any]:
    out = [cls(*row) for row in rows]
    if cls is Segment:
        out = [_segment(s) for s in out]
    elif cls is Order:
        for o in out:
            o.returns = [tuple(r) for r in o.returns]
    elif cls is FlashSale:
        for s in out:
            s.orders_by_id = {k: o for k, o in zip(s.orders_by_id, _make(Order, list(s.orders_by_id.values())),
                                                   strict=True)}
    return out


def _segment(s: Segment) -> Segment:
    # tuples in the dataclass, lists in JSON
    object.__setattr__(s, "talking_points", tuple(s.talking_points))
    object.__setattr__(s, "actions", tuple(tuple(a) for a in s.actions))
    return s


def dump(state: ShowState) -> dict[str, Any]:
    """The state as JSON-ready values (lists, dicts, strings, numbers, None)."""
    ledger = state.ledger
    out_ledger: dict[str, Any] = {}
    for name in _LEDGER:
        value = getattr(ledger, name)
        if name in _RECORD_MAPS:
            cls = _RECORD_MAPS[name]
            rows = _rows(cls, value.values())
            if cls is FlashSale:
                orders = _names(FlashSale).index("orders_by_id")
                for row in rows:
                    row[orders] = {k: list(attrgetter(*_names(Order))(o)) for k, o in row[orders].items()}
            out_ledger[name] = rows
        elif name == "comments":
            out_ledger[name] = _rows(Comment, value)
        elif name != "comment_index":
            out_ledger[name] = value
    return {
        "fields": {name: _names(cls) for name, cls in _RECORDS.items()},
        "state": {name: getattr(state, name) for name in _STATE},
        "products": _rows(Product, state.products),
        "segments": _rows(Segment, state.segments),
        "ledger": out_ledger,
    }


def load(data: dict[str, Any]) -> ShowState:
    """The state ``dump`` wrote, its ledger sealed. Raises SnapshotMismatch when
    the records' fields differ from this version's, KeyError, TypeError or
    ValueError when ``data`` is not a snapshot."""
    if data["fields"] != {name: _names(cls) for name, cls in _RECORDS.items()}:
        raise SnapshotMismatch("the snapshot's records have other fields than this version's")
    raw = data["ledger"]
    if set(raw) != set(_LEDGER) - {"comment_index"} or set(data["state"]) != set(_STATE):
        raise SnapshotMismatch("the snapshot's state has other fields than this version's")
    values: dict[str, Any] = {}
    for name in _LEDGER:
        if name in _RECORD_MAPS:
            values[name] = {r.id: r for r in _make(_RECORD_MAPS[name], raw[name])}
        elif name == "comments":
            values[name] = _make(Comment, raw[name])
            values["comment_index"] = {c.id: i for i, c in enumerate(values[name])}
        elif name not in _COMPUTED:
            values[name] = raw[name]
    ledger = Ledger(**values).seal()
    return ShowState(**data["state"], products=tuple(_make(Product, data["products"])),
                     segments=tuple(_make(Segment, data["segments"])), ledger=ledger)
