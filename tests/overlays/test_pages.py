"""The viewer pages over HTTP: the show's language decides (``?lang=`` overrides),
the overlay's stage, the list of overlay URLs for staff, the draw's check page
and the verify script it links to."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import admin_headers, new_show

ROOT = Path(__file__).resolve().parents[2]


def lang_of(html: str) -> str:
    found = re.search(r'<html lang="([^"]+)"', html)
    assert found, html[:200]
    return found.group(1)


def staff_headers(client: TestClient, sid: str, role: str) -> dict[str, str]:
    r = client.post(f"/api/shows/{sid}/staff", json={"name": f"a {role}", "role": role}, headers=admin_headers())
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.mark.parametrize("show_lang, browser", [("zh-CN", "en-US,en;q=0.9"), ("en", "zh-CN,zh;q=0.9")])
def test_viewer_pages_speak_the_shows_language_and_lang_overrides(
    client: TestClient, show_lang: str, browser: str
) -> None:
    show = new_show(client, language=show_lang)
    other = "en" if show_lang == "zh-CN" else "zh-CN"
    key = show["overlay_key"]
    for path in (f"/shows/{show['id']}/overlay?key={key}", f"/shows/{show['id']}/watch"):
        r = client.get(path, headers={"Accept-Language": browser})
        assert r.status_code == 200 and lang_of(r.text) == show_lang, path
        sep = "&" if "?" in path else "?"
        assert lang_of(client.get(f"{path}{sep}lang={other}", headers={"Accept-Language": browser}).text) == other
    wrong = client.get(f"/shows/{show['id']}/overlay?key=nope", headers={"Accept-Language": browser})
    assert wrong.status_code == 401 and lang_of(wrong.text) == show_lang
    assert ("此贴片链接无效" if show_lang == "zh-CN" else "This overlay link is not valid") in wrong.text
    # no show: nothing to take a language from, so the browser's
    missing = client.get("/shows/nope/watch", headers={"Accept-Language": browser})
    assert missing.status_code == 404 and lang_of(missing.text) == other


@pytest.mark.parametrize("stage, size", [("16x9", (1920, 1080)), ("9x16", (1080, 1920)), ("9:16", (1080, 1920))])
def test_the_overlay_stage_is_chosen_by_the_url(client: TestClient, stage: str, size: tuple[int, int]) -> None:
    show = new_show(client)
    r = client.get(f"/shows/{show['id']}/overlay", params={"key": show["overlay_key"], "stage": stage})
    assert r.status_code == 200
    assert f'data-width="{size[0]}"' in r.text and f'data-height="{size[1]}"' in r.text
    bad = client.get(f"/shows/{show['id']}/overlay", params={"key": show["overlay_key"], "stage": "4x3"})
    assert bad.status_code == 400 and "stage=9x16" in bad.text and 'id="stage"' not in bad.text


def test_staff_list_every_overlay_url_of_their_show(client: TestClient) -> None:
    show, elsewhere = new_show(client), new_show(client)
    sid = show["id"]
    for role in ("host", "assistant", "moderator", "analyst"):
        r = client.get(f"/api/shows/{sid}/overlay-urls", headers=staff_headers(client, sid, role))
        assert r.status_code == 200, (role, r.text)
    overlays: list[dict[str, Any]] = client.get(f"/api/shows/{sid}/overlay-urls", headers=admin_headers()).json()[
        "overlays"]
    assert len(overlays) == 12
    first = overlays[0]
    assert first == {"layers": "all", "stage": "16x9", "width": 1920, "height": 1080,
                     "url": f"http://testserver/shows/{sid}/overlay?key={show['overlay_key']}&stage=16x9"}
    assert {o["layers"] for o in overlays} == {"all", "product", "sale", "draw", "likes", "comments"}
    for o in overlays:  # each one opens
        page = client.get(o["url"].removeprefix("http://testserver"))
        assert page.status_code == 200 and f'data-stage="{o["stage"]}"' in page.text
        assert f'data-layers="{o["layers"]}"' in page.text or o["layers"] == "all"
    assert client.get(f"/api/shows/{sid}/overlay-urls").status_code == 401
    assert client.get(f"/api/shows/{sid}/overlay-urls",
                      headers={"Authorization": f"Bearer {show['overlay_key']}"}).status_code == 401
    foreign = client.get(f"/api/shows/{sid}/overlay-urls", headers=staff_headers(client, elsewhere["id"], "host"))
    assert foreign.status_code == 403 and foreign.json()["error"]["code"] == "FORBIDDEN"
    assert client.get("/api/shows/nope/overlay-urls", headers=admin_headers()).status_code == 404


def test_the_draw_page_shows_the_commitment_and_the_verify_script_is_served(client: TestClient) -> None:
    show = new_show(client, language="en")
    sid = show["id"]
    client.post(f"/api/shows/{sid}/commands", json={"type": "show.start"}, headers=admin_headers())
    r = client.post(f"/api/shows/{sid}/commands", json={"type": "draw.open", "prize": "Mug <b>", "winners": 1},
                    headers=admin_headers())
    draw = next(e["draw"] for e in r.json()["events"] if e["type"] == "draw.opened")
    page = client.get(f"/shows/{sid}/draws/{draw['id']}")
    assert page.status_code == 200 and draw["commitment"] in page.text
    assert "Mug &lt;b&gt;" in page.text and "<b>" not in page.text.split("<main", 1)[1].split("</main>")[0]
    assert 'id="seed"' not in page.text  # not before the reveal
    assert client.get(f"/shows/{sid}/draws/d999").status_code == 404
    script = client.get("/draws/verify_draw.py")
    assert script.status_code == 200 and script.text == (ROOT / "scripts" / "verify_draw.py").read_text()
