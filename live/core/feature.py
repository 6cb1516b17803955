"""What a feature declares, in one place: its commands (who sends each, which
roles may, how it is decided), its events (who sees each) and how its events
fold into the state. ``live.core.commands`` builds every registry from these
declarations, so a new command touches one feature module (and the generated
permission doc).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from live.core.show import ShowState

Event = dict[str, Any]
Ctx = dict[str, Any]
Decide = Callable[["ShowState", dict[str, Any], int, Ctx], list[Event]]
Fold = Callable[["ShowState", Event], "ShowState"]

# Who sends a command: staff (POST /commands, the control socket), setup (the
# PUT endpoints), a viewer's socket or claim, or the server itself.
SENDERS = ("staff", "setup", "viewer", "system")
# Who sees an event: everyone (overlays and viewers included), staff only, or
# nobody (journal only: presence, claims, registrations).
VISIBILITIES = ("public", "staff", "internal")


@dataclass(frozen=True)
class Command:
    decide: Decide
    sender: str = "staff"
    roles: frozenset[str] = frozenset()  # staff and setup commands: the roles that may send it

    def __post_init__(self) -> None:
        if self.sender not in SENDERS:
            raise ValueError(f"sender must be one of {SENDERS}")
        if (self.sender in ("staff", "setup")) != bool(self.roles):
            raise ValueError("staff and setup commands name their roles; others name none")


@dataclass(frozen=True)
class Feature:
    name: str
    commands: Mapping[str, Command]
    events: Mapping[str, str]  # event type → visibility
    fold: Fold  # folds this feature's events (a working state: its ledger is a draft)

    def __post_init__(self) -> None:
        bad = {t: vis for t, vis in self.events.items() if vis not in VISIBILITIES}
        if bad:
            raise ValueError(f"unknown visibility in {self.name}: {bad}")
