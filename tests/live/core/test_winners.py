"""Winners for staff: full nicknames in ``draw.closed`` / ``draw.rerolled`` and the
staff snapshot, masked for everyone else (events, snapshot, the public record);
the winners list (``live.core.winners``): rows, languages, CSV injection."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, timedelta, timezone

import pytest

from live.core.errors import Conflict, Invalid, NotFound
from live.core.protocol import PUBLIC, STAFF, for_audience, state_view
from live.core.winners import cell, language, rows, to_csv
from tests.live.core.audience_sim import Sim, replay

NAMES = ["王小明", "Alice Liu", "=HYPERLINK(\"x\")", "李四", "+86 138", "@bob", "-minus"]


def drawn(winners: int = 3, names: list[str] = NAMES) -> tuple[Sim, str]:
    sim = Sim()
    for name in names:
        sim.viewer(name, join=True)
    draw_id = sim.open_draw(winners=winners)
    sim.wait(10_000)
    sim.do({"type": "draw.close", "draw_id": draw_id})
    return sim, draw_id


def full_names(sim: Sim) -> dict[str, str]:
    return {vw.pseudonym: vw.nickname for vw in sim.state.ledger.viewers.values()}


def test_staff_see_the_winners_full_nicknames_and_the_public_masked_ones() -> None:
    sim, _ = drawn()
    closed = sim.journal[-1]
    names = full_names(sim)
    staff = for_audience(closed, STAFF)
    public = for_audience(closed, PUBLIC)
    assert staff is not None and public is not None
    assert [w["full_nickname"] for w in staff["winners"]] == [names[w["pseudonym"]] for w in closed["winners"]]
    assert [w["nickname"] for w in staff["winners"]] == [names[w["pseudonym"]][0] + "**" for w in closed["winners"]]
    assert public["winners"] == [{"pseudonym": w["pseudonym"], "nickname": w["nickname"]} for w in closed["winners"]]
    assert all(names[w["pseudonym"]] not in json.dumps(public, ensure_ascii=False) for w in closed["winners"])
    assert "_entrants" not in staff  # private keys still never leave


def test_a_rerolls_winners_are_full_for_staff_only() -> None:
    sim, draw_id = drawn(winners=1)
    [rerolled] = sim.do({"type": "draw.reroll", "draw_id": draw_id, "winners": 2})
    names = full_names(sim)
    staff, public = for_audience(rerolled, STAFF), for_audience(rerolled, PUBLIC)
    assert staff is not None and public is not None
    assert [w["full_nickname"] for w in staff["winners"]] == [names[w["pseudonym"]] for w in rerolled["winners"]]
    assert all(set(w) == {"pseudonym", "nickname"} for w in public["winners"])


def test_the_staff_snapshot_names_the_winners_and_the_public_one_masks_them() -> None:
    sim, _ = drawn()
    names = full_names(sim)
    [staff_draw] = state_view(sim.state, sim.now, STAFF)["draws"]
    [public_draw] = state_view(sim.state, sim.now, PUBLIC)["draws"]
    assert [w["full_nickname"] for w in staff_draw["drawn"]] == [names[w["pseudonym"]] for w in staff_draw["drawn"]]
    assert [w["nickname"] for w in public_draw["drawn"]] == [w["nickname"] for w in staff_draw["drawn"]]
    assert all(set(w) == {"pseudonym", "nickname"} for w in public_draw["drawn"])


def test_the_public_record_keeps_masked_names_only() -> None:
    sim, draw_id = drawn()
    record = json.dumps(sim.state.ledger.draws[draw_id].record(), ensure_ascii=False)
    assert "full_nickname" not in record
    for w in sim.state.ledger.draws[draw_id].winners():
        assert w["full_nickname"] not in record


# -- the winners list -------------------------------------------------------------------


def test_the_rows_list_each_winner_in_the_order_drawn_with_rerolls_marked() -> None:
    sim, draw_id = drawn(winners=2)
    sim.wait(60_000)
    sim.do({"type": "draw.reroll", "draw_id": draw_id, "winners": 1})
    draw = sim.state.ledger.draws[draw_id]
    by_pseudonym = {vw.pseudonym: vw for vw in sim.state.ledger.viewers.values()}
    tz = timezone(timedelta(hours=8))
    out = rows(sim.state, draw_id, tz, "en")
    assert [r["rank"] for r in out] == [1, 2, 3]
    assert [r["pseudonym"] for r in out] == [w["pseudonym"] for w in draw.winners()]
    assert [r["nickname"] for r in out] == [by_pseudonym[r["pseudonym"]].nickname for r in out]
    assert [r["viewer_id"] for r in out] == [by_pseudonym[r["pseudonym"]].id for r in out]
    assert [r["round"] for r in out] == ["draw", "draw", "reroll 1"]
    assert {r["prize"] for r in out} == {"Tea set"}
    # 2023-11-14 22:13:20 UTC, +10 s to the close, +60 s to the reroll; in UTC+8
    assert [r["drawn_at"] for r in out] == ["2023-11-15T06:13:30+08:00"] * 2 + ["2023-11-15T06:14:30+08:00"]
    assert [r["round"] for r in rows(sim.state, draw_id, UTC, "zh-CN")] == ["开奖", "开奖", "补抽 1"]
    # a restart folds the same rounds, with their times
    assert rows(replay(sim.journal), draw_id, tz, "en") == out


def test_the_rows_need_a_drawn_draw_that_exists() -> None:
    sim = Sim()
    sim.viewer("Ann", join=True)
    draw_id = sim.open_draw()
    with pytest.raises(Conflict):
        rows(sim.state, draw_id, UTC, "en")
    with pytest.raises(NotFound):
        rows(sim.state, "d999", UTC, "en")


@pytest.mark.parametrize("lang, header", [
    ("en", ["Rank", "Nickname", "Viewer ID", "Pseudonym", "Prize", "Drawn at", "Round"]),
    ("zh-CN", ["名次", "昵称", "观众 ID", "化名", "奖品", "开奖时间", "轮次"]),
])
def test_the_csv_has_a_bom_a_header_in_its_language_and_one_row_a_winner(lang: str, header: list[str]) -> None:
    sim, draw_id = drawn(winners=len(NAMES))
    text = to_csv(rows(sim.state, draw_id, UTC, lang), lang)
    assert text.startswith("\ufeff") and "\r\n" in text
    table = list(csv.reader(io.StringIO(text[1:])))
    assert table[0] == header
    assert len(table) == 1 + len(NAMES)
    written = {r[1] for r in table[1:]}
    # every nickname as written, the ones a spreadsheet would run as a formula quoted with '
    assert written == {("'" + n) if n[0] in "=+-@" else n for n in NAMES}


@pytest.mark.parametrize("value, shown", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("王小明", "王小明"), ("a=b", "a=b"), (3, 3), (None, ""),
])
def test_a_cell_never_starts_a_formula(value: object, shown: object) -> None:
    assert cell(value) == shown


def test_the_language_is_asked_for_or_the_shows() -> None:
    assert language(None, "zh-CN") == "zh-CN"
    assert language("", "en") == "en"
    assert language("en", "zh-CN") == "en"
    with pytest.raises(Invalid) as err:
        language("fr", "en")
    assert err.value.field == "lang"
