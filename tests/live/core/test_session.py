"""The socket protocol, sans-I/O: a Session driven with no server, no socket
and no clock (the time is a parameter), as python-websockets tests its Protocol."""

from __future__ import annotations

import json
from typing import Any

import pytest

from live.core import protocol as p
from live.core import session as s
from live.core.auth import Principal
from live.core.errors import Invalid, LiveError
from tests.live.core.audience_sim import T0, Sim

STAFF = Principal("assistant", "show1", "Ann", "st1")
VIEWER = Principal("viewer", "show1", "viewer", "v00001")


def frame(action: s.Action | None) -> dict[str, Any]:
    assert isinstance(action, s.Reply), action
    out: dict[str, Any] = json.loads(action.text)
    return out


def opened(who: Principal | None = None, audience: str = p.PUBLIC) -> s.Session:
    session = s.Session(T0)
    session.identified(audience, who)
    return session


@pytest.mark.parametrize("text", ['{"type": "ping"}', "[1]", "{", '{"type": "hello", "last_seq": -1}',
                                  '{"type": "hello", "token": 5}', '{"type": "hello", "type": "hello"}'])
def test_a_bad_hello_is_refused(text: str) -> None:
    with pytest.raises(Invalid) as caught:
        s.Session.hello(text)
    assert s.close_code(caught.value) == s.CLOSE_POLICY


def test_a_hello_names_its_credentials_and_the_last_seq() -> None:
    assert s.Session.hello('{"type": "hello", "overlay_key": "ov_x", "last_seq": 7}') == {
        "token": None, "overlay_key": "ov_x", "last_seq": 7}


def test_how_far_back_a_reconnect_may_replay_depends_on_who_asks() -> None:
    assert opened().catch_up(None) is None  # a first connect: a snapshot
    assert opened().catch_up(3) == s.PUBLIC_REPLAY  # anonymous watcher or overlay
    assert opened(VIEWER).catch_up(3) == s.REPLAY
    assert opened(STAFF, p.STAFF).catch_up(3) == s.REPLAY
    assert s.PUBLIC_REPLAY < s.REPLAY


def test_a_ping_gets_a_pong_with_the_server_time() -> None:
    msg = frame(opened().receive('{"type": "ping", "t": 12.5}', T0, T0 + 99))
    assert msg == {"type": "pong", "t": 12.5, "server_time": T0 + 99}
    assert frame(opened().receive('{"type": "ping", "t": "x"}', T0, T0))["code"] == "INVALID"


def test_a_flood_is_refused_then_closed_and_time_refills_the_bucket() -> None:
    session = s.Session(T0, rate=2, burst=3, strikes=4)
    session.identified(p.PUBLIC, None)
    ping = '{"type": "ping"}'
    assert [frame(session.receive(ping, T0, T0))["type"] for _ in range(3)] == ["pong"] * 3
    assert frame(session.receive(ping, T0, T0))["code"] == "RATE_LIMITED"
    assert frame(session.receive(ping, T0 + 500, T0))["type"] == "pong"  # half a second: one more token
    assert [frame(session.receive(ping, T0 + 500, T0))["code"] for _ in range(2)] == ["RATE_LIMITED"] * 2
    assert session.receive(ping, T0 + 500, T0) == s.Close(s.CLOSE_POLICY, "too many messages")


def test_an_anonymous_watcher_may_not_act_as_a_viewer_or_staff() -> None:
    session = opened()
    for text in ('{"type": "like", "count": 1}', '{"type": "comment", "text": "hi"}',
                 '{"type": "claim", "sale_id": "fs1", "request_id": "r"}',
                 '{"type": "command", "command": {"type": "show.start"}, "request_id": "q"}'):
        msg = frame(session.receive(text, T0, T0))
        assert msg["code"] == "FORBIDDEN"
    assert msg["request_id"] == "q"


def test_a_viewers_messages_become_calls_for_the_engine() -> None:
    session = opened(VIEWER)
    assert session.receive('{"type": "like", "count": 3}', T0, T0) == s.Call("like", {"count": 3})
    assert session.receive('{"type": "claim", "sale_id": "fs1", "qty": 2, "request_id": 9}', T0, T0) == s.Call(
        "claim", {"sale_id": "fs1", "qty": 2, "request_id": "9"}, 9)
    assert frame(session.receive('{"type": "claim", "sale_id": "fs1"}', T0, T0))["field"] == "request_id"
    assert frame(session.receive('{"type": "like", "count": 500}', T0, T0))["field"] == "count"
    assert frame(session.receive('{"type": "command", "command": {"type": "show.start"}}', T0, T0))[
        "code"] == "FORBIDDEN"


def test_staff_commands_become_calls_and_setup_commands_have_their_own_endpoints() -> None:
    session = opened(STAFF, p.STAFF)
    call = session.receive('{"type": "command", "command": {"type": "segment.next"}, "request_id": "a"}', T0, T0)
    assert call == s.Call("command", {"type": "segment.next"}, "a")
    refused = frame(session.receive('{"type": "command", "command": {"type": "rundown.replace"}}', T0, T0))
    assert refused["field"] == "command.type"
    assert frame(session.receive('{"type": "dance"}', T0, T0))["field"] == "type"
    assert frame(session.receive('{"type": "ping", "request_id": {"x": 1}}', T0, T0))["request_id"] is None


