"""Rundown CSV import: the spreadsheet a planner wrote → raw segment dicts.

Columns (header row required, any order, English or Chinese names):
``kind`` (类型), ``title`` (标题), ``sku`` (商品), ``planned_seconds`` (秒) or
``minutes`` (分钟) or ``duration`` (时长, ``mm:ss`` or ``h:mm:ss``),
``talking_points`` (话术; several separated by new lines or `` | ``).
Validation of the values is ``parse_segments``' job; this only reads cells.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from live.errors import Invalid

ALIASES = {
    "kind": "kind", "类型": "kind", "环节类型": "kind",
    "title": "title", "标题": "title", "环节": "title", "名称": "title",
    "sku": "sku", "商品": "sku", "商品编码": "sku",
    "planned_seconds": "planned_seconds", "seconds": "planned_seconds", "秒": "planned_seconds",
    "minutes": "minutes", "planned_minutes": "minutes", "分钟": "minutes", "时长(分钟)": "minutes",
    "duration": "duration", "时长": "duration",
    "talking_points": "talking_points", "notes": "talking_points", "话术": "talking_points", "要点": "talking_points",
}
MAX_CSV_BYTES = 512 * 1024


def _duration(cell: str, row: int) -> int:
    parts = cell.strip().split(":")
    try:
        nums = [int(p) for p in parts]
    except ValueError:
        raise Invalid(f"row {row}: duration {cell!r} is not mm:ss", f"csv.row[{row}].duration") from None
    if len(nums) == 1 or len(nums) > 3 or any(n < 0 for n in nums) or any(n >= 60 for n in nums[1:]):
        raise Invalid(f"row {row}: duration {cell!r} is not mm:ss or h:mm:ss", f"csv.row[{row}].duration")
    total = 0
    for n in nums:
        total = total * 60 + n
    return total


def _number(cell: str, row: int, column: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise Invalid(f"row {row}: {column} {cell!r} is not a number", f"csv.row[{row}].{column}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise Invalid(f"row {row}: {column} {cell!r} is not a number", f"csv.row[{row}].{column}")
    return value


def parse_rundown_csv(data: bytes) -> list[dict[str, Any]]:
    """Raw segment dicts from CSV bytes (UTF-8, BOM allowed). Raises Invalid."""
    if len(data) > MAX_CSV_BYTES:
        raise Invalid(f"the CSV is larger than {MAX_CSV_BYTES // 1024} KiB", "csv")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("the CSV is not UTF-8 (save it as 'CSV UTF-8')", "csv") from None
    if "\x00" in text:
        raise Invalid("the CSV contains NUL bytes", "csv")
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise Invalid(f"the CSV is malformed: {exc}", "csv") from None
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise Invalid("the CSV is empty; it needs a header row", "csv")
    header = [ALIASES.get(c.strip().lower(), ALIASES.get(c.strip())) for c in rows[0]]
    unknown = [rows[0][i] for i, h in enumerate(header) if h is None]
    if unknown:
        raise Invalid(f"unknown CSV column {unknown[0]!r}", "csv.header")
    if "title" not in header:
        raise Invalid("the CSV needs a title column", "csv.header")
    if not {"planned_seconds", "minutes", "duration"} & set(header):
        raise Invalid("the CSV needs planned_seconds, minutes or duration", "csv.header")
    if len(set(header)) != len(header):
        raise Invalid("a CSV column appears twice", "csv.header")
    out: list[dict[str, Any]] = []
    for n, row in enumerate(rows[1:], start=2):
        if len(row) > len(header):
            raise Invalid(f"row {n} has more cells than the header", f"csv.row[{n}]")
        cells = {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header) if h}
        seg: dict[str, Any] = {"title": cells.get("title", "")}
        if cells.get("kind"):
            seg["kind"] = cells["kind"].lower()
        if cells.get("sku"):
            seg["sku"] = cells["sku"]
        if cells.get("planned_seconds"):
            seconds = _number(cells["planned_seconds"], n, "planned_seconds")
            seg["planned_seconds"] = int(seconds) if seconds.is_integer() else seconds
        elif cells.get("minutes"):
            seg["planned_seconds"] = round(_number(cells["minutes"], n, "minutes") * 60)
        elif cells.get("duration"):
            seg["planned_seconds"] = _duration(cells["duration"], n)
        else:
            raise Invalid(f"row {n} has no duration", f"csv.row[{n}].planned_seconds")
        points = cells.get("talking_points", "")
        split = points.split(" | ") if " | " in points else points.splitlines()
        seg["talking_points"] = [p.strip() for p in split if p.strip()]
        out.append(seg)
    return out
