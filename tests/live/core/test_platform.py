"""Platform events (``platform.interactions``), pure: the mapping of platform
viewers, dedup by the platform's event id, each type with its own time, the
like goal, and a bad event refusing the whole batch with nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from live.core.auth import platform_viewer_id, pseudonym
from live.core.commands import VISIBILITY, Event
from live.core.errors import Conflict, Invalid, TooLarge
from live.core.platform import MAX_EVENTS, SKEW_MS
from tests.live.core.audience_sim import SECRET, T0, Sim, replay, types

SHOW = "show1"


def mapping(events: list[dict[str, Any]]) -> dict[str, list[str]]:
    """What the shell injects: platform viewer id → [viewer id, pseudonym]."""
    out = {}
    for e in events:
        vid = platform_viewer_id(SECRET, SHOW, e["viewer_id"])
        out[e["viewer_id"]] = [vid, pseudonym(SECRET, vid)]
    return out


def batch(sim: Sim, *events: dict[str, Any]) -> list[Event]:
    evs = list(events)
    return sim.do({"type": "platform.interactions", "events": evs}, platform_viewers=mapping(evs),
                  seed=sim.seed())


def refused(sim: Sim, error: type[Any], *events: Any) -> Any:
    evs = list(events)
    return sim.refused({"type": "platform.interactions", "events": evs}, error,
                       platform_viewers=mapping([e for e in evs if isinstance(e, dict) and "viewer_id" in e]),
                       seed="00" * 32)


def ev(eid: str, kind: str, who: str = "dy-1", at: int = T0 + 1_000, **extra: Any) -> dict[str, Any]:
    return {"id": eid, "type": kind, "viewer_id": who, "at": at, **extra}


def vid(platform_id: str) -> str:
    return platform_viewer_id(SECRET, SHOW, platform_id)


def test_a_platform_viewer_is_one_viewer_of_the_show_with_a_pseudonym() -> None:
    a = vid("dy-1")
    assert a.startswith("p") and len(a) == 17 and a == vid("dy-1") != vid("dy-2")
    assert platform_viewer_id(SECRET, "other", "dy-1") != a  # not linkable across shows
    sim = Sim()
    events = batch(sim, ev("e1", "join", nickname="小王"), ev("e2", "join", "dy-2"))
    assert types(events) == ["viewer.registered", "viewer.joined", "viewer.registered", "viewer.joined",
                             "platform.received"]
    reg = events[0]
    assert reg | {"at": 0, "seq": 0} == {"type": "viewer.registered", "viewer_id": a, "nickname": "小王",
                                         "pseudonym": pseudonym(SECRET, a), "staff": False, "platform": True,
                                         "at": 0, "seq": 0}
    assert events[2]["nickname"] == "观众"
    assert events[1]["joined_at"] == T0 + 1_000
    assert sim.state.ledger.viewers[a].platform and sim.state.ledger.present == 2
    assert events[-1] | {"at": 0, "seq": 0} == {"type": "platform.received", "ids": ["e1", "e2"],
                                                "duplicates": 0, "dropped": 0, "at": 0, "seq": 0}
    assert VISIBILITY["platform.received"] == "internal"


def test_an_event_id_counts_once_in_a_batch_across_batches_and_after_a_restart() -> None:
    sim = Sim()
    batch(sim, ev("e1", "like", count=5), ev("e1", "like", count=5))
    assert sim.state.ledger.likes_total == 5
    assert sim.journal[-1]["duplicates"] == 1
    assert batch(sim, ev("e1", "like", count=5)) == []  # all duplicates: nothing written
    sim.state = replay(sim.journal)
    assert batch(sim, ev("e1", "like", count=5), ev("e2", "like", count=2))[-1]["ids"] == ["e2"]
    assert sim.state.ledger.likes_total == 7
    assert set(sim.state.ledger.platform_events) == {"e1", "e2"}


def test_join_when_present_is_nothing_but_its_id_is_taken() -> None:
    sim = Sim()
    batch(sim, ev("e1", "join"))
    events = batch(sim, ev("e2", "join", at=T0 + 5_000))
    assert types(events) == ["platform.received"]
    assert sim.state.ledger.viewers[vid("dy-1")].connected_since == T0 + 1_000


def test_leave_is_clamped_to_the_visit_and_counts_what_was_watched() -> None:
    sim = Sim()
    sim.wait(60_000)
    events = batch(sim, ev("e2", "leave", at=T0 + 31_000), ev("e1", "join", at=T0 + 1_000),
                   ev("e3", "leave", "dy-9", at=T0 + 2_000))  # out of order; dy-9 was never seen
    assert types(events) == ["viewer.registered", "viewer.joined", "viewer.left", "platform.received"]
    left = events[2]
    assert (left["left_at"], left["watched_ms"]) == (T0 + 31_000, 30_000)
    assert vid("dy-9") not in sim.state.ledger.viewers
    batch(sim, ev("e4", "join", at=T0 + 40_000))
    [left] = batch(sim, ev("e5", "leave", at=T0 + 39_000))[:1]  # before the visit began: clamped to it
    assert (left["left_at"], left["watched_ms"]) == (T0 + 40_000, 0)
    assert sim.state.ledger.viewers[vid("dy-1")].watched_ms == 30_000 and sim.state.ledger.present == 0


def test_likes_are_counted_exactly_one_tick_per_window_of_their_own_time() -> None:
    sim = Sim()
    events = batch(sim, ev("e1", "like", count=3000), ev("e2", "like", "dy-2", at=T0 + 1_100, count=7),
                   ev("e3", "like", at=T0 + 2_000, count=1), ev("e4", "like", "dy-2", at=T0 + 2_000))
    ticks = [e for e in events if e["type"] == "likes.tick"]
    assert [(t["liked_at"], t["added"], t["total"], t["_by"]) for t in ticks] == [
        (T0 + 1_100, 3007, 3007, {vid("dy-1"): 3000, vid("dy-2"): 7}),  # one window: the latest like's time
        (T0 + 2_000, 2, 3009, {vid("dy-1"): 1, vid("dy-2"): 1}),
    ]
    assert sim.state.ledger.likes_total == 3009 and sim.state.ledger.viewers[vid("dy-1")].likes == 3001


def test_a_batch_of_many_likes_makes_a_few_ticks_and_none_spans_a_minute() -> None:
    sim = Sim()
    start = sim.state.started_at
    assert start is not None
    # 1,000 likes a millisecond or two apart from 250 viewers, over two seconds across a minute's end
    first = start + 59_000
    likes = [ev(f"e{i}", "like", f"dy-{i % 250}", at=first + 2 * i, count=1 + i % 3) for i in range(1_000)]
    sim.now = first + 2_000  # the batch arrives after its likes
    events = batch(sim, *likes)
    ticks = [e for e in events if e["type"] == "likes.tick"]
    assert len(ticks) == 8  # 2 s of likes, one tick per 250 ms
    assert sum(t["added"] for t in ticks) == sum(1 + i % 3 for i in range(1_000)) == ticks[-1]["total"]
    minutes = [(t["liked_at"] - start) // 60_000 for t in ticks]
    assert minutes == [0, 0, 0, 0, 1, 1, 1, 1]
    in_first = sum(1 + i % 3 for i in range(1_000) if first + 2 * i - start < 60_000)  # the series' minute 0
    assert sum(t["added"] for t in ticks if (t["liked_at"] - start) < 60_000) == in_first


def test_platform_likes_reach_the_goal_and_open_its_draw() -> None:
    sim = Sim()
    sim.do({"type": "likes.goal", "target": 10, "then": {"prize": "Cup", "entry_seconds": 30}})
    events = batch(sim, ev("e1", "like", count=4), ev("e2", "like", at=T0 + 2_000, count=6),
                   ev("e3", "like", at=T0 + 3_000, count=6))
    assert types(events) == ["viewer.registered", "likes.tick", "likes.tick", "likes.goal_reached", "draw.opened",
                             "likes.tick", "platform.received"]
    opened = events[4]
    assert opened["draw"]["id"] == f"d{opened['seq']}" and opened["draw"]["trigger"] == "like_goal"
    assert sim.state.ledger.like_goal_reached and len(sim.state.ledger.draws) == 1


def test_comments_are_checked_as_a_viewers_and_paced_on_the_platforms_clock() -> None:
    sim = Sim(banned=("scam",))
    events = batch(sim, ev("e1", "comment", text="好看", nickname="Ann"),
                   ev("e2", "comment", text="again", at=T0 + 1_500),  # within 1 s: dropped
                   ev("e3", "comment", text="a scam", at=T0 + 2_000))
    comments = [e for e in events if e["type"] == "comment.new"]
    assert [(c["text"], c["hidden"], c["commented_at"], c["nickname"]) for c in comments] == [
        ("好看", False, T0 + 1_000, "Ann"), ("a scam", True, T0 + 2_000, "Ann")]
    assert comments[0]["comment_id"] == f"c{comments[0]['seq']}"
    assert events[-1]["dropped"] == 1 and events[-1]["ids"] == ["e1", "e2", "e3"]
    assert sim.state.ledger.viewers[vid("dy-1")].platform_comment_at == T0 + 2_000
    sim.do({"type": "viewer.mute", "viewer_id": vid("dy-1"), "seconds": 60})
    assert types(batch(sim, ev("e4", "comment", text="hi", at=T0 + 10_000))) == ["platform.received"]


def test_a_share_is_journaled_with_its_own_time() -> None:
    sim = Sim()
    events = batch(sim, ev("e1", "share", at=T0 + 4_000))
    assert (events[1]["type"], events[1]["shared_at"]) == ("viewer.shared", T0 + 4_000)
    assert sim.state.ledger.viewers[vid("dy-1")].shares == 1


@pytest.mark.parametrize(("bad", "field"), [
    (ev("x", "wave"), "events[1].type"),
    (ev("", "join"), "events[1].id"),
    (ev(" x", "join"), "events[1].id"),
    (ev("x", "join", who=7), "events[1].viewer_id"),
    (ev("x", "join", at="2024-05-01"), "events[1].at"),
    (ev("x", "join", at=T0 - 1), "events[1].at"),
    (ev("x", "join", at=T0 + SKEW_MS + 1), "events[1].at"),
    (ev("x", "like", count=0), "events[1].count"),
    (ev("x", "like", count=10_001), "events[1].count"),
    (ev("x", "join", count=1), "events[1].count"),
    (ev("x", "comment"), "events[1].text"),
    (ev("x", "comment", text="x" * 201), "events[1].text"),
    (ev("x", "comment", text="hi\u200b"), "events[1].text"),
    (ev("x", "join", nickname="a\nb"), "events[1].nickname"),
    (ev("x", "join", colour="red"), "events[1].colour"),
    ("join", "events[1]"),
])
def test_one_bad_event_refuses_the_batch_and_writes_nothing(bad: Any, field: str) -> None:
    sim = Sim()
    assert refused(sim, Invalid, ev("ok", "join"), bad).field == field


def test_a_batch_over_the_limit_is_too_large_and_not_a_list_is_invalid() -> None:
    sim = Sim()
    big = [ev(f"e{i}", "like") for i in range(MAX_EVENTS + 1)]
    assert refused(sim, TooLarge, *big).field == "events"
    assert sim.refused({"type": "platform.interactions", "events": {}}, Invalid,
                       platform_viewers={}).field == "events"
    assert len(batch(sim, *big[:MAX_EVENTS])) == 3  # registered, one likes.tick, received


@pytest.mark.parametrize("status", ["draft", "ended"])
def test_a_show_that_is_not_live_refuses_platform_events(status: str) -> None:
    sim = Sim(start=status != "draft")
    if status == "ended":
        sim.do({"type": "show.end"})
    refused(sim, Conflict, ev("e1", "join"))


def test_the_journal_folds_back_to_the_same_state() -> None:
    sim = Sim()
    batch(sim, ev("e1", "join"), ev("e2", "like", count=3), ev("e3", "comment", text="hi"),
          ev("e4", "share"), ev("e5", "leave", at=T0 + 9_000))
    sim.wait(10_000)
    assert replay(sim.journal) == sim.state
