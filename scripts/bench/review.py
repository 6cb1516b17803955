"""The review of a 3-hour show with N journal events, from the database: cold
(from the journal) and stored (the tally kept when the show ended), beside a
plain SQL ``GROUP BY`` of the same events (the floor).

    python -m scripts.bench.review                       10 M events, SQLite and PostgreSQL
    python -m scripts.bench.review --events 1000000 --runs 3
    python -m scripts.bench.review --no-pg --cache /tmp/live-bench

Generating 10 M events takes minutes, so the show is kept between runs: a
SQLite file under ``--cache`` and a PostgreSQL database named after the
event count, each marked when complete (an interrupted generation is redone).
The show is ``scripts.bench.synthetic``'s: viewers joining and
leaving, comments, likes ticks, link clicks, flash-sale claims, shop orders
and returns, segment changes, and events the review ignores.

Each path runs in a fresh child process (its peak memory is its own) and
times ``GET /api/shows/bench/review`` through the app (auth, route, JSON):

- ``cold``: no stored tally: the journal read once into a ``Tally`` and the
  review's state, the review computed and its tally stored;
- ``stored``: the stored tally and state loaded, the (empty) rest of the
  journal caught up, the review computed; no journal replay;
- ``late order``: as ``stored`` after a shop order and a return arrive (what
  a back office sends the day after): the stored tally is behind by two events;
- the floor: ``SELECT (at - start) / 60000, type, count(*) … GROUP BY`` with
  the plain driver.

Prints a table and writes ``bench-results/review.json``. Targets (DESIGN.md
section 7): ≤ 2 s and ≤ 500 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from scripts.bench.harness import machine, peak_mb, write_result
from scripts.bench.journal import pg_admin, pg_url_from
from scripts.bench.synthetic import SHOW_ID, T0, floor_rows, write_show

OUT = Path("bench-results") / "review.json"
CACHE = Path("/tmp/live-bench")
TARGET_SECONDS, TARGET_MB = 2.0, 500
GENERATOR = "series.synthetic/2"  # bump when the synthetic show changes: cached ones are then rebuilt
MARK = "bench.generated"  # the settings row saying a cached show is complete


# -- the cached show ------------------------------------------------------------------------------


async def _mark(url: str) -> str | None:
    from sqlalchemy import select

    from live.adapters.db import open_database, settings

    engine = await open_database(url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(select(settings.c.value).where(settings.c.key == MARK))).scalar()
    finally:
        await engine.dispose()


async def _set_mark(url: str, value: str) -> None:
    from sqlalchemy import insert

    from live.adapters.db import open_database, settings

    engine = await open_database(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(settings).values(key=MARK, value=value))
    finally:
        await engine.dispose()


async def prepare(url: str, n: int) -> float:
    """The synthetic show of ``n`` events at ``url``, written unless a complete one
    is there; returns the seconds spent writing (0 when cached)."""
    want = f"{GENERATOR}:{n}"
    try:
        if await _mark(url) == want:
            return 0.0
    except Exception as exc:  # noqa: BLE001 - no such database yet, or an older layout: write it
        print(f"  no cached show at {url.split('@')[-1]} ({type(exc).__name__}): writing it", file=sys.stderr)
    written = await write_show(url, n)
    await _set_mark(url, want)
    return written


async def pg_database(server: str, n: int) -> str:
    """The URL of the cached PostgreSQL database for ``n`` events (created if missing)."""
    from sqlalchemy.engine import make_url

    name = f"live_bench_review_{n}"
    try:
        await pg_admin(server, f"CREATE DATABASE {name}")
    except Exception as exc:
        if "already exists" not in str(exc):
            raise
    return make_url(server).set(database=name).render_as_string(hide_password=False)


# -- the measured paths (each run in a child process) -------------------------------------------

ADMIN = "bench-admin-token"


def _settings(url: str) -> Any:
    from live.settings import Settings

    return Settings(database_url=url, admin_token=ADMIN, secret="bench", demo=False,
                    public_url="http://bench", print_links=False)


def child_review(url: str) -> dict[str, Any]:
    """``GET /api/shows/bench/review`` through the app, timed from request to answer."""
    from starlette.testclient import TestClient

    from server import create_app

    with TestClient(create_app(_settings(url))) as client:
        base_mb = peak_mb()
        began = time.perf_counter()
        r = client.get(f"/api/shows/{SHOW_ID}/review", headers={"Authorization": f"Bearer {ADMIN}"})
        seconds = time.perf_counter() - began
        if r.status_code != 200:
            raise SystemExit(f"review answered {r.status_code}: {r.text[:500]}")
        peak = peak_mb()
        stats = client.app.state.stats  # type: ignore[attr-defined]
        stored_before = client.portal.call(stats.store.seq, SHOW_ID)  # type: ignore[union-attr]
        client.portal.call(stats.close)  # type: ignore[union-attr]  # the store it started (not timed)
        stored_after = client.portal.call(stats.store.seq, SHOW_ID)  # type: ignore[union-attr]
        engine_rebuilt = client.app.state.hub.shows.loaded(SHOW_ID) is not None  # type: ignore[attr-defined]
    body = r.json()
    return {"seconds": seconds, "peak_mb": peak, "baseline_mb": base_mb, "bytes": len(r.content),
            "minutes": len(body["minutes"]), "orders": body["metrics"]["orders"], "gmv": body["metrics"]["gmv"],
            "returned_units": body["metrics"]["returned_units"], "comments": body["metrics"]["comments"],
            "stored_seq_before": stored_before, "stored_seq_after": stored_after, "engine_rebuilt": engine_rebuilt}


async def child_parts(url: str) -> dict[str, Any]:
    """Where a stored review's time goes: the row, decoding it, the numbers, the review's JSON."""
    from live.adapters.db import open_database
    from live.adapters.tallies import Tallies
    from stats import stored
    from stats.review import numbers, review

    engine = await open_database(url)
    try:
        t0 = time.perf_counter()
        got = await Tallies(engine).get(SHOW_ID)
        t1 = time.perf_counter()
        assert got is not None
        tally, state = stored.decode(got.data, SHOW_ID)
        t2 = time.perf_counter()
        minutes, figures = numbers(tally, None)
        t3 = time.perf_counter()
        json.dumps(review(state, minutes, figures))
        t4 = time.perf_counter()
    finally:
        await engine.dispose()
    return {"seconds": t4 - t0, "read_row": t1 - t0, "decode": t2 - t1, "numbers": t3 - t2, "review_json": t4 - t3,
            "blob_mb": len(got.data) / 2**20, "peak_mb": peak_mb()}


async def child_floor(url: str) -> dict[str, Any]:
    began = time.perf_counter()
    rows = await floor_rows(url)
    comments = sum(int(count) for _, kind, count in rows if kind == "comment.new")
    return {"seconds": time.perf_counter() - began, "peak_mb": peak_mb(), "groups": len(rows), "comments": comments}


def in_child(path: str, url: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "scripts.bench.review", "--child", path, url],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the {path} child failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_child(path: str, url: str) -> dict[str, Any]:
    if path == "review":
        return child_review(url)
    if path == "parts":
        return asyncio.run(child_parts(url))
    return asyncio.run(child_floor(url))


# -- what the parent changes between runs -------------------------------------------------------

LATE = 2  # a shop order and a return the day after


async def _sql(url: str, *statements: tuple[str, dict[str, Any]]) -> None:
    from sqlalchemy import text

    from live.adapters.db import open_database

    engine = await open_database(url)
    try:
        async with engine.begin() as conn:
            for sql, params in statements:
                await conn.execute(text(sql), params)
    finally:
        await engine.dispose()


def forget_stored(url: str) -> None:
    asyncio.run(_sql(url, ("DELETE FROM tallies WHERE show_id = :id", {"id": SHOW_ID})))


def late_events(url: str, n: int, add: bool) -> None:
    """Append (or take back) a late order and a return after the show's last event."""
    day = T0 + 27 * 3_600_000
    order = json.dumps({"order_id": "late-1", "sku": "B2", "qty": 2, "amount": "258.00", "viewer_id": None,
                        "placed_at": day - 60_000, "source": "csv"})
    back = json.dumps({"order_id": "late-1", "qty": 1, "returned_at": day, "source": "csv"})
    insert = "INSERT INTO events (show_id, seq, type, at, data) VALUES (:id, :seq, :type, :at, :data)"
    if add:
        asyncio.run(_sql(url, (insert, {"id": SHOW_ID, "seq": n + 1, "type": "order.placed", "at": day, "data": order}),
                         (insert, {"id": SHOW_ID, "seq": n + 2, "type": "order.returned", "at": day, "data": back}),
                         ("UPDATE shows SET last_seq = :n WHERE id = :id", {"id": SHOW_ID, "n": n + LATE})))
    else:
        asyncio.run(_sql(url, ("DELETE FROM events WHERE show_id = :id AND seq > :n", {"id": SHOW_ID, "n": n}),
                         ("UPDATE shows SET last_seq = :n WHERE id = :id", {"id": SHOW_ID, "n": n}),
                         ("DELETE FROM tallies WHERE show_id = :id", {"id": SHOW_ID})))


