"""The input checkers in live.core.values: each returns a clean value or raises Invalid
naming the field it was given."""

from __future__ import annotations

from typing import Any

import pytest

from live.core import values as v
from live.core.errors import Invalid


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("99", "99.00"),
        ("99.9", "99.90"),
        ("99.90", "99.90"),
        (" 12.50 ", "12.50"),
        (0, "0.00"),
        (5, "5.00"),
        (19.5, "19.50"),
        ("0.10", "0.10"),
        ("1e2", "100.00"),
        ("-0", "0.00"),
        ("-0.00", "0.00"),
        ("100000000", "100000000.00"),
    ],
)
def test_money_returns_two_place_decimal_string(raw: Any, clean: str) -> None:
    assert v.money(raw, "price") == clean


@pytest.mark.parametrize(
    "raw",
    [
        "9.999",  # more than two places
        "0.001",
        0.1 + 0.2,  # 0.30000000000000004
        "-1",
        -0.01,
        "100000000.01",  # above the cap
        "1e100",
        "NaN",
        "Infinity",
        "-Infinity",
        "abc",
        "",
        "1,000",
        None,
        True,
        [],
        {"amount": 1},
    ],
)
def test_money_rejects_bad_amounts_naming_the_field(raw: Any) -> None:
    with pytest.raises(Invalid) as exc:
        v.money(raw, "products[2].live_price")
    assert exc.value.field == "products[2].live_price"
    assert exc.value.status == 422


@pytest.mark.parametrize("raw", ["A1", "a", "sku-1.2_3", "9", "X" * 64])
def test_sku_accepts_letters_digits_dot_dash_underscore(raw: str) -> None:
    assert v.sku(raw, "sku") == raw


@pytest.mark.parametrize(
    "raw",
    ["", "-A1", ".A1", "_A1", "A 1", "A1\n", "A1\r\n", "\nA1", "A/1", "商品1", "X" * 65, 1, None, ["A1"]],
)
def test_sku_rejects_anything_else(raw: Any) -> None:
    with pytest.raises(Invalid) as exc:
        v.sku(raw, "segments[4].sku")
    assert exc.value.field == "segments[4].sku"


@pytest.mark.parametrize("raw", ["http://shop.example/p/1", "https://shop.example/p?id=1&x=y", "HTTPS://Shop.example/"])
def test_url_accepts_http_and_https(raw: str) -> None:
    assert v.url(raw, "url", required=False) == raw


@pytest.mark.parametrize(
    "raw",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "java\nscript:alert(1)",
        " javascript:alert(1)",
        "\x01http://shop.example/",
        "http://shop.example/\r\nSet-Cookie: x=1",
        "http://shop.example/a b",
        "data:text/html,<script>alert(1)</script>",
        "ftp://shop.example/file",
        "//shop.example/p",
        "shop.example/p",
        "http://",
        "https://" + "a" * 2048,
        42,
        ["http://shop.example/"],
    ],
)
def test_url_rejects_non_http_and_smuggled_schemes(raw: Any) -> None:
    with pytest.raises(Invalid) as exc:
        v.url(raw, "products[0].url", required=False)
    assert exc.value.field == "products[0].url"


def test_url_empty_is_none_unless_required() -> None:
    assert v.url(None, "url", required=False) is None
    assert v.url("", "url", required=False) is None
    with pytest.raises(Invalid) as exc:
        v.url(None, "url", required=True)
    assert exc.value.field == "url"


def test_text_strips_and_keeps_newlines_and_tabs() -> None:
    assert v.text("  line one\n\tline two  ", "t", max_len=100) == "line one\n\tline two"


@pytest.mark.parametrize(
    ("raw", "kwargs"),
    [
        ("", {}),
        ("   ", {}),
        (None, {}),
        (5, {}),
        ("abcdef", {"max_len": 5}),
        ("bell\x07", {}),
        ("carriage\rreturn", {}),
        ("nul\x00", {}),
    ],
)
def test_text_rejects_empty_long_non_string_and_control_characters(raw: Any, kwargs: dict[str, Any]) -> None:
    with pytest.raises(Invalid) as exc:
        v.text(raw, "title", **{"max_len": 200, **kwargs})
    assert exc.value.field == "title"


def test_text_default_only_for_missing_value() -> None:
    assert v.text(None, "tz", max_len=64, default="Asia/Shanghai") == "Asia/Shanghai"
    with pytest.raises(Invalid):
        v.text("", "tz", max_len=64, default="Asia/Shanghai")


def test_optional_text_maps_empty_to_none() -> None:
    assert v.optional_text(None, "note", max_len=10) is None
    assert v.optional_text("", "note", max_len=10) is None
    assert v.optional_text(" hi ", "note", max_len=10) == "hi"


@pytest.mark.parametrize(("raw", "clean"), [(0, 0), (60, 60), (60.0, 60), (14400, 14400)])
def test_integer_accepts_whole_numbers_in_range(raw: Any, clean: int) -> None:
    result = v.integer(raw, "n", lo=0, hi=14400)
    assert result == clean
    assert type(result) is int


