"""Orders CSV import: a shop back office's export → raw rows for ``orders.import``.

A header row, then one order or return a line. Columns in any order, English
or Chinese; columns this import does not use (addresses, notes…) are ignored:

- ``order_id`` (订单号, 订单编号, 主订单编号, 子订单编号), required
- ``qty`` (数量, 商品数量, 购买数量), required
- ``sku`` (商品编码, 商家编码, SKU), ``amount`` (实付金额, 实付款, 支付金额, 金额, 订单金额):
  required for orders
- ``time`` (下单时间, 时间, at): the order's time, or a return row's; ISO 8601,
  ``YYYY-MM-DD HH:MM:SS`` (also with ``/``) in the show's timezone, or Unix ms
- ``type`` (类型): ``order`` (订单, the default) or ``return`` (退货, 退款)
- ``returned_qty`` (退货数量, 退款数量): on an order row, its returned units in all;
  ``returned_at`` (退货时间, 退款时间) their time
- ``viewer_id`` (观众ID): our viewer id, when the shop has it

Where an export has several columns for one name (实付金额 and 订单金额), the
first in the lists above wins. Lines are numbered as in a text editor (the
header is line 1; blank lines count). This only reads cells (numbers and
times it can read become ints); judging the values is ``orders.import``'s job.
Pure: the shell passes the show's timezone as a ``tzinfo``.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from live.core.errors import Invalid
from live.core.orders import MAX_IMPORT_LINES

# canonical column → header names, in order of preference
COLUMNS: dict[str, tuple[str, ...]] = {
    "order_id": ("order_id", "订单号", "订单编号", "主订单编号", "子订单编号", "订单id", "order id", "order_no", "order"),
    "sku": ("sku", "商品编码", "商家编码", "商品编号", "sku编码", "sku_id"),
    "qty": ("qty", "数量", "商品数量", "购买数量", "quantity"),
    "amount": ("amount", "实付金额", "实付款", "支付金额", "金额", "订单金额", "paid", "total"),
    "at": ("time", "at", "下单时间", "时间", "placed_at", "order_time", "created_at"),
    "kind": ("type", "类型", "kind", "订单类型"),
    "returned_qty": ("returned_qty", "退货数量", "退款数量", "returned"),
    "returned_at": ("returned_at", "退货时间", "退款时间"),
    "viewer_id": ("viewer_id", "观众id", "viewer"),
}
KINDS = {
    "order": "order", "订单": "order", "下单": "order", "购买": "order", "支付": "order", "placed": "order",
    "sale": "order", "purchase": "order",
    "return": "return", "退货": "return", "退款": "return", "售后": "return", "refund": "return", "returned": "return",
}
_LOCAL_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _key(name: str) -> str:
    return name.strip().replace("（", "(").replace("）", ")").lower()


def parse_time(cell: str, tz: tzinfo | None) -> int | str:
    """Unix ms from a cell (digits: ms already; ISO 8601 with an offset; a local
    ``YYYY-MM-DD[ HH:MM[:SS]]``, ``-`` or ``/``, in ``tz``), or the cell itself when
    it cannot be read (``orders.import`` then says what is wanted)."""
    s = cell.strip()
    if s.isdigit() and len(s) <= 15:
        return int(s)
    s = s.replace("/", "-")
    m = _LOCAL_RE.match(s)
    try:
        if m is not None:
            y, mo, d, h, mi, sec, frac = m.groups()
            dt = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(sec or 0),
                          int((frac or "0").ljust(6, "0")))
        else:
            dt = datetime.fromisoformat(s)
    except ValueError:
        return cell
    if dt.tzinfo is None:
        if tz is None:
            return cell
        dt = dt.replace(tzinfo=tz)
    return (dt - _EPOCH) // timedelta(milliseconds=1)


def _header(cells: list[str]) -> dict[str, int]:
    """Canonical column → its index; raises Invalid (field ``line 1``)."""
    keys = [_key(c) for c in cells]
    named = [k for k in keys if k]
    if len(set(named)) != len(named):
        dup = next(k for k in named if named.count(k) > 1)
        raise Invalid(f"the CSV column {dup!r} appears twice", "line 1")
    out: dict[str, int] = {}
    for column, names in COLUMNS.items():
        for name in names:
            if name in keys:
                out[column] = keys.index(name)
                break
    for column in ("order_id", "qty"):
        if column not in out:
            raise Invalid(f"the CSV needs a {column} column ({' / '.join(COLUMNS[column][:3])})", "line 1")
    if "kind" not in out:
        for column in ("sku", "amount"):
            if column not in out:
                raise Invalid(f"the CSV needs a {column} column ({' / '.join(COLUMNS[column][:3])})", "line 1")
    return out


def _number(cell: str) -> int | str:
    return int(cell) if cell.isdigit() and len(cell) <= 12 else cell


def _money(cell: str) -> str:
    # what spreadsheets add to money: a currency sign, thousands separators
    return cell.replace(",", "").replace("，", "").lstrip("¥￥").strip()


def parse_orders_csv(data: bytes, tz: tzinfo | None) -> list[dict[str, Any]]:
    """Raw rows (``line`` and the cells it read, by canonical name; an empty cell
    is None) from CSV bytes, UTF-8 with or without a BOM. Raises Invalid with
    field ``body`` (not UTF-8, NUL bytes, malformed, too many lines) or ``line 1``
    (the header)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("the CSV is not UTF-8 (save it as 'CSV UTF-8')", "body") from None
    if "\x00" in text:
        raise Invalid("the CSV contains NUL bytes", "body")
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for record in reader:
            if any(c.strip() for c in record):
                records.append((start, record))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise Invalid(f"the CSV is malformed near line {reader.line_num}: {exc}", "body") from None
    if not records:
        raise Invalid("the CSV is empty; it needs a header row", "line 1")
    if records[0][0] != 1:
        raise Invalid("the CSV's first line must be its header", "line 1")
    columns = _header(records[0][1])
    if len(records) - 1 > MAX_IMPORT_LINES:
        raise Invalid(f"the CSV has {len(records) - 1} lines; import at most {MAX_IMPORT_LINES} at a time", "body")
    rows: list[dict[str, Any]] = []
    for line, record in records[1:]:
        cells = {c: (record[i].strip() if i < len(record) else "") for c, i in columns.items()}
        row: dict[str, Any] = {"line": line}
        for column, cell in cells.items():
            if not cell:
                continue
            if column == "kind":
                row["kind"] = KINDS.get(cell.lower(), cell)
            elif column in ("qty", "returned_qty"):
                row[column] = _number(cell)
            elif column == "amount":
                row[column] = _money(cell)
            elif column in ("at", "returned_at"):
                row[column] = parse_time(cell, tz)
            else:
                row[column] = cell
        rows.append(row)
    return rows
