"""The review's ``benchmark`` (the one the show's field picks, from the
shipped files or the user's folder) and ``previous`` (the same host's earlier
ended shows, kept up to date with late orders and returns), through the API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from server import create_app
from tests.conftest import FakeClock, admin_headers, make_settings, new_show
from tests.stats.appshows import command, ended_show, signed, staff

ADMIN = admin_headers()


def review(client: TestClient, sid: str) -> dict[str, Any]:
    r = client.get(f"/api/shows/{sid}/review", headers=ADMIN)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_previous_shows_are_the_accounts_earlier_ended_shows_when_no_host_is_named(
        client: TestClient, clock: FakeClock) -> None:
    first = ended_show(client, clock)["id"]
    second = ended_show(client, clock, minutes=5)["id"]
    new_show(client)  # a draft is no previous show
    now = ended_show(client, clock)["id"]
    later = ended_show(client, clock)["id"]  # nor is a later one
    got = review(client, now)["previous"]
    assert (got["basis"], got["hosts"], got["show_ids"]) == ("account", [], [second, first])  # newest first
    assert got["metrics"]["unique_viewers"] == {"value": 0, "median_previous": 0, "best_previous": 0,
                                                "vs_median": None, "shows": 2}
    assert review(client, later)["previous"]["shows"] == 3


def test_previous_shows_are_the_same_hosts_when_one_is_named(client: TestClient, clock: FakeClock) -> None:
    a = ended_show(client, clock)
    b = ended_show(client, clock)
    c = new_show(client)
    staff(client, a["id"], "host", "Ann")
    staff(client, b["id"], "host", "Bo")
    staff(client, c["id"], "host", "Ann")
    staff(client, c["id"], "analyst", "Bo")  # an analyst named Bo is no host
    command(client, c["id"], "show.start")
    clock.advance(60)
    got = review(client, c["id"])["previous"]
    assert (got["basis"], got["hosts"], got["show_ids"]) == ("host", ["Ann"], [a["id"]])


def test_a_late_return_reaches_the_comparison(client: TestClient, clock: FakeClock) -> None:
    a = ended_show(client, clock)
    signed(client, a, "orders", {"order_id": "TB-1", "sku": "A1", "qty": 2, "amount": "398.00"})
    b = ended_show(client, clock)
    assert review(client, b["id"])["previous"]["metrics"]["returned_units"]["median_previous"] == 0
    clock.advance(86_400)
    signed(client, a, "returns", {"order_id": "TB-1", "qty": 1})
    got = review(client, b["id"])["previous"]["metrics"]
    assert got["returned_units"]["median_previous"] == 1 and got["gmv"]["median_previous"] == "398.00"


def test_the_shows_benchmark_field_picks_from_the_users_folder(tmp_path: Path, sqlite_url: str,
                                                               clock: FakeClock) -> None:
    folder = tmp_path / "bench"
    folder.mkdir()
    (folder / "beauty.json").write_text(json.dumps({
        "name": "beauty-2026", "version": "7", "source": "our 罗盘 export", "date": "2026-11-01",
        "category": "beauty", "confidence": "high", "metrics": {"unique_viewers": {"median": 1000}}}))
    with TestClient(create_app(make_settings(sqlite_url, benchmarks_dir=str(folder)), clock=clock)) as c:
        beauty = ended_show(c, clock, benchmark="beauty")["id"]
        plain = ended_show(c, clock)["id"]
        got = review(c, beauty)["benchmark"]
        assert (got["name"], got["version"], got["requested"], got["confidence"]) == ("beauty-2026", "7", "beauty",
                                                                                      "high")
        # no viewer against a median of 1000: (0 - 1000) / 1000 = −100 %
        assert got["metrics"]["unique_viewers"] | {"better": None} == {
            "value": 0, "median": 1000, "top_quartile": None, "vs_median": -1.0, "level": "below_median",
            "better": None}
        assert review(c, plain)["benchmark"]["name"] == "default"