def test_the_snapshot_covers_its_seq_and_later_events_go_out_once_for_the_audience() -> None:
    sim = Sim()
    vid = sim.viewer("Ann", join=True)
    session = opened()
    snap = json.loads(session.snapshot(sim.state, sim.now, "ep1"))
    assert snap["type"] == "snapshot" and snap["seq"] == sim.state.seq and "me" not in snap
    covered = p.Outgoing(sim.journal[-1])
    assert session.outgoing(covered) is None
    pinned = sim.do({"type": "product.pin", "sku": "A1"})
    sim.wait(1000)
    comment = sim.comment(vid, "hello")
    joined = sim.do({"type": "viewer.join"}, viewer=sim.viewer("Bob"))
    texts = [session.outgoing(p.Outgoing(e)) for e in [*pinned, *comment, *joined]]
    assert json.loads(texts[0] or "")["type"] == "product.pinned"
    shown = json.loads(texts[1] or "")
    assert shown["text"] == "hello" and "viewer_id" not in shown  # staff-only fields stripped
    assert texts[2:] == [None]  # a join is internal
    assert session.outgoing(p.Outgoing(pinned[0])) is None  # never twice


def test_a_replayed_catch_up_ends_with_recovered() -> None:
    sim = Sim()
    sim.do({"type": "product.pin", "sku": "A1"})
    session = opened(STAFF, p.STAFF)
    frames = [json.loads(f) for f in session.replayed(1, sim.journal[1:], "ep1", T0)]
    assert [f["seq"] for f in frames[:-1]] == [e["seq"] for e in sim.journal[1:]]
    assert frames[-1] == {"type": "recovered", "seq": sim.state.seq, "epoch": "ep1", "server_time": T0,
                          "recovered": True, "missed": len(sim.journal) - 1}
    assert session.sent == sim.state.seq


def test_a_viewers_snapshot_says_who_they_are() -> None:
    sim = Sim()
    vid = sim.viewer("Ann")
    session = opened(Principal("viewer", "show1", "viewer", vid))
    me = json.loads(session.snapshot(sim.state, sim.now, "ep"))["me"]
    assert me == {"role": "viewer", "viewer_id": vid, "nickname": "Ann",
                  "pseudonym": sim.state.ledger.viewers[vid].pseudonym, "claims": []}


def test_the_engines_answers_become_frames() -> None:
    command = s.Call("command", {"type": "draw.open"}, "r1")
    events = [{"type": "draw.opened", "seq": 8, "at": T0, "draw": {}, "_seed": "secret"}]
    answer = json.loads(s.Session.command_result(command, events, 8) or "")
    assert answer == {"type": "command.result", "request_id": "r1", "ok": True, "seq": 8,
                      "events": [{"type": "draw.opened", "seq": 8, "at": T0, "draw": {}}]}
    assert s.Session.command_result(s.Call("share", {}), [], 8) is None
    like = s.Call("like", {"count": 5}, "l")
    assert s.Session.likes_result(like, 5) is None
    assert json.loads(s.Session.likes_result(like, 2) or "")["code"] == "RATE_LIMITED"
    err: LiveError = Invalid("nope", "qty")
    assert json.loads(s.error(err, "x")) == {"type": "error", "code": "INVALID", "message": "nope",
                                             "request_id": "x", "field": "qty"}


def test_a_notice_goes_out_to_its_audience_whatever_was_sent_before() -> None:
    staff, public = opened(STAFF, p.STAFF), opened()
    for session in (staff, public):
        session.sent = 50
    notice = p.Notice({"type": "stats.tick", "viewers": 1}, p.STAFF)
    assert json.loads(staff.outgoing(notice) or "null") == {"type": "stats.tick", "viewers": 1}
    assert staff.outgoing(notice) is not None  # no seq: never "already covered"
    assert staff.sent == 50
    assert public.outgoing(notice) is None


def test_a_banned_word_comment_reaches_its_author_only_as_a_shown_comment() -> None:
    sim = Sim(banned=("加微信",))
    author, other = sim.viewer("Ann", join=True), sim.viewer("Bob", join=True)
    sessions = {who: opened(Principal("viewer", "show1", "viewer", vid)) for who, vid in
                (("author", author), ("other", other))}
    sessions["overlay"] = opened()
    sessions["staff"] = opened(STAFF, p.STAFF)
    for session in sessions.values():
        session.snapshot(sim.state, sim.now, "ep")
    hidden = sim.comment(author, "加微信 abc")
    assert hidden[0]["hidden"] is True
    sim.wait(1000)
    shown = sim.comment(author, "hello")
    sent = {who: [session.outgoing(p.Outgoing(e)) for e in [*hidden, *shown]] for who, session in sessions.items()}
    # the author sees both, as ordinary comments: not told which one was hidden, nor why
    mine = [json.loads(t or "null") for t in sent["author"]]
    assert [m["text"] for m in mine] == ["加微信 abc", "hello"]
    assert all(set(m) == {"type", "seq", "at", "comment_id", "nickname", "text"} for m in mine)
    # no one else sees it; staff see it flagged
    assert sent["other"][0] is None and sent["overlay"][0] is None
    assert json.loads(sent["other"][1] or "null")["text"] == "hello"
    assert json.loads(sent["staff"][0] or "null")["flagged"] == "加微信"
    # a later snapshot, and a replayed catch-up, keep it the author's alone
    snaps = {who: json.loads(session.snapshot(sim.state, sim.now, "ep"))["state"]["comments"]
             for who, session in sessions.items()}
    assert [c["text"] for c in snaps["author"]] == ["加微信 abc", "hello"]
    assert [c["text"] for c in snaps["other"]] == ["hello"] == [c["text"] for c in snaps["overlay"]]
    seq = hidden[0]["seq"] - 1
    for who, texts in (("author", ["加微信 abc", "hello"]), ("other", ["hello"])):
        replay = [json.loads(f) for f in opened(Principal("viewer", "show1", "viewer", author if who == "author"
                                                          else other)).replayed(seq, [*hidden, *shown], "ep", T0)]
        assert [f["text"] for f in replay if f["type"] == "comment.new"] == texts
