"""Unexpected errors described for the log by their kind and place, never by
their text.

An exception's message may carry what a client sent or a secret: a database
error repeats the statement's parameters (a draw's seed before its reveal, a
viewer's comment) and PostgreSQL adds the failing row; a KeyError names the
key it missed. ``describe`` gives the classes of the exception and of what
caused it, a database error's SQLSTATE, and the frames (module, line,
function), which is what finding the bug needs. No source line is read.
"""

from __future__ import annotations

import re
import traceback

MAX_FRAMES = 40
MAX_CHAIN = 5
_SQLSTATE = re.compile(r"^[0-9A-Z]{5}$")


def kind(exc: BaseException) -> str:
    """``module.Class`` of ``exc`` (just ``Class`` for a builtin)."""
    cls = type(exc)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def sqlstate(exc: BaseException) -> str | None:
    """A database error's SQLSTATE (``23505``, ``P0001``), or None."""
    for attr in ("sqlstate", "pgcode"):
        state = getattr(exc, attr, None)
        if isinstance(state, str) and _SQLSTATE.match(state):
            return state
    return None


def chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions that caused it (``__cause__``, else an unsuppressed
    ``__context__``), outermost first."""
    out: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in out and len(out) < MAX_CHAIN:
        out.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return out


def frames(exc: BaseException) -> list[str]:
    """``module:line in function`` of each frame ``exc`` passed, innermost last."""
    out = []
    for frame, line in traceback.walk_tb(exc.__traceback__):
        module = frame.f_globals.get("__name__", "?")
        out.append(f"{module}:{line} in {frame.f_code.co_name}")
    return out[-MAX_FRAMES:]


def describe(exc: BaseException) -> str:
    """One log entry for ``exc``: its kind and its causes' (and a SQLSTATE) on the
    first line, then the frames it passed, one a line. Never the messages."""
    links = chain(exc)
    head = " <- ".join(kind(e) for e in links)
    state = next((s for s in map(sqlstate, links) if s is not None), None)
    if state is not None:
        head += f" [SQLSTATE {state}]"
    return head + "".join(f"\n  at {f}" for f in frames(exc))
