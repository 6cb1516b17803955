"""A drawn draw's winners as staff need them to deliver the prizes (pure): one
row per winner with the full nickname (the stream shows it masked), the
viewer id staff know from the comment feed, and the pseudonym the public
record names; as CSV for a spreadsheet (``GET …/draws/{id}/winners.csv``).

The timezone is a parameter (the shell resolves the show's name), so this
module reads no file and no clock.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, tzinfo
from typing import Any

from live.core.context import lookup
from live.core.errors import Conflict, Invalid
from live.core.i18n_winners import LANGUAGES
from live.core.show import ShowState

COLUMNS = ("rank", "nickname", "viewer_id", "pseudonym", "prize", "drawn_at", "round")
# What a spreadsheet would run as a formula (CSV injection): such a cell gets a leading '.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def language(value: str | None, show_language: str) -> str:
    """``?lang=`` (``en``, ``zh-CN``), or the show's language when absent; raises
    Invalid (field ``lang``) for any other."""
    if value is None or value == "":
        return show_language if show_language in LANGUAGES else "en"
    if value not in LANGUAGES:
        raise Invalid(f"lang must be one of {', '.join(LANGUAGES)}", "lang")
    return value


def rows(state: ShowState, draw_id: Any, tz: tzinfo, lang: str) -> list[dict[str, Any]]:
    """The winners of draw ``draw_id`` in the order drawn (the draw's own winners,
    then each reroll's): ``rank`` (1, 2, …), ``nickname`` (full), ``viewer_id``
    (null when no viewer of the show has the pseudonym), ``pseudonym``,
    ``prize``, ``drawn_at`` (ISO 8601 with the offset of ``tz``), ``round``
    (the draw or ``reroll n``, in ``lang``). Raises NotFound (no such draw) or
    Conflict (not drawn yet)."""
    draw = lookup(state.ledger.draws, draw_id, "draw", None)
    if draw.status != "closed":
        raise Conflict(f"draw {draw.id} has not been drawn yet: its winners are listed once it is")
    t = LANGUAGES[lang]
    viewers = {vw.pseudonym: vw for vw in state.ledger.viewers.values()}
    out: list[dict[str, Any]] = []
    for n, rnd in enumerate(draw.rounds):
        at = rnd.get("at", draw.closed_at)  # a state stored before rounds kept their time
        drawn_at = "" if at is None else datetime.fromtimestamp(at / 1000, tz).isoformat(timespec="seconds")
        label = t["round_draw"] if n == 0 else t["round_reroll"].format(n=n)
        for w in rnd["winners"]:
            viewer = viewers.get(w["pseudonym"])
            full = w.get("full_nickname") or (viewer.nickname if viewer is not None else w["nickname"])
            out.append({"rank": len(out) + 1, "nickname": full, "viewer_id": None if viewer is None else viewer.id,
                        "pseudonym": w["pseudonym"], "prize": draw.prize, "drawn_at": drawn_at, "round": label})
    return out


def cell(value: Any) -> Any:
    """A value a spreadsheet shows as written: text that would start a formula
    (``=``, ``+``, ``-``, ``@``, a tab or a carriage return first) gets a leading
    ``'``; None is an empty cell."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def to_csv(winners: list[dict[str, Any]], lang: str) -> str:
    """The rows as CSV: a BOM first (Excel then reads the Chinese as UTF-8), one
    header row in ``lang``, CRLF line ends; every cell through ``cell``."""
    t = LANGUAGES[lang]
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([t[c] for c in COLUMNS])
    for row in winners:
        writer.writerow([cell(row[c]) for c in COLUMNS])
    return out.getvalue()
