"""Recordings (pure): a show's inputs, one JSON object a line (DESIGN.md 6.4).

``parse_recording`` reads and checks every line before anything is replayed:
the first line is ``{"show": {…}}`` (a ``POST /api/shows`` body), then one
input a line with ``at`` (Unix ms) never decreasing: a staff command, a
viewer's action, a shop order or a return. Only the shape is checked here;
what the engine refuses when the input is replayed (a command that does not
fit the show then) is named by line by the replay (``live/runtime/replay.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from live.core import values as v
from live.core.commands import COMMANDS, SETUP_COMMANDS, create
from live.core.errors import Invalid, LiveError
from live.core.show import parse_show_config

MAX_RECORDING_BYTES = 64 * 1024 * 1024
MAX_RECORDING_LINES = 1_000_000
MAX_LISTED_ERRORS = 100
MAX_AT = 2**53

# what each viewer action may carry besides ``at``, ``viewer``, ``action`` and ``nickname``
ACTIONS: dict[str, frozenset[str]] = {
    "join": frozenset(),
    "leave": frozenset(),
    "like": frozenset({"count"}),
    "comment": frozenset({"text"}),
    "share": frozenset(),
    "click": frozenset({"sku"}),
    "claim": frozenset({"sku", "qty"}),
}
# Staff commands a recording may hold: the staff vocabulary and the plan's
# replacements; shop orders come as ``order`` and ``return`` lines instead of a CSV.
RECORDED_COMMANDS = frozenset(COMMANDS) | (frozenset(SETUP_COMMANDS) - {"orders.import"})
ORDER_KEYS = frozenset({"order_id", "sku", "qty", "amount", "viewer"})
RETURN_KEYS = frozenset({"order_id", "qty"})
INPUT_KINDS = ("command", "viewer", "order", "return")


@dataclass(frozen=True)
class Input:
    """One line of a recording: ``kind`` is ``command``, ``viewer``, ``order`` or
    ``return``; ``body`` the line's object."""

    line: int
    at: int
    kind: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Recording:
    show: dict[str, Any]  # the POST /api/shows body
    inputs: list[Input]


class RecordingInvalid(Invalid):
    """422 for a recording with bad lines: ``field`` is the first (``line N``),
    ``errors`` lists them (the first MAX_LISTED_ERRORS); nothing is imported."""

    def __init__(self, errors: dict[int, str], more: bool = False) -> None:
        lines = sorted(errors)
        self.errors = [{"field": f"line {n}", "message": errors[n]} for n in lines]
        shown = "; ".join(f"line {n}: {errors[n]}" for n in lines[:5])
        count = f"more than {len(lines)}" if more else str(len(lines))
        super().__init__(f"{count} line(s) of the recording are not valid, so nothing was imported. {shown}",
                         f"line {lines[0]}")

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {"errors": self.errors}


def refused(line: int, exc: LiveError) -> RecordingInvalid:
    """The 422 for an input the engine refused on replay, naming its line."""
    where = f" ({exc.field})" if exc.field else ""
    return RecordingInvalid({line: f"{exc.message}{where}"})


def _show_line(raw: Any) -> dict[str, Any]:
    data = v.obj(raw, "")
    v.no_unknown_keys(data, {"show"}, "")
    show = v.obj(data.get("show"), "show")
    config = parse_show_config({k: val for k, val in show.items() if k not in ("products", "segments", "rundown")})
    segments = show.get("segments")
    if show.get("rundown") is not None:
        if segments is not None:
            raise Invalid("send either rundown or segments, not both", "show.rundown")
        segments = v.obj(show["rundown"], "show.rundown").get("segments")
    create("check", config, show.get("products"), segments, 0)  # the plan's products and segments
    return show


