"""FleetShows: the registry of shows when several processes share them (``REDIS_URL``).

A show's engine runs in the one process that holds the show's lease (a
broker key set with ``SET NX PX`` to this process's token, renewed every
third of ``lease_ms``). Every other process that has a socket or a request
on the show holds a ``Follower``: a replica that forwards what only the
owner may do and relays the owner's events to its own sockets.

- The owner appends each journaled batch to the show's event stream, and
  every lease round a heartbeat with its seq and epoch; a new epoch tells the
  followers the owner changed (they then tell it the sockets they hold).
- Sockets: presence is the owner's; ``live.runtime.crowd`` carries each
  process's viewer sockets and likes to it.
- Failover: when the lease expires (the owner died) or is released (a
  graceful shutdown: ``handover``), a follower takes it and rebuilds the show
  from the journal. An owner that loses its lease, or whose append finds its
  seq taken (``FencingError``), stops writing and becomes a follower.
- Redis unreachable: the owner carries on (the journal's key fences it if
  another process took the show meanwhile); followers answer 503 at once;
  when Redis is back, the heartbeat shows each follower what it missed,
  which it reads from the journal.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from typing import Any

from live.adapters.broker import BrokerDown, Fields
from live.adapters.bus import MemoryBus
from live.adapters.journal import FencingError, Journal
from live.core.commands import VISIBILITY, Event, fold
from live.core.errors import LiveError, NotFound, Unavailable
from live.core.failures import describe
from live.runtime.crowd import Crowd
from live.runtime.engine import HISTORY, ShowEngine
from live.runtime.follower import Follower
from live.runtime.node import Node
from live.runtime.shows import Shows
from live.runtime.ticker import TICK_SECONDS

log = logging.getLogger("live.runtime.fleet")

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class FleetShows(Shows):
    def __init__(self, journal: Journal, bus: MemoryBus, clock: Any, node: Node, lease_ms: int = 5000,
                 **options: Any) -> None:
        super().__init__(journal, bus, clock, **options)
        self.node = node
        self.lease_ms = lease_ms
        self.round_seconds = lease_ms / 3000
        self.last_round = 0.0  # monotonic time of the last lease round that reached the broker
        self._tokens: dict[str, str] = {}  # owned show → this process's lease token
        self.crowd = Crowd(node, lease_ms)
        self._later: set[str] = set()  # live shows to own or follow once Redis answers
        self._tasks: list[asyncio.Task[None]] = []
        self.closed = False
        node.handlers.update(submit=self._serve_submit, audience=self._serve_audience)
        node.on_events = self._on_events

    def start(self) -> None:
        self.node.start()
        self._tasks = [asyncio.ensure_future(self._lease_loop()), asyncio.ensure_future(self._audience_loop())]

    async def load_live(self) -> list[str]:
        """Own or follow every live show now. One that needs Redis while it is
        unreachable is left to the lease rounds, which try again until it is back."""
        ids = await self.journal.show_ids(status="live")
        for show_id in ids:
            try:
                await self.get(show_id)
            except Unavailable:
                self._later.add(show_id)
        return ids

    def owns(self, show_id: str) -> bool:
        engine = self._engines.get(show_id)
        return show_id in self._tokens and engine is not None and not isinstance(engine, Follower)

    def _token(self) -> str:
        return f"{self.node.id}.{secrets.token_hex(4)}"

    def _engine(self, state: Any, last_at: int) -> ShowEngine:
        engine = ShowEngine(state, self.journal, self.bus, self.clock, last_at=last_at, secret=self.secret,
                            banned=self.banned, comment_interval_ms=self.comment_interval_ms,
                            replicas=self._replicate)
        if self.tick:
            engine.ticker.start()
        return engine

    # -- which process has a show ----------------------------------------------------------

    async def create(self, show_id: str, overlay_key: str, config: dict[str, Any], products: Any, segments: Any,
                     webhook_secret: str | None = None) -> ShowEngine:
        token = self._token()
        try:
            if not await self.node.broker.take(self.node.lease(show_id), token, self.lease_ms):
                raise FencingError(f"show {show_id} already exists")
            self._tokens[show_id] = token
            await self.node.watch("requests", show_id)
        except BrokerDown:
            self._tokens.pop(show_id, None)
            raise Unavailable("Redis is unreachable: no show can be created now; try again") from None
        try:
            engine = await super().create(show_id, overlay_key, config, products, segments, webhook_secret)
        except BaseException:
            await self._let_go(show_id, token)
            raise
        self._owned(engine)
        await self.crowd.owned(engine, None)
        return engine

    async def get(self, show_id: str) -> ShowEngine:
        """The show's engine here (its owner's, or a follower); raises NotFound, or
        Unavailable when Redis is needed and unreachable."""
        engine = self._engines.get(show_id)
        if engine is not None and not engine.fenced:
            return engine
        return await self._switch(show_id)

    async def _switch(self, show_id: str, token: str | None = None) -> ShowEngine:
        """Resolve the show anew (owner or follower), one resolution at a time."""
        loading = self._loading.get(show_id)
        if loading is None:
            loading = asyncio.ensure_future(self._load_as(show_id, token))
            self._loading[show_id] = loading
        elif token is not None:  # resolving already: the lease just taken is not needed
            with contextlib.suppress(BrokerDown):
                await self.node.broker.drop(self.node.lease(show_id), token)
        return await asyncio.shield(loading)

    async def _load_as(self, show_id: str, token: str | None) -> ShowEngine:
        try:
            engine = await self._resolve(show_id, self._engines.get(show_id), token)
            await self._install(engine)
            return engine
        finally:
            self._loading.pop(show_id, None)

    async def _install(self, engine: ShowEngine) -> None:
        """Make ``engine`` the show's here; the one it replaces is marked (sockets
        holding it ask for the new one) and stopped. The events the new one was
        rebuilt with but the old one never held (written while the show moved,
        or while Redis was down) go to this process's sockets first: the new
        engine commits nothing until they have."""
        old = self._engines.get(engine.show_id)
        if old is engine:
            return
        async with engine.lock:
            self._engines[engine.show_id] = engine
            if old is None:
                return
            old.fenced = True
            if engine.state.seq > old.state.seq:
                gap = await engine.missed(old.state.seq)
                if gap is None:
                    log.warning("show %s: %d events past this process's sockets", engine.show_id,
                                engine.state.seq - old.state.seq)
                else:
                    self.bus.publish(engine.show_id, [e for e in gap if VISIBILITY.get(e["type"]) != "internal"])
        await old.retire()  # what it had queued fails (409 NOT_OWNER) instead of waiting forever

    async def _resolve(self, show_id: str, old: ShowEngine | None, token: str | None) -> ShowEngine:
        if len(show_id) > 32 or (old is None and await self.journal.show_row(show_id) is None):
            raise NotFound(f"no show {show_id[:64]!r}")
        broker = self.node.broker
        lease = self.node.lease(show_id)
        try:
            held = self._tokens.pop(show_id, None)
            if held is not None:
                # Fenced while holding the lease: rebuild, under a new token (a new
                # epoch tells the followers to send their sockets again).
                self.node.unwatch("requests", show_id)
                if await broker.drop(lease, held) and not self.leaving:
                    token = token or self._token()
                    if not await broker.take(lease, token, self.lease_ms):
                        token = None
            elif token is None and not self.leaving:
                token = self._token()
                if not await broker.take(lease, token, self.lease_ms):
                    token = None
            if token is not None:
                return await self._own(show_id, token, old)
            return await self._follow(show_id)
        except BrokerDown:
            raise Unavailable("Redis is unreachable: this server cannot reach the show's owner now; try again") from None

    async def _own(self, show_id: str, token: str, old: ShowEngine | None) -> ShowEngine:
        self._tokens[show_id] = token
        try:
            self.node.unwatch("events", show_id)
            await self.node.watch("requests", show_id)  # requests from now on; earlier ones have timed out
            engine = await self.rebuild(show_id)
        except BaseException:
            await self._let_go(show_id, token)
            raise
        # Installed before it commits anything: a socket catching up meanwhile must
        # not read the engine it replaces, which will never see those events.
        await self._install(engine)
        self._owned(engine)
        await self.crowd.owned(engine, old)  # (the other processes' sockets: once they see the new epoch)
        log.info("show %s: this process owns it now (seq %d)", show_id, engine.state.seq)
        return engine

    def _owned(self, engine: ShowEngine) -> None:
        engine.epoch = self._tokens[engine.show_id].rsplit(".", 1)[1]
        self._announce(engine)

    async def _let_go(self, show_id: str, token: str) -> None:
        self._tokens.pop(show_id, None)
        self.node.unwatch("requests", show_id)
        with contextlib.suppress(BrokerDown):
            await self.node.broker.drop(self.node.lease(show_id), token)

    async def _follow(self, show_id: str) -> Follower:
        await self.node.watch("events", show_id)  # first: nothing published from now on is missed
        try:
            events = await self.journal.load(show_id)
            if not events:
                raise NotFound(f"no show {show_id[:64]!r}")
            holder = await self.node.broker.get(self.node.lease(show_id))
        except BaseException:
            self.node.unwatch("events", show_id)
            raise
        follower = Follower(fold(events), self.journal, self.bus, self.clock, self.node.forward,
                            last_at=events[-1]["at"], secret=self.secret, banned=self.banned,
                            comment_interval_ms=self.comment_interval_ms)
        follower.history.extend(events[-HISTORY:])
        if holder is not None:
            follower.owner, _, follower.epoch = holder.partition(".")
        self.crowd.followed(show_id)  # the owner hears of this process's sockets at the next tick
        return follower

    # -- the owner's side -----------------------------------------------------------------

    def _replicate(self, engine: ShowEngine, staged: list[Event]) -> None:
        if not engine.fenced:  # (a fenced engine journals nothing anyway)
            self.node.publish(engine.show_id, {"owner": self.node.id, "epoch": engine.epoch,
                                               "seq": str(engine.state.seq), "events": _encode(staged)})

    def _announce(self, engine: ShowEngine, **extra: str) -> None:
        self.node.publish(engine.show_id, {"owner": self.node.id, "epoch": engine.epoch,
                                           "seq": str(engine.state.seq), **extra})

    async def _owner(self, show_id: str) -> ShowEngine:
        loading = self._loading.get(show_id)
        if loading is not None:  # taking the show over right now: its requests wait for the new engine
            await asyncio.shield(loading)
        engine = await self.get(show_id)
        if not self.owns(show_id):
            raise FencingError(f"this process does not own show {show_id} now")
        return engine

    async def _serve_submit(self, show_id: str, sender: str, body: Any) -> dict[str, Any]:
        engine = await self._owner(show_id)
        events = await engine.submit(body["command"])
        return {"events": events, "seq": engine.state.seq}

    async def _serve_audience(self, show_id: str, sender: str, body: Any) -> dict[str, Any]:
        engine = await self._owner(show_id)
        await self.crowd.heard(engine, sender, body)
        return {"seq": engine.state.seq}

    # -- this process's sockets ---------------------------------------------------------------

    async def connected(self, show_id: str, viewer_id: str) -> None:
        self.crowd.opened(show_id, viewer_id)
        engine = await self.get(show_id)
        if isinstance(engine, Follower):
            await self.crowd.tell(show_id, viewer_id)
        else:
            await engine.connected(viewer_id)

    def disconnected(self, show_id: str, viewer_id: str) -> None:
        self.crowd.closed(show_id, viewer_id)
        engine = self._engines.get(show_id)
        if engine is not None and not isinstance(engine, Follower):
            engine.disconnected(viewer_id)
        else:
            self.crowd.owe(show_id, [viewer_id])

    def followers(self) -> list[Follower]:
        return [e for e in self._engines.values() if isinstance(e, Follower) and not e.fenced]

    async def _audience_loop(self) -> None:
        while not self.closed:
            await asyncio.sleep(TICK_SECONDS)
            try:
                await self.crowd.send(self.followers())
            except Exception as exc:  # noqa: BLE001 - the loop must outlive any one failure
                log.error("sending the audience failed: %s", describe(exc))

    # -- the lease loop -------------------------------------------------------------------------

    async def _lease_loop(self) -> None:
        while not self.closed:
            try:
                await self.lease_round()
            except (BrokerDown, Unavailable):
                pass  # owners carry on (the journal fences them); the next round tries again
            except Exception as exc:  # noqa: BLE001 - the loop must outlive any one failure
                log.error("lease round failed: %s", describe(exc))
            await asyncio.sleep(self.round_seconds)

    async def lease_round(self) -> None:
        """Renew this process's heartbeat and leases, step down from any lost, and
        take any show it follows whose lease is free. Raises BrokerDown."""
        broker = self.node.broker
        await broker.put(self.node.process(self.node.id), "1", self.lease_ms)
        await broker.expire(self.node.inbox(self.node.id), 10 * self.lease_ms)
        for show_id, token in list(self._tokens.items()):
            engine = self._engines.get(show_id)
            if engine is None or show_id in self._loading:
                continue
            if engine.fenced:  # its append found its seq taken: rebuild (or follow)
                await self._switch(show_id)
                continue
            if not await broker.keep(self.node.lease(show_id), token, self.lease_ms):
                log.warning("show %s: another process took the lease; stepping down", show_id)
                await self._step_down(show_id)
                continue
            await self._catch_up(engine)
            self._announce(engine)
            await self.crowd.reap(engine)
        for show_id in list(self._later):
            await self.get(show_id)  # raises Unavailable while Redis is still away
            self._later.discard(show_id)
        if not self.leaving:
            for show_id, engine in list(self._engines.items()):
                if isinstance(engine, Follower) and show_id not in self._loading:
                    await self._try_take(show_id)
        self.last_round = time.monotonic()

    async def _try_take(self, show_id: str) -> None:
        token = self._token()
        if await self.node.broker.take(self.node.lease(show_id), token, self.lease_ms):
            await self._switch(show_id, token)

    async def _step_down(self, show_id: str) -> None:
        engine = self._engines.get(show_id)
        self._tokens.pop(show_id, None)
        self.node.unwatch("requests", show_id)
        if engine is not None:
            await engine.retire()
        await self._switch(show_id)  # a follower now, so this process's sockets keep their events

    async def _catch_up(self, engine: ShowEngine) -> None:
        """An owner whose journal went on without it (the owner before it appended
        once more before it saw its lease gone) folds what it missed: a quiet show
        would otherwise never append, so never find its seq taken."""
        last = await self.journal.last_seq(engine.show_id)
        if last is not None and last > engine.state.seq:
            await engine.resync()

    def _on_events(self, show_id: str, fields: Fields) -> None:
        engine = self._engines.get(show_id)
        if not isinstance(engine, Follower) or engine.fenced:
            return
        epoch = fields.get("epoch")
        if epoch and epoch != engine.epoch:  # a new owner: tell it the sockets held here
            engine.epoch, engine.owner = epoch, fields.get("owner")
            self.crowd.owe(show_id)
        if fields.get("released") and not self.leaving:
            asyncio.ensure_future(self._take_released(show_id))
        events = json.loads(fields["events"]) if "events" in fields else []
        engine.relayed(events, int(fields.get("seq") or 0))

    async def _take_released(self, show_id: str) -> None:
        try:
            await self._try_take(show_id)
        except (BrokerDown, LiveError):
            pass  # the lease loop tries again

    # -- shutting down -------------------------------------------------------------------------

    async def handover(self) -> None:
        """Give up every show this process owns so others take them at once (a
        graceful shutdown): writing stops (what is queued fails with NOT_OWNER),
        the lease is released and the followers are told."""
        self.leaving = True
        for show_id, token in list(self._tokens.items()):
            engine = self._engines.pop(show_id, None)
            self._tokens.pop(show_id, None)
            self.node.unwatch("requests", show_id)
            if engine is None:
                continue
            await engine.retire()
            with contextlib.suppress(BrokerDown):
                await self.node.broker.drop(self.node.lease(show_id), token)
            self._announce(engine, released="1")
            log.info("show %s: handed over at seq %d", show_id, engine.state.seq)
        await self.node.flush()

    @property
    def node_id(self) -> str | None:
        return self.node.id

    async def readiness(self) -> dict[str, str]:
        checks = await super().readiness()
        try:
            await self.node.broker.ping()
            checks["redis"] = "ok"
        except BrokerDown as exc:
            checks["redis"] = f"unreachable ({exc})"
        fresh = time.monotonic() - self.last_round < 3 * self.round_seconds + 1
        running = self.node.running and all(not t.done() for t in self._tasks)
        checks["leases"] = "ok" if running and fresh else "not running" if not running else "late"
        return checks

    async def close(self) -> None:
        if not self.leaving:
            await self.handover()
        self.closed = True  # (the loops stop by the flag too: see Node.close)
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=self.round_seconds + self.node.timeout + 1)
        with contextlib.suppress(Exception):
            await self.crowd.send(self.followers())  # the sockets closed here: owners need not wait for the heartbeat
            await self.node.flush()
        await super().close()
        await self.node.close()
