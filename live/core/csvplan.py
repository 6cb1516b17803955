"""Rundown CSV import: the spreadsheet a planner wrote → raw segment dicts.

Columns (header row required, any order, English or Chinese names):
``kind`` (类型), ``title`` (标题), ``sku`` (商品), ``planned_seconds`` (秒) or
``minutes`` (分钟) or ``duration`` (时长, ``mm:ss`` or ``h:mm:ss``),
``talking_points`` (话术; several separated by new lines or `` | ``).
Kinds may be written in Chinese (预热, 商品, 互动, 休息, 收尾). Empty columns
with no name (trailing commas from a spreadsheet) and blank rows are ignored.
Validation of the values is ``parse_segments``' job; this only reads cells.
"""

from __future__ import annotations

import csv
import io
import math
import re
from typing import Any

from live.core.errors import Invalid
from live.core.show import MAX_SEGMENT_SECONDS

ALIASES = {
    "kind": "kind", "类型": "kind", "环节类型": "kind",
    "title": "title", "标题": "title", "环节": "title", "名称": "title",
    "sku": "sku", "商品": "sku", "商品编码": "sku",
    "planned_seconds": "planned_seconds", "seconds": "planned_seconds", "秒": "planned_seconds",
    "时长(秒)": "planned_seconds",
    "minutes": "minutes", "planned_minutes": "minutes", "分钟": "minutes", "时长(分钟)": "minutes",
    "duration": "duration", "时长": "duration",
    "talking_points": "talking_points", "notes": "talking_points", "话术": "talking_points", "要点": "talking_points",
}
# Segment kinds as a Chinese planner writes them; anything else goes through
# lower-cased for parse_segments to judge.
KINDS = {
    "预热": "warmup", "商品": "product", "产品": "product", "互动": "interaction", "休息": "break", "收尾": "closing",
}
MAX_CSV_BYTES = 512 * 1024
# At most 9 digits before the first colon: int() of a long digit string is slow
# and, past 4,300 digits, an error; no segment lasts a billion minutes.
DURATION_RE = re.compile(r"^(\d{1,9}):(\d{1,2})(?::(\d{1,2}))?$")
POINTS_SPLIT_RE = re.compile(r"\r\n|\r|\n| \| ")


def _column(name: str) -> str | None:
    """The canonical column for a header cell, or None when unknown."""
    # Spreadsheets typed with a Chinese IME use full-width parentheses.
    key = name.strip().replace("（", "(").replace("）", ")")
    return ALIASES.get(key.lower(), ALIASES.get(key))


def _duration(cell: str, row: int) -> int:
    """Seconds from ``mm:ss`` or ``h:mm:ss``; raises Invalid."""
    m = DURATION_RE.match(cell.strip())
    if m is None or any(int(p) >= 60 for p in m.groups()[1:] if p is not None):
        raise Invalid(f"row {row}: duration {cell[:20]!r} is not mm:ss or h:mm:ss", f"csv.row[{row}].duration")
    total = 0
    for p in m.groups():
        if p is not None:
            total = total * 60 + int(p)
    return int(_bounded(total, cell, row, "duration"))


def _bounded(seconds: float, cell: str, row: int, column: str) -> float:
    """``seconds`` unless no segment could last that long; raises Invalid naming the row.

    What is in range is ``parse_segments``' to judge (a negative length too);
    this keeps ``1e308`` minutes from overflowing and names the spreadsheet row."""
    if not abs(seconds) <= MAX_SEGMENT_SECONDS:
        raise Invalid(f"row {row}: {column} {cell[:20]!r} is out of range: a segment lasts at most "
                      f"{MAX_SEGMENT_SECONDS // 3600} h", f"csv.row[{row}].{column}")
    return seconds


