"""The command vocabulary, built from what each feature declares
(``FEATURE`` in ``rundown``, ``audience``, ``sales``, ``draws``, ``orders``,
``links``, ``platform`` and ``overlaytest``):
``decide`` turns a command into events, ``fold`` folds events into the state,
and ``apply_all`` does both for a batch and numbers the events.

Pure: no clock (``now`` is a parameter), no I/O. Rebuilding a show after a
restart is ``fold`` over its journal, so every state change lives in an
event and ``decide`` never changes state itself.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence
from dataclasses import replace
from typing import Any

from live.core import audience, draws, links, orders, overlaytest, platform, rundown, sales
from live.core import values as v
from live.core.errors import Forbidden, Invalid, LiveError, NotFound
from live.core.feature import Command, Feature, Fold
from live.core.show import ShowState, parse_products, parse_segments

Event = dict[str, Any]

FEATURES: tuple[Feature, ...] = (rundown.FEATURE, audience.FEATURE, sales.FEATURE, draws.FEATURE, orders.FEATURE,
                                 links.FEATURE, platform.FEATURE, overlaytest.FEATURE)


def _registries() -> tuple[dict[str, Command], dict[str, str], dict[str, Fold]]:
    commands: dict[str, Command] = {}
    visibility: dict[str, str] = {}
    folds: dict[str, Fold] = {}
    for feature in FEATURES:
        for kind, command in feature.commands.items():
            if kind in commands:
                raise ValueError(f"command {kind} is declared twice")
            commands[kind] = command
        for kind, seen_by in feature.events.items():
            if kind in visibility:
                raise ValueError(f"event {kind} is declared twice")
            visibility[kind] = seen_by
            folds[kind] = feature.fold
    return commands, visibility, folds


_COMMANDS, VISIBILITY, _FOLDS = _registries()


def _sent_by(sender: str) -> tuple[str, ...]:
    return tuple(kind for kind, c in _COMMANDS.items() if c.sender == sender)


COMMANDS = _sent_by("staff")  # POST /commands and the control socket
SETUP_COMMANDS = _sent_by("setup")  # their own endpoints: the PUTs, orders.csv, interactions
VIEWER_ACTIONS = _sent_by("viewer")  # a viewer's socket or claim, on the viewer's behalf
SYSTEM_COMMANDS = _sent_by("system")  # the server itself: registration, leaves, the tick, shop orders, clicks
# command type → roles that may send it (docs/permissions.md is generated from this)
PERMISSIONS: dict[str, frozenset[str]] = {
    kind: c.roles for kind, c in _COMMANDS.items() if c.sender in ("staff", "setup")}


def allowed(role: str, command_type: str) -> bool:
    return role in PERMISSIONS.get(command_type, frozenset())


def check(role: str, command_type: str) -> None:
    """Raises Forbidden unless ``role`` may send ``command_type``.

    Unknown command types pass here and are refused by ``decide`` with 422, so
    a wrong name is reported as a wrong name, not as a missing right."""
    if command_type in PERMISSIONS and role not in PERMISSIONS[command_type]:
        raise Forbidden(f"the {role} role may not send {command_type}")


def create(show_id: str, config: dict[str, Any], products: Any, segments: Any, now: int) -> tuple[ShowState, Event]:
    """The first event of a show (seq 1), from an already-validated config."""
    prods = parse_products(products if products is not None else [])
    segs = parse_segments(segments if segments is not None else [], prods)
    event: Event = {
        "type": "show.created",
        "at": now,
        "seq": 1,
        "show": {"id": show_id, **config},
        "products": [p.to_dict() for p in prods],
        "segments": [s.plan_dict() for s in segs],
    }
    return fold([event]), event


Outcome = list[Event] | Exception  # a command's events, or why it was refused


def apply_all(state: ShowState, commands: Sequence[Any], now: int) -> tuple[ShowState, list[Outcome]]:
    """Decide and fold commands in turn, each on the state the earlier ones left:
    returns the new state and, per command, its events (numbered from
    ``state.seq + 1`` on, stamped ``at=now``) or the exception that refused it
    (a LiveError, or a bug; a refused command changes nothing). ``state`` itself
    never changes: the fold works on a draft of its ledger, sealed at the end.
    The engine's write path and the core's tests both run this function."""
    work = begin(state)
    outcomes: list[Outcome] = []
    for command in commands:
        try:
            events = decide(work, command, now)
        except LiveError as exc:  # a refusal: its traceback is of no use, and thousands would pile up in a rush
            outcomes.append(exc.with_traceback(None))
            continue
        except Exception as exc:  # noqa: BLE001 - a bug: handed back with its traceback, for the log
            outcomes.append(exc)
            continue
        for event in events:
            event["at"] = now
            event["seq"] = work.seq + 1
            work = _fold(work, event)
        outcomes.append(events)
    work.ledger.seal()
    return work, outcomes


def apply(state: ShowState, command: Any, now: int) -> tuple[ShowState, list[Event]]:
    """``apply_all`` for one command: the new state and its events. Raises the
    LiveError that refused it, and then nothing has changed."""
    new, [outcome] = apply_all(state, [command], now)
    if isinstance(outcome, Exception):
        raise outcome
    return new, outcome


def decide(state: ShowState, command: Any, now: int) -> list[Event]:
    """The events a command produces (without ``seq``/``at``); changes nothing.
    Raises Invalid (bad input, ``field`` set) or Conflict (wrong state)."""
    cmd = v.obj(command, "")
    kind = cmd.get("type")
    handler = _COMMANDS.get(kind) if isinstance(kind, str) else None
    if handler is None:
        raise Invalid(f"unknown command type {kind!r}", "type")
    # The shell's context travels in "_" keys; the handlers see the rest.
    ctx = {k: val for k, val in cmd.items() if k.startswith("_")}
    if ctx:
        cmd = {k: val for k, val in cmd.items() if not k.startswith("_")}
    return handler.decide(state, cmd, now, ctx)


# -- fold ------------------------------------------------------------


def begin(state: ShowState) -> ShowState:
    """A working copy of ``state`` to fold into: the same values, a draft ledger."""
    return replace(state, ledger=state.ledger.draft())


def evolve(state: ShowState | None, event: Event) -> ShowState:
    """The state after one journaled event (``None`` before ``show.created``);
    ``state`` itself does not change."""
    return fold([event], state)


def fold(events: Iterable[Event], state: ShowState | None = None, skip: Container[str] = ()) -> ShowState:
    """The state after ``events`` (a whole journal, from ``None``; or what came
    after ``state``), folded on one draft; ``state`` itself does not change.
    Events whose type is in ``skip`` are left out (their seq still counts):
    ``stats.state`` folds a show without its audience that way. Raises
    NotFound when there is no show (no ``show.created``)."""
    folding = Folding(state, skip)
    folding.add(events)
    return folding.state()


class Folding:
    """``fold`` in several calls on one draft: a long journal read chunk by chunk
    pays one copy of each container it changes, not one per chunk. ``add`` the
    events in order, then take ``state()`` once."""

    def __init__(self, state: ShowState | None = None, skip: Container[str] = ()) -> None:
        self._work = None if state is None else begin(state)
        self._skip = skip
        self._seq: int | None = None

    def add(self, events: Iterable[Event]) -> None:
        work, skip = self._work, self._skip
        try:
            for event in events:
                self._seq = event["seq"]
                if event["type"] not in skip:
                    work = _fold_event(work, event)
        finally:
            self._work = work

    def state(self) -> ShowState:
        """The state folded so far, sealed. Raises NotFound without ``show.created``."""
        work = self._work
        if work is None:
            raise NotFound("no such show")
        if self._seq is not None and work.seq != self._seq:
            # once, not per event: no fold reads the seq, and replacing the state per
            # event was most of the cost of rebuilding a long show
            work = replace(work, seq=self._seq)
        work.ledger.seal()
        self._work = None
        return work


def _fold_event(state: ShowState | None, event: Event) -> ShowState:
    """Fold one event into a working state (its ledger a draft), its seq aside.
    Events this version does not know (written by a newer one) change nothing."""
    if event["type"] == "show.created":
        return rundown.created(event)
    assert state is not None, "a journal starts with show.created"
    feature_fold = _FOLDS.get(event["type"])
    return state if feature_fold is None else feature_fold(state, event)


def _fold(state: ShowState | None, event: Event) -> ShowState:
    """Fold one event into a working state, its seq included (what ``decide``
    reads to number the next events)."""
    work = _fold_event(state, event)
    return work if work.seq == event["seq"] else replace(work, seq=event["seq"])
