"""Presence: the audience of one show in memory, between two ticks.

What is too fast or too fleeting to journal one by one: how many sockets each
viewer has open, whose last socket dropped (a leave only once the grace
period has run out without a reconnect, dated when the socket dropped), and
the likes counted since the last tick (at most LIKES_PER_SECOND a viewer a
second). The engine's tick takes what is due (``due``) and journals it; if
that fails, ``restore`` puts it back for the next tick. Times are the show's
injected clock, in milliseconds.
"""

from __future__ import annotations

GRACE_MS = 15_000  # a dropped viewer socket counts as a leave after this long
LIKES_PER_SECOND = 20  # what one viewer can add per second; more is dropped


class Presence:
    def __init__(self) -> None:
        self.sockets: dict[str, int] = {}  # viewer id → open sockets
        self.leaving: dict[str, int] = {}  # viewer id → when their last socket dropped
        self.pending_likes: dict[str, int] = {}
        self._like_window: dict[str, tuple[int, int]] = {}  # viewer → (second, likes in it)

    @property
    def idle(self) -> bool:
        """No likes waiting and no grace period running."""
        return not (self.pending_likes or self.leaving)

    def add_likes(self, viewer_id: str, count: int, now: int) -> int:
        """Count likes for the next tick; returns how many were accepted."""
        second = now // 1000
        start, used = self._like_window.get(viewer_id, (second, 0))
        if start != second:
            start, used = second, 0
        accepted = max(0, min(count, LIKES_PER_SECOND - used))
        self._like_window[viewer_id] = (start, used + accepted)
        if accepted:
            self.pending_likes[viewer_id] = self.pending_likes.get(viewer_id, 0) + accepted
        return accepted

    def add_counted(self, likes: dict[str, int]) -> None:
        """Likes another process already counted (and held to the rate) for this tick."""
        for vid, n in likes.items():
            if n > 0:
                self.pending_likes[vid] = self.pending_likes.get(vid, 0) + n

    def opened(self, viewer_id: str, now: int) -> tuple[bool, int | None]:
        """A socket opened: ``(joins, left_at)``. ``joins`` is False when it resumes a
        visit within the grace period. ``left_at`` is when the viewer's last socket
        dropped if the grace period has run out since without a tick taking the
        leave (a late ticker): the caller journals that leave before the join."""
        self.sockets[viewer_id] = self.sockets.get(viewer_id, 0) + 1
        dropped = self.leaving.pop(viewer_id, None)
        if dropped is None:
            return True, None
        if now - dropped >= GRACE_MS:
            return True, dropped
        return False, None

    def closed(self, viewer_id: str, now: int) -> None:
        """A socket closed: the viewer's last one starts the grace period."""
        left = self.sockets.get(viewer_id, 0) - 1
        if left > 0:
            self.sockets[viewer_id] = left
            return
        self.sockets.pop(viewer_id, None)
        self.dropped(viewer_id, now)

    def dropped(self, viewer_id: str, at: int) -> None:
        """The viewer's last socket is gone since ``at`` (also: a restart lost it)."""
        self.leaving[viewer_id] = at

    def take_likes(self) -> dict[str, int]:
        """Takes the likes since the last tick (viewer → count)."""
        likes, self.pending_likes = self.pending_likes, {}
        return likes

    def settle(self) -> tuple[dict[str, int], dict[str, int]]:
        """Takes the likes since the last tick and every leave waiting for its grace
        period to run out (the show ends: whoever has no socket open has left)."""
        left, self.leaving = self.leaving, {}
        return self.take_likes(), left

    def due(self, now: int) -> tuple[dict[str, int], dict[str, int]]:
        """Takes what the next tick journals: the likes since the last tick, and the
        leaves (viewer → when the socket dropped) whose grace period has run out."""
        likes = self.take_likes()
        left = {vid: at for vid, at in self.leaving.items() if now - at >= GRACE_MS}
        for vid in left:
            del self.leaving[vid]
        return likes, left

    def restore(self, likes: dict[str, int], left: dict[str, int]) -> None:
        """Give back what a tick took but could not journal."""
        self.add_counted(likes)
        self.leaving.update(left)
