"""Parsing a show's set-up (config, products, segments, actions) from JSON: clean
values out, or Invalid naming the exact field."""

from __future__ import annotations

from typing import Any

import pytest

from live.core.errors import Invalid
from live.core.show import (
    MAX_SEGMENT_SECONDS,
    MAX_SEGMENTS,
    Product,
    Segment,
    parse_products,
    parse_segments,
    parse_show_config,
    product_from_dict,
    segment_from_plan,
)

PRODUCTS = (
    Product(sku="A1", title="Tea", list_price="99.00", live_price="59.00", stock=10),
    Product(sku="B2", title="Cup", list_price="30.00", live_price="25.00", stock=5),
)


def product(**over: Any) -> dict[str, Any]:
    return {"sku": "A1", "title": "Tea", "list_price": "99.00", "live_price": "59.00", "stock": 10, **over}


def segment(**over: Any) -> dict[str, Any]:
    return {"kind": "interaction", "title": "Hello", "planned_seconds": 60, **over}


def invalid_field(fn: Any, *args: Any, **kwargs: Any) -> str | None:
    with pytest.raises(Invalid) as exc:
        fn(*args, **kwargs)
    return exc.value.field


# -- show config ---------------------------------------------------------------


def test_show_config_fills_defaults() -> None:
    config = parse_show_config({"title": "  Spring tea  "})
    assert config == {
        "title": "Spring tea",
        "scheduled_start": None,
        "currency": "CNY",
        "timezone": "Asia/Shanghai",
        "language": "zh-CN",
        "like_goal": None,
        "benchmark": "default",
        "stream_url": None,
    }


def test_show_config_keeps_given_values() -> None:
    config = parse_show_config(
        {
            "title": "Night show",
            "scheduled_start": 1_700_000_000_000,
            "currency": "USD",
            "timezone": "Europe/Berlin",
            "language": "en",
            "like_goal": 500,
            "benchmark": "tea",
            "products": [],
            "segments": [],
        }
    )
    assert config["scheduled_start"] == 1_700_000_000_000
    assert (config["currency"], config["language"], config["like_goal"]) == ("USD", "en", 500)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "title"),
        ({"title": ""}, "title"),
        ({"title": 5}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "t", "colour": "red"}, "colour"),
        ({"title": "t", "currency": "rmb"}, "currency"),
        ({"title": "t", "language": "fr"}, "language"),
        ({"title": "t", "language": None}, "language"),
        ({"title": "t", "like_goal": 0}, "like_goal"),
        ({"title": "t", "like_goal": -5}, "like_goal"),
        ({"title": "t", "like_goal": "500"}, "like_goal"),
        ({"title": "t", "scheduled_start": -1}, "scheduled_start"),
        ({"title": "t", "scheduled_start": "tomorrow"}, "scheduled_start"),
        ({"title": "t", "timezone": ""}, "timezone"),
        ({"title": "t", "benchmark": 3}, "benchmark"),
    ],
)
def test_show_config_errors_name_the_field(body: dict[str, Any], field: str) -> None:
    assert invalid_field(parse_show_config, body) == field


def test_show_config_must_be_an_object() -> None:
    assert invalid_field(parse_show_config, ["title"]) is None


# -- products ------------------------------------------------------------------


def test_products_parse_into_frozen_values() -> None:
    (p,) = parse_products([product(url="https://shop.example/a1", image="https://img.example/a1.jpg")])
    assert p == Product(
        sku="A1",
        title="Tea",
        list_price="99.00",
        live_price="59.00",
        stock=10,
        url="https://shop.example/a1",
        image="https://img.example/a1.jpg",
    )
    assert product_from_dict(p.to_dict()) == p


