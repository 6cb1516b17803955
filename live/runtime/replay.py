"""Replaying a recording into a new show, on the recording's own clock.

The inputs go to the same ShowEngine as a live show's, through the same
calls the live shell makes (``connected``/``disconnected`` for a socket,
``add_likes``, ``execute`` as the viewer or as admin, ``claim``, the shop's and
the tracked link's commands). The clock is virtual: before each input the
replay runs the engine's ``tick()`` at every 250 ms boundary up to the
input's time (``at``), so likes coalesce, grace periods expire and sales and
draws close exactly when they would have live. Ticks that would find nothing
to do (``ShowEngine.quiet``) are counted, not run, so a return days after the
show costs nothing.

The journal is buffered (``BufferedJournal``): the engine appends as always,
and the events reach the database in large transactions. An import is all or
nothing anyway: if any input is refused, the show and its journal are deleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from live.adapters.journal import Journal
from live.core.auth import Principal
from live.core.errors import Invalid, LiveError
from live.core.recording import Input, Recording, refused
from live.core.show import parse_show_config
from live.runtime.engine import ShowEngine
from live.runtime.presence import GRACE_MS
from live.runtime.shows import Shows
from live.runtime.ticker import TICK_SECONDS

TICK_MS = round(TICK_SECONDS * 1000)
FLUSH_EVENTS = 20_000  # events buffered before they are written in one transaction
STAFF = Principal("admin", None, "recording")


class VirtualClock:
    """The recording's time in ms, moved by the replay."""

    def __init__(self, t: int) -> None:
        self.t = t

    def __call__(self) -> int:
        return self.t


class NoBus:
    """Nobody follows a show being imported."""

    def publish(self, show_id: str, events: list[dict[str, Any]]) -> None:
        pass


class BufferedJournal(Journal):
    """The journal, appending in large transactions: appends are kept in memory
    and written every FLUSH_EVENTS events and at ``flush``."""

    def __init__(self, journal: Journal) -> None:
        super().__init__(journal.engine)
        self._pending: list[dict[str, Any]] = []
        self._status: str | None = None
        self._show_id = ""

    async def append(self, show_id: str, batch: Sequence[dict[str, Any]], status: str | None = None) -> None:
        self._show_id = show_id
        self._pending.extend(batch)
        self._status = status or self._status
        if len(self._pending) >= FLUSH_EVENTS:
            await self.flush()

    async def flush(self) -> None:
        if self._pending:
            pending, self._pending = self._pending, []
            await super().append(self._show_id, pending, status=self._status)
            self._status = None


def plan_of(show: dict[str, Any]) -> tuple[dict[str, Any], Any, Any]:
    """A POST /api/shows body's config, products and segments (checked by
    ``parse_recording`` already; raises Invalid all the same)."""
    config = parse_show_config({k: val for k, val in show.items() if k not in ("products", "segments", "rundown")})
    segments = show.get("segments")
    if show.get("rundown") is not None:
        segments = show["rundown"].get("segments")
    return config, show.get("products"), segments


