"""Ticker: a show's writes on the clock. Every TICK_SECONDS it hands its
engine's writer what presence has waiting (the likes since the last tick, the
leaves whose grace period ran out), the tickers' announcements (viewers every
other tick, draw entries every fourth) and the deadlines (sales, draws), as one
``tick`` command; a quiet show's ticks write nothing."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import TYPE_CHECKING

from live.core.commands import Event
from live.core.errors import LiveError

if TYPE_CHECKING:
    from live.runtime.engine import ShowEngine

log = logging.getLogger("live.runtime.ticker")

TICK_SECONDS = 0.25  # likes.tick at most 4 Hz


class Ticker:
    def __init__(self, engine: ShowEngine) -> None:
        self.engine = engine
        self.count = 0  # ticks run (and skipped): which ones announce what
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.task is None or self.task.done():
            self.task = asyncio.ensure_future(self.loop())

    async def loop(self) -> None:
        """Tick until the engine is fenced (``ShowEngine.stop`` cancels it)."""
        next_at = time.monotonic()
        while not self.engine.fenced:
            # After a late tick, the next is a period after now: missed ticks are
            # not run back to back (likes.tick stays at most 4 Hz under load).
            next_at = max(next_at, time.monotonic()) + TICK_SECONDS
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            try:
                await self.tick()
            except LiveError:
                pass
            except Exception:
                log.exception("tick of show %s failed", self.engine.show_id)

    def announcing(self) -> bool:
        """Whether a tick has something to announce or close besides likes and leaves."""
        ledger = self.engine.state.ledger
        return (ledger.present != ledger.announced_viewers
                or any(s.status != "closed" for s in ledger.sales.values())
                or any(d.status == "open" for d in ledger.draws.values()))

    def quiet(self) -> bool:
        """Whether every tick from now on finds nothing to do until new input
        arrives: no likes waiting, no grace period running, nothing to announce,
        no sale or draw open. (A replay skips such ticks: ``skip``.)"""
        return self.engine.presence.idle and not self.announcing()

    def skip(self, n: int) -> None:
        """Count ``n`` ticks that would have found nothing to do (``quiet``), so the
        ticks after them alternate their tickers exactly as if they had run."""
        self.count += n

    async def settle_before_end(self) -> list[Event]:
        """Journal, before ``show.end``, what the next tick would have: the likes
        waiting for it (acknowledged: never lost) and the leaves of viewers whose
        last socket dropped and who are still in their grace period (they are not
        watching when the show ends: a leave, dated when the socket dropped, so the
        review is final at the end instead of changing a grace period later). It
        counts no tick, so the tickers keep their rhythm."""
        presence = self.engine.presence
        likes, left = presence.settle()
        if not (likes or left):
            return []
        try:
            return await self.engine.submit({"type": "tick", "_likes": likes, "_left": left, "_viewers": False,
                                             "_entries": False, "_seed": secrets.token_hex(32)})
        except Exception:
            presence.restore(likes, left)
            raise

    async def tick(self) -> list[Event]:
        """Coalesced likes, expired visits, tickers and deadlines → events."""
        self.count += 1
        presence = self.engine.presence
        likes, left = presence.due(self.engine.clock())
        if not (likes or left or self.announcing()):
            return []
        try:
            return await self.engine.submit({
                "type": "tick", "_likes": likes, "_left": left, "_viewers": self.count % 2 == 0,
                "_entries": self.count % 4 == 0, "_seed": secrets.token_hex(32),
            })
        except Exception:
            presence.restore(likes, left)  # not journaled: kept for the next tick
            raise
