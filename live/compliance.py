"""Compliance check for on-air claims: absolute and exaggerated wording
(最, 第一, 国家级, 100 %, …) in product titles and talking points.

The word list is data (``live/data/claims.txt`` or ``LIVE_CLAIMS_FILE``);
this module only parses and matches. Findings are warnings for staff,
never a refusal: a human decides.
"""

from __future__ import annotations

from typing import Any

from live.show import ShowState


def parse_word_list(text: str) -> tuple[str, ...]:
    """One entry a line; blank lines and ``#`` notes are skipped; longest first."""
    words = {line.strip() for line in text.splitlines()}
    words = {w for w in words if w and w != "#" and not w.startswith("# ")}
    return tuple(sorted(words, key=lambda w: (-len(w), w)))


def find_claims(text: str, words: tuple[str, ...]) -> list[str]:
    """The listed words that occur in ``text`` (case-insensitive), longest first,
    leaving out words that only occur inside a longer match."""
    lowered = text.casefold()
    found: list[str] = []
    spans: list[tuple[int, int]] = []
    for word in words:
        w = word.casefold()
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
    """Warnings for every product title and segment title / talking point."""
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
