"""The minute series of a 3-hour show with N journal events, from the database,
beside a plain SQL ``GROUP BY`` minute of the same events (the floor).

    python -m scripts.bench.series                      10 M events, SQLite (and PostgreSQL if reachable)
    python -m scripts.bench.series --events 1000000 --runs 3
    python -m scripts.bench.series --pg postgresql://postgres@127.0.0.1:5432/test

Writes the synthetic show (``scripts.bench.synthetic``) straight into the journal's tables (viewers joining
and leaving, comments, likes ticks, clicks, claims, shop orders and returns,
segment changes, and some events the stats ignore), then times, each in a
fresh child process (so its peak memory is its own):

- ``series``: what ``GET …/review`` does past HTTP: ``Journal.scan`` chunk by
  chunk into a ``Tally``, then the minute series and the metrics;
- ``read only``: ``Journal.scan`` alone (reading and decoding the rows);
- the floor: ``SELECT (at - start) / 60000, type, count(*) … GROUP BY`` with
  the plain driver (``sqlite3`` / ``asyncpg``): the database counting alone.

The ``series`` child also reports what one ``stats.tick`` costs on a show
that long (the series and metrics recomputed over the cached tally), and
checks its comments per minute against the floor's. PostgreSQL runs in a
scratch database created and dropped here. Targets (README): ≤ 2 s and
≤ 500 MB for 10 M events. Prints a table, writes ``bench-results/series.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from scripts.bench.harness import machine, peak_mb, write_result
from scripts.bench.journal import (
    pg_admin,
    pg_url_from,
    scratch_url,
)
from scripts.bench.synthetic import SHOW_ID, floor_rows, write_show

OUT = Path("bench-results") / "series.json"
TARGET_SECONDS, TARGET_MB = 2.0, 500



# -- the measured paths (each run in a child process) -------------------------------------------


async def child_series(url: str) -> dict[str, Any]:
    from live.adapters.db import open_database
    from live.adapters.journal import Journal
    from stats.review import numbers
    from stats.tally import Tally

    base_mb = peak_mb()
    began = time.perf_counter()
    engine = await open_database(url)
    try:
        tally = Tally()
        tallying = 0.0
        async for chunk in Journal(engine).scan(SHOW_ID):
            t = time.perf_counter()
            tally.add(chunk)
            tallying += time.perf_counter() - t
        read_done = time.perf_counter()
        minutes, figures = numbers(tally, None)
        done = time.perf_counter()
    finally:
        await engine.dispose()
    ticks = []
    for _ in range(5):  # what a stats.tick costs on a show this long: the numbers over the cached tally
        t = time.perf_counter()
        numbers(tally, None)
        ticks.append(time.perf_counter() - t)
    return {
        "seconds": done - began,
        "read_seconds": read_done - began - tallying,
        "tally_seconds": tallying,
        "compute_seconds": done - read_done,
        "tick_seconds": statistics.median(ticks),
        "peak_mb": peak_mb(),
        "baseline_mb": base_mb,
        "events": tally.seq,
        "minutes": len(minutes),
        "orders": figures["orders"],
        "gmv": figures["gmv"],
        "comments_per_minute": minutes.comments.tolist(),
    }


async def child_read(url: str) -> dict[str, Any]:
    from live.adapters.db import open_database
    from live.adapters.journal import Journal

    began = time.perf_counter()
    engine = await open_database(url)
    rows = 0
    try:
        async for chunk in Journal(engine).scan(SHOW_ID):
            rows += len(chunk)
    finally:
        await engine.dispose()
    return {"seconds": time.perf_counter() - began, "peak_mb": peak_mb(), "events": rows}


async def child_floor(url: str) -> dict[str, Any]:
    began = time.perf_counter()
    rows = await floor_rows(url)
    comments: dict[int, int] = {}
    for minute, kind, count in rows:
        if kind == "comment.new":
            comments[int(minute)] = int(count)
    return {"seconds": time.perf_counter() - began, "peak_mb": peak_mb(), "groups": len(rows),
            "comments_per_minute": [comments.get(m, 0) for m in range(max(comments) + 1 if comments else 0)]}


CHILDREN = {"series": child_series, "read": child_read, "floor": child_floor}


def in_child(path: str, url: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "scripts.bench.series", "--child", path, url],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the {path} child failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


# -- running --------------------------------------------------------------------------------


def measure(backend: str, url: str, n: int, runs: int) -> dict[str, Any]:
    written = asyncio.run(write_show(url, n))
    print(f"  {backend}: wrote {n:,} events in {written:.1f} s", file=sys.stderr, flush=True)
    got: dict[str, list[dict[str, Any]]] = {p: [] for p in CHILDREN}
    for run in range(runs):
        order = list(CHILDREN) if run % 2 == 0 else list(reversed(CHILDREN))  # drift hits every path alike
        for path in order:
            got[path].append(in_child(path, url))
        print(f"  {backend} run {run + 1}/{runs}: " + ", ".join(f"{p} {got[p][-1]['seconds']:.2f} s" for p in CHILDREN),
              file=sys.stderr, flush=True)
    series = got["series"]
    floor_minutes = got["floor"][0]["comments_per_minute"]
    ours = series[0]["comments_per_minute"]
    check = ours[: len(floor_minutes)] == floor_minutes and not any(ours[len(floor_minutes):])

    def med(path: str, key: str) -> float:
        return statistics.median(r[key] for r in got[path])

    floor = med("floor", "seconds")
    return {
        "backend": backend,
        "events": n,
        "write_seconds": written,
        "series_seconds": med("series", "seconds"),
        "series_breakdown": {k: med("series", k) for k in ("read_seconds", "tally_seconds", "compute_seconds")},
        "series_peak_mb": max(r["peak_mb"] for r in series),
        "tick_seconds": med("series", "tick_seconds"),
        "read_only_seconds": med("read", "seconds"),
        "read_only_peak_mb": max(r["peak_mb"] for r in got["read"]),
        "floor_seconds": floor,
        "floor_peak_mb": max(r["peak_mb"] for r in got["floor"]),
        "ratio_to_floor": med("series", "seconds") / floor,
        "runs": {p: [round(r["seconds"], 3) for r in rs] for p, rs in got.items()},
        "minutes": series[0]["minutes"],
        "orders": series[0]["orders"],
        "gmv": series[0]["gmv"],
        "comments_match_floor": check,
        "meets_target": med("series", "seconds") <= TARGET_SECONDS and max(r["peak_mb"] for r in series) <= TARGET_MB,
    }


def table(results: list[dict[str, Any]]) -> str:
    lines = [f"{'backend':<11} {'events':>11} {'path':<44} {'seconds':>8} {'peak MB':>8} {'vs floor':>9}"]
    for r in results:
        floor = r["floor_seconds"]
        b = r["series_breakdown"]
        parts = f"  of which read {b['read_seconds']:.2f}, tally {b['tally_seconds']:.2f}, numpy {b['compute_seconds']:.2f}"
        rows = [
            ("series + metrics (Journal.scan → Tally → numpy)", r["series_seconds"], r["series_peak_mb"]),
            (parts, None, None),
            ("read only (Journal.scan)", r["read_only_seconds"], r["read_only_peak_mb"]),
            ("floor: SQL GROUP BY minute, type", floor, r["floor_peak_mb"]),
            ("one stats.tick on the cached tally", r["tick_seconds"], None),
        ]
        for path, seconds, mb in rows:
            s = "" if seconds is None else f"{seconds:.3f}"
            m = "" if mb is None else f"{mb:.0f}"
            ratio = "" if seconds is None or "tick" in path else f"{seconds / floor:.1f}x"
            lines.append(f"{r['backend']:<11} {r['events']:>11,} {path:<44} {s:>8} {m:>8} {ratio:>9}")
        lines.append(f"{'':<11} {'':>11} check: comments per minute equal the floor's: {r['comments_match_floor']}; "
                     f"{r['minutes']} minutes, {r['orders']:,} orders, gmv {r['gmv']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pg", help="PostgreSQL server URL (default: DATABASE_URL when it is PostgreSQL, "
                                     "else postgresql://postgres@127.0.0.1:5432/test if it answers)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--child", nargs=2, metavar=("PATH", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(asyncio.run(CHILDREN[args.child[0]](args.child[1]))))
        return 0
    if args.events < 100 or args.runs < 1:
        parser.error("need --events >= 100 and --runs >= 1")

    results = []
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(prefix="live-bench-") as folder:
            results.append(measure("sqlite", f"sqlite:///{folder}/series.db", args.events, args.runs))
    pg = None if args.no_pg else (pg_url_from(args) or "postgresql://postgres@127.0.0.1:5432/test")
    if pg:
        url, name = scratch_url(pg)
        try:
            asyncio.run(pg_admin(pg, f"CREATE DATABASE {name}"))
        except Exception as exc:  # noqa: BLE001 - no server: report SQLite alone
            print(f"  postgresql unavailable ({type(exc).__name__}): skipped", file=sys.stderr)
        else:
            try:
                results.append(measure("postgresql", url, args.events, args.runs))
            finally:
                asyncio.run(pg_admin(pg, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    report = {
        "benchmark": "minute series of a 3-hour show from the database",
        "events": args.events,
        "runs": args.runs,
        "targets": {"seconds": TARGET_SECONDS, "peak_mb": TARGET_MB},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),
        "results": results,
    }
    write_result(args.out, report, table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
