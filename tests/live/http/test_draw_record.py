"""A lucky draw end to end over HTTP and real sockets: viewers enter, staff close
the draw, anyone fetches the record, and ``scripts/verify_draw.py`` (run as a
separate process, as an outsider would) reproduces the winners from it alone,
and rejects a record that was tampered with."""

from __future__ import annotations

import json
import subprocess
import sys
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from live.core.auth import pseudonym
from tests.conftest import LiveServer
from tests.live.http.sockets import command, hello, recv_until, ws_connect
from tests.live.http.test_viewers import (
    http,  # the fixture, re-exported
    live_show,
    register,
)
from tests.waiting import CEILING

__all__ = ["http"]  # fixtures used by name

ROOT = Path(__file__).resolve().parents[3]
SECRET = b"test-secret"  # make_settings' LIVE_SECRET: pseudonyms are HMACs under it


def verify(record: dict[str, Any], path: Path) -> subprocess.CompletedProcess[str]:
    path.write_text(json.dumps(record), encoding="utf-8")
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "verify_draw.py"), str(path)],
                          capture_output=True, text=True, timeout=CEILING, check=False)


async def draw_record(http: httpx.AsyncClient, sid: str, draw_id: str) -> dict[str, Any]:
    r = await http.get(f"/api/shows/{sid}/draws/{draw_id}", headers={"Authorization": ""})  # anyone may read it
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_a_draw_among_present_viewers_is_verifiable_from_its_record(
    live_server: LiveServer, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    show = await live_show(http)
    sid = show["id"]
    present = [await register(http, sid, f"观众{i}") for i in range(6)]
    absent = await register(http, sid, "不在")
    r = await http.post(f"/api/shows/{sid}/viewers", json={"nickname": "助理"})  # admin bearer: a staff viewer
    staff_viewer = r.json()
    async with AsyncExitStack() as stack:
        overlay = await stack.enter_async_context(ws_connect(live_server, sid))
        await hello(overlay, overlay_key=show["overlay_key"])
        for v in [*present, staff_viewer]:
            await hello(await stack.enter_async_context(ws_connect(live_server, sid)), token=v["token"])
        opened = await command(http, sid, {"type": "draw.open", "prize": "口红", "winners": 2,
                                           "eligibility": {"present": True}})
        draw = opened["events"][0]["draw"]
        seen = await recv_until(overlay, lambda m: m["type"] == "draw.opened")
        assert seen["draw"]["commitment"] == draw["commitment"] and "_seed" not in seen and "seed" not in seen["draw"]

        before = await draw_record(http, sid, draw["id"])
        assert before["status"] == "open" and before["commitment"] == draw["commitment"]
        assert before["seed"] is None and before["entrants"] is None and before["winners"] == []
        assert verify(before, tmp_path / "open.json").returncode == 1  # nothing to verify yet

        await command(http, sid, {"type": "draw.close", "draw_id": draw["id"]})
        closed = await recv_until(overlay, lambda m: m["type"] == "draw.closed")

    record = await draw_record(http, sid, draw["id"])
    expected = sorted(pseudonym(SECRET, v["viewer_id"]) for v in present)
    assert record["status"] == "closed" and record["entrants"] == expected  # not the absent one, not staff
    assert pseudonym(SECRET, absent["viewer_id"]) not in record["entrants"]
    assert len(record["winners"]) == 2 and set(record["winners"]) <= set(expected)
    assert closed["seed"] == record["seed"] and closed["entrants_hash"] == record["entrants_hash"]
    assert [w["pseudonym"] for w in closed["winners"]] == record["winners"]
    assert all(w["nickname"].startswith("观") and w["nickname"].endswith("*") for w in closed["winners"])

    ok = verify(record, tmp_path / "record.json")
    assert ok.returncode == 0 and ok.stdout.startswith("OK"), ok.stdout + ok.stderr

    loser = next(p for p in expected if p not in record["winners"])
    tampered = {**record, "winners": [loser, record["winners"][1]],
                "rounds": [{"count": 2, "winners": [loser, record["winners"][1]]}]}
    bad = verify(tampered, tmp_path / "tampered.json")
    assert bad.returncode == 1 and "FAIL" in bad.stdout
    dropped = {**record, "entrants": record["entrants"][1:]}
    assert verify(dropped, tmp_path / "dropped.json").returncode == 1


async def test_a_keyword_draw_counts_only_those_who_commented_the_keyword(
    live_server: LiveServer, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    show = await live_show(http)
    sid = show["id"]
    viewers = [await register(http, sid, f"v{i}") for i in range(5)]
    async with AsyncExitStack() as stack:
        conns = []
        for v in viewers:
            ws = await stack.enter_async_context(ws_connect(live_server, sid))
            await hello(ws, token=v["token"])
            conns.append(ws)
        opened = await command(http, sid, {"type": "draw.open", "prize": "福袋", "winners": 1,
                                           "eligibility": {"keyword": "想要"}})
        draw_id = opened["events"][0]["draw"]["id"]
        for i, ws in enumerate(conns):
            text = "我也想要!" if i < 3 else "路过"
            await ws.send(json.dumps({"type": "comment", "text": text, "request_id": i}))
            assert (await recv_until(ws, lambda m: m["type"] in ("command.result", "error")))["type"] == "command.result"
    await command(http, sid, {"type": "draw.close", "draw_id": draw_id})
    record = await draw_record(http, sid, draw_id)
    assert record["entrants"] == sorted(pseudonym(SECRET, v["viewer_id"]) for v in viewers[:3])
    assert len(record["winners"]) == 1
    result = verify(record, tmp_path / "keyword.json")
    assert result.returncode == 0 and "OK" in result.stdout


async def test_closing_twice_keeps_one_result_and_a_reroll_stays_verifiable(
    live_server: LiveServer, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    show = await live_show(http)
    sid = show["id"]
    viewers = [await register(http, sid, f"r{i}") for i in range(4)]
    async with AsyncExitStack() as stack:
        for v in viewers:
            await hello(await stack.enter_async_context(ws_connect(live_server, sid)), token=v["token"])
        opened = await command(http, sid, {"type": "draw.open", "prize": "p", "winners": 1})
        draw_id = opened["events"][0]["draw"]["id"]
        await command(http, sid, {"type": "draw.close", "draw_id": draw_id})
        first = await draw_record(http, sid, draw_id)
        r = await http.post(f"/api/shows/{sid}/commands", json={"type": "draw.close", "draw_id": draw_id})
        assert r.status_code == 409 and r.json()["error"]["code"] == "ALREADY_DRAWN"
        assert await draw_record(http, sid, draw_id) == first
        await command(http, sid, {"type": "draw.reroll", "draw_id": draw_id, "winners": 1})
    record = await draw_record(http, sid, draw_id)
    assert record["winners"][0] == first["winners"][0] and len(set(record["winners"])) == 2
    result = verify(record, tmp_path / "reroll.json")
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("path", ["/api/shows/{sid}/draws/d999", "/api/shows/nope/draws/d1"],
                         ids=["unknown-draw", "unknown-show"])
async def test_an_unknown_draw_is_404(http: httpx.AsyncClient, path: str) -> None:
    show = await live_show(http)
    r = await http.get(path.format(sid=show["id"]))
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"
