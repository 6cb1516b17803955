"""Fair draws: commitment, entrants hash, winners, rerolls, and no bias; then
draws through the commands (eligibility, close, reroll, deadlines, the like
goal) and their records checked by scripts/verify_draw.py."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import math
from collections.abc import Callable
from typing import Any

import pytest

from live.core.auth import pseudonym
from live.core.commands import VISIBILITY, Event
from live.core.draws import draw_seed
from live.core.errors import Conflict, Invalid, NotFound
from live.core.fairdraw import commitment, entrants_hash, mask_nickname, pick_winners
from scripts.verify_draw import main as verify_main
from scripts.verify_draw import verify
from tests.live.core.audience_sim import SECRET, Sim, fresh_seed, types

SEED = bytes(range(32))
ENTRANTS = [f"{i:012x}" for i in range(50)]


def test_commitment_is_sha256_of_the_seed() -> None:
    assert commitment(SEED) == hashlib.sha256(SEED).hexdigest()


def test_entrants_hash_ignores_input_order() -> None:
    assert entrants_hash(["b", "a", "c"]) == entrants_hash(["c", "b", "a"])
    assert entrants_hash(["a", "b", "c"]) == hashlib.sha256(b"a\nb\nc").hexdigest()


def test_winners_follow_the_published_procedure_by_hand() -> None:
    pool = sorted(ENTRANTS)
    n = len(pool)
    expected: list[str] = []
    i = 0
    while len(expected) < 3:
        x = int.from_bytes(hmac.new(SEED, f"d1:{i}".encode(), hashlib.sha256).digest()[:8], "big")
        i += 1
        if x >= 2**64 - 2**64 % n:
            continue
        if pool[x % n] not in expected:
            expected.append(pool[x % n])
    got, next_i = pick_winners(SEED, "d1", list(reversed(ENTRANTS)), 3)
    assert got == expected
    assert next_i == i


def test_winners_are_distinct_and_capped_at_the_entrants() -> None:
    got, _ = pick_winners(SEED, "d1", ENTRANTS[:5], 10)
    assert sorted(got) == sorted(ENTRANTS[:5])
    assert pick_winners(SEED, "d1", [], 3) == ([], 0)


def test_the_draw_id_and_seed_change_the_result() -> None:
    a, _ = pick_winners(SEED, "d1", ENTRANTS, 5)
    b, _ = pick_winners(SEED, "d2", ENTRANTS, 5)
    c, _ = pick_winners(b"\x01" * 32, "d1", ENTRANTS, 5)
    assert a != b and a != c


def test_reroll_excludes_earlier_winners_and_continues_the_sequence() -> None:
    first, nxt = pick_winners(SEED, "d1", ENTRANTS, 3)
    again, _ = pick_winners(SEED, "d1", ENTRANTS, 2, exclude=first, start=nxt)
    assert not set(first) & set(again)
    assert len(again) == 2
    # Drawing 5 at once gives the same five people in the same order.
    five, _ = pick_winners(SEED, "d1", ENTRANTS, 5)
    assert five == first + again


@pytest.mark.parametrize("nickname, masked", [("王小明", "王**"), ("Alice", "A**"), ("", "**"), (" 李 ", "李**")])
def test_nicknames_are_masked(nickname: str, masked: str) -> None:
    assert mask_nickname(nickname) == masked


def chi_square_critical(df: int, z: float) -> float:
    """Wilson–Hilferty approximation of the chi-square quantile for a normal z."""
    return df * (1 - 2 / (9 * df) + z * math.sqrt(2 / (9 * df))) ** 3


def counts(pick: Callable[[bytes, list[str]], str], entrants: list[str], draws: int) -> list[int]:
    """How often each entrant wins one of ``draws`` draws, seeded 0, 1, 2, … (the
    same seeds every run: the statistic below is a fixed number, not a coin toss)."""
    index = {e: i for i, e in enumerate(sorted(entrants))}
    tally = [0] * len(entrants)
    for d in range(draws):
        seed = hashlib.sha256(d.to_bytes(8, "big")).digest()
        tally[index[pick(seed, entrants)]] += 1
    return tally


def chi_square(tally: list[int]) -> float:
    expected = sum(tally) / len(tally)
    return sum((c - expected) ** 2 / expected for c in tally)


# 200 expected wins per entrant. 200 entrants (not a power of two, so an
# unrejected modulo would be biased) keep it cheap; the test below shows the
# check still catches a bias of 20 % on an eighth of them.
BIAS_ENTRANTS = [hashlib.sha256(str(i).encode()).hexdigest()[:12] for i in range(200)]
BIAS_DRAWS = 40_000
Z = 3.719  # p = 0.0001 each side


def test_40000_draws_over_200_entrants_show_no_bias() -> None:
    tally = counts(lambda seed, e: pick_winners(seed, "draw", e, 1)[0][0], BIAS_ENTRANTS, BIAS_DRAWS)
    stat = chi_square(tally)
    df = len(BIAS_ENTRANTS) - 1
    assert stat < chi_square_critical(df, Z), stat  # upper tail (≈ 282)
    assert stat > chi_square_critical(df, -Z), stat  # …and not suspiciously uniform either (≈ 133)


def test_the_chi_square_check_does_catch_a_biased_picker() -> None:
    pool = sorted(BIAS_ENTRANTS)

    def biased(seed: bytes, e: list[str]) -> str:
        # 10 bits mod 200 without rejection: entrants 0..23 get 6 chances in 1024, the rest 5
        x = int.from_bytes(hmac.new(seed, b"draw:0", hashlib.sha256).digest()[:2], "big") >> 6
        return pool[x % 200]

    stat = chi_square(counts(biased, BIAS_ENTRANTS, BIAS_DRAWS))
    assert stat > chi_square_critical(len(BIAS_ENTRANTS) - 1, Z), stat


# -- draws through the commands (live.core.commands.apply) ------------------------------------------


def sim_draw_seed(sim: Sim, draw_id: str) -> bytes:
    """The seed the draw holds (private until it closes)."""
    return bytes.fromhex(sim.state.ledger.draws[draw_id].seed)


def test_draw_open_publishes_the_commitment_and_keeps_the_seed_private() -> None:
    sim = Sim()
    [event] = sim.do({"type": "draw.open", "prize": "Tea set", "winners": 2, "entry_seconds": 60},
                     seed=fresh_seed(99))
    draw = event["draw"]
    assert draw["id"] == f"d{event['seq']}"
    seed = bytes.fromhex(event["_seed"])
    assert seed == draw_seed(fresh_seed(99), draw["id"]) and len(seed) == 32
    assert draw["commitment"] == hashlib.sha256(seed).hexdigest()
    assert (draw["prize"], draw["winners"], draw["deadline"], draw["trigger"], draw["status"]) == (
        "Tea set", 2, sim.now + 60_000, "command", "open")
    assert draw["eligibility"] == {"present": True, "exclude_staff": True}  # the default rule
    assert "seed" not in draw and VISIBILITY["draw.opened"] == "public"
    view = sim.state.ledger.draws[draw["id"]].view(sim.now)
    assert view["seed"] is None and view["commitment"] == draw["commitment"]
    assert sim.state.ledger.draws[draw["id"]].record()["seed"] is None


@pytest.mark.parametrize("kind", ["draw", "lucky_bag"])
def test_the_draw_record_says_whether_it_is_a_draw_or_a_lucky_bag(kind: str) -> None:
    sim = Sim()
    draw_id = sim.open_draw(kind=kind) if kind != "draw" else sim.open_draw()
    record = sim.state.ledger.draws[draw_id].record()
    assert record["kind"] == kind
    assert record["algorithm"].startswith("docs/draws.md: ")


def test_two_draws_opened_by_one_command_get_seeds_of_their_own() -> None:
    # A segment may open two draws with the one _seed of show.start: revealing the
    # first draw's seed at its close must not give away the second's.
    segments = [{"kind": "interaction", "title": "Draws", "planned_seconds": 60,
                 "actions": [{"type": "draw.open", "prize": "Cup"}, {"type": "draw.open", "prize": "Pot"}]}]
    sim = Sim(segments=segments)
    opened = [e for e in sim.journal if e["type"] == "draw.opened"]
    assert [e["draw"]["id"] for e in opened] == [f"d{e['seq']}" for e in opened] and len(opened) == 2
    assert opened[0]["_seed"] != opened[1]["_seed"]
    assert opened[0]["draw"]["commitment"] != opened[1]["draw"]["commitment"]


@pytest.mark.parametrize("cmd, field", [
    ({"prize": ""}, "prize"),
    ({"prize": "x" * 101}, "prize"),
    ({"winners": 0}, "winners"),
    ({"winners": 1001}, "winners"),
    ({"entry_seconds": 4}, "entry_seconds"),
    ({"kind": "raffle"}, "kind"),
    ({"trigger": "like_goal"}, "trigger"),
    ({"eligibility": []}, "eligibility"),
    ({"eligibility": {"vip": True}}, "eligibility.vip"),
    ({"eligibility": {"watched_seconds": 0}}, "eligibility.watched_seconds"),
    ({"eligibility": {"bought_items": "2"}}, "eligibility.bought_items"),
    ({"eligibility": {"keyword": ""}}, "eligibility.keyword"),
    ({"eligibility": {"present": "yes"}}, "eligibility.present"),
    ({"eligibility": {"present": 1}}, "eligibility.present"),
    ({"eligibility": {"liked": "false"}}, "eligibility.liked"),
    ({"eligibility": {"liked": []}}, "eligibility.liked"),
    ({"eligibility": {"exclude_staff": 0}}, "eligibility.exclude_staff"),
    ({"eligibility": {"exclude_staff": "no"}}, "eligibility.exclude_staff"),
    ({"colour": "red"}, "colour"),
])
def test_a_bad_draw_is_invalid_with_its_field(cmd: dict[str, Any], field: str) -> None:
    sim = Sim()
    body = {"type": "draw.open", "prize": "Tea", **cmd}
    assert sim.refused(body, Invalid, seed=fresh_seed(1)).field == field


def test_draws_open_only_while_live() -> None:
    Sim(start=False).refused({"type": "draw.open", "prize": "Tea"}, Conflict, seed=fresh_seed(1))


def eligibility_scenario() -> tuple[Sim, dict[str, str], dict[str, Any]]:
    """Viewers who each meet some of the rules; returns the sim, name → id, and a
    function opening and closing a draw with a rule (entrant names back)."""
    sim = Sim(banned=("scam",))
    names = ["alice", "bob", "carol", "dave", "erin", "frank", "gina", "hank", "ivan"]
    ids = {n: sim.viewer(n.title(), staff=n == "carol") for n in names}
    sale = sim.open_sale("A1", stock=20, limit=2, seconds=3600)
    for n in ("alice", "bob", "carol"):
        sim.join(ids[n])
    sim.wait(100_000)
    sim.leave(ids["bob"])
    sim.wait(100_000)
    sim.join(ids["bob"])
    sim.wait(100_000)
    sim.leave(ids["bob"])  # bob: two visits, 200 s, now away
    sim.wait(200_000)
    for n in ("dave", "erin", "hank"):
        sim.join(ids[n])  # short visits
    sim.claim(ids["hank"], sale, 2)
    sim.claim(ids["ivan"], sale, 1)
    sim.claim(ids["carol"], sale, 2)
    sim.comment(ids["erin"], "Tea please")  # before the draw opens
    sim.tick(likes={ids["gina"]: 3})  # before the draw opens
    sim.wait(50_000)
    return sim, ids, {}


def entrants_for(eligibility: dict[str, Any] | None) -> set[str]:
    sim, ids, _ = eligibility_scenario()
    draw_id = sim.open_draw(winners=1, eligibility=eligibility) if eligibility is not None else sim.open_draw()
    sim.wait(1_000)
    sim.comment(ids["dave"], "I want TEA!")
    sim.comment(ids["carol"], "tea")
    sim.wait(1_000)
    sim.comment(ids["erin"], "tea scam")  # hidden by the banned words: it enters nobody
    sim.tick(likes={ids["frank"]: 1, ids["carol"]: 2})
    sim.wait(48_000)  # alice has watched 600 s, dave/erin/hank 100 s
    [closed] = sim.do({"type": "draw.close", "draw_id": draw_id})
    by_pseudonym = {pseudonym(SECRET, vid): name for name, vid in ids.items()}
    return {by_pseudonym[p] for p in closed["_entrants"]}


@pytest.mark.parametrize("eligibility, expected", [
    (None, {"alice", "dave", "erin", "hank"}),
    ({}, {"alice", "bob", "dave", "erin", "frank", "gina", "hank", "ivan"}),
    ({"present": True}, {"alice", "dave", "erin", "hank"}),
    ({"present": True, "exclude_staff": False}, {"alice", "carol", "dave", "erin", "hank"}),
    ({"present": False, "liked": False}, {"alice", "bob", "dave", "erin", "frank", "gina", "hank", "ivan"}),
    ({"keyword": "tea"}, {"dave"}),
    ({"keyword": "TEA", "exclude_staff": False}, {"carol", "dave"}),
    ({"liked": True}, {"frank"}),
    ({"liked": True, "exclude_staff": False}, {"carol", "frank"}),
    ({"watched_seconds": 150}, {"alice", "bob"}),
    ({"watched_seconds": 601}, set()),
    ({"bought_items": 2}, {"hank"}),
    ({"bought_items": 1}, {"hank", "ivan"}),
    ({"bought_items": 1, "present": True}, {"hank"}),
])
def test_each_eligibility_rule_picks_its_entrants(eligibility: dict[str, Any] | None, expected: set[str]) -> None:
    assert entrants_for(eligibility) == expected


def closed_draw(entrants: int = 12, winners: int = 3, **params: Any) -> tuple[Sim, str, Event]:
    sim = Sim()
    for i in range(entrants):
        sim.viewer(f"V{i}", join=True)
    draw_id = sim.open_draw(winners=winners, **params)
    sim.wait(10_000)
    [closed] = sim.do({"type": "draw.close", "draw_id": draw_id})
    return sim, draw_id, closed


def test_the_close_picks_exactly_as_pick_winners_over_the_sorted_pseudonyms() -> None:
    sim, draw_id, closed = closed_draw(entrants=12, winners=3)
    pseudonyms = sorted(v.pseudonym for v in sim.state.ledger.viewers.values())
    seed = sim_draw_seed(sim, draw_id)
    expected, next_i = pick_winners(seed, draw_id, pseudonyms, 3)
    assert closed["_entrants"] == pseudonyms
    assert closed["entries"] == 12
    assert closed["seed"] == seed.hex()
    assert closed["entrants_hash"] == hashlib.sha256("\n".join(pseudonyms).encode()).hexdigest()
    assert [w["pseudonym"] for w in closed["winners"]] == expected and closed["next_i"] == next_i
    nick = {v.pseudonym: v.nickname for v in sim.state.ledger.viewers.values()}
    assert [w["nickname"] for w in closed["winners"]] == [nick[p][0] + "**" for p in expected]
    draw = sim.state.ledger.draws[draw_id]
    assert (draw.status, draw.entrants, draw.view(sim.now)["seed"]) == ("closed", pseudonyms, seed.hex())


def test_closing_twice_is_already_drawn_and_keeps_one_result() -> None:
    sim, draw_id, closed = closed_draw()
    err = sim.refused({"type": "draw.close", "draw_id": draw_id}, Conflict)
    assert err.code == "ALREADY_DRAWN"
    assert [r["winners"] for r in sim.state.ledger.draws[draw_id].rounds] == [closed["winners"]]
    assert sum(1 for e in sim.journal if e["type"] == "draw.closed") == 1


@pytest.mark.parametrize("kind", ["draw.close", "draw.reroll"])
def test_an_unknown_draw_is_not_found(kind: str) -> None:
    sim = Sim()
    assert sim.refused({"type": kind, "draw_id": "d999"}, NotFound).field == "draw_id"


def test_a_reroll_excludes_earlier_winners_and_equals_drawing_more_at_once() -> None:
    sim, draw_id, closed = closed_draw(entrants=12, winners=3)
    [again] = sim.do({"type": "draw.reroll", "draw_id": draw_id, "winners": 2})
    first = [w["pseudonym"] for w in closed["winners"]]
    more = [w["pseudonym"] for w in again["winners"]]
    assert len(more) == 2 and not set(first) & set(more)
    five, _ = pick_winners(sim_draw_seed(sim, draw_id), draw_id, sim.state.ledger.draws[draw_id].entrants, 5)
    assert first + more == five
    assert VISIBILITY["draw.rerolled"] == "public"


def test_rerolls_stop_when_everyone_has_won_and_need_a_closed_draw() -> None:
    sim = Sim()
    sim.viewer("Ann", join=True)
    open_id = sim.open_draw(winners=1)
    sim.refused({"type": "draw.reroll", "draw_id": open_id}, Conflict)
    sim.do({"type": "draw.close", "draw_id": open_id})
    sim.refused({"type": "draw.reroll", "draw_id": open_id}, Conflict)
    assert sim.refused({"type": "draw.reroll", "draw_id": open_id, "winners": 0}, Invalid).field == "winners"


def test_a_draw_with_no_entrants_closes_with_no_winners() -> None:
    sim, draw_id, closed = closed_draw(entrants=0)
    assert (closed["entries"], closed["winners"]) == (0, [])
    sim.refused({"type": "draw.reroll", "draw_id": draw_id}, Conflict)
    assert verify(sim.state.ledger.draws[draw_id].record()) == []


def test_the_entry_deadline_closes_the_draw_in_the_tick() -> None:
    sim = Sim()
    ann = sim.viewer("Ann", join=True)
    bob = sim.viewer("Bob", join=True)
    draw_id = sim.open_draw(entry_seconds=30, eligibility={"present": True})
    sim.wait(29_999)
    assert types(sim.tick(entries=True)) == ["draw.entries"]
    assert sim.tick(entries=True) == []  # entries announced only on change
    sim.wait(1)
    # bob's visit ends in this very tick: he is not present at the close
    events = sim.tick(left={bob: sim.now - 2_000})
    assert types(events) == ["viewer.left", "draw.closed"]
    assert events[1]["_entrants"] == [pseudonym(SECRET, ann)]
    assert sim.state.ledger.draws[draw_id].status == "closed"
    assert sim.tick(entries=True) == []


def test_likes_in_the_closing_tick_count_for_a_liked_rule() -> None:
    sim = Sim()
    ann = sim.viewer("Ann")
    sim.open_draw(entry_seconds=10, eligibility={"liked": True})
    sim.wait(10_000)
    events = sim.tick(likes={ann: 1})
    assert types(events) == ["likes.tick", "draw.closed"]
    assert events[1]["_entrants"] == [pseudonym(SECRET, ann)]


def test_the_like_goal_opens_its_draw_in_the_tick_that_crosses_it() -> None:
    sim = Sim()
    ids = [sim.viewer(f"V{i}", join=True) for i in range(3)]
    then = {"prize": "Lucky bag", "winners": 2, "entry_seconds": 20, "kind": "lucky_bag",
            "eligibility": {"present": True, "bought_items": 1}}
    sim.do({"type": "likes.goal", "target": 100, "then": then})
    assert types(sim.tick(likes={ids[0]: 60})) == ["likes.tick"]
    sim.wait(5_000)
    # several events in one tick, and a leave after the draw: its id must still be its own seq
    events = sim.tick(likes={ids[1]: 30, ids[2]: 20}, left={ids[0]: sim.now}, viewers=True)
    assert types(events) == ["likes.tick", "likes.goal_reached", "draw.opened", "viewer.left", "viewers.tick"]
    opened = events[2]
    draw_id = opened["draw"]["id"]
    assert draw_id == f"d{opened['seq']}" and draw_id in sim.state.ledger.draws
    assert (opened["draw"]["trigger"], opened["draw"]["kind"], opened["draw"]["winners"]) == (
        "like_goal", "lucky_bag", 2)
    assert opened["draw"]["deadline"] == sim.now + 20_000
    sim.wait(1_000)
    assert sim.tick(likes={ids[1]: 50})[1:] == []  # the goal opens one draw, once
    assert sum(1 for e in sim.journal if e["type"] == "draw.opened") == 1


def test_a_goal_reached_before_the_show_goes_live_opens_no_draw() -> None:
    sim = Sim(start=False)
    vid = sim.viewer("Ann")
    sim.do({"type": "likes.goal", "target": 5, "then": {"prize": "Cup"}})
    assert types(sim.tick(likes={vid: 9})) == ["likes.tick", "likes.goal_reached"]
    assert sim.state.ledger.draws == {}


def test_a_draw_record_verifies_and_tampering_is_detected() -> None:
    sim, draw_id, _ = closed_draw(entrants=30, winners=3)
    sim.do({"type": "draw.reroll", "draw_id": draw_id, "winners": 2})
    record = json.loads(json.dumps(sim.state.ledger.draws[draw_id].record()))
    assert verify(record) == []
    assert len(record["winners"]) == 5 and [r["count"] for r in record["rounds"]] == [3, 2]

    changed_winner = copy.deepcopy(record)
    loser = next(p for p in record["entrants"] if p not in record["winners"])
    changed_winner["rounds"][0]["winners"][1] = loser
    assert any("round 0" in p for p in verify(changed_winner))

    changed_entrant = copy.deepcopy(record)
    changed_entrant["entrants"][0] = "ffffffffffff"
    assert any("entrants_hash" in p for p in verify(changed_entrant))

    wrong_seed = copy.deepcopy(record)
    wrong_seed["seed"] = fresh_seed(12345)
    problems = verify(wrong_seed)
    assert any("commitment" in p for p in problems)

    reordered = copy.deepcopy(record)
    reordered["rounds"][1]["winners"].reverse()
    assert any("round 1" in p for p in verify(reordered))


def test_verify_draw_script_checks_a_record_file(tmp_path: Any) -> None:
    sim, draw_id, _ = closed_draw(entrants=8, winners=2)
    path = tmp_path / "record.json"
    path.write_text(json.dumps(sim.state.ledger.draws[draw_id].record()), encoding="utf-8")
    assert verify_main(["verify_draw.py", str(path)]) == 0
    record = sim.state.ledger.draws[draw_id].record()
    record["winners"] = list(reversed(record["winners"]))
    record["rounds"][0]["winners"] = record["winners"]
    path.write_text(json.dumps(record), encoding="utf-8")
    assert verify_main(["verify_draw.py", str(path)]) == 1
