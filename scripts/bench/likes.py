"""Likes ingested by one process for a minute, counts exact (README, "Benchmarks").

    python -m scripts.bench.likes                     5,000 viewers × 10 likes/s for 60 s, 3 runs
    python -m scripts.bench.likes --viewers 1000 --seconds 10 --runs 1

Target: ≥ 50,000 like messages a second for 60 s, and the count exact: the
likes the journal holds (the ``added`` of its ``likes.tick`` events), the
show's state (``GET /state``) and the review (``metrics.likes``) all equal
the likes sent minus those the server said it refused (an ``error`` naming
them; a viewer may add 20 a second).

The server is ``python server.py`` on a temporary SQLite journal, pinned
to core 0; viewers register over HTTP and ``--clients`` Node load clients
(``node/viewers.js``, pinned to core 1) open their sockets from loopback
source addresses 127.0.x.y (50 a source) and say hello. Each socket then
sends ``{"type": "like", "count": 1}`` ``--rate`` times a second (a tick's
frames written together), spread over the second. A run's figure is the
likes accepted over the time from the first sent to the last the server
counted (once it fell behind, after the sending stopped); a socket whose
send buffer backs up (the server not reading) skips its turn. Likes that
arrive bunched (a server that fell behind reads a socket's backlog at once)
go over a viewer's 20 a second: the server refuses them in an error frame,
and the count must still be exact. ``late`` counts the client's slices
that began after their time (the client, not the server, the limit).

The floor, same client, same run: ``floor_server.py --sink``, a bare
``websockets`` server that parses each message and counts it. Both get the
same offered load; the ratio is of server CPU per like (the rates are equal
while both keep up). Prints a table and writes ``bench-results/likes.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx

from scripts.bench.fanout import pinned, start_floor
from scripts.bench.harness import (
    ADMIN_HEADERS,
    NodeViewers,
    cpu_seconds,
    create_show,
    free_port,
    machine,
    median_runs,
    register,
    run_bench,
    start_server,
    stop_server,
    wait_up,
)
from scripts.bench.hold import close_all, open_spread

OUT = Path("bench-results") / "likes.json"
TARGET_PER_S = 50_000


def journaled_likes(db_path: Path, sid: str) -> int:
    """The likes the journal holds for the show: the sum of its ticks' ``added``."""
    with sqlite3.connect(db_path) as db:
        row = db.execute("SELECT coalesce(sum(json_extract(data, '$.added')), 0) FROM events "
                         "WHERE show_id = ? AND type = 'likes.tick'", (sid,)).fetchone()
    return int(row[0])


async def settled_total(admin: httpx.AsyncClient, sid: str) -> tuple[int, float]:
    """The show's like total once it has not moved for 2 s (a tick is ≤ 250 ms
    away: the server has read and journaled every like); returns it and the
    monotonic time it last moved."""
    last, still_since = -1, time.monotonic()
    while True:
        r = await admin.get(f"/api/shows/{sid}/state")
        r.raise_for_status()
        total = int(r.json()["likes"]["total"])
        if total != last:
            last, still_since = total, time.monotonic()
        elif time.monotonic() - still_since > 2:
            return total, still_since
        await asyncio.sleep(0.1)


async def refused(clients: list[NodeViewers]) -> tuple[int, int]:
    """The likes the server's error frames said it did not count, and the sockets
    it closed, over the clients."""
    answers = await asyncio.gather(*(c.call({"cmd": "refused"}) for c in clients))
    counts = await asyncio.gather(*(c.call({"cmd": "count"}) for c in clients))
    return sum(int(a["n"]) for a in answers), sum(int(c["closed"]) for c in counts)


async def send_likes(clients: list[NodeViewers], args: argparse.Namespace) -> dict[str, float]:
    """Every client's sockets send likes at once; returns the sums (seconds: the longest)."""
    answers = await asyncio.gather(*(c.call({"cmd": "likes", "seconds": args.seconds, "rate": args.rate})
                                     for c in clients))
    return {"sent": sum(a["sent"] for a in answers), "skipped": sum(a["skipped"] for a in answers),
            "late": sum(a["late"] for a in answers),
            "seconds": max(a["seconds"] for a in answers),
            "client_cpu_s": sum(a["cpu_ms"] for a in answers) / 1000}


