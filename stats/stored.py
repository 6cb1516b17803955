"""A show's review kept between reads: its tally and its review state as one blob (pure).

``encode(tally, state)`` → bytes; ``decode(blob, show_id)`` → ``(tally, state)``
as they were, so a review of a long show that has ended reads one row instead
of its whole journal. The blob is a cache: the journal stays the truth, a
stored tally is never trusted past its ``seq`` (the events after it are caught
up), and one that cannot be used — another FORMAT, another show, a tally or a
state whose fields changed since it was written, a checksum that does not
match — raises ``Unusable`` and is rebuilt from the journal.

Layout: MAGIC, FORMAT (u16), the CRC-32 of the rest (u32), then the header's
length (u32), the header (zlib'd JSON: the tally's scalars, id lists and the
places of its columns, and ``live.core.snapshot.dump(state)``) and the
columns, each zlib'd: an ascending time column as its first value and the
gaps after it (in the narrowest unsigned type that holds them: they
compress to little), any other as it is.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from live.core import snapshot
from live.core.show import ShowState
from stats.tally import Column, Tally

FORMAT = 1  # bump when the layout changes: older blobs are then rebuilt
MAGIC = b"LIVETALLY"
_HEAD = struct.Struct(">HI")  # format, crc32 of what follows
_LEN = struct.Struct(">I")
_DERIVED = ("_handlers", "_columns", "_deferred")  # rebuilt by Tally() itself
_WIDTHS = (np.uint8, np.uint16, np.uint32)


class Unusable(ValueError):
    """A stored review that cannot be used (see the module's docstring): rebuild it."""


class Unstorable(TypeError):
    """The tally holds a kind of value this module does not know how to store."""


def _dumps(value: Any) -> bytes:
    # json, not orjson: orjson writes NaN as null, and a value must come back as it was
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _loads(raw: bytes) -> Any:
    # orjson on the read path (the one a reviewer waits for); json reads what orjson refuses
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


def _attributes() -> list[str]:
    return sorted(k for k in vars(Tally()) if k not in _DERIVED)


def _column(values: npt.NDArray[Any], ascending: bool) -> tuple[dict[str, Any], bytes]:
    if ascending and len(values) > 1:
        gaps = np.diff(values)
        top = int(gaps.max())
        for width in _WIDTHS:
            if top <= np.iinfo(width).max:
                return {"first": int(values[0]), "gaps": np.dtype(width).name}, gaps.astype(width).tobytes()
    return {"dtype": values.dtype.name}, values.tobytes()


def _uncolumn(spec: dict[str, Any], raw: bytes, dtype: Any) -> npt.NDArray[Any]:
    if "gaps" in spec:
        gaps = np.frombuffer(raw, dtype=spec["gaps"]).astype(np.int64)
        out = np.empty(len(gaps) + 1, np.int64)
        out[0] = spec["first"]
        np.cumsum(gaps, out=out[1:])
        out[1:] += spec["first"]
        return out.astype(dtype, copy=False)
    return np.frombuffer(raw, dtype=spec["dtype"])


def settle(tally: Tally) -> None:
    """Make everything ``encode`` reads final: the deferred id maps decoded, the
    pending interactions folded into their flags, every column's appends moved
    into its array. Call it where the tally is owned (the event loop); then
    ``encode`` only reads, and may run in another thread beside readers."""
    tally.undefer()
    tally.interacted()
    for name in _attributes():
        value = getattr(tally, name)
        if isinstance(value, Column):
            value.flush()


def encode(tally: Tally, state: ShowState) -> bytes:
    """The blob of a tally and the review state at the same seq. Raises
    ValueError for a broken tally or one at another seq than the state,
    Unstorable for a tally attribute of a kind this module does not know."""
    if tally.broken:
        raise ValueError("a broken tally is rebuilt, never stored")
    if tally.seq != state.seq:
        raise ValueError(f"the tally is at seq {tally.seq}, the state at {state.seq}")
    settle(tally)
    attrs: dict[str, Any] = {}
    parts: list[bytes] = []

    def section(data: bytes) -> int:
        parts.append(zlib.compress(data, 1))
        return len(parts) - 1

    for name in _attributes():
        value = getattr(tally, name)
        if isinstance(value, Column):
            spec, raw = _column(value.array(), value.ascending)
            attrs[name] = {"column": section(raw), "ascending": value.ascending, **spec}
        elif isinstance(value, bytearray):
            attrs[name] = {"bytes": section(bytes(value))}
        elif isinstance(value, dict) and not all(type(v) is int for v in value.values()):
            raise Unstorable(f"stats.stored stores dicts of ints only: Tally.{name} is not one")
        elif isinstance(value, dict) and all(isinstance(k, str) for k in value):
            # a section of its own, decoded only when the tally grows (a review that reads it does not)
            attrs[name] = {"keys": section(_dumps(list(value))), "count": len(value),
                           "values": section(np.fromiter(value.values(), np.int64, len(value)).tobytes())}
        elif isinstance(value, dict) and all(type(k) is int for k in value):
            keys = np.fromiter(value.keys(), np.int64, len(value))
            attrs[name] = {"int_keys": section(keys.tobytes()),
                           "values": section(np.fromiter(value.values(), np.int64, len(value)).tobytes())}
        elif isinstance(value, set):
            attrs[name] = {"set": sorted(value)}
        elif isinstance(value, list) and all(isinstance(item, tuple) for item in value):
            # rare rows (Tally.moments: pins, sales, draws, extensions), as JSON arrays
            attrs[name] = {"rows": section(_dumps(value))}
        elif value is None or isinstance(value, (bool, int, str)):
            attrs[name] = {"value": value}
        else:
            raise Unstorable(f"stats.stored does not know how to store Tally.{name} ({type(value).__name__})")
    header = _dumps({"show_id": state.id, "seq": tally.seq, "tally": attrs, "state": snapshot.dump(state)})
    packed = zlib.compress(header, 1)
    sizes = [len(packed), *(len(p) for p in parts)]
    body = b"".join([_LEN.pack(len(sizes)), *(_LEN.pack(n) for n in sizes), packed, *parts])
    return MAGIC + _HEAD.pack(FORMAT, zlib.crc32(body)) + body


def _sections(blob: bytes) -> tuple[bytes, list[memoryview]]:
    if not blob.startswith(MAGIC):
        raise Unusable("not a stored review")
    fmt, crc = _HEAD.unpack_from(blob, len(MAGIC))
    if fmt != FORMAT:
        raise Unusable(f"stored in format {fmt}, this version reads {FORMAT}")
    body = memoryview(blob)[len(MAGIC) + _HEAD.size:]
    if zlib.crc32(body) != crc:
        raise Unusable("the stored review is corrupt (checksum)")
    (count,) = _LEN.unpack_from(body, 0)
    sizes = [_LEN.unpack_from(body, _LEN.size * (1 + i))[0] for i in range(count)]
    at = _LEN.size * (1 + count)
    out = []
    for n in sizes:
        out.append(body[at:at + n])
        at += n
    if at != len(body):
        raise Unusable("the stored review is corrupt (length)")
    return bytes(out[0]), out[1:]


def _ids(keys: memoryview, values: memoryview) -> Callable[[], dict[str, int]]:
    def load() -> dict[str, int]:
        return dict(zip(_loads(zlib.decompress(keys)), np.frombuffer(zlib.decompress(values), np.int64).tolist(),
                        strict=True))

    return load


def decode(blob: bytes, show_id: str) -> tuple[Tally, ShowState]:
    """The tally and review state ``encode`` stored; raises Unusable (see the
    module's docstring)."""
    packed, parts = _sections(blob)
    try:
        header = _loads(zlib.decompress(packed))
        if header["show_id"] != show_id:
            raise Unusable(f"stored for show {header['show_id']!r}, not {show_id!r}")
        attrs = header["tally"]
        if sorted(attrs) != _attributes():
            raise Unusable("stored by a version whose tally has other fields")
        tally = Tally()

        def raw(i: int) -> bytes:
            return zlib.decompress(parts[i])

        for name, spec in attrs.items():
            if "column" in spec:
                column: Column = getattr(tally, name)
                column.load(_uncolumn(spec, raw(spec["column"]), column.dtype), spec["ascending"])
            elif "bytes" in spec:
                setattr(tally, name, bytearray(raw(spec["bytes"])))
            elif "keys" in spec:
                tally.defer(name, spec["count"], _ids(parts[spec["keys"]], parts[spec["values"]]))
            elif "int_keys" in spec:
                keys = np.frombuffer(raw(spec["int_keys"]), np.int64).tolist()
                values = np.frombuffer(raw(spec["values"]), np.int64).tolist()
                setattr(tally, name, dict(zip(keys, values, strict=True)))
            elif "set" in spec:
                setattr(tally, name, set(spec["set"]))
            elif "rows" in spec:
                setattr(tally, name, [tuple(row) for row in _loads(raw(spec["rows"]))])
            else:
                setattr(tally, name, spec["value"])
        state = snapshot.load(header["state"])
    except Unusable:
        raise
    # (SnapshotMismatch and JSON errors are ValueErrors)
    except (KeyError, TypeError, ValueError, IndexError, zlib.error) as exc:
        raise Unusable(f"the stored review cannot be read: {exc}") from None
    if tally.seq != header["seq"] or state.seq != tally.seq or state.id != show_id:
        raise Unusable("the stored tally and state disagree")
    return tally, state
