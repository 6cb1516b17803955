"""Roles and the permission matrix (command × role). Pure: no tokens are made here.

The matrix is the single source: ``docs/permissions.md`` is generated from it
(``python -m scripts.permissions_doc``) and a test checks the two agree.
"""

from __future__ import annotations

import hashlib
import hmac

from live.core.errors import Forbidden

STAFF_ROLES = ("host", "assistant", "moderator", "analyst")
ROLES = ("admin", *STAFF_ROLES)

_RUN = frozenset({"admin", "host", "assistant"})
_PLAN = frozenset({"admin", "assistant"})
_MODERATE = frozenset({"admin", "assistant", "moderator"})

# command type → roles that may send it
PERMISSIONS: dict[str, frozenset[str]] = {
    "show.start": _RUN,
    "show.end": _RUN,
    "segment.next": _RUN,
    "segment.previous": _RUN,
    "segment.goto": _RUN,
    "segment.extend": _RUN,
    "product.pin": _RUN,
    "product.unpin": _RUN,
    "products.replace": _PLAN,
    "rundown.replace": _PLAN,
    "flash_sale.open": _PLAN,
    "flash_sale.close": _PLAN,
    "draw.open": _PLAN,
    "draw.close": _PLAN,
    "draw.reroll": _PLAN,
    "likes.goal": _PLAN,
    "comment.pin": _MODERATE,
    "comment.delete": _MODERATE,
    "viewer.mute": _MODERATE,
}

# read access: every staff role reads the show and its state
READERS = frozenset(ROLES)


def allowed(role: str, command_type: str) -> bool:
    return role in PERMISSIONS.get(command_type, frozenset())


def check(role: str, command_type: str) -> None:
    """Raises Forbidden unless ``role`` may send ``command_type``.

    Unknown command types pass here and are refused by the core with 422, so
    a wrong name is reported as a wrong name, not as a missing right."""
    if command_type in PERMISSIONS and role not in PERMISSIONS[command_type]:
        raise Forbidden(f"the {role} role may not send {command_type}")


def hash_token(token: str) -> str:
    """Tokens are stored only as their SHA-256; a database leak reveals none."""
    return hashlib.sha256(token.encode()).hexdigest()


def pseudonym(secret: bytes, viewer_id: str) -> str:
    """First 12 hex digits of HMAC-SHA256(secret, viewer_id) (DESIGN §5)."""
    return hmac.new(secret, viewer_id.encode(), hashlib.sha256).hexdigest()[:12]


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