class Player:
    """Feeds one recording's inputs to an engine, moving its virtual clock."""

    def __init__(self, engine: ShowEngine, clock: VirtualClock) -> None:
        self.engine = engine
        self.clock = clock
        self.next_tick = (clock.t // TICK_MS + 1) * TICK_MS
        self.viewers: dict[str, str] = {}  # the platform's viewer id → ours

    async def advance(self, at: int) -> None:
        """Tick at every boundary up to ``at`` (inclusive), then set the clock to ``at``."""
        engine = self.engine
        while self.next_tick <= at:
            if engine.ticker.quiet():
                skipped = (at - self.next_tick) // TICK_MS + 1
                engine.ticker.skip(skipped)
                self.next_tick += skipped * TICK_MS
                break
            self.clock.t = self.next_tick
            try:
                await engine.ticker.tick()
            except LiveError:  # as the live ticker: a refused tick keeps its likes and leaves for the next
                pass
            self.next_tick += TICK_MS
        self.clock.t = max(self.clock.t, at)

    async def viewer(self, platform_id: str, nickname: Any) -> str:
        """Our viewer for the platform's id, registered on first sight."""
        ours = self.viewers.get(platform_id)
        if ours is None:
            ours, _ = await self.engine.register(nickname if nickname is not None else platform_id[:20], False)
            self.viewers[platform_id] = ours
        return ours

    async def apply(self, item: Input) -> None:
        """One input, as the live shell would hand it to the engine; raises LiveError."""
        engine, body = self.engine, item.body
        if item.kind == "command":
            if body["type"] == "viewer.mute" and body.get("viewer_id") in self.viewers:
                body = {**body, "viewer_id": self.viewers[body["viewer_id"]]}
            await engine.execute(body, STAFF)
        elif item.kind == "order":
            order = {k: val for k, val in body.items() if k != "viewer"}
            if body.get("viewer") is not None:
                order["viewer_id"] = await self.viewer(body["viewer"], None)
            await engine.submit({"type": "order.place", "order": order})
        elif item.kind == "return":
            await engine.submit({"type": "order.return", "return": dict(body)})
        else:
            await self._viewer_action(item)

    async def _viewer_action(self, item: Input) -> None:
        engine, body = self.engine, item.body
        vid = await self.viewer(body["viewer"], body.get("nickname"))
        action = body["action"]
        if action == "join":
            await engine.connected(vid)
        elif action == "leave":
            engine.disconnected(vid)
        elif action == "like":
            engine.add_likes(vid, body.get("count", 1))
        elif action in ("comment", "share"):
            command = {"type": "viewer.comment", "text": body.get("text")} if action == "comment" else {
                "type": "viewer.share"}
            await engine.execute(command, Principal("viewer", engine.show_id, "viewer", vid))
        elif action == "click":
            await engine.submit({"type": "link.click", "sku": body["sku"], "_viewer": vid})
        else:
            await engine.claim(vid, {"sale_id": self._sale_on(body["sku"]), "qty": body.get("qty", 1),
                                     "request_id": f"line-{item.line}"})

    def _sale_on(self, sku: str) -> str:
        """The sale open (or about to) on ``sku``, else its latest; raises Invalid."""
        sales = [s for s in self.engine.state.ledger.sales.values() if s.sku == sku]
        if not sales:
            raise Invalid(f"no flash sale on {sku!r} to claim", "sku")
        current = [s for s in sales if s.status != "closed"]
        return (current or sales)[-1].id

    async def settle(self) -> None:
        """After the last input: tick on as the live server would, until grace
        periods have run out and open draws' deadlines have passed."""
        ledger = self.engine.state.ledger
        horizon = self.clock.t + GRACE_MS + 2 * TICK_MS
        for draw in ledger.draws.values():
            if draw.status == "open" and draw.deadline is not None:
                horizon = max(horizon, draw.deadline + TICK_MS)
        await self.advance(horizon)


async def replay(
    journal: Journal, recording: Recording, show_id: str, overlay_key: str, webhook_secret: str,
    secret: bytes = b"", banned: tuple[str, ...] = (), comment_interval_ms: int = 1000,
) -> ShowEngine:
    """Create the show and replay every input; returns the engine (its journal
    written). Raises RecordingInvalid naming the line whose input the engine
    refused, having deleted the show; any other error as is, likewise."""
    clock = VirtualClock(recording.inputs[0].at)
    buffered = BufferedJournal(journal)
    shows = Shows(buffered, NoBus(), clock, secret=secret, banned=banned, tick=False,
                  comment_interval_ms=comment_interval_ms)
    config, products, segments = plan_of(recording.show)
    engine = await shows.create(show_id, overlay_key, config, products, segments, webhook_secret=webhook_secret)
    player = Player(engine, clock)
    try:
        for item in recording.inputs:
            await player.advance(item.at)
            try:
                await player.apply(item)
            except LiveError as exc:
                raise refused(item.line, exc) from None
        if engine.state.status != "ended":
            try:
                await engine.execute({"type": "show.end"}, STAFF)
            except LiveError as exc:
                raise refused(recording.inputs[-1].line, exc) from None
        await player.settle()
        await buffered.flush()
    except BaseException:
        await journal.discard_show(show_id, overlay_key)
        raise
    finally:
        await shows.close()
    return engine
