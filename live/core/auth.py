"""Roles, principals, and the HMACs behind tokens and pseudonyms. Pure: no
tokens are made here (randomness is the shell's).

Which role may send which command is declared by each feature (its
``FEATURE``); ``live.core.commands.PERMISSIONS`` gathers it, and
``docs/permissions.md`` is generated from that (``python -m scripts.permissions_doc``).
"""

from __future__ import annotations

import hashlib
import hmac

from live.core.errors import Forbidden

STAFF_ROLES = ("host", "assistant", "moderator", "analyst")
ROLES = ("admin", *STAFF_ROLES)

# The role sets features grant their commands to (live/core/*.py, FEATURE).
RUN = frozenset({"admin", "host", "assistant"})  # run the show on air
PLAN = frozenset({"admin", "assistant"})  # plan it: products, rundown, sales, draws
MODERATE = frozenset({"admin", "assistant", "moderator"})  # the comments and viewers

# read access: every staff role reads the show and its state
READERS = frozenset(ROLES)
# the show's numbers: the review, its CSV and the journal's export (the
# moderator runs the comments, not the numbers)
REVIEW = frozenset({"admin", "host", "assistant", "analyst"})
# a draw's winners by their full nicknames and viewer ids (winners.csv): who
# reads them aloud and sends the prizes
WINNERS = RUN


def hash_token(token: str) -> str:
    """Tokens are stored only as their SHA-256; a database leak reveals none."""
    return hashlib.sha256(token.encode()).hexdigest()


def pseudonym(secret: bytes, viewer_id: str) -> str:
    """First 12 hex digits of HMAC-SHA256(secret, viewer_id) (docs/draws.md)."""
    return hmac.new(secret, viewer_id.encode(), hashlib.sha256).hexdigest()[:12]


def platform_viewer_id(secret: bytes, show_id: str, platform_viewer: str) -> str:
    """The show's viewer id for a platform's viewer id (``POST …/interactions``):
    ``p`` and the first 16 hex digits of HMAC-SHA256(secret, show and platform
    id). The same platform viewer is always the same viewer of a show; their
    platform id cannot be recovered from it, nor linked across shows."""
    mac = hmac.new(secret, f"platform:{show_id}:{platform_viewer}".encode(), hashlib.sha256).hexdigest()
    return "p" + mac[:16]


class Principal:
    """Who is asking: a role, and the one show a staff member belongs to
    (``None`` for admin, who may act on every show)."""

    __slots__ = ("name", "role", "show_id", "staff_id")

    def __init__(self, role: str, show_id: str | None, name: str, staff_id: str | None = None) -> None:
        self.role = role
        self.show_id = show_id
        self.name = name
        self.staff_id = staff_id

    def may_read(self, show_id: str) -> bool:
        return self.role == "admin" or self.show_id == show_id

    def require_show(self, show_id: str) -> None:
        if not self.may_read(show_id):
            raise Forbidden("this token belongs to another show")

    def __repr__(self) -> str:  # never includes a token
        return f"Principal({self.role!r}, {self.show_id!r}, {self.name!r})"


def viewer_token(secret: bytes, show_id: str, viewer_id: str) -> str:
    """A viewer's token: their id and an HMAC over (show, id). Nothing is stored."""
    mac = hmac.new(secret, f"viewer:{show_id}:{viewer_id}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"vw_{viewer_id}.{mac}"


def viewer_of(secret: bytes, show_id: str, token: str) -> str | None:
    """The viewer id a token was issued for on this show, or None."""
    if not token.startswith("vw_") or "." not in token or len(token) > 100:
        return None
    viewer_id = token[3:].split(".", 1)[0]
    return viewer_id if hmac.compare_digest(viewer_token(secret, show_id, viewer_id), token) else None


SIGNATURE_PREFIX = "sha256="


def webhook_signature(secret: str, body: bytes) -> str:
    """``X-Live-Signature`` for a body: ``sha256=`` and the hex HMAC-SHA256 of the raw
    bytes, keyed with the show's webhook secret."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` signs ``body`` with ``secret``; compared in constant time
    (a byte-by-byte comparison would tell an attacker how much of a guess is right)."""
    if not header or not secret:
        return False
    given = header.strip().encode("ascii", "replace").lower()
    return hmac.compare_digest(given, webhook_signature(secret, body).encode())


def click_token(secret: bytes, show_id: str, viewer_id: str) -> str:
    """What the click cookie holds: a viewer id and an HMAC over (show, id) under
    its own label, so it can never pass for a viewer token. It grants nothing:
    it only says whose click a tracked link's is."""
    mac = hmac.new(secret, f"click:{show_id}:{viewer_id}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{viewer_id}.{mac}"


def click_viewer(secret: bytes, show_id: str, value: str | None) -> str | None:
    """The viewer id a click cookie was made for on this show, or None."""
    if not value or "." not in value or len(value) > 100:
        return None
    viewer_id = value.split(".", 1)[0]
    return viewer_id if hmac.compare_digest(click_token(secret, show_id, viewer_id).encode(), value.encode()) else None
