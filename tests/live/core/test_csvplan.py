"""Rundown CSV import: a planner's spreadsheet → raw segment dicts, or Invalid
naming the file, the header or the row."""

from __future__ import annotations

import pytest

from live.core.csvplan import MAX_CSV_BYTES, parse_rundown_csv
from live.core.errors import Invalid
from live.core.show import Product, parse_segments

PRODUCTS = (Product(sku="A1", title="Tea", list_price="99.00", live_price="59.00", stock=10),)


def csv_bytes(text: str, *, bom: bool = False) -> bytes:
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def invalid_field(data: bytes) -> str | None:
    with pytest.raises(Invalid) as exc:
        parse_rundown_csv(data)
    assert exc.value.status == 422
    return exc.value.field


def test_english_header_with_seconds() -> None:
    data = csv_bytes("kind,title,sku,planned_seconds,talking_points\nwarmup,Hello,,60,Welcome\nproduct,Tea,A1,900,\n")
    assert parse_rundown_csv(data) == [
        {"title": "Hello", "kind": "warmup", "planned_seconds": 60, "talking_points": ["Welcome"]},
        {"title": "Tea", "kind": "product", "sku": "A1", "planned_seconds": 900, "talking_points": []},
    ]


def test_chinese_header_with_bom_and_minutes() -> None:
    data = csv_bytes("类型,标题,商品,分钟,话术\r\n预热,开场,,5,欢迎\r\n商品,好茶,A1,1.5,\r\n", bom=True)
    assert parse_rundown_csv(data) == [
        {"title": "开场", "kind": "warmup", "planned_seconds": 300, "talking_points": ["欢迎"]},
        {"title": "好茶", "kind": "product", "sku": "A1", "planned_seconds": 90, "talking_points": []},
    ]


@pytest.mark.parametrize(
    "header",
    [
        "title,minutes",
        "Title,Minutes",
        " TITLE , planned_minutes ",
        "标题,时长(分钟)",
        "环节,时长（分钟）",
        "名称,分钟",
    ],
)
def test_header_aliases_for_minutes(header: str) -> None:
    assert parse_rundown_csv(csv_bytes(f"{header}\nIntro,2\n"))[0]["planned_seconds"] == 120


@pytest.mark.parametrize("header", ["title,seconds", "title,planned_seconds", "标题,秒", "标题,时长（秒）"])
def test_header_aliases_for_seconds(header: str) -> None:
    assert parse_rundown_csv(csv_bytes(f"{header}\nIntro,45\n"))[0]["planned_seconds"] == 45


@pytest.mark.parametrize(
    ("cell", "seconds"),
    [
        ("1:30", 90),
        ("15:00", 900),
        ("0:45", 45),
        ("90:00", 5400),
        ("1:00:00", 3600),
        ("1:02:03", 3723),
        (" 2:05 ", 125),
    ],
)
def test_duration_mm_ss_and_h_mm_ss(cell: str, seconds: int) -> None:
    assert parse_rundown_csv(csv_bytes(f"标题,时长\nIntro,{cell}\n"))[0]["planned_seconds"] == seconds


@pytest.mark.parametrize(
    ("cell", "points"),
    [
        ('"one\ntwo\r\nthree"', ["one", "two", "three"]),
        ("one | two | three", ["one", "two", "three"]),
        ('"one | two\nthree"', ["one", "two", "three"]),
        ("a|b", ["a|b"]),  # only " | " separates
        ("", []),
        ('"one | \n | two"', ["one", "two"]),
    ],
)
def test_talking_points_split_on_newlines_or_bars(cell: str, points: list[str]) -> None:
    assert parse_rundown_csv(csv_bytes(f"title,minutes,notes\nIntro,1,{cell}\n"))[0]["talking_points"] == points


def test_blank_rows_are_skipped_but_rows_keep_their_spreadsheet_numbers() -> None:
    data = csv_bytes("title,duration\n\nIntro,1:00\n,\nBad,1:75\n")
    with pytest.raises(Invalid) as exc:
        parse_rundown_csv(data)
    assert exc.value.field == "csv.row[5].duration"
    assert "row 5" in exc.value.message


def test_trailing_empty_columns_from_a_spreadsheet_are_ignored() -> None:
    data = csv_bytes("title,minutes,,\nIntro,1,,\nTea,2\n")
    assert [s["planned_seconds"] for s in parse_rundown_csv(data)] == [60, 120]


def test_seconds_column_wins_over_minutes_and_duration() -> None:
    data = csv_bytes("title,seconds,minutes,duration\nIntro,30,5,1:00\nNext,,5,1:00\nLast,,,1:00\n")
    assert [s["planned_seconds"] for s in parse_rundown_csv(data)] == [30, 300, 60]


def test_values_are_left_for_parse_segments_to_judge() -> None:
    rows = parse_rundown_csv(csv_bytes("title,sku,seconds,kind\nTea,A1,-5,Product\n"))
    assert rows == [{"title": "Tea", "kind": "product", "sku": "A1", "planned_seconds": -5, "talking_points": []}]
    with pytest.raises(Invalid) as exc:
        parse_segments(rows, PRODUCTS)
    assert exc.value.field == "segments[0].planned_seconds"


