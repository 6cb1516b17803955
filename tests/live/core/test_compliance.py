"""The compliance check: the editable word list, matching claims in text, and the
warnings a show's titles and talking points produce."""

from __future__ import annotations

from pathlib import Path

import pytest

import live
from live.core.commands import create
from live.core.compliance import check_show, find_claims, parse_word_list
from live.core.show import parse_show_config

SHIPPED = Path(live.__file__).parent / "data" / "claims.txt"


def test_word_list_skips_blank_lines_and_notes_but_keeps_hash_words() -> None:
    text = "# a note\n#\n#\tanother note\n\n  最  \n#1\n第一\n最\n# 100%\nbest ever\n"
    assert parse_word_list(text) == ("best ever", "#1", "第一", "最")


def test_word_list_is_longest_first_then_alphabetical() -> None:
    assert parse_word_list("最\n全网最低\n最低价\nab\nb\n") == ("全网最低", "最低价", "ab", "b", "最")


def test_empty_word_list_finds_nothing() -> None:
    words = parse_word_list("# only notes\n\n")
    assert words == ()
    assert find_claims("全网最低 100%", words) == []


def test_shipped_list_parses_and_has_the_core_claims() -> None:
    words = parse_word_list(SHIPPED.read_text(encoding="utf-8"))
    for word in ("最", "第一", "国家级", "顶级", "100%", "绝对", "#1"):
        assert word in words
    assert not any(w.startswith("# ") for w in words)
    assert len(words) == len(set(words))


WORDS = parse_word_list("最\n全网最低\n最低价\n第一\n100%\n100% guaranteed\nBest Ever\n#1\n国家级\n")


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("全网最低", ["全网最低"]),  # not also 最
        ("这是全网最低的价格", ["全网最低"]),
        ("最好的茶", ["最"]),
        ("全网最低, 最好喝", ["全网最低", "最"]),  # 最 outside the longer match still counts
        ("全网最低价", ["全网最低", "最低价"]),  # overlapping, neither inside the other
        ("销量第一 100%纯天然", ["100%", "第一"]),
        ("100% GUARANTEED fresh", ["100% guaranteed"]),
        ("the best ever tea", ["Best Ever"]),  # case-insensitive, reported as listed
        ("BEST EVER", ["Best Ever"]),
        ("Tea #1 in town", ["#1"]),
        ("国家级 国家级", ["国家级"]),  # once per word
        ("fresh green tea", []),
        ("", []),
    ],
)
def test_find_claims(text: str, found: list[str]) -> None:
    assert find_claims(text, WORDS) == found


def test_longest_match_wins_whatever_the_list_order() -> None:
    assert find_claims("全网最低", ("最", "全网最低")) == ["全网最低"]


def test_check_show_reports_products_segment_titles_and_talking_points() -> None:
    state, _ = create(
        "s",
        parse_show_config({"title": "t"}),
        [
            {"sku": "A1", "title": "全网最低 green tea", "list_price": "10"},
            {"sku": "B2", "title": "Plain cup", "list_price": "5"},
        ],
        [
            {"title": "Hello", "planned_seconds": 60, "talking_points": ["welcome", "销量第一"]},
            {"title": "国家级 tea", "sku": "A1", "planned_seconds": 60, "talking_points": "fine\n100% natural"},
        ],
        0,
    )
    warnings = check_show(state, WORDS)
    assert warnings == [
        {"where": "product", "sku": "A1", "field": "title", "text": "全网最低 green tea", "word": "全网最低"},
        {"where": "segment", "index": 0, "field": "talking_points[1]", "text": "销量第一", "word": "第一"},
        {"where": "segment", "index": 1, "field": "title", "text": "国家级 tea", "word": "国家级"},
        {"where": "segment", "index": 1, "field": "talking_points[1]", "text": "100% natural", "word": "100%"},
    ]


def test_check_show_without_claims_is_empty() -> None:
    state, _ = create(
        "s",
        parse_show_config({"title": "t"}),
        [{"sku": "A1", "title": "Green tea", "list_price": "10"}],
        [{"title": "Hello", "planned_seconds": 60, "talking_points": ["welcome"]}],
        0,
    )
    assert check_show(state, WORDS) == []