# -- running --------------------------------------------------------------------------------------


def measure(backend: str, url: str, n: int, runs: int) -> dict[str, Any]:
    written = asyncio.run(prepare(url, n))
    print(f"  {backend}: {n:,} events " + (f"written in {written:.0f} s" if written else "(cached)"),
          file=sys.stderr, flush=True)
    late_events(url, n, add=False)  # a run cut short may have left them
    got: dict[str, list[dict[str, Any]]] = {"cold": [], "stored": [], "late": [], "parts": [], "floor": []}
    for run in range(runs):
        forget_stored(url)
        got["cold"].append(in_child("review", url))  # stores the tally it built
        got["stored"].append(in_child("review", url))
        got["parts"].append(in_child("parts", url))
        late_events(url, n, add=True)
        got["late"].append(in_child("review", url))  # two events behind: caught up, stored again
        late_events(url, n, add=False)
        got["floor"].append(in_child("floor", url))
        print(f"  {backend} run {run + 1}/{runs}: " + ", ".join(
            f"{p} {got[p][-1]['seconds']:.2f} s" for p in ("cold", "stored", "late", "floor")), file=sys.stderr,
            flush=True)

    def med(path: str, key: str = "seconds") -> float:
        return statistics.median(r[key] for r in got[path])

    def peak(path: str) -> float:
        return max(r["peak_mb"] for r in got[path])

    floor = med("floor")
    cold, stored_, late = got["cold"][0], got["stored"][0], got["late"][0]
    same = all(cold[k] == stored_[k] for k in ("minutes", "orders", "gmv", "returned_units", "comments"))
    return {
        "backend": backend,
        "events": n,
        "write_seconds": written or None,
        "paths": {p: {"seconds": med(p), "peak_mb": peak(p), "runs": [round(r["seconds"], 3) for r in got[p]]}
                  for p in got},
        "stored_parts": {k: med("parts", k) for k in ("read_row", "decode", "numbers", "review_json", "blob_mb")},
        "baseline_mb": med("stored", "baseline_mb"),
        "floor_seconds": floor,
        "stored_ratio_to_floor": med("stored") / floor,
        "cold_ratio_to_floor": med("cold") / floor,
        "stored_equals_cold": same,
        "late_caught_up": late["orders"] == cold["orders"] + 1 and late["returned_units"] == cold["returned_units"] + 1,
        "comments_match_floor": cold["comments"] == got["floor"][0]["comments"],
        "stored_without_engine": not any(r["engine_rebuilt"] for r in got["stored"] + got["late"]),
        "stored_after_cold": cold["stored_seq_after"] == n,
        "restored_after_late": late["stored_seq_after"] == n + LATE,
        "meets_target": med("stored") <= TARGET_SECONDS and peak("stored") <= TARGET_MB,
        "minutes": cold["minutes"],
        "orders": cold["orders"],
        "gmv": cold["gmv"],
    }


