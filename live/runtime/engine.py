"""ShowEngine: the one writer of a show. Shows: the registry of engines.

Every change goes through one queue per show. The writer takes what is
queued (group commit), decides each command in turn on the state the earlier
ones left, appends all their events to the journal in one transaction, and
only then answers the callers and publishes. If the append fails, nobody is
answered with success and the state is refolded from the journal, so an
acknowledged command is always in the journal and an unacknowledged one
never is. Grouping is what lets thousands of simultaneous claims finish in
a few transactions instead of one each.

The engine also keeps what is too fast to journal one by one: likes are
counted in memory (``Presence``) and journaled as one ``likes.tick`` per tick
(≤ 4 Hz); viewer sockets are counted so a dropped one becomes a leave only
after a grace period. Its ``Ticker`` (``live.runtime.ticker``) turns those,
and deadlines, into events.

Fencing: the journal's key ``(show_id, seq)`` lets only one writer have each
seq. An engine that loses that race is marked ``fenced``; it writes nothing
more, and ``Shows.get`` replaces it with one rebuilt from the journal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from live.adapters.journal import FencingError, Journal
from live.core import auth
from live.core.commands import (
    COMMANDS,
    SETUP_COMMANDS,
    SYSTEM_COMMANDS,
    VIEWER_ACTIONS,
    VISIBILITY,
    Event,
    apply_all,
    check,
    decide,
    fold,
)
from live.core.errors import Forbidden, Invalid, LiveError
from live.core.sales import ClaimLost
from live.core.session import REPLAY  # at most this many missed events are replayed (from the journal past HISTORY)
from live.core.show import ShowState
from live.runtime.presence import Presence
from live.runtime.ticker import Ticker

log = logging.getLogger("live.runtime.engine")

HISTORY = 2_000  # recent events held in memory for reconnects
MAX_BATCH = 2_000  # commands decided and journaled together at most

# What staff may send (POST /commands, the control socket, the PUT endpoints).
STAFF_COMMANDS = frozenset(COMMANDS) | frozenset(SETUP_COMMANDS)


class Waiter(Protocol):
    """What a queued command is answered through: an asyncio future, or an ``Answer``."""

    def done(self) -> bool: ...
    def set_result(self, result: list[Event], /) -> None: ...
    def set_exception(self, exc: BaseException, /) -> None: ...


class Answer:
    """A future's three methods over a callback, so the writer answers a command
    by calling ``on_done(events, None)`` or ``on_done(None, exc)`` right where it
    decides its batch: no future, no task woken per command (10,000 claims)."""

    __slots__ = ("_done", "on_done")

    def __init__(self, on_done: Callable[[list[Event] | None, BaseException | None], None]) -> None:
        self.on_done = on_done
        self._done = False

    def done(self) -> bool:
        return self._done

    def set_result(self, result: list[Event]) -> None:
        self._answer(result, None)

    def set_exception(self, exc: BaseException) -> None:
        self._answer(None, exc)

    def _answer(self, result: list[Event] | None, exc: BaseException | None) -> None:
        self._done = True
        try:
            self.on_done(result, exc)
        except Exception:  # one caller's failure must not stop the writer answering the others
            log.exception("answering a queued command failed")


class Publisher(Protocol):
    def publish(self, show_id: str, events: list[Event]) -> None: ...


# Called with every batch of journaled events (internal ones included), in the
# journal's order: the scaled mode relays them to the other processes.
Replicas = Callable[["ShowEngine", list[Event]], None]


class ShowEngine:
    def __init__(
        self,
        state: ShowState,
        journal: Journal,
        bus: Publisher,
        clock: Callable[[], int],
        last_at: int = 0,
        secret: bytes = b"",
        banned: tuple[str, ...] = (),
        comment_interval_ms: int = 1000,
        replicas: Replicas | None = None,
    ) -> None:
        # configuration the core reads from the ledger (not journaled): the comment word list and pace
        self.state = replace(state, ledger=state.ledger.configured(banned=banned,
                                                                   comment_interval_ms=comment_interval_ms))
        self.journal = journal
        self.bus = bus
        self.replicas = replicas
        self.clock = clock
        self.secret = secret
        # Held while a batch is decided and journaled (tests may take it to pause the writer).
        self.lock = asyncio.Lock()
        # A new epoch each time a process takes the show: clients learn that the
        # writer changed; seqs stay valid because they come from the journal.
        self.epoch = secrets.token_hex(4)
        self.history: deque[Event] = deque(maxlen=HISTORY)
        self.last_at = last_at  # time of the newest event
        self.fenced = False
        self.unsure = False  # an append failed: it may have committed all the same
        # Sales whose close is in the journal: every later claim on one of them
        # loses with the same code, so it is answered without the writer queue.
        self._settled: set[str] = {s.id for s in state.ledger.sales.values() if s.status == "closed"}
        self._queue: deque[tuple[dict[str, Any], Waiter]] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()  # claims a replica forwards (``claim_soon``)
        # the audience, in memory
        self.presence = Presence()
        self.ticker = Ticker(self)  # likes, leaves, tickers and deadlines on the clock

    @property
    def show_id(self) -> str:
        return self.state.id

    def now(self) -> int:
        """Server time, never earlier than the last event (clocks can step back)."""
        return max(self.clock(), self.last_at)

    # -- commands ----------------------------------------------------------------

    async def execute(self, command: Any, principal: auth.Principal) -> list[Event]:
        """Run one command for staff or a viewer; returns its events (journaled and
        published). Raises LiveError (Forbidden, Invalid, Conflict…) having written
        nothing; FencingError when another writer holds the show; a journal error
        as is, also having kept nothing."""
        principal.require_show(self.show_id)
        if not isinstance(command, dict):
            raise Invalid("a command is a JSON object", "")
        kind = command.get("type")
        if any(isinstance(k, str) and k.startswith("_") for k in command):
            raise Invalid("field names starting with '_' are reserved", next(k for k in command if k.startswith("_")))
        if principal.role == "viewer":
            if kind not in VIEWER_ACTIONS:
                raise Forbidden(f"a viewer may not send {kind}")
            command = {**command, "_viewer": principal.staff_id}
        elif isinstance(kind, str) and kind in STAFF_COMMANDS:
            check(principal.role, kind)
        elif kind in VIEWER_ACTIONS or kind in SYSTEM_COMMANDS:
            # Staff send only the staff vocabulary: a join, a tick or a registration
            # in their name would forge the audience.
            raise Forbidden(f"{kind} is sent by viewers or the server, not staff")
        else:
            raise Invalid(f"unknown command type {kind!r}", "type")
        if kind == "show.end":
            await self.ticker.settle_before_end()
        if principal.role != "viewer":
            # Fresh randomness for any draw the command opens (draw.open, or a
            # segment's draw action on start / next / goto / previous).
            command = {**command, "_seed": secrets.token_hex(32)}
        return await self.submit(command)

    async def submit(self, command: dict[str, Any]) -> list[Event]:
        """Queue a checked command for the writer; returns its events once journaled."""
        future: asyncio.Future[list[Event]] = asyncio.get_running_loop().create_future()
        self._queue.append((command, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.ensure_future(self._write_loop())
        return await future

    def submit_soon(self, command: dict[str, Any], answer: Waiter) -> None:
        """Queue a checked command for the writer, answered through ``answer`` once
        journaled (or refused)."""
        self._queue.append((command, answer))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.ensure_future(self._write_loop())

    async def _write_loop(self) -> None:
        while self._queue:
            batch = [self._queue.popleft() for _ in range(min(MAX_BATCH, len(self._queue)))]
            async with self.lock:
                await self._write(batch)

    async def _write(self, batch: list[tuple[dict[str, Any], Waiter]]) -> None:
        """Decide the batch on a working copy, journal its events, and only then
        swap the new state in, publish and answer. Until the append commits,
        every reader (snapshots, ``GET /state``, catch-ups) sees the last
        journaled state; if it fails, nothing of the batch is visible anywhere
        and the next batch continues at the journal's last seq + 1."""
        live = [(command, future) for command, future in batch if not future.done()]  # gave up: nothing promised
        if not live:
            return
        try:
            if self.fenced:
                raise FencingError(f"show {self.show_id} is written by another process now")
            if self.unsure:
                await self._catch_up_with_journal()
            now = self.now()
            state, outcomes = apply_all(self.state, [command for command, _ in live], now)
        except Exception as exc:  # noqa: BLE001 - the whole batch fails; nothing was written
            if not isinstance(exc, LiveError):
                log.warning("show %s: batch refused: %s", self.show_id, type(exc).__name__)
            for _, future in live:
                future.set_exception(exc)
            return
        staged = [event for outcome in outcomes if not isinstance(outcome, Exception) for event in outcome]
        if staged:
            status = state.status if state.status != self.state.status else None
            try:
                await self.journal.append(self.show_id, staged, status=status)
            except Exception as exc:  # noqa: BLE001 - nothing of the batch is kept; callers get the error
                if isinstance(exc, FencingError):
                    self.fenced = True
                else:
                    # The append may have committed before the error reached us:
                    # the next batch first reads what the journal holds past our seq.
                    self.unsure = True
                # The kind of error only: its text may hold the statement's parameters.
                log.warning("show %s: journal append failed: %s", self.show_id, type(exc).__name__)
                for _, future in live:
                    future.set_exception(exc)
                return
            self._commit(state, staged, now)
        for (command, future), outcome in zip(live, outcomes, strict=True):
            if isinstance(outcome, Exception):
                if not isinstance(outcome, LiveError):
                    log.error("deciding %s on show %s failed: %s", command.get("type"), self.show_id,
                              type(outcome).__name__, exc_info=outcome)
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    def _commit(self, state: ShowState, staged: list[Event], now: int) -> None:
        """Make journaled events visible: the state, the reconnect history, the bus."""
        self.state = state
        self.last_at = now
        self.history.extend(staged)
        # Only a journaled close may short-circuit later claims.
        self._settled.update(e["sale_id"] for e in staged if e["type"] == "flash_sale.closed")
        if self.replicas is not None:
            try:
                self.replicas(self, staged)
            except Exception:
                log.exception("relaying events of show %s failed", self.show_id)
        # Internal events (joins, claims, registrations) reach no socket: not
        # handing them to the bus keeps a rush of n joins or claims from costing
        # n × subscribers queue operations.
        shown = [e for e in staged if VISIBILITY.get(e["type"]) != "internal"]
        if shown:
            try:  # published under the writer's lock, so subscribers see the journal's order
                self.bus.publish(self.show_id, shown)
            except Exception:
                log.exception("publishing events of show %s failed", self.show_id)

    async def _catch_up_with_journal(self) -> None:
        """After an append whose outcome is unknown: fold what the journal holds
        past this state's seq (it committed after all), or nothing. Raises
        whatever the journal raises (the batch then fails, and the next retries)."""
        extra = await self.journal.load(self.show_id, after=self.state.seq)
        if extra:
            self._commit(fold(extra, self.state), extra, max(self.last_at, extra[-1]["at"]))
        self.unsure = False

    async def resync(self) -> None:
        """Fold (and publish) whatever the journal holds past this state: another
        writer appended to it (the scaled mode: the owner before this one, once
        more before it stepped down). Raises whatever the journal raises."""
        async with self.lock:
            await self._catch_up_with_journal()

    async def missed(self, after: int, limit: int | None = None) -> list[Event] | None:
        """Events after seq ``after`` for a reconnecting client, in order; or None
        when they are more than ``limit`` (default REPLAY) or ``after`` is not a
        seq of this show (the client then gets a fresh snapshot)."""
        seq = self.state.seq
        if after == seq:
            return []
        if after < 0 or after > seq or seq - after > (REPLAY if limit is None else limit):
            return None
        if self.history and self.history[0]["seq"] <= after + 1:
            return [e for e in self.history if e["seq"] > after]
        events = await self.journal.load(self.show_id, after=after, limit=seq - after)
        # Nothing past this engine's own state: a later seq in the journal was
        # written by another writer, and this one's clients must stay consistent.
        return [e for e in events if e["seq"] <= seq]

    # -- the audience ---------------------------------------------------------------

    async def register(self, nickname: Any, staff: bool) -> tuple[str, str]:
        """A new viewer: returns ``(viewer_id, token)``. Raises Invalid/Conflict."""
        viewer_id = "v" + secrets.token_hex(8)
        await self.submit({"type": "viewer.register", "nickname": nickname, "_new_viewer": viewer_id,
                           "_pseudonym": auth.pseudonym(self.secret, viewer_id), "_staff": staff})
        return viewer_id, auth.viewer_token(self.secret, self.show_id, viewer_id)

    async def claim(self, viewer_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """A flash-sale claim: ``{ok: True, order_id, …}`` or ``{ok: False, code}``.
        The same ``request_id`` with the same sale and qty always gets the same
        winning answer. Raises Invalid/NotFound for a malformed claim or an
        unknown sale, IdempotencyMismatch for a ``request_id`` that won another
        sale or qty."""
        command = {**body, "type": "flash_sale.claim", "_viewer": viewer_id}
        sale_id = body.get("sale_id")
        if isinstance(sale_id, str) and sale_id in self._settled and not self.unsure and not self.fenced:
            # The rush after a sell-out: thousands of claims whose answer cannot
            # change any more. The pure decision, on this state, answers them at
            # once, without the writer queue. Exact because the sale's close is
            # journaled and final (its code, SOLD_OUT or ENDED, is fixed by the
            # remaining stock it closed with), and what else the decision reads
            # (the viewer, the request_id's earlier win) only ever grows; anything
            # but a loss (a win already held, a request_id reused for another sale
            # or qty, a malformed claim) goes to the writer, which answers the same.
            try:
                decide(self.state, command, self.now())
            except ClaimLost as lost:
                return {"ok": False, "code": lost.code, "message": lost.message}
            except LiveError:
                pass
        try:
            await self.submit(command)
        except ClaimLost as lost:
            return {"ok": False, "code": lost.code, "message": lost.message}
        result = self.state.ledger.claims.get(f"{viewer_id}:{body.get('request_id')}")
        if result is None:  # only if the request_id was refused before deciding
            raise Invalid("request_id is required", "request_id")
        return dict(result)

    def claim_soon(self, viewer_id: str, body: dict[str, Any],
                   answer: Callable[[dict[str, Any] | None, BaseException | None], None]) -> None:
        """``claim`` answered through ``answer(result, None)`` (the dict ``claim``
        returns) or ``answer(None, exc)`` (what ``claim`` raises), called by the
        writer as it decides the batch (or at once for a settled sale): no task or
        future per claim. ``answer`` must not raise."""
        if type(self).submit is not ShowEngine.submit:
            # A replica (scaled mode) forwards its commands to the owner: no local
            # writer decides them, so this waits for the forwarded answer in a task.
            task = asyncio.ensure_future(self._claim_then(viewer_id, body, answer))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
            return
        command = {**body, "type": "flash_sale.claim", "_viewer": viewer_id}
        sale_id = body.get("sale_id")
        if isinstance(sale_id, str) and sale_id in self._settled and not self.unsure and not self.fenced:
            try:  # the rush after a sell-out: see ``claim``
                decide(self.state, command, self.now())
            except ClaimLost as lost:
                answer({"ok": False, "code": lost.code, "message": lost.message}, None)
                return
            except LiveError:
                pass
        key = f"{viewer_id}:{body.get('request_id')}"

        def decided(events: list[Event] | None, exc: BaseException | None) -> None:
            if isinstance(exc, ClaimLost):
                answer({"ok": False, "code": exc.code, "message": exc.message}, None)
            elif exc is not None:
                answer(None, exc)
            else:
                result = self.state.ledger.claims.get(key)
                if result is None:  # only if the request_id was refused before deciding
                    answer(None, Invalid("request_id is required", "request_id"))
                else:
                    answer(dict(result), None)

        self.submit_soon(command, Answer(decided))

    async def _claim_then(self, viewer_id: str, body: dict[str, Any],
                          answer: Callable[[dict[str, Any] | None, BaseException | None], None]) -> None:
        try:
            result = await self.claim(viewer_id, body)
        except Exception as exc:  # noqa: BLE001 - handed to the caller, as the writer would
            answer(None, exc)
        else:
            answer(result, None)

    async def interactions(self, events: Any) -> dict[str, int]:
        """A platform connector's batch (``live.core.platform``), all or nothing:
        returns ``{seq, accepted, duplicates, dropped}``. Maps each platform viewer
        id to this show's viewer (and pseudonym) for the core; raises Conflict (not
        live), TooLarge or Invalid having written nothing."""
        mapping: dict[str, list[str]] = {}
        for e in events if isinstance(events, list) else ():
            pid = e.get("viewer_id") if isinstance(e, dict) else None
            if isinstance(pid, str) and pid not in mapping:
                vid = auth.platform_viewer_id(self.secret, self.show_id, pid)
                mapping[pid] = [vid, auth.pseudonym(self.secret, vid)]
        written = await self.submit({"type": "platform.interactions", "events": events,
                                     "_platform_viewers": mapping, "_seed": secrets.token_hex(32)})
        received = written[-1] if written else None
        n = len(events) if isinstance(events, list) else 0
        if received is None:  # every event was a duplicate
            return {"seq": self.state.seq, "accepted": 0, "duplicates": n, "dropped": 0}
        return {"seq": received["seq"], "accepted": len(received["ids"]), "duplicates": received["duplicates"],
                "dropped": received["dropped"]}

    def add_likes(self, viewer_id: str, count: int) -> int:
        """Count likes for the next tick; returns how many were accepted
        (a viewer adds at most LIKES_PER_SECOND a second)."""
        return self.presence.add_likes(viewer_id, count, self.clock())

    async def connected(self, viewer_id: str) -> None:
        """A viewer socket opened: a join, unless it resumes a visit within the grace
        period. Back after the grace period ran out, the viewer left when their
        socket dropped, even if no tick has journaled it yet. The join goes
        through the writer's queue whatever the state says now: a tick journaling
        the viewer's leave is ahead of it there, and ``viewer.join`` of a present
        viewer is nothing."""
        joins, left_at = self.presence.opened(viewer_id, self.clock())
        if not joins or viewer_id not in self.state.ledger.viewers:
            return
        if left_at is not None:
            await self.submit({"type": "viewer.leave", "_viewer": viewer_id, "_left_at": left_at})
        await self.submit({"type": "viewer.join", "_viewer": viewer_id})

    def disconnected(self, viewer_id: str) -> None:
        """A viewer socket closed: a leave after GRACE_MS unless the viewer comes back."""
        self.presence.closed(viewer_id, self.clock())

    async def retire(self, timeout: float = 5.0) -> None:
        """Stop writing for good (another process takes the show): whatever is
        queued fails with FencingError (409 NOT_OWNER), the batch being journaled
        finishes first, and the ticker stops."""
        self.fenced = True
        writer = self._writer
        if writer is not None and not writer.done():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(writer), timeout)
        await self.stop()

    async def stop(self) -> None:
        for task in (self.ticker.task, self._writer):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        while self._queue:  # never decided: their callers hear so rather than wait forever
            _, future = self._queue.popleft()
            if not future.done():
                future.set_exception(FencingError(f"show {self.show_id}'s writer stopped"))
