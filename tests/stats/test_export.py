"""``scripts/review.py``: a show's review written as review.json, review.csv
and review.html, the same as the server answers, from the database the
server's settings name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from scripts.review import main
from tests.conftest import FakeClock, admin_headers, new_show

ADMIN = admin_headers()
SEGMENTS = [{"kind": "warmup", "title": "预热 开场", "planned_seconds": 60},
            {"kind": "product", "title": "=精华 <Serum>", "sku": "A1", "planned_seconds": 120}]


def command(client: TestClient, sid: str, body: dict[str, object]) -> dict[str, object]:
    r = client.post(f"/api/shows/{sid}/commands", json=body, headers=ADMIN)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> str:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.delenv("LIVE_BENCHMARKS_DIR", raising=False)
    return sqlite_url


def test_the_three_files_are_what_the_server_answers(client: TestClient, clock: FakeClock, env: str,
                                                     tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    earlier = new_show(client)["id"]
    command(client, earlier, {"type": "show.start"})
    clock.advance(120)
    command(client, earlier, {"type": "show.end"})
    sid = new_show(client, segments=SEGMENTS, language="zh-CN", title="秋冬 <护肤>")["id"]
    command(client, sid, {"type": "show.start"})
    viewer = client.post(f"/api/shows/{sid}/viewers", json={"nickname": "王小明"}).json()
    sale = command(client, sid, {"type": "flash_sale.open", "sku": "A1", "stock": 5, "per_viewer_limit": 2,
                                 "duration_seconds": 600})["events"][-1]["sale"]  # type: ignore[index]
    clock.advance(70)
    command(client, sid, {"type": "segment.next"})
    r = client.post(f"/api/shows/{sid}/flash-sales/{sale['id']}/claims", json={"qty": 2},
                    headers={"Authorization": f"Bearer {viewer['token']}", "Idempotency-Key": "k1"})
    assert r.status_code == 200, r.text
    clock.advance(100)
    command(client, sid, {"type": "show.end"})

    out = tmp_path / "out" / "review"
    assert main(["--show", sid, "--out", str(out)]) == 0
    assert capsys.readouterr().out.split() == [str(out / n) for n in ("review.json", "review.csv", "review.html")]
    served = client.get(f"/api/shows/{sid}/review", headers=ADMIN).json()
    written = json.loads((out / "review.json").read_text(encoding="utf-8"))
    assert written == served
    assert written["metrics"]["orders"] == 1 and written["previous"]["show_ids"] == [earlier]
    assert (out / "review.csv").read_bytes() == client.get(f"/api/shows/{sid}/review.csv", headers=ADMIN).content
    html = (out / "review.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in html and "秋冬 &lt;护肤&gt;" in html and "核心数据" in html
    assert "#2 =精华 &lt;Serum&gt;" in html  # the segment's title on its band
    assert "/api/shows/" not in html and "?lang=" not in html  # a file has no server to link to
    assert viewer["viewer_id"] not in html + (out / "review.json").read_text(encoding="utf-8")
    assert main(["--show", sid, "--out", str(out), "--lang", "en"]) == 0
    assert "Key numbers" in (out / "review.html").read_text(encoding="utf-8")


def test_an_unknown_show_a_draft_and_no_database_are_refused(client: TestClient, env: str, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["--show", "nope", "--out", str(out)]) == 2
    assert "no show 'nope'" in capsys.readouterr().err
    draft = new_show(client)["id"]
    assert main(["--show", draft, "--out", str(out)]) == 3
    assert "has not started" in capsys.readouterr().err
    assert not out.exists()  # nothing written
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    assert main(["--show", draft, "--out", str(out)]) == 1
    assert "start the server first" in capsys.readouterr().err


def test_a_bad_benchmark_file_is_refused_naming_it(client: TestClient, clock: FakeClock, env: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x.json").write_text('{"name": "x"}')
    monkeypatch.setenv("LIVE_BENCHMARKS_DIR", str(tmp_path / "b"))
    assert main(["--show", "any", "--out", str(tmp_path / "out")]) == 2
    assert "x.json: date:" in capsys.readouterr().err
