"""Building show journals by hand for the stats tests: the events as
``Journal.load`` returns them (``type``, ``seq``, ``at`` and the fields),
including the shop and tracked-link events of the orders branch."""

from __future__ import annotations

from typing import Any

T0 = 1_700_000_000_000  # the show's start in every journal here
MIN = 60_000
Event = dict[str, Any]


def e(kind: str, t: int, **fields: Any) -> Event:
    """An event ``t`` ms after the start (negative: the warm-up)."""
    return {"type": kind, "at": T0 + t, **fields}


def journal(*events: Event, end: int | None = None, currency: str = "CNY", staff: tuple[str, ...] = (),
            viewers: tuple[str, ...] = ()) -> list[Event]:
    """show.created (an hour before), the registrations of ``viewers`` and
    ``staff``, show.started at T0 with segment 0, the events sorted by time,
    and show.ended at ``end`` ms when given; numbered from seq 1."""
    head = [
        {"type": "show.created", "at": T0 - 3_600_000,
         "show": {"id": "s1", "title": "t", "currency": currency}, "products": [], "segments": []},
        *[e("viewer.registered", -3_000_000, viewer_id=v, nickname=v, pseudonym="p" + v, staff=False)
          for v in viewers],
        *[e("viewer.registered", -3_000_000, viewer_id=v, nickname=v, pseudonym="p" + v, staff=True)
          for v in staff],
    ]
    body = sorted(events, key=lambda x: x["at"])
    warmup = [x for x in body if x["at"] < T0]
    show = [x for x in body if x["at"] >= T0]
    out = [*head, *warmup, e("show.started", 0), e("segment.changed", 0, to=0, reason="start"), *show]
    if end is not None:
        out.append(e("show.ended", end))
    return [{**x, "seq": i + 1} for i, x in enumerate(out)]


def join(t: int, viewer: str) -> Event:
    return e("viewer.joined", t, viewer_id=viewer)


def leave(t: int, viewer: str, journaled_after: int = 15_000) -> Event:
    """A leave whose last socket dropped at ``t`` (journaled after the grace period)."""
    return e("viewer.left", t + journaled_after, viewer_id=viewer, left_at=T0 + t, watched_ms=0)


def likes(t: int, **by: int) -> Event:
    return e("likes.tick", t, added=sum(by.values()), total=0, _by=by)


def claim(t: int, viewer: str, qty: int, price: str, order_id: str) -> Event:
    return e("flash_sale.claimed", t, order_id=order_id, viewer_id=viewer, qty=qty, price=price, sku="A1",
             sale_id="fs1", request_id="r" + order_id, remaining=0)


def order(t: int, order_id: str, amount: str, qty: int = 1, viewer: str | None = None,
          placed: int | None = None) -> Event:
    """A shop order journaled at ``t``, placed at ``placed`` (default ``t``)."""
    return e("order.placed", t, order_id=order_id, sku="A1", qty=qty, amount=amount, viewer_id=viewer,
             placed_at=T0 + (t if placed is None else placed), source="webhook")


def returned(t: int, order_id: str, qty: int) -> Event:
    return e("order.returned", t, order_id=order_id, qty=qty, returned_at=T0 + t, source="webhook")


def click(t: int, viewer: str | None = None) -> Event:
    return e("link.clicked", t, sku="A1", viewer_id=viewer, pseudonym=None if viewer is None else "p" + viewer)
