"""Journal write throughput (events/s), beside the raw-driver floor measured in the same run.

    python -m scripts.bench.journal                       SQLite only
    python -m scripts.bench.journal --pg postgresql://postgres@127.0.0.1:5432/test
    DATABASE_URL=postgresql://… python -m scripts.bench.journal

Appends ``--events`` events in batches of ``--batch`` (one transaction each,
the show's row updated in it, as the engine does) through ``live.adapters.journal``;
the floor appends the same events the same way with the plain driver
(``sqlite3`` / ``asyncpg`` ``executemany``), no SQLAlchemy. Both encode the
event JSON inside the timed loop. Each run starts from empty tables; runs of
the two paths alternate, and the median of ``--runs`` is reported.

PostgreSQL runs in a scratch database (``live_bench_…``) created on the given
server and dropped afterwards: the database named in the URL is never written.
Targets (README, "Benchmarks"): ≥ 100k events/s on SQLite, ≥ 200k/s on PostgreSQL.
Prints a table and writes ``bench-results/journal.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy.engine import make_url

from live.adapters.db import metadata, open_database
from live.adapters.journal import PG_PATHS, Journal

TARGETS = {"sqlite": 100_000, "postgresql": 200_000}
T0 = 1_700_000_000_000
OUT = Path("bench-results") / "journal.json"

# The floor's SQL: the journal's table, written directly.
INSERT_QMARK = "INSERT INTO events (show_id, seq, type, at, data) VALUES (?, ?, ?, ?, ?)"
INSERT_DOLLAR = "INSERT INTO events (show_id, seq, type, at, data) VALUES ($1, $2, $3, $4, $5)"
SHOW_QMARK = "UPDATE shows SET last_seq = ? WHERE id = ?"
SHOW_DOLLAR = "UPDATE shows SET last_seq = $1 WHERE id = $2"
SHOW_ID = "bench"

Event = dict[str, Any]


@dataclass
class Result:
    backend: str
    path: str
    batch: int  # events per transaction
    floor: bool  # the plain-driver floor, not the journal
    median_events_per_s: float
    runs_events_per_s: list[float]
    target_events_per_s: int | None


def make_events(count: int, seed: int = 7) -> list[Event]:
    """A show's mix: mostly like/viewer ticks, some comments (Chinese text) and
    rundown events. Seqs 2… (seq 1 is show.created)."""
    rng = random.Random(seed)
    out: list[Event] = []
    total = 0
    for i in range(count):
        seq, at = i + 2, T0 + i * 50
        roll = rng.random()
        if roll < 0.5:
            n = rng.randint(1, 400)
            total += n
            out.append({"type": "likes.tick", "seq": seq, "at": at, "count": n, "total": total})
        elif roll < 0.8:
            out.append({"type": "viewers.tick", "seq": seq, "at": at, "now": rng.randint(100, 20_000)})
        elif roll < 0.98:
            out.append(
                {
                    "type": "comment.new",
                    "seq": seq,
                    "at": at,
                    "comment_id": f"c{seq}",
                    "viewer": f"{rng.getrandbits(48):012x}",
                    "nickname": "小王",
                    "text": "这个精华适合油皮吗？",
                }
            )
        else:
            out.append(
                {
                    "type": "segment.extended",
                    "seq": seq,
                    "at": at,
                    "index": rng.randint(0, 9),
                    "seconds": 60,
                    "extended_seconds": 60,
                }
            )
    return out


def created() -> Event:
    return {
        "type": "show.created",
        "seq": 1,
        "at": T0,
        "show": {"id": SHOW_ID, "title": "bench"},
        "products": [],
        "segments": [],
    }


def encoder() -> Callable[[Any], str]:
    return json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def floor_rows(encode: Callable[[Any], str], batch: list[Event]) -> list[tuple[str, int, str, int, str]]:
    rows = []
    for e in batch:
        data = {k: v for k, v in e.items() if k not in ("type", "seq", "at")}
        rows.append((SHOW_ID, e["seq"], e["type"], e["at"], encode(data)))
    return rows


# -- the journal (SQLAlchemy) -------------------------------------------------------


async def reset_tables(url: str) -> None:
    engine = await open_database(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
    await engine.dispose()


async def journal_run(url: str, events: list[Event], batch: int, pg_path: str = "copy") -> float:
    """Seconds to append ``events`` through ``live.adapters.journal`` (PostgreSQL
    batches by ``pg_path``) into empty tables."""
    await reset_tables(url)
    engine = await open_database(url)
    try:
        journal = Journal(engine, pg_path)
        await journal.create_show(SHOW_ID, "bench", "ov_bench", created())
        started = time.perf_counter()
        for i in range(0, len(events), batch):
            await journal.append(SHOW_ID, events[i : i + batch])
        elapsed = time.perf_counter() - started
        row = await journal.show_row(SHOW_ID)
        assert row is not None and row.last_seq == events[-1]["seq"]
        return elapsed
    finally:
        await engine.dispose()


# -- the floors (plain drivers) -------------------------------------------------------


async def sqlite_floor_run(url: str, events: list[Event], batch: int) -> float:
    await reset_tables(url)
    path = make_url(url).database
    assert path
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")  # the journal's settings (live/adapters/db.py)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(SHOW_ROW_SQLITE, (SHOW_ID, "draft", T0, 1))
        encode = encoder()
        started = time.perf_counter()
        for i in range(0, len(events), batch):
            rows = floor_rows(encode, events[i : i + batch])
            conn.execute("BEGIN")
            conn.executemany(INSERT_QMARK, rows)
            conn.execute(SHOW_QMARK, (rows[-1][1], SHOW_ID))
            conn.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        conn.close()


# the shows row of the benchmark's show (columns named: the table grows)
SHOW_ROW_SQLITE = ("INSERT INTO shows (id, title, status, overlay_key, created_at, last_seq) "
                   "VALUES (?, 'bench', ?, 'k', ?, ?)")
SHOW_ROW_PG = ("INSERT INTO shows (id, title, status, overlay_key, created_at, last_seq) "
               "VALUES ($1, 'bench', $2, 'k', $3, $4)")


def asyncpg_dsn(url: str) -> str:
    u = make_url(url).set(drivername="postgresql")
    return u.render_as_string(hide_password=False)


async def pg_floor_run(url: str, events: list[Event], batch: int) -> float:
    import asyncpg  # type: ignore[import-untyped]

    await reset_tables(url)
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.execute(SHOW_ROW_PG, SHOW_ID, "draft", T0, 1)
        encode = encoder()
        started = time.perf_counter()
        for i in range(0, len(events), batch):
            rows = floor_rows(encode, events[i : i + batch])
            async with conn.transaction():
                await conn.executemany(INSERT_DOLLAR, rows)
                await conn.execute(SHOW_DOLLAR, rows[-1][1], SHOW_ID)
        return time.perf_counter() - started
    finally:
        await conn.close()


# -- PostgreSQL scratch database -------------------------------------------------------


async def pg_admin(url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def scratch_url(url: str) -> tuple[str, str]:
    name = f"live_bench_{secrets.token_hex(4)}"
    return make_url(url).set(database=name).render_as_string(hide_password=False), name


# -- running --------------------------------------------------------------------------


async def measure(
    backend: str,
    url: str,
    floor: Callable[[str, list[Event], int], Awaitable[float]],
    floor_name: str,
    events: list[Event],
    batch: int,
    runs: int,
    target: int | None,
    pg_paths: list[str],
) -> list[Result]:
    """The journal (each of ``pg_paths`` on PostgreSQL) and the floor, runs
    interleaved; returns one Result each."""
    paths = pg_paths if backend == "postgresql" else ["copy"]  # SQLite has one path
    rates: dict[str, list[float]] = {p: [] for p in [*paths, "floor"]}
    for run in range(runs):
        # Rotate which goes first so drift in the machine's load hits all alike.
        order = [*paths, "floor"]
        order = order[run % len(order):] + order[:run % len(order)]
        for name in order:
            if name == "floor":
                seconds = await floor(url, events, batch)
            else:
                seconds = await journal_run(url, events, batch, name)
            rates[name].append(len(events) / seconds)
        line = ", ".join(f"{n} {r[-1]:,.0f}/s" for n, r in rates.items())
        print(f"  {backend} batch {batch} run {run + 1}/{runs}: {line}", file=sys.stderr, flush=True)
    out = [Result(backend, f"journal ({p})" if backend == "postgresql" else "journal", batch, False,
                  statistics.median(rates[p]), [round(r) for r in rates[p]], target) for p in paths]
    out.append(Result(backend, floor_name, batch, True, statistics.median(rates["floor"]),
                      [round(r) for r in rates["floor"]], None))
    return out


async def measure_backend(
    backend: str,
    url: str,
    floor: Callable[[str, list[Event], int], Awaitable[float]],
    floor_name: str,
    args: argparse.Namespace,
) -> list[Result]:
    """Big batches (the target), then one event per transaction: what a single
    command costs today, since the engine writes each command's events at once."""
    paths = list(args.pg_paths)
    results = await measure(
        backend, url, floor, floor_name, make_events(args.events), args.batch, args.runs, TARGETS[backend], paths
    )
    if args.single:
        results += await measure(backend, url, floor, floor_name, make_events(args.single), 1, args.runs, None,
                                 paths[:1])
    return results