def test_a_header_only_file_is_an_empty_rundown() -> None:
    assert parse_rundown_csv(csv_bytes("title,minutes\n")) == []


def test_exactly_the_size_limit_is_accepted() -> None:
    head = b"title,seconds\n"
    row = b"Intro,60\n"
    body = head + row * ((MAX_CSV_BYTES - len(head)) // len(row))
    body += b" " * (MAX_CSV_BYTES - len(body))
    assert len(body) == MAX_CSV_BYTES
    assert len(parse_rundown_csv(body)) == (MAX_CSV_BYTES - len(head)) // len(row)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b"", "csv"),
        (b"\n\n  \n", "csv"),
        (b",,,\n,,\n", "csv"),
        (csv_bytes("Intro,60\nTea,900\n"), "csv.header"),  # no header row at all
        (csv_bytes("title,minutes,colour\nIntro,1,red\n"), "csv.header"),
        (csv_bytes("title,标题,minutes\nIntro,Intro,1\n"), "csv.header"),  # the same column twice
        (csv_bytes("title,minutes,minutes\nIntro,1,1\n"), "csv.header"),
        (csv_bytes("minutes,sku\n1,A1\n"), "csv.header"),  # no title
        (csv_bytes("title,sku\nIntro,A1\n"), "csv.header"),  # no duration
        (csv_bytes("title,minutes,\nIntro,1,surprise\n"), "csv.header"),  # unnamed column in use
        ("标题,分钟\n开场,5\n".encode("gbk"), "csv"),
        (b"title,minutes\nIntro,\xff\xfe\n", "csv"),
        ("title,minutes\n".encode("utf-16"), "csv"),
        (b"title,minutes\nIn\x00tro,1\n", "csv"),
        (b"title,minutes\n" + b"x" * MAX_CSV_BYTES, "csv"),
        (csv_bytes("title,minutes\nIntro,1,extra\n"), "csv.row[2]"),
        (csv_bytes("title,minutes\nIntro\n"), "csv.row[2].planned_seconds"),
        (csv_bytes("title,minutes\nIntro,five\n"), "csv.row[2].minutes"),
        (csv_bytes("title,minutes\nIntro,nan\n"), "csv.row[2].minutes"),
        (csv_bytes("title,seconds\nIntro,inf\n"), "csv.row[2].planned_seconds"),
        (csv_bytes("title,duration\nIntro,90\n"), "csv.row[2].duration"),
        (csv_bytes("title,duration\nIntro,1:60\n"), "csv.row[2].duration"),
        (csv_bytes("title,duration\nIntro,1:00:60\n"), "csv.row[2].duration"),
        (csv_bytes("title,duration\nIntro,-1:30\n"), "csv.row[2].duration"),
        (csv_bytes("title,duration\nIntro,1:2:3:4\n"), "csv.row[2].duration"),
        (csv_bytes("title,duration\nIntro,abc\n"), "csv.row[2].duration"),
        (csv_bytes("title,duration\nIntro,1:30\nTea,:30\n"), "csv.row[3].duration"),
        (csv_bytes('title,minutes\n"Intro,1\n'), "csv.row[2].planned_seconds"),  # unclosed quote eats the row
    ],
)
def test_malformed_csv_is_invalid_with_a_useful_field(data: bytes, field: str) -> None:
    assert invalid_field(data) == field


def test_cells_larger_than_the_csv_module_allows_are_invalid() -> None:
    data = b"title,minutes\n" + b"x" * (200 * 1024) + b",1\n"
    assert invalid_field(data) == "csv"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (csv_bytes("title,minutes\nIntro,1\nBig,1e308\n"), "csv.row[3].minutes"),
        (csv_bytes("title,minutes\nIntro,-1e308\n"), "csv.row[2].minutes"),
        (csv_bytes("title,minutes\nIntro,1e300\n"), "csv.row[2].minutes"),
        (csv_bytes("title,seconds\nIntro,1e308\n"), "csv.row[2].planned_seconds"),
        (csv_bytes("title,seconds\nIntro," + "9" * 5000 + "\n"), "csv.row[2].planned_seconds"),
        (csv_bytes("title,duration\nIntro,1:00\nLong," + "9" * 5000 + ":00\n"), "csv.row[3].duration"),
        (csv_bytes("title,duration\nIntro," + "9" * 4000 + ":00:00\n"), "csv.row[2].duration"),
    ],
    ids=["1e308-minutes", "minus-1e308-minutes", "1e300-minutes", "1e308-seconds", "5000-digit-seconds",
         "5000-digit-duration", "4000-digit-hours"],
)
def test_an_absurdly_long_duration_is_invalid_naming_its_row(data: bytes, field: str) -> None:
    """``1e308`` minutes overflowed (500), and a 5,000-digit duration passed
    Python's limit on int() of a string (500)."""
    assert invalid_field(data) == field