def _number(cell: str, row: int, column: str) -> float:
    """A finite number from a cell; raises Invalid."""
    try:
        value = float(cell)
    except ValueError:
        raise Invalid(f"row {row}: {column} {cell[:20]!r} is not a number", f"csv.row[{row}].{column}") from None
    if not math.isfinite(value):
        raise Invalid(f"row {row}: {column} {cell[:20]!r} is not a number", f"csv.row[{row}].{column}")
    return value


def _header(rows: list[tuple[int, list[str]]]) -> list[str | None]:
    """Canonical column names of the first row (None: an unnamed, empty column
    to ignore); raises Invalid for unknown, unnamed-but-used or repeated columns."""
    cells = rows[0][1]
    header = [_column(c) for c in cells]
    for i, (name, col) in enumerate(zip(cells, header)):
        if col is not None:
            continue
        if name.strip():
            raise Invalid(f"unknown CSV column {name.strip()!r}", "csv.header")
        # Spreadsheets often export trailing empty columns; ignore them unless used.
        if any(i < len(r) and r[i].strip() for _, r in rows[1:]):
            raise Invalid(f"CSV column {i + 1} has values but no name", "csv.header")
    named = [h for h in header if h is not None]
    if len(set(named)) != len(named):
        dup = next(h for h in named if named.count(h) > 1)
        raise Invalid(f"the CSV column {dup!r} appears twice", "csv.header")
    if "title" not in named:
        raise Invalid("the CSV needs a title column", "csv.header")
    if not {"planned_seconds", "minutes", "duration"} & set(named):
        raise Invalid("the CSV needs planned_seconds, minutes or duration", "csv.header")
    return header


def parse_rundown_csv(data: bytes) -> list[dict[str, Any]]:
    """Raw segment dicts from CSV bytes (UTF-8, BOM allowed), for ``parse_segments``.

    Rows are numbered as in the spreadsheet (the header is row 1; blank rows
    are skipped but still counted). Raises Invalid with ``field`` ``csv``,
    ``csv.header``, ``csv.row[n]`` or ``csv.row[n].<column>``.
    """
    if len(data) > MAX_CSV_BYTES:
        raise Invalid(f"the CSV is larger than {MAX_CSV_BYTES // 1024} KiB", "csv")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("the CSV is not UTF-8 (save it as 'CSV UTF-8')", "csv") from None
    if "\x00" in text:
        raise Invalid("the CSV contains NUL bytes", "csv")
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise Invalid(f"the CSV is malformed: {exc}", "csv") from None
    rows = [(n, r) for n, r in enumerate(records, start=1) if any(c.strip() for c in r)]
    if not rows:
        raise Invalid("the CSV is empty; it needs a header row", "csv")
    header = _header(rows)
    out: list[dict[str, Any]] = []
    for n, row in rows[1:]:
        if any(c.strip() for c in row[len(header):]):
            raise Invalid(f"row {n} has more cells than the header", f"csv.row[{n}]")
        cells = {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header) if h}
        seg: dict[str, Any] = {"title": cells.get("title", "")}
        if cells.get("kind"):
            kind = cells["kind"]
            seg["kind"] = KINDS.get(kind, kind.lower())
        if cells.get("sku"):
            seg["sku"] = cells["sku"]
        if cells.get("planned_seconds"):
            cell = cells["planned_seconds"]
            seconds = _bounded(_number(cell, n, "planned_seconds"), cell, n, "planned_seconds")
            seg["planned_seconds"] = int(seconds) if seconds.is_integer() else seconds
        elif cells.get("minutes"):
            cell = cells["minutes"]
            seg["planned_seconds"] = round(_bounded(_number(cell, n, "minutes") * 60, cell, n, "minutes"))
        elif cells.get("duration"):
            seg["planned_seconds"] = _duration(cells["duration"], n)
        else:
            raise Invalid(f"row {n} has no duration", f"csv.row[{n}].planned_seconds")
        points = cells.get("talking_points", "")
        seg["talking_points"] = [p.strip() for p in POINTS_SPLIT_RE.split(points) if p.strip()]
        out.append(seg)
    return out
