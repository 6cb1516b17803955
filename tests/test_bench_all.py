"""``scripts/bench/all.py``'s table: rows from the benchmarks' results, targets
checked against the figures (no benchmark runs here: they are not timed tests)."""

from __future__ import annotations

import importlib
from typing import Any

from scripts.bench.all import plan, render, rows_of


def fanout(n: int, p50: float, p99: float, floor: tuple[float, float], peer: tuple[float, float],
           kib: float = 20.0) -> dict[str, Any]:
    def target(a: float, b: float, k: float) -> dict[str, Any]:
        return {"median": {"p50_ms": a, "p99_ms": b}, "kib_per_socket": k}

    return {"viewers": n, "target": {"p50_ms": 70.0, "p99_ms": 150.0, "ratio": 1.5, "kib_per_viewer": 16.0},
            "targets": {"server.py": target(p50, p99, kib), "floor: websockets": target(*floor, 15.0),
                        "peer: node ws": target(*peer, 8.0)}}


def journal(sqlite: float, sqlite_floor: float, pg: float, pg_floor: float) -> dict[str, Any]:
    def result(backend: str, path: str, rate: float, floor: bool, target: int | None) -> dict[str, Any]:
        return {"backend": backend, "path": path, "batch": 1000, "floor": floor, "median_events_per_s": rate,
                "target_events_per_s": target, "meets_target": None if target is None else rate >= target}

    return {"batch": 1000, "results": [
        result("sqlite", "journal", sqlite, False, 100_000),
        result("sqlite", "floor: sqlite3 executemany", sqlite_floor, True, None),
        result("postgresql", "journal (copy)", pg, False, 200_000),
        result("postgresql", "journal (unnest)", pg * 0.8, False, 200_000),
        result("postgresql", "floor: asyncpg executemany", pg_floor, True, None)]}


def row(rows: list[Any], start: str) -> Any:
    return next(r for r in rows if r.figure.startswith(start))


def test_fanout_is_met_only_within_the_floor_ratio_the_node_peer_and_at_10k_the_absolute_bounds() -> None:
    rows = rows_of({
        "fanout-1000": fanout(1000, 20, 30, floor=(15, 25), peer=(25, 40)),  # 1.33× the floor, under node
        "fanout-5000": fanout(5000, 40, 60, floor=(20, 30), peer=(50, 70)),  # 2× the floor
        "fanout-10000": fanout(10000, 80, 140, floor=(60, 100), peer=(90, 150), kib=14.0),  # p50 over 70 ms
    })
    assert [r.met for r in rows[:3]] == [True, False, False]
    assert row(rows, "one event to 1,000").ratio.startswith("1.33× / 1.20×")
    memory = row(rows, "memory per idle")
    assert "10,000" in memory.figure and memory.server == "14.0 KiB" and memory.met is True


def test_journal_rows_take_copy_on_postgresql_beside_the_driver_floor() -> None:
    rows = rows_of({"journal": journal(sqlite=150_000, sqlite_floor=120_000, pg=190_000, pg_floor=120_000)})
    sqlite, pg = row(rows, "journal writes, sqlite"), row(rows, "journal writes, postgresql")
    assert (sqlite.met, sqlite.ratio) == (True, "1.25×")
    assert (pg.met, pg.ratio) == (False, "1.58×")
    assert pg.server.startswith("190k events/s") and "(unnest) 152k/s" in pg.server


def test_a_failed_benchmark_is_a_row_that_is_not_met_and_render_has_one_line_per_row() -> None:
    rows = rows_of({"likes": None, "journal": journal(1, 1, 1, 1)})
    failed = row(rows, "likes: the benchmark failed")
    assert failed.met is False
    table = render(rows).splitlines()
    assert len(table) == 2 + len(rows)
    assert all(line.count("|") == 7 for line in table)
    assert table[2 + rows.index(failed)].endswith("| ✗ |")


def test_every_benchmark_the_plan_runs_is_a_module_with_a_table_and_an_out_option() -> None:
    for quick in (True, False):
        keys = {key.split("-")[0] for key, _, _ in plan(quick, "postgresql://x/y")}
        assert keys == {"fanout", "hold", "likes", "claims", "journal", "scaled"}
    for _, module, arguments in plan(True, "postgresql://x/y"):
        mod = importlib.import_module(f"scripts.bench.{module}")
        assert callable(mod.table) and callable(mod.main)
        assert "--out" not in arguments  # all.py adds its own