@pytest.mark.parametrize("raw", [-1, 14401, 60.5, "60", True, False, None, float("inf"), float("nan"), 10**30])
def test_integer_rejects_fractions_strings_bools_and_out_of_range(raw: Any) -> None:
    with pytest.raises(Invalid) as exc:
        v.integer(raw, "segments[0].planned_seconds", lo=0, hi=14400)
    assert exc.value.field == "segments[0].planned_seconds"


def test_integer_default_applies_to_missing_value_only() -> None:
    assert v.integer(None, "stock", lo=0, hi=10, default=3) == 3
    assert v.integer(0, "stock", lo=0, hi=10, default=3) == 0


@pytest.mark.parametrize(("raw", "clean"), [(None, "CNY"), ("USD", "USD"), ("EUR", "EUR")])
def test_currency_accepts_iso_codes_and_defaults_to_cny(raw: Any, clean: str) -> None:
    assert v.currency(raw, "currency") == clean


@pytest.mark.parametrize("raw", ["cny", "RMB1", "CN", "CNY\n", "", 156, "元"])
def test_currency_rejects_anything_but_three_capitals(raw: Any) -> None:
    with pytest.raises(Invalid) as exc:
        v.currency(raw, "currency")
    assert exc.value.field == "currency"


def test_obj_names_the_body_when_field_is_empty() -> None:
    with pytest.raises(Invalid) as exc:
        v.obj([1], "")
    assert exc.value.field is None
    with pytest.raises(Invalid) as exc:
        v.obj("x", "products[1]")
    assert exc.value.field == "products[1]"


def test_array_rejects_non_lists_and_too_many_items() -> None:
    assert v.array([1, 2], "xs", 2) == [1, 2]
    for raw in ({"a": 1}, "ab", None, [1, 2, 3]):
        with pytest.raises(Invalid) as exc:
            v.array(raw, "xs", 2)
        assert exc.value.field == "xs"


def test_no_unknown_keys_names_the_first_unknown_key_with_its_path() -> None:
    v.no_unknown_keys({"a": 1}, {"a", "b"}, "x")
    with pytest.raises(Invalid) as exc:
        v.no_unknown_keys({"a": 1, "zz": 2, "c": 3}, {"a"}, "products[3]")
    assert exc.value.field == "products[3].c"
    with pytest.raises(Invalid) as exc:
        v.no_unknown_keys({"colour": 1}, {"a"}, "")
    assert exc.value.field == "colour"


def test_invalid_renders_the_contract_error_body() -> None:
    err = Invalid("title must not be empty", "title")
    assert err.to_dict() == {"code": "INVALID", "message": "title must not be empty", "field": "title"}


# -- invisible and direction-changing characters (Unicode category Cf) ------------------------------

@pytest.mark.parametrize(
    "raw",
    [
        "evil\u202egnp.exe",  # right-to-left override: renders as "evilexe.png"
        "\u2066isolated\u2069",  # bidi isolates
        "\u200b",  # zero-width space only
        "\u200b\u200c\u2060",  # zero-width characters only
        "\ufeffhello",  # byte-order mark / zero-width no-break space
        "flag\U000e0067\U000e0062\U000e007f",  # tag characters (invisible)
        "\u200d",  # a zero-width joiner alone
        "a\u200db",  # a joiner between letters, not in an emoji sequence
        "soft\u00adhyphen",
        "  \u200b  ",
    ],
    ids=["rlo", "isolates", "zwsp-only", "zero-width-only", "bom", "tags", "zwj-alone", "zwj-letters",
         "soft-hyphen", "spaces-and-zwsp"],
)
def test_text_rejects_format_characters_naming_the_field(raw: str) -> None:
    with pytest.raises(Invalid) as exc:
        v.text(raw, "text", max_len=200)
    assert exc.value.field == "text"


@pytest.mark.parametrize(
    "raw",
    [
        "family \U0001f468\u200d\U0001f469\u200d\U0001f467",  # 👨‍👩‍👧
        "\u2764\ufe0f\u200d\U0001f525",  # ❤️‍🔥 (variation selector before the joiner)
        "\U0001f469\U0001f3fd\u200d\U0001f4bb",  # 👩🏽‍💻 (skin tone before the joiner)
        "\U0001f3f3\ufe0f\u200d\U0001f308 pride",  # 🏳️‍🌈
        "直播间 كلمة שלום",  # scripts of either direction are fine; only the overrides are refused
    ],
    ids=["family", "heart-on-fire", "skin-tone", "rainbow-flag", "scripts"],
)
def test_text_keeps_joiners_inside_emoji_sequences(raw: str) -> None:
    assert v.text(raw, "text", max_len=200) == raw.strip()


# -- duplicate JSON keys ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "raw",
    ['{"type":"show.start","type":"show.end"}', '{"a":{"x":1,"x":2}}', '[{"k":1},{"k":1,"k":1}]'],
    ids=["top-level", "nested", "in-a-list"],
)
def test_parse_json_refuses_a_key_given_twice(raw: str) -> None:
    """Which of two values wins is the parser's choice: a command ``show.start``
    that was also ``show.end`` ended a live show."""
    with pytest.raises(Invalid) as exc:
        v.parse_json(raw, "message")
    assert exc.value.field == "message"


def test_parse_json_keeps_the_same_key_in_different_objects() -> None:
    assert v.parse_json('{"a":{"k":1},"b":{"k":2}}') == {"a": {"k": 1}, "b": {"k": 2}}
