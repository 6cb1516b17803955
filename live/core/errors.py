"""Domain errors: each carries its HTTP status, a stable code and a human message.

They are raised by the pure core and rendered once: as HTTP JSON in
``server.py`` and as an ``error`` message in the socket loop.
"""

from __future__ import annotations

from typing import Any


class LiveError(Exception):
    """Base class; ``status`` is the HTTP status, ``code`` the contract's code."""

    status = 400
    code = "BAD_REQUEST"

    def __init__(self, message: str, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, Any]:
        """The contract's error body (without the outer ``{"error": …}``)."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return body


class Invalid(LiveError):
    """422: the input is malformed or out of range; ``field`` names it."""

    status = 422
    code = "INVALID"


class IdempotencyMismatch(Invalid):
    """422: an idempotency key already used for something else: a claim's
    ``request_id`` that won another sale or qty, an ``order_id`` imported with
    other values. Nothing is written."""

    code = "IDEMPOTENCY_MISMATCH"


class Unauthorized(LiveError):
    status = 401
    code = "UNAUTHORIZED"


class Forbidden(LiveError):
    status = 403
    code = "FORBIDDEN"


class NotFound(LiveError):
    status = 404
    code = "NOT_FOUND"


class Conflict(LiveError):
    """409: the command does not fit the show's current state."""

    status = 409
    code = "WRONG_STATE"


class TooLarge(LiveError):
    status = 413
    code = "TOO_LARGE"


class RateLimited(LiveError):
    status = 429
    code = "RATE_LIMITED"


class Unavailable(LiveError):
    """503: a service the answer needs did not answer in time (the scaled mode:
    the show's owner, or Redis). Try again: a request the owner got too late is
    never run, but one it got just in time may have been (a claim retried with
    the same request_id is safe)."""

    status = 503
    code = "UNAVAILABLE"