def _viewer_line(data: dict[str, Any]) -> None:
    action = data.get("action")
    if not isinstance(action, str) or action not in ACTIONS:
        raise Invalid(f"unknown viewer action {str(action)[:40]!r}: one of {', '.join(ACTIONS)}", "action")
    v.no_unknown_keys(data, {"at", "viewer", "action", "nickname"} | ACTIONS[action], "")
    v.text(data.get("viewer"), "viewer", max_len=64)
    if data.get("nickname") is not None:
        v.text(data["nickname"], "nickname", max_len=20)
    if action == "like":
        v.integer(data.get("count"), "count", lo=1, hi=100, default=1)
    elif action == "comment":
        v.text(data.get("text"), "text", max_len=200)
    elif action in ("click", "claim"):
        v.sku(data.get("sku"), "sku")
        if action == "claim":
            v.integer(data.get("qty"), "qty", lo=1, hi=100, default=1)


def _input(data: dict[str, Any], ended: bool) -> str:
    """The kind of an input line whose ``at`` is checked; raises Invalid."""
    kinds = [k for k in INPUT_KINDS if k in data]
    if len(kinds) != 1:
        raise Invalid("an input is one of: a command, a viewer's action, an order or a return", "")
    kind = kinds[0]
    if ended and kind not in ("order", "return"):
        raise Invalid("after show.end only orders and returns may follow", kind)
    if kind == "viewer":
        _viewer_line(data)
        return kind
    v.no_unknown_keys(data, {"at", kind}, "")
    body = v.obj(data[kind], kind)
    if kind == "command":
        ctype = body.get("type")
        if not isinstance(ctype, str) or ctype not in RECORDED_COMMANDS:
            raise Invalid(f"unknown staff command {str(ctype)[:40]!r}", "command.type")
        private = [k for k in body if isinstance(k, str) and k.startswith("_")]
        if private:
            raise Invalid("field names starting with '_' are reserved", f"command.{private[0]}")
    elif kind == "order":
        v.no_unknown_keys(body, set(ORDER_KEYS), "order")
        if body.get("viewer") is not None:
            v.text(body["viewer"], "order.viewer", max_len=64)
    else:
        v.no_unknown_keys(body, set(RETURN_KEYS), "return")
    return kind


def parse_recording(raw: bytes) -> Recording:
    """Every line of a recording, checked: returns the show and its inputs.
    Blank lines are skipped (they count for line numbers). Raises
    RecordingInvalid naming every bad line (the first MAX_LISTED_ERRORS), or
    Invalid (field ``body``) for an empty body or too many lines."""
    lines = raw.split(b"\n")
    if len(lines) > MAX_RECORDING_LINES + 1:
        raise Invalid(f"a recording has at most {MAX_RECORDING_LINES:,} lines", "body")
    errors: dict[int, str] = {}
    show: dict[str, Any] | None = None
    inputs: list[Input] = []
    last_at = 0
    ended = False
    seen: set[str] = set()
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = v.parse_json(line, "line")
            if show is None:
                show = _show_line(data)
                continue
            data = v.obj(data, "")
            at = v.integer(data.get("at"), "at", lo=0, hi=MAX_AT)
            if at < last_at:
                raise Invalid(f"at {at} is before the line before it ({last_at}): times never decrease", "at")
            kind = _input(data, ended)
            body = data if kind == "viewer" else data[kind]
            if kind in ("viewer", "order") and ended:
                who = body.get("viewer")
                if who is not None and who not in seen:
                    raise Invalid(f"viewer {who[:64]!r} first appears after show.end, when no viewer may join",
                                  "order.viewer")
            if body.get("viewer") is not None:  # a viewer's line, or an order naming one
                seen.add(body["viewer"])
            last_at = at
            ended = ended or (kind == "command" and body["type"] == "show.end")
            inputs.append(Input(n, at, kind, body))
        except LiveError as exc:
            errors[n] = f"{exc.message}{f' ({exc.field})' if exc.field else ''}"
            if len(errors) >= MAX_LISTED_ERRORS:
                raise RecordingInvalid(errors, more=True) from None
    if errors:
        raise RecordingInvalid(errors)
    if show is None:
        raise Invalid('the recording is empty: its first line is {"show": {…}}', "body")
    if not inputs:
        raise RecordingInvalid({len(lines): "the recording has no inputs after its show line"})
    return Recording(show, inputs)
