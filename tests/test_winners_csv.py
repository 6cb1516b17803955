"""Winners for staff over HTTP: ``GET …/state`` names them in full for staff and
masked for an overlay; ``GET …/draws/{id}/winners.csv`` for the roles that run
the show, in either language, with the contract's errors; the public record
and its verification unchanged."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from live.core.auth import ROLES, WINNERS
from tests.conftest import admin_headers, new_show
from tests.test_rbac import admin_command, token_for, viewer_comments

NICKNAMES = ["王小明", "=cmd|' /C calc'!A0", "Alice"]


def drawn_show(client: TestClient, **show: Any) -> tuple[dict[str, Any], str, dict[str, str]]:
    """A live show whose keyword draw among three commenters is drawn (3 winners);
    returns the show, the draw id and nickname → viewer id."""
    created = new_show(client, **show)
    sid = created["id"]
    admin_command(client, sid, {"type": "show.start"})
    r = client.post(f"/api/shows/{sid}/commands", headers=admin_headers(),
                    json={"type": "draw.open", "prize": "口红", "winners": 3, "eligibility": {"keyword": "抽"}})
    draw_id = r.json()["events"][0]["draw"]["id"]
    ids = {name: viewer_comments(client, sid, name, "抽我") for name in NICKNAMES}
    admin_command(client, sid, {"type": "draw.close", "draw_id": draw_id})
    return created, draw_id, ids


def table(r: Any) -> list[list[str]]:
    text = r.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_staff_state_names_the_winners_and_the_overlay_state_masks_them(client: TestClient) -> None:
    show, draw_id, _ = drawn_show(client)
    sid = show["id"]
    [staff] = client.get(f"/api/shows/{sid}/state", headers=admin_headers()).json()["draws"]
    assert sorted(w["full_nickname"] for w in staff["drawn"]) == sorted(NICKNAMES)
    overlay = client.get(f"/api/shows/{sid}/state?key={show['overlay_key']}")
    assert overlay.status_code == 200
    [public] = overlay.json()["draws"]
    assert sorted(w["nickname"] for w in public["drawn"]) == sorted(n[0] + "**" for n in NICKNAMES)
    assert "full_nickname" not in overlay.text and "王小明" not in json.dumps(public, ensure_ascii=False)
    record = client.get(f"/api/shows/{sid}/draws/{draw_id}")
    assert record.status_code == 200 and "王小明" not in record.text and "full_nickname" not in record.text
    assert sorted(record.json()["winners"]) == sorted(w["pseudonym"] for w in public["drawn"])


@pytest.mark.parametrize("lang, header, first_round", [
    ("en", "Nickname", "draw"),
    ("zh-CN", "昵称", "开奖"),
])
def test_the_winners_csv_lists_every_winner_for_delivery(client: TestClient, lang: str, header: str,
                                                         first_round: str) -> None:
    show, draw_id, ids = drawn_show(client, language="en", timezone="Asia/Shanghai")
    r = client.get(f"/api/shows/{show['id']}/draws/{draw_id}/winners.csv?lang={lang}", headers=admin_headers())
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv") and "attachment" in r.headers["content-disposition"]
    rows = table(r)
    assert rows[0][1] == header and len(rows) == 4
    by_name = {row[1]: row for row in rows[1:]}
    assert set(by_name) == {"王小明", "'=cmd|' /C calc'!A0", "Alice"}  # the formula is quoted, not run
    assert [row[0] for row in rows[1:]] == ["1", "2", "3"]
    assert by_name["王小明"][2] == ids["王小明"] and by_name["Alice"][2] == ids["Alice"]
    assert {row[4] for row in rows[1:]} == {"口红"} and {row[6] for row in rows[1:]} == {first_round}
    assert all(row[5].endswith("+08:00") for row in rows[1:])  # the show's timezone


@pytest.mark.parametrize("language, header", [("zh-CN", "名次"), ("en", "Rank")])
def test_the_winners_csv_is_in_the_shows_language_by_default(client: TestClient, language: str,
                                                             header: str) -> None:
    show, draw_id, _ = drawn_show(client, language=language)
    rows = table(client.get(f"/api/shows/{show['id']}/draws/{draw_id}/winners.csv", headers=admin_headers()))
    assert rows[0][0] == header and len(rows) == 4


def test_a_reroll_row_is_marked(client: TestClient) -> None:
    created = new_show(client, language="en")
    sid = created["id"]
    admin_command(client, sid, {"type": "show.start"})
    r = client.post(f"/api/shows/{sid}/commands", headers=admin_headers(),
                    json={"type": "draw.open", "prize": "Bag", "winners": 1, "eligibility": {"keyword": "me"}})
    draw_id = r.json()["events"][0]["draw"]["id"]
    for name in ("Ann", "Bo", "Cy"):
        viewer_comments(client, sid, name, "me!")
    admin_command(client, sid, {"type": "draw.close", "draw_id": draw_id})
    admin_command(client, sid, {"type": "draw.reroll", "draw_id": draw_id, "winners": 2})
    rows = table(client.get(f"/api/shows/{sid}/draws/{draw_id}/winners.csv", headers=admin_headers()))
    assert [(row[0], row[6]) for row in rows[1:]] == [("1", "draw"), ("2", "reroll 1"), ("3", "reroll 1")]
    assert sorted(row[1] for row in rows[1:]) == ["Ann", "Bo", "Cy"]


@pytest.mark.parametrize("role", ROLES)
def test_only_the_roles_that_run_the_show_read_the_winners(client: TestClient, role: str) -> None:
    show, draw_id, _ = drawn_show(client)
    headers = {"Authorization": f"Bearer {token_for(client, show['id'], role)}"}
    r = client.get(f"/api/shows/{show['id']}/draws/{draw_id}/winners.csv", headers=headers)
    if role in WINNERS:
        assert r.status_code == 200, r.text
    else:
        assert r.status_code == 403 and r.json()["error"]["code"] == "FORBIDDEN"
    assert WINNERS == {"admin", "host", "assistant"}


def test_the_winners_csv_errors(client: TestClient) -> None:
    show, draw_id, _ = drawn_show(client)
    sid = show["id"]
    url = f"/api/shows/{sid}/draws/{draw_id}/winners.csv"
    assert client.get(url).status_code == 401
    assert client.get(f"{url}?key={show['overlay_key']}").status_code == 401  # the overlay key grants viewing only
    bad = client.get(f"{url}?lang=fr", headers=admin_headers())
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "lang"
    unknown = client.get(f"/api/shows/{sid}/draws/d999/winners.csv", headers=admin_headers())
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "NOT_FOUND"
    assert client.get("/api/shows/snope/draws/d1/winners.csv", headers=admin_headers()).status_code == 404
    r = client.post(f"/api/shows/{sid}/commands", headers=admin_headers(), json={"type": "draw.open", "prize": "X"})
    open_id = r.json()["events"][0]["draw"]["id"]
    early = client.get(f"/api/shows/{sid}/draws/{open_id}/winners.csv", headers=admin_headers())
    assert early.status_code == 409 and early.json()["error"]["code"] == "WRONG_STATE"
    # another show's host learns nothing about this one
    other = new_show(client)["id"]
    headers = {"Authorization": f"Bearer {token_for(client, other, 'host')}"}
    assert client.get(url, headers=headers).status_code == 403