def table(results: list[dict[str, Any]]) -> str:
    lines = [f"{'backend':<11} {'events':>11} {'path':<52} {'seconds':>8} {'peak MB':>8} {'vs floor':>9}"]
    names = {"cold": "review, cold (journal → tally + state; stores it)",
             "stored": "review, stored (the stored tally; no replay)",
             "late": "review, stored + 2 late events caught up",
             "floor": "floor: SQL GROUP BY minute, type"}
    for r in results:
        floor = r["floor_seconds"]
        for path, label in names.items():
            p = r["paths"][path]
            lines.append(f"{r['backend']:<11} {r['events']:>11,} {label:<52} {p['seconds']:>8.3f} "
                         f"{p['peak_mb']:>8.0f} {p['seconds'] / floor:>8.2f}x")
        s = r["stored_parts"]
        lines.append(f"{'':<11} {'':>11}   stored: row {s['read_row']:.2f} s ({s['blob_mb']:.0f} MB), decode "
                     f"{s['decode']:.2f}, numbers {s['numbers']:.2f}, JSON {s['review_json']:.2f}; "
                     f"app baseline {r['baseline_mb']:.0f} MB")
        checks = ("stored_equals_cold", "late_caught_up", "comments_match_floor", "stored_without_engine",
                  "stored_after_cold", "restored_after_late")
        lines.append(f"{'':<11} {'':>11}   checks: " + ", ".join(f"{c} {r[c]}" for c in checks)
                     + f"; {r['minutes']} minutes, {r['orders']:,} orders, gmv {r['gmv']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=CACHE, help="where the generated SQLite show is kept")
    parser.add_argument("--pg", help="PostgreSQL server URL (default: DATABASE_URL when it is PostgreSQL, "
                                     "else postgresql://postgres@127.0.0.1:5432/test if it answers)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--child", nargs=2, metavar=("PATH", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_child(*args.child)))
        return 0
    if args.events < 100 or args.runs < 1:
        parser.error("need --events >= 100 and --runs >= 1")

    results = []
    if not args.no_sqlite:
        args.cache.mkdir(parents=True, exist_ok=True)
        results.append(measure("sqlite", f"sqlite:///{args.cache}/review-{args.events}.db", args.events, args.runs))
    server = None if args.no_pg else (pg_url_from(args) or "postgresql://postgres@127.0.0.1:5432/test")
    if server:
        try:
            url = asyncio.run(pg_database(server, args.events))
        except Exception as exc:  # noqa: BLE001 - no server: report SQLite alone
            print(f"  postgresql unavailable ({type(exc).__name__}): skipped", file=sys.stderr)
        else:
            results.append(measure("postgresql", url, args.events, args.runs))
    report = {
        "benchmark": "review of a 3-hour show from the database: cold, stored, stored + late events",
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
