"""Presence between two ticks, on a clock passed by hand: the grace period,
several sockets per viewer, the like window, and giving back what a failed
tick took."""

from __future__ import annotations

from live.runtime.presence import GRACE_MS, LIKES_PER_SECOND, Presence

T = 1_700_000_000_000


def test_a_leave_is_due_only_once_the_grace_period_ran_out_and_is_dated_at_the_drop() -> None:
    p = Presence()
    assert p.opened("a", T) == (True, None)  # a new visit
    p.closed("a", T)
    assert p.due(T + GRACE_MS - 1) == ({}, {})
    assert p.due(T + GRACE_MS) == ({}, {"a": T})
    assert p.idle


def test_a_reconnect_within_the_grace_period_resumes_the_visit() -> None:
    p = Presence()
    p.opened("a", T)
    p.closed("a", T)
    assert p.opened("a", T + GRACE_MS - 1) == (False, None)
    assert p.due(T + 10 * GRACE_MS) == ({}, {})


def test_a_reconnect_after_the_grace_period_is_a_leave_dated_at_the_drop_and_a_join() -> None:
    # however late the tick that would have taken the leave
    p = Presence()
    p.opened("a", T)
    p.closed("a", T)
    assert p.opened("a", T + GRACE_MS) == (True, T)
    assert p.due(T + 10 * GRACE_MS) == ({}, {})
    assert p.sockets == {"a": 1}


def test_only_the_last_socket_of_a_viewer_starts_the_grace_period() -> None:
    p = Presence()
    p.opened("a", T)
    p.opened("a", T)
    p.closed("a", T)
    assert p.leaving == {}
    p.closed("a", T + 5)
    assert p.leaving == {"a": T + 5}


def test_likes_are_capped_per_viewer_per_second_and_taken_by_the_tick() -> None:
    p = Presence()
    assert p.add_likes("a", LIKES_PER_SECOND + 5, T) == LIKES_PER_SECOND
    assert p.add_likes("a", 1, T + 999) == 0
    assert p.add_likes("b", 3, T + 999) == 3
    assert p.add_likes("a", 2, T + 1000) == 2  # a new second
    assert p.due(T + 1000) == ({"a": LIKES_PER_SECOND + 2, "b": 3}, {})
    assert p.idle


def test_what_a_failed_tick_took_is_given_back() -> None:
    p = Presence()
    p.add_likes("a", 4, T)
    p.opened("b", T)
    p.closed("b", T)
    likes, left = p.due(T + GRACE_MS)
    p.add_likes("a", 1, T + GRACE_MS)
    p.restore(likes, left)
    assert p.due(T + GRACE_MS) == ({"a": 5}, {"b": T})
