"""Reading a shop back office's orders CSV (``live.core.csvorders``): Chinese or
English headers, a BOM, extra columns, times in three forms, line numbers."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from live.core.csvorders import parse_orders_csv, parse_time
from live.core.errors import Invalid

SHANGHAI = ZoneInfo("Asia/Shanghai")
T = 1_714_565_700_000  # 2024-05-01 20:15:00 in Shanghai (12:15 UTC)


def test_a_chinese_export_with_a_bom_and_extra_columns() -> None:
    data = ("\ufeff订单号,买家留言,商品编码,数量,实付金额,订单金额,下单时间\n"
            "JD-1,快点发货,A1,2,\"¥1,299.00\",1500.00,2024-05-01 20:15:00\n").encode()
    assert parse_orders_csv(data, SHANGHAI) == [
        {"line": 2, "order_id": "JD-1", "sku": "A1", "qty": 2, "amount": "1299.00", "at": T},
    ]


def test_english_headers_returns_and_blank_lines_keep_their_line_numbers() -> None:
    data = (b"Order_ID,SKU,Qty,Amount,Time,Type\r\n"
            b"a,A1,1,59.00,1714565700000,order\r\n"
            b"\r\n"
            b"a,,1,,2024-05-02T09:00:00+08:00,return\r\n"
            b"b,B2,3,75,2024/5/1 20:15,\r\n")
    assert parse_orders_csv(data, SHANGHAI) == [
        {"line": 2, "order_id": "a", "sku": "A1", "qty": 1, "amount": "59.00", "at": T, "kind": "order"},
        {"line": 4, "order_id": "a", "qty": 1, "at": T + 12 * 3600_000 + 45 * 60_000, "kind": "return"},
        {"line": 5, "order_id": "b", "sku": "B2", "qty": 3, "amount": "75", "at": T},
    ]


def test_a_cell_spanning_lines_numbers_its_row_where_it_starts() -> None:
    data = b'order_id,sku,qty,amount,note\na,A1,1,1.00,"two\nlines"\nb,A1,1,1.00,x\n'
    assert [r["line"] for r in parse_orders_csv(data, None)] == [2, 4]


def test_chinese_types_and_a_returned_total() -> None:
    data = "订单编号,商家编码,商品数量,支付金额,类型,退货数量,退货时间\nx,A1,2,10,退货,1,2024-05-01 20:15:00\ny,A1,2,10,订单,2,\n"
    rows = parse_orders_csv(data.encode(), SHANGHAI)
    assert [(r["kind"], r["returned_qty"]) for r in rows] == [("return", 1), ("order", 2)]
    assert rows[0]["returned_at"] == T and "returned_at" not in rows[1]


def test_cells_it_cannot_read_are_left_for_the_import_to_refuse() -> None:
    data = b"order_id,sku,qty,amount,time\na,A1,two,1.00,soon\n"
    assert parse_orders_csv(data, SHANGHAI) == [
        {"line": 2, "order_id": "a", "sku": "A1", "qty": "two", "amount": "1.00", "at": "soon"}]


@pytest.mark.parametrize(("cell", "tz", "expected"), [
    ("1714565700000", None, T),
    ("2024-05-01 20:15:00", SHANGHAI, T),
    ("2024-05-01T20:15:00", SHANGHAI, T),
    ("2024-05-01 20:15", SHANGHAI, T),
    ("2024/05/01 20:15:00", SHANGHAI, T),
    ("2024-05-01T12:15:00Z", None, T),
    ("2024-05-01T20:15:00+08:00", UTC, T),
    ("2024-05-01 12:15:00", timezone(timedelta(0)), T),
    ("2024-05-01 20:15:00.250", SHANGHAI, T + 250),
    ("2024-05-01 20:15:00", None, "2024-05-01 20:15:00"),  # a local time with no known timezone
    ("2024-13-01 20:15:00", SHANGHAI, "2024-13-01 20:15:00"),
    ("yesterday", SHANGHAI, "yesterday"),
])
def test_times_in_three_forms(cell: str, tz: timezone | ZoneInfo | None, expected: int | str) -> None:
    assert parse_time(cell, tz) == expected


@pytest.mark.parametrize(("data", "field", "words"), [
    (b"", "line 1", "empty"),
    (b"sku,qty,amount\nA1,1,1\n", "line 1", "order_id"),
    (b"order_id,sku,amount\na,A1,1\n", "line 1", "qty"),
    (b"order_id,qty,amount\na,1,1\n", "line 1", "sku"),
    (b"order_id,qty,sku,sku\na,1,A1,A1\n", "line 1", "twice"),
    ("订单号,数量\n".encode("gbk"), "body", "UTF-8"),
    (b"order_id,qty,type\na\x00,1,order\n", "body", "NUL"),
    (b"\norder_id,sku,qty,amount\n", "line 1", "header"),
])
def test_a_file_it_cannot_read_is_refused_as_a_whole(data: bytes, field: str, words: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_orders_csv(data, None)
    assert caught.value.field == field and words in caught.value.message


def test_a_file_with_only_returns_needs_no_sku_or_amount_column() -> None:
    rows = parse_orders_csv(b"order_id,qty,type,time\na,1,return,1714565700000\n", None)
    assert rows == [{"line": 2, "order_id": "a", "qty": 1, "kind": "return", "at": T}]