async def server_run(args: argparse.Namespace, core: tuple[int | None, int | None]) -> dict[str, float]:
    """One run on a fresh server; returns its figures. Raises SystemExit on a failure."""
    tmp = Path(tempfile.mkdtemp(prefix="live-bench-likes-"))
    db_path = tmp / "live.db"
    port = free_port()
    proc = start_server(db_path, port, core[0], args.profile)
    base = f"http://127.0.0.1:{port}"
    clients: list[NodeViewers] = []
    try:
        await wait_up(base, proc)
        sid = await create_show(base)
        tokens = await register(base, sid, args.viewers)
        clients = await open_spread(f"ws://127.0.0.1:{port}/ws/shows/{sid}", args.viewers,
                                    -(-args.viewers // args.clients), core[1], tokens)
        await asyncio.gather(*(c.call({"cmd": "quiet", "ms": 500}) for c in clients))
        cpu0, began = cpu_seconds(proc.pid), time.monotonic()
        sent = await send_likes(clients, args)
        async with httpx.AsyncClient(base_url=base, headers=ADMIN_HEADERS, trust_env=False, timeout=60) as admin:
            state_total, moved = await settled_total(admin, sid)
            # A server that fell behind reads the last likes after the sending
            # stopped: its rate is over the time until it had them all.
            ingest_s = max(float(sent["seconds"]), moved - began)
            cpu = cpu_seconds(proc.pid) - cpu0  # what it took to read them all
            sent["refused"], closed = await refused(clients)
            # A socket the server closed (over the message rate: a server that fell
            # behind reads a socket's backlog at once) loses what was in flight on
            # it: then only the server's own counts can be compared.
            accepted = int(sent["sent"]) - int(sent["refused"])
            r = await admin.get(f"/api/shows/{sid}/review")
            r.raise_for_status()
            review_total = int(r.json()["metrics"]["likes"])
        journal_total = journaled_likes(db_path, sid)
        consistent = state_total == journal_total == review_total
        exact = consistent and state_total == accepted
        out = {"sent": float(sent["sent"]), "skipped": float(sent["skipped"]), "refused": float(sent["refused"]),
               "accepted": float(accepted), "state_total": float(state_total), "journal_total": float(journal_total),
               "review_total": float(review_total), "closed": float(closed), "consistent": float(consistent), "exact": float(exact), "seconds": float(sent["seconds"]),
               "ingest_seconds": ingest_s, "per_s": state_total / ingest_s, "server_cpu_s": cpu,
               "server_us_per_like": cpu / max(1, state_total) * 1e6, "client_cpu_s": sent["client_cpu_s"],
               "late": float(sent["late"])}
        print(f"  server.py: {out}", file=sys.stderr, flush=True)
        return out
    finally:
        await close_all(clients)
        stop_server(proc)
        shutil.rmtree(tmp, ignore_errors=True)


async def floor_run(args: argparse.Namespace, core: tuple[int | None, int | None]) -> dict[str, float]:
    """The same load on ``floor_server.py --sink``; returns its figures."""
    port = free_port()
    floor = await start_floor(pinned([sys.executable, "-m", "scripts.bench.floor_server", str(port), "--sink",
                                      "--loop", args.floor_loop], core[0]))
    clients: list[NodeViewers] = []
    try:
        clients = await open_spread(f"ws://127.0.0.1:{port}/", args.viewers, -(-args.viewers // args.clients),
                                    core[1])
        cpu0 = cpu_seconds(floor.pid)
        sent = await send_likes(clients, args)
        n, last = -1, -2
        while n != last:  # until it read every message
            last = n
            await asyncio.sleep(1)
            counted = await clients[0].call({"cmd": "ask", "send": json.dumps({"type": "count"}), "match": "count"})
            n = int(counted["answer"]["n"]) if counted["answer"] else -1
        cpu = cpu_seconds(floor.pid) - cpu0
        out = {"sent": float(sent["sent"]), "accepted": float(n), "exact": float(n == sent["sent"]),
               "seconds": float(sent["seconds"]), "per_s": n / float(sent["seconds"]), "server_cpu_s": cpu,
               "server_us_per_like": cpu / max(1, n) * 1e6, "client_cpu_s": sent["client_cpu_s"],
               "late": float(sent["late"])}
        print(f"  floor: {out}", file=sys.stderr, flush=True)
        return out
    finally:
        await close_all(clients)
        floor.terminate()
        await floor.wait()


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    core = (0, 1) if args.pin else (None, None)
    server: list[dict[str, float]] = []
    floor: list[dict[str, float]] = []
    for n in range(args.runs):
        print(f"likes run {n + 1}/{args.runs}", file=sys.stderr, flush=True)
        server.append(await server_run(args, core))
        floor.append(await floor_run(args, core))
    s, f = median_runs(server), median_runs(floor)
    exact = all(r["exact"] for r in server)
    return {
        "bench": "likes",
        "viewers": args.viewers,
        "rate_per_viewer": args.rate,
        "offered_per_s": args.viewers * args.rate,
        "seconds": args.seconds,
        "runs": {"server.py": server, "floor: websockets sink": floor},
        "median": {"server.py": s, "floor: websockets sink": f},
        "cpu_ratio_to_floor": s["server_us_per_like"] / f["server_us_per_like"],
        "counts_exact": exact,
        "target_per_s": TARGET_PER_S,
        "meets_target": exact and s["per_s"] >= TARGET_PER_S,
        "pinned": bool(args.pin and shutil.which("taskset")),
        "machine": machine(),
    }


def table(result: dict[str, Any]) -> str:
    s, f = result["median"]["server.py"], result["median"]["floor: websockets sink"]
    lines = [
        (f"likes: {result['viewers']} sockets × {result['rate_per_viewer']}/s offered "
         f"({result['offered_per_s']:,}/s) for {result['seconds']} s (median of {len(result['runs']['server.py'])} runs)"),
        f"{'':26}{'likes/s':>10}{'µs CPU/like':>13}{'1 core takes':>14}{'client CPU s':>14}",
        (f"{'server.py':26}{s['per_s']:>10,.0f}{s['server_us_per_like']:>13.1f}"
         f"{1e6 / s['server_us_per_like']:>14,.0f}{s['client_cpu_s']:>14.1f}"),
        (f"{'floor: websockets sink':26}{f['per_s']:>10,.0f}{f['server_us_per_like']:>13.1f}"
         f"{1e6 / f['server_us_per_like']:>14,.0f}{f['client_cpu_s']:>14.1f}"),
        "counts (sent − refused / state / journal / review; sockets the server closed) per run: " + ", ".join(
            f"{r['accepted']:.0f}/{r['state_total']:.0f}/{r['journal_total']:.0f}/{r['review_total']:.0f}; "
            f"{r['closed']:.0f}" for r in result["runs"]["server.py"]),
        f"target ≥ {TARGET_PER_S:,}/s, counts exact: {'met' if result['meets_target'] else 'NOT met'}",
    ]
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--viewers", type=int, default=5_000)
    p.add_argument("--rate", type=int, default=10, help="likes a second per socket (a viewer may add 20)")
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--clients", type=int, default=2, help="load client processes the sockets are spread over")
    p.add_argument("--runs", type=int, default=3)
    # The floor runs on the loop server.py runs on (uvicorn's "auto": uvloop when installed).
    p.add_argument("--floor-loop", choices=("asyncio", "uvloop"),
                   default="uvloop" if importlib.util.find_spec("uvloop") else "asyncio")
    p.add_argument("--no-pin", dest="pin", action="store_false")
    p.add_argument("--profile", metavar="FILE", help="run server.py under cProfile, stats to FILE")
    p.add_argument("--out", type=Path, default=OUT)
    return p


def main() -> None:
    args = parser().parse_args()
    run_bench(args, bench, table)


if __name__ == "__main__":
    main()
