"""The socket protocol's pure shapes: audiences, encoding once, hello and messages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from live.core import protocol as p
from live.core.commands import VISIBILITY, apply, create
from live.core.errors import Invalid
from live.core.show import ShowState
from tests.conftest import PRODUCTS, SEGMENTS

NOW = 1_700_000_000_000


def show() -> ShowState:
    state, _ = create("s1", {"title": "T", "currency": "CNY"}, PRODUCTS, SEGMENTS, NOW)
    return state


def test_staff_sees_every_event_unchanged() -> None:
    event = {"type": "show.created", "seq": 1, "at": NOW, "secret": "x"}
    assert p.for_audience(event, p.STAFF) is event


@pytest.mark.parametrize("kind", ["show.created", "some.future.event", "viewer.muted"])
def test_public_does_not_see_staff_events(kind: str) -> None:
    assert VISIBILITY.get(kind, "staff") == "staff"
    assert p.for_audience({"type": kind, "seq": 1, "at": NOW}, p.PUBLIC) is None


@pytest.mark.parametrize("kind", sorted(k for k, vis in VISIBILITY.items() if vis == "internal"))
@pytest.mark.parametrize("audience", [p.STAFF, p.PUBLIC])
def test_internal_events_reach_no_socket(kind: str, audience: str) -> None:
    assert p.for_audience({"type": kind, "seq": 1, "at": NOW, "viewer_id": "v1"}, audience) is None


def test_underscore_fields_never_leave_the_server() -> None:
    event = {"type": "draw.opened", "seq": 3, "at": NOW, "draw": {"id": "d3"}, "_seed": "ab" * 32}
    for audience in (p.STAFF, p.PUBLIC):
        view = p.for_audience(event, audience)
        assert view is not None and "_seed" not in view and view["draw"] == {"id": "d3"}


def test_hidden_comments_reach_staff_only_and_viewer_ids_stay_with_staff() -> None:
    hidden = {"type": "comment.new", "seq": 5, "at": NOW, "comment_id": "c5", "viewer_id": "v1",
              "pseudonym": "abc", "nickname": "Ann", "text": "加微信", "hidden": True, "flagged": "加微信"}
    assert p.for_audience(hidden, p.PUBLIC) is None
    assert p.for_audience(hidden, p.STAFF) == hidden
    shown = {**hidden, "hidden": False, "flagged": None, "text": "hello"}
    assert p.for_audience(shown, p.PUBLIC) == {"type": "comment.new", "seq": 5, "at": NOW, "comment_id": "c5",
                                                "nickname": "Ann", "text": "hello"}


@pytest.mark.parametrize("kind", sorted(k for k, vis in VISIBILITY.items() if vis == "public"))
def test_public_sees_public_events(kind: str) -> None:
    event = {"type": kind, "seq": 4, "at": NOW, "segments": [], "from_index": 0}
    assert p.for_audience(event, p.PUBLIC) == event


def test_rundown_replaced_loses_talking_points_for_the_public() -> None:
    _, events = apply(show(), {"type": "rundown.replace", "segments": SEGMENTS}, NOW)
    (event,) = events
    assert event["segments"][0]["talking_points"] == ["hello"]
    public = p.for_audience(event, p.PUBLIC)
    assert public is not None
    assert all("talking_points" not in s and "actions" not in s for s in public["segments"])
    assert [s["title"] for s in public["segments"]] == [s["title"] for s in SEGMENTS]
    # The staff copy (and the journaled event) keeps them.
    assert event["segments"][0]["talking_points"] == ["hello"]
    assert p.for_audience(event, p.STAFF)["segments"][0]["talking_points"] == ["hello"]  # type: ignore[index]


def test_public_state_view_has_no_staff_fields() -> None:
    state = show()
    staff = p.state_view(state, NOW, p.STAFF, [{"field": "x"}])
    public = p.state_view(state, NOW, p.PUBLIC)
    assert staff["compliance"] == [{"field": "x"}] and "compliance" not in public
    assert staff["rundown"]["segments"][0]["talking_points"] == ["hello"]
    assert "talking_points" not in json.dumps(public)


def test_snapshot_shape() -> None:
    snap = p.snapshot(show(), NOW, p.PUBLIC, "ep")
    assert {k: snap[k] for k in ("type", "seq", "epoch", "server_time")} == {
        "type": "snapshot", "seq": 1, "epoch": "ep", "server_time": NOW
    }
    for key in ("show", "rundown", "pinned_sku", "flash_sales", "draws", "likes", "viewers"):
        assert key in snap["state"]


def test_outgoing_encodes_once_per_audience(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = p.dumpb

    def counting(message: dict[str, Any]) -> bytes:
        calls.append(message["type"])
        return real(message)

    monkeypatch.setattr(p, "dumpb", counting)
    out = p.Outgoing({"type": "segment.changed", "seq": 7, "at": NOW, "from": 0, "to": 1})
    texts = [out.encoded(p.PUBLIC) for _ in range(1000)] + [out.encoded(p.STAFF) for _ in range(1000)]
    assert calls == ["segment.changed", "segment.changed"]
    assert out.seq == 7
    assert json.loads(texts[0]) == {"type": "segment.changed", "seq": 7, "at": NOW, "from": 0, "to": 1}
    assert texts[0] is texts[999]


def test_outgoing_of_a_staff_event_is_none_for_the_public_and_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    real = p.for_audience
    monkeypatch.setattr(p, "for_audience", lambda e, a: calls.append(a) or real(e, a))
    out = p.Outgoing({"type": "show.created", "seq": 1, "at": NOW})
    assert out.encoded(p.PUBLIC) is None and out.encoded(p.PUBLIC) is None
    assert calls == [p.PUBLIC]


def test_parse_message_accepts_an_object_with_a_type() -> None:
    assert p.parse_message('{"type":"ping","t":5}') == {"type": "ping", "t": 5}
    assert p.parse_message(b'{"type":"ping"}') == {"type": "ping"}


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("{nope", "message"),
        ("", "message"),
        (b"\xff\xfe", "message"),
        ("[1,2]", "message"),
        ("42", "message"),
        ('{"t": 1}', "type"),
        ('{"type": 5}', "type"),
        ('{"type": "ping", "pad": "' + "x" * (64 * 1024) + '"}', "message"),
    ],
    ids=["malformed", "empty", "not-utf8", "array", "number", "no-type", "type-not-string", "too-large"],
)
def test_parse_message_errors(raw: str | bytes, field: str) -> None:
    with pytest.raises(Invalid) as info:
        p.parse_message(raw)
    assert info.value.field == field and info.value.status == 422


def test_parse_hello_returns_credentials_and_last_seq() -> None:
    assert p.parse_hello({"type": "hello", "token": "st_x", "last_seq": 4}) == {
        "token": "st_x", "overlay_key": None, "last_seq": 4
    }
    assert p.parse_hello({"type": "hello", "overlay_key": "ov_k"}) == {
        "token": None, "overlay_key": "ov_k", "last_seq": None
    }


@pytest.mark.parametrize(
    ("hello", "field"),
    [
        ({"type": "ping"}, "type"),
        ({"type": "hello", "password": "x"}, "password"),
        ({"type": "hello", "token": 5}, "token"),
        ({"type": "hello", "token": "t" * 201}, "token"),
        ({"type": "hello", "overlay_key": ["k"]}, "overlay_key"),
        ({"type": "hello", "last_seq": -1}, "last_seq"),
        ({"type": "hello", "last_seq": "3"}, "last_seq"),
        ({"type": "hello", "last_seq": True}, "last_seq"),
        ({"type": "hello", "last_seq": 2**60}, "last_seq"),
    ],
    ids=["not-hello", "unknown-field", "token-not-string", "token-too-long", "key-not-string",
         "negative-seq", "seq-string", "seq-bool", "seq-huge"],
)
def test_parse_hello_errors(hello: dict[str, Any], field: str) -> None:
    with pytest.raises(Invalid) as info:
        p.parse_hello(hello)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("[" * 30_000, "message"),  # json's recursion: an error, not a closed socket
        ('{"type": "comment", "text": "\\ud800"}', "text"),  # valid JSON, not Unicode
        ('{"type": "like", "count": NaN}', "message"),
    ],
    ids=["deep", "lone-surrogate", "nan"],
)
def test_malformed_socket_messages_are_invalid_not_crashes(raw: str, field: str) -> None:
    with pytest.raises(Invalid) as err:
        p.parse_message(raw)
    assert err.value.field == field


@pytest.mark.parametrize("raw", ['{"type":"command","command":{"type":"show.start","type":"show.end"}}',
                                 '{"type":"like","type":"comment","text":"x"}'])
def test_a_socket_message_giving_a_key_twice_is_invalid(raw: str) -> None:
    with pytest.raises(Invalid) as exc:
        p.parse_message(raw)
    assert exc.value.field == "message"


# -- frames built once per audience --------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 200_000])
def test_text_frame_is_what_a_websocket_client_parses(size: int) -> None:
    from websockets.frames import Frame, Opcode
    from websockets.streams import StreamReader

    payload = ("é" * size).encode()[:size]
    reader = StreamReader()
    reader.feed_data(p.text_frame(payload))
    parser = Frame.parse(reader.read_exact, mask=False)
    with pytest.raises(StopIteration) as done:
        next(parser)
    frame = done.value.value
    assert (frame.opcode, frame.fin, bytes(frame.data)) == (Opcode.TEXT, True, payload)
    assert not reader.buffer and len(p.text_frame(payload)) == size + (2 if size < 126 else 4 if size < 65536 else 10)


def test_an_outgoing_is_encoded_and_framed_once_per_audience() -> None:
    event = {"type": "product.pinned", "seq": 3, "at": 1, "sku": "A1", "_who": "secret"}
    item = p.Outgoing(event)
    public = item.frame(p.PUBLIC)
    assert public is item.frame(p.PUBLIC)  # the same bytes for every socket of the audience
    assert public == p.text_frame(p.dumps({"type": "product.pinned", "seq": 3, "at": 1, "sku": "A1"}).encode())
    assert item.encoded(p.PUBLIC) == '{"type":"product.pinned","seq":3,"at":1,"sku":"A1"}'
