"""Token buckets (pure: the time is a parameter, in milliseconds).

One implementation for every rate limit: a socket's own messages
(``TokenBucket``) and per-address limits (``Buckets``: registrations, claims,
socket hellos). The shell passes its clock's ``now``, so tests move time by
hand and nothing depends on how fast the machine is.
"""

from __future__ import annotations


class TokenBucket:
    """``burst`` tokens, refilled at ``per_second``; a clock set back refills nothing."""

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, per_second: float, burst: float, now: int) -> None:
        self.rate = per_second / 1000.0  # tokens a millisecond
        self.burst = burst
        self.tokens = burst
        self.stamp = now

    def take(self, now: int) -> bool:
        """Takes a token; returns False (taking nothing) when there is none."""
        self.tokens = min(self.burst, self.tokens + max(0, now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Buckets:
    """A TokenBucket per key (a client address), bounded: past ``max_keys`` the
    least recently used key is forgotten (its bucket starts full again)."""

    def __init__(self, per_minute: float, burst: float, max_keys: int = 100_000) -> None:
        self.per_second = per_minute / 60.0
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: dict[str, TokenBucket] = {}

    def allow(self, key: str, now: int) -> bool:
        """Takes a token from ``key``'s bucket; returns False when it has none."""
        bucket = self._buckets.pop(key, None) or TokenBucket(self.per_second, self.burst, now)
        self._buckets[key] = bucket  # now the most recently used
        if len(self._buckets) > self.max_keys:
            self._buckets.pop(next(iter(self._buckets)))
        return bucket.take(now)