def pg_url_from(args: argparse.Namespace) -> str | None:
    if args.pg:
        return str(args.pg)
    env = os.environ.get("DATABASE_URL", "")
    return env if env.startswith(("postgresql", "postgres")) else None


async def run_all(args: argparse.Namespace) -> list[Result]:
    results: list[Result] = []
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(prefix="live-bench-") as folder:
            url = f"sqlite:///{folder}/journal.db"
            results += await measure_backend("sqlite", url, sqlite_floor_run, "floor: sqlite3 executemany", args)
    pg = pg_url_from(args)
    if pg:
        url, name = scratch_url(pg)
        await pg_admin(pg, f"CREATE DATABASE {name}")
        try:
            results += await measure_backend("postgresql", url, pg_floor_run, "floor: asyncpg executemany", args)
        finally:
            await pg_admin(pg, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return results


def table(results: list[Result]) -> str:
    head = f"{'backend':<11} {'path':<28} {'batch':>6} {'events/s (median)':>18} {'target':>9} {'vs floor':>9}  runs"
    lines = [head]
    floors = {(r.backend, r.batch): r.median_events_per_s for r in results if r.floor}
    for r in results:
        target = f"{r.target_events_per_s:,}" if r.target_events_per_s else ""
        ratio = "" if r.floor else f"{r.median_events_per_s / floors[(r.backend, r.batch)]:.2f}x"
        runs = ", ".join(f"{x:,}" for x in r.runs_events_per_s)
        lines.append(
            f"{r.backend:<11} {r.path:<28} {r.batch:>6} {r.median_events_per_s:>18,.0f} {target:>9} {ratio:>9}  {runs}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1_000, help="events per transaction")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--single", type=int, default=2_000, help="events appended one per transaction (0: skip)")
    parser.add_argument("--pg", help="PostgreSQL server URL (default: DATABASE_URL when it is PostgreSQL)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--pg-paths", type=lambda v: v.split(","), default=list(PG_PATHS),
                        help=f"PostgreSQL write paths of the journal to measure, comma-separated ({','.join(PG_PATHS)})")
    parser.add_argument("--cpu", type=int, help="pin this process to one CPU (the database server keeps the others)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if args.events < args.batch or args.batch < 1 or args.runs < 1:
        parser.error("need --events >= --batch >= 1 and --runs >= 1")
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})

    results = asyncio.run(run_all(args))
    print(table(results))
    report = {
        "benchmark": "journal writes",
        "events": args.events,
        "batch": args.batch,
        "single_events": args.single,
        "runs": args.runs,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "cpus": os.cpu_count(),
            "pinned_cpu": args.cpu,
            "platform": platform.platform(),
            "python": platform.python_version(),
            "sqlalchemy": sqlalchemy.__version__,
            "sqlite": sqlite3.sqlite_version,
        },
        "results": [
            asdict(r)
            | {
                "meets_target": None
                if r.target_events_per_s is None
                else r.median_events_per_s >= r.target_events_per_s
            }
            for r in results
        ],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
