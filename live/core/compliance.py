"""Compliance check for on-air claims: absolute and exaggerated wording
(最, 第一, 国家级, 100 %, …) in product titles and talking points.

The word list is data (``live/data/claims.txt`` or ``LIVE_CLAIMS_FILE``);
this module only parses and matches. Findings are warnings for staff,
never a refusal: a human decides.
"""

from __future__ import annotations

from typing import Any

from live.core.show import ShowState


def _is_note(line: str) -> bool:
    """A note is ``#`` alone or ``#`` then whitespace; ``#1`` is a claim to flag."""
    return line.startswith("#") and (len(line) == 1 or line[1].isspace())


def parse_word_list(text: str) -> tuple[str, ...]:
    """The entries of a word list, one a line (stripped, duplicates once), blank
    lines and notes skipped; returns them longest first so that ``find_claims``
    prefers the longer phrase. Never raises."""
    words = {line.strip() for line in text.splitlines()}
    words = {w for w in words if w and not _is_note(w)}
    return tuple(sorted(words, key=lambda w: (-len(w), w)))


def find_claims(text: str, words: tuple[str, ...]) -> list[str]:
    """The listed words that occur in ``text`` (case-insensitive), longest first,
    leaving out words that only occur inside a longer match (全网最低 is one
    finding, not also 最). Returns each word once, as the list spells it."""
    lowered = text.casefold()
    found: list[str] = []
    spans: list[tuple[int, int]] = []
    # Sorted here too, so a caller's unsorted list still lets the longest win.
    for word in sorted(words, key=lambda w: -len(w.casefold())):
        w = word.casefold()
        if not w:
            continue
        start = lowered.find(w)
        while start != -1:
            end = start + len(w)
            if not any(s <= start and end <= e for s, e in spans):
                spans.append((start, end))
                if word not in found:
                    found.append(word)
            start = lowered.find(w, start + 1)
    return found


def check_show(state: ShowState, words: tuple[str, ...]) -> list[dict[str, Any]]:
    """Warnings for every claim in a product title, segment title or talking point:
    dicts ``{where: "product", sku, field, text, word}`` or ``{where: "segment",
    index, field ("title" or "talking_points[j]"), text, word}``."""
    out: list[dict[str, Any]] = []
    for p in state.products:
        for word in find_claims(p.title, words):
            out.append({"where": "product", "sku": p.sku, "field": "title", "text": p.title, "word": word})
    for i, seg in enumerate(state.segments):
        for word in find_claims(seg.title, words):
            out.append({"where": "segment", "index": i, "field": "title", "text": seg.title, "word": word})
        for j, point in enumerate(seg.talking_points):
            for word in find_claims(point, words):
                out.append(
                    {"where": "segment", "index": i, "field": f"talking_points[{j}]", "text": point, "word": word}
                )
    return out