def test_product_prices_default_to_each_other_and_stock_to_zero() -> None:
    only_list, only_live = parse_products(
        [{"sku": "A1", "title": "Tea", "list_price": 10}, {"sku": "B2", "title": "Cup", "live_price": "8.5"}]
    )
    assert (only_list.list_price, only_list.live_price, only_list.stock) == ("10.00", "10.00", 0)
    assert (only_live.list_price, only_live.live_price) == ("8.50", "8.50")


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([product(live_price="59.999")], "products[0].live_price"),
        ([product(list_price="0.001")], "products[0].list_price"),
        ([product(live_price="-1")], "products[0].live_price"),
        ([product(list_price="1000000000")], "products[0].list_price"),
        ([product(live_price="1e309")], "products[0].live_price"),
        ([{"sku": "A1", "title": "Tea"}], "products[0].list_price"),
        ([product(sku="bad sku")], "products[0].sku"),
        ([product(sku="")], "products[0].sku"),
        ([product(sku=None)], "products[0].sku"),
        ([product(), product(title="Other")], "products[1].sku"),
        ([product(), product(sku="B2"), product(sku="B2")], "products[2].sku"),
        ([product(url="ftp://shop.example/a1")], "products[0].url"),
        ([product(url="javascript:alert(1)")], "products[0].url"),
        ([product(image="javascript:alert(1)")], "products[0].image"),
        ([product(colour="red")], "products[0].colour"),
        ([product(title="")], "products[0].title"),
        ([product(stock=-1)], "products[0].stock"),
        ([product(stock=1.5)], "products[0].stock"),
        ([product(stock=10**10)], "products[0].stock"),
        (["A1"], "products[0]"),
        ({"sku": "A1"}, "products"),
        (None, "products"),
        ([product(sku=f"S{i}") for i in range(1001)], "products"),
    ],
)
def test_product_errors_name_the_field(items: Any, field: str) -> None:
    assert invalid_field(parse_products, items) == field


def test_product_field_prefix_follows_the_caller() -> None:
    assert invalid_field(parse_products, [product(sku="?")], "body.products") == "body.products[0].sku"


# -- segments ------------------------------------------------------------------


def test_segment_with_a_sku_defaults_to_product_kind_and_a_pin_action() -> None:
    (seg,) = parse_segments([{"title": "Tea time", "sku": "A1", "planned_seconds": 900}], PRODUCTS)
    assert seg == Segment(
        kind="product", title="Tea time", planned_seconds=900, sku="A1", actions=(("product.pin", "A1"),)
    )


def test_segment_without_a_sku_defaults_to_interaction_with_no_actions() -> None:
    (seg,) = parse_segments([{"title": "Q&A", "planned_seconds": 120}], PRODUCTS)
    assert (seg.kind, seg.sku, seg.actions) == ("interaction", None, ())


def test_empty_sku_means_no_sku() -> None:
    (seg,) = parse_segments([segment(sku="")], PRODUCTS)
    assert seg.sku is None


@pytest.mark.parametrize(
    ("raw", "points"),
    [
        ("first\n\nsecond\r\n  third  ", ("first", "second", "third")),
        (["one", " two "], ("one", "two")),
        ([], ()),
        (None, ()),
    ],
)
def test_talking_points_as_string_or_list(raw: Any, points: tuple[str, ...]) -> None:
    (seg,) = parse_segments([segment(talking_points=raw)], PRODUCTS)
    assert seg.talking_points == points


def test_explicit_actions_replace_the_default_pin() -> None:
    (seg,) = parse_segments(
        [segment(kind="product", sku="A1", actions=[{"type": "product.pin", "sku": "B2"}, "product.unpin"])],
        PRODUCTS,
    )
    assert seg.actions == (("product.pin", "B2"), ("product.unpin", None))
    (none,) = parse_segments([segment(sku="A1", actions=[])], PRODUCTS)
    assert none.actions == ()


def test_pin_action_falls_back_to_the_segment_sku() -> None:
    (seg,) = parse_segments([segment(sku="B2", actions=["product.pin"])], PRODUCTS)
    assert seg.actions == (("product.pin", "B2"),)


