"""Every registry is built from the features' declarations: each command and
each event is declared once, by one feature, and nothing the core emits goes
undeclared (an undeclared event would have no visibility and no fold)."""

from __future__ import annotations

import pytest

from live.core import commands
from live.core.auth import ROLES
from live.core.feature import Command, Feature
from tests.live.core.audience_sim import random_show


def test_every_command_has_one_sender_and_staff_commands_name_their_roles() -> None:
    declared = [kind for feature in commands.FEATURES for kind in feature.commands]
    assert len(declared) == len(set(declared))
    everyone = (*commands.COMMANDS, *commands.SETUP_COMMANDS, *commands.VIEWER_ACTIONS, *commands.SYSTEM_COMMANDS)
    assert sorted(everyone) == sorted(declared)
    assert set(commands.PERMISSIONS) == set(commands.COMMANDS) | set(commands.SETUP_COMMANDS)
    assert all(roles and roles <= set(ROLES) and "admin" in roles for roles in commands.PERMISSIONS.values())


@pytest.mark.parametrize("seed", range(3))
def test_every_event_the_core_emits_is_declared(seed: int) -> None:
    journal = random_show(seed).journal
    assert {e["type"] for e in journal} - set(commands.VISIBILITY) == set()


def test_a_declaration_is_checked_when_made() -> None:
    with pytest.raises(ValueError):
        Command(lambda *a: [], "staff")  # a staff command with no roles
    with pytest.raises(ValueError):
        Command(lambda *a: [], "viewer", frozenset({"admin"}))
    with pytest.raises(ValueError):
        Feature("x", {}, {"x.happened": "everyone"}, fold=lambda s, e: s)
