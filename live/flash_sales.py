"""Flash sales (秒杀): open, claim, close. Pure decisions over a FlashSale.

A claim is decided by the show's one writer, so the check and the decrement
are one step: stock never goes below zero and a viewer never exceeds the
per-viewer limit, however many claims arrive at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from live import values as v
from live.errors import Invalid

MAX_SALE_SECONDS = 6 * 3600
MAX_QTY = 100

# Why a claim lost (the contract's codes).
SOLD_OUT = "SOLD_OUT"
LIMIT_REACHED = "LIMIT_REACHED"
NOT_OPEN = "NOT_OPEN"
ENDED = "ENDED"


@dataclass
class FlashSale:
    """One sale. ``claimed`` (viewer → units) only grows, and only in ``evolve``."""

    id: str
    sku: str
    price: str
    stock: int
    per_viewer_limit: int
    opens_at: int
    deadline: int
    remaining: int
    status: str = "open"  # open | closed
    closed_reason: str | None = None
    closed_at: int | None = None
    claimed: dict[str, int] = field(default_factory=dict)
    orders: int = 0

    def view(self, now: int) -> dict[str, Any]:
        return {
            "id": self.id,
            "sku": self.sku,
            "price": self.price,
            "stock": self.stock,
            "remaining": self.remaining,
            "per_viewer_limit": self.per_viewer_limit,
            "opens_at": self.opens_at,
            "deadline": self.deadline,
            "status": self.status_at(now),
            "closed_reason": self.closed_reason,
        }

    def status_at(self, now: int) -> str:
        if self.status == "closed":
            return "closed"
        if now < self.opens_at:
            return "scheduled"
        if now >= self.deadline:
            return "closed"
        return "open"


def parse_open(cmd: dict[str, Any], list_price: str) -> dict[str, Any]:
    """Validate ``flash_sale.open``; returns the clean fields (sku checked by the caller)."""
    v.no_unknown_keys(
        cmd, {"type", "sku", "price", "stock", "per_viewer_limit", "duration_seconds", "opens_in_seconds"}, ""
    )
    out = {
        "sku": v.sku(cmd.get("sku"), "sku"),
        "price": v.money(cmd.get("price", list_price), "price"),
        "stock": v.integer(cmd.get("stock"), "stock", lo=1, hi=10**7),
        "per_viewer_limit": v.integer(cmd.get("per_viewer_limit"), "per_viewer_limit", lo=1, hi=MAX_QTY, default=1),
        "duration_seconds": v.integer(cmd.get("duration_seconds"), "duration_seconds", lo=5, hi=MAX_SALE_SECONDS),
        "opens_in_seconds": v.integer(cmd.get("opens_in_seconds"), "opens_in_seconds", lo=0, hi=24 * 3600, default=0),
    }
    return out


def parse_qty(value: Any) -> int:
    return v.integer(value, "qty", lo=1, hi=MAX_QTY, default=1)


def decide_claim(sale: FlashSale, viewer_id: str, qty: int, now: int) -> str | None:
    """None when the claim wins, else the losing code: ENDED after the deadline
    or a close, but SOLD_OUT once the last unit is gone (the sale closes on its
    last unit, and the crowd still claiming then lost to the stock, not the
    clock); NOT_OPEN before ``opens_at``; LIMIT_REACHED past the per-viewer
    limit; SOLD_OUT when ``qty`` is more than what is left (no partial claims)."""
    if sale.status == "closed" or now >= sale.deadline:
        return SOLD_OUT if sale.remaining <= 0 else ENDED
    if now < sale.opens_at:
        return NOT_OPEN
    if sale.remaining <= 0:
        return SOLD_OUT
    if sale.claimed.get(viewer_id, 0) + qty > sale.per_viewer_limit:
        return LIMIT_REACHED
    if qty > sale.remaining:
        return SOLD_OUT
    return None


def check_sale_id(value: Any) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 40:
        raise Invalid("sale_id must be a sale's id", "sale_id")
    return value