@pytest.mark.parametrize("seconds", [1, 60, MAX_SEGMENT_SECONDS])
def test_planned_seconds_within_limits(seconds: int) -> None:
    (seg,) = parse_segments([segment(planned_seconds=seconds)], PRODUCTS)
    assert seg.planned_seconds == seconds


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([segment(planned_seconds=-60)], "segments[0].planned_seconds"),
        ([segment(planned_seconds=0)], "segments[0].planned_seconds"),
        ([segment(planned_seconds=MAX_SEGMENT_SECONDS + 1)], "segments[0].planned_seconds"),
        ([segment(planned_seconds=10**12)], "segments[0].planned_seconds"),
        ([segment(planned_seconds=90.5)], "segments[0].planned_seconds"),
        ([segment(planned_seconds="60")], "segments[0].planned_seconds"),
        ([{"title": "no duration"}], "segments[0].planned_seconds"),
        ([segment(), segment(sku="ZZ9")], "segments[1].sku"),
        ([segment(sku="bad sku")], "segments[0].sku"),
        ([segment(sku=7)], "segments[0].sku"),
        ([segment(kind="dance")], "segments[0].kind"),
        ([segment(kind=None)], "segments[0].kind"),
        ([segment(title="")], "segments[0].title"),
        ([segment(title="x" * 201)], "segments[0].title"),
        ([segment(colour="red")], "segments[0].colour"),
        ([segment(talking_points=["ok", ""])], "segments[0].talking_points[1]"),
        ([segment(talking_points=["x" * 501])], "segments[0].talking_points[0]"),
        ([segment(talking_points=[5])], "segments[0].talking_points[0]"),
        ([segment(talking_points=["p"] * 51)], "segments[0].talking_points"),
        ([segment(talking_points={"a": 1})], "segments[0].talking_points"),
        ([segment(actions=[{"type": "flash_sale.refill"}])], "segments[0].actions[0].type"),
        ([segment(actions=[{"type": "flash_sale.open"}])], "segments[0].actions[0].sku"),
        ([segment(sku="A1", actions=[{"type": "flash_sale.open", "stock": 10}])],
         "segments[0].actions[0].duration_seconds"),
        ([segment(actions=[{"type": "draw.open", "winners": 1}])], "segments[0].actions[0].prize"),
        ([segment(actions=[{"type": "draw.open", "prize": "Bag", "eligibility": {"x": 1}}])],
         "segments[0].actions[0].eligibility.x"),
        ([segment(actions=["product.pin"])], "segments[0].actions[0].sku"),
        ([segment(actions=[{"type": "product.pin", "sku": "ZZ9"}])], "segments[0].actions[0].sku"),
        ([segment(actions=[{"type": "product.pin", "sku": "A1", "when": 3}])], "segments[0].actions[0].when"),
        ([segment(actions=[5])], "segments[0].actions[0]"),
        ([segment(actions="product.pin")], "segments[0].actions"),
        ([segment(actions=["product.unpin"] * 11)], "segments[0].actions"),
        (["intro"], "segments[0]"),
        ([segment()] * (MAX_SEGMENTS + 1), "segments"),
        ({"title": "x"}, "segments"),
        (None, "segments"),
    ],
)
def test_segment_errors_name_the_field(items: Any, field: str) -> None:
    assert invalid_field(parse_segments, items, PRODUCTS) == field


def test_exactly_max_segments_is_allowed() -> None:
    assert len(parse_segments([segment()] * MAX_SEGMENTS, PRODUCTS)) == MAX_SEGMENTS


def test_segment_errors_are_numbered_from_the_offset() -> None:
    assert invalid_field(parse_segments, [segment(), segment(sku="ZZ9")], PRODUCTS, offset=3) == "segments[4].sku"


def test_sku_must_exist_in_the_given_products() -> None:
    assert invalid_field(parse_segments, [segment(sku="A1")], ()) == "segments[0].sku"


def test_segment_plan_round_trips() -> None:
    segs = parse_segments(
        [
            segment(kind="product", sku="A1", talking_points=["a", "b"]),
            segment(actions=["product.unpin"]),
            segment(kind="closing"),
        ],
        PRODUCTS,
    )
    assert tuple(segment_from_plan(s.plan_dict()) for s in segs) == segs


def test_flash_sale_and_draw_actions_round_trip_through_the_plan() -> None:
    actions = [
        {"type": "flash_sale.open", "stock": 20, "duration_seconds": 300, "price": "9.90"},
        {"type": "draw.open", "prize": "Lucky bag", "winners": 3, "eligibility": {"keyword": "想要"}},
    ]
    (seg,) = parse_segments([segment(sku="A1", actions=actions)], PRODUCTS)
    plan = seg.plan_dict()
    assert plan["actions"][0] == {"type": "flash_sale.open", "sku": "A1", "stock": 20, "duration_seconds": 300,
                                  "per_viewer_limit": 1, "price": "9.90"}
    assert plan["actions"][1]["eligibility"] == {"keyword": "想要", "exclude_staff": True}
    assert segment_from_plan(plan) == seg
    (again,) = parse_segments([plan], PRODUCTS)
    assert again.actions == seg.actions
