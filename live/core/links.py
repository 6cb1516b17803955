"""Tracked links (直播专属链接, pure): ``GET /go/{show}/{sku}`` counts a click, then
sends the person to the product's url; and the fold (clicks by sku).

A click counts in every status: a link pasted in a post is clicked before the
show and after it. Only a product with a url can be clicked: the shell
redirects to that stored url and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from live.core import values as v
from live.core.context import Ctx, Event
from live.core.errors import NotFound
from live.core.feature import Command, Feature

if TYPE_CHECKING:
    from live.core.show import Product, ShowState


def target(state: ShowState, sku: Any) -> Product:
    """The product a link names, which has a url; raises NotFound (field ``sku``)."""
    product = state.product(sku) if isinstance(sku, str) else None
    if product is None:
        raise NotFound(f"no product {str(sku)[:64]!r} in this show", "sku")
    if not product.url:
        raise NotFound(f"product {product.sku!r} has no url to send you to (the show's plan gives it none)", "sku")
    return product


def click(state: ShowState, cmd: dict[str, Any], now: int, ctx: Ctx) -> list[Event]:
    """``link.clicked`` for ``{sku}``, with the viewer and their pseudonym when the
    shell knows who clicked (``_viewer``, a viewer of this show), else nulls.
    Raises NotFound for an unknown sku or a product without a url."""
    v.no_unknown_keys(cmd, {"type", "sku"}, "")
    product = target(state, cmd.get("sku"))
    viewer = state.ledger.viewers.get(ctx.get("_viewer") or "")
    return [{"type": "link.clicked", "sku": product.sku, "viewer_id": viewer.id if viewer else None,
             "pseudonym": viewer.pseudonym if viewer else None}]


def fold(state: ShowState, event: Event) -> ShowState:
    if event["type"] == "link.clicked":
        ledger = state.ledger
        ledger.put("clicks", event["sku"], ledger.clicks.get(event["sku"], 0) + 1)
    return state


FEATURE = Feature(
    name="links",
    commands={"link.click": Command(click, "system")},
    events={"link.clicked": "internal"},
    fold=fold,
)
