"""Likes ingested by one process for a minute, counts exact (README, "Benchmarks").

    python -m scripts.bench.likes                     5,000 viewers × 10 likes/s for 60 s, 3 runs
    python -m scripts.bench.likes --viewers 1000 --seconds 10 --runs 1

Target: ≥ 50,000 like messages a second for 60 s, and the count exact: the
likes the journal holds (the ``added`` of its ``likes.tick`` events), the
show's state (``GET /state``) and the review (``metrics.likes``) all equal
the likes sent minus those the server said it refused (an ``error`` naming
them; a viewer may add 20 a second).

The server is ``python server.py`` on a temporary SQLite journal, pinned
to core 0; viewers register over HTTP and the Node load client
(``node/viewers.js``, pinned to core 1) opens their sockets from loopback
source addresses 127.0.x.y (50 a source) and says hello. Each socket then
sends ``{"type": "like", "count": 1}`` ``--rate`` times a second, spread
over the second. A run's figure is the likes accepted over the seconds it
took to send them; a socket whose send buffer backs up (the server not
reading) skips its turn, so an overloaded server shows as fewer likes sent.

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
    SOCKETS_PER_ADDRESS,
    NodeViewers,
    cpu_seconds,
    create_show,
    free_port,
    machine,
    median_runs,
    node_available,
    pin_to_core,
    register,
    start_server,
    stop_server,
    wait_up,
    write_result,
)

OUT = Path("bench-results") / "likes.json"
TARGET_PER_S = 50_000


def journaled_likes(db_path: Path, sid: str) -> int:
    """The likes the journal holds for the show: the sum of its ticks' ``added``."""
    with sqlite3.connect(db_path) as db:
        row = db.execute("SELECT coalesce(sum(json_extract(data, '$.added')), 0) FROM events "
                         "WHERE show_id = ? AND type = 'likes.tick'", (sid,)).fetchone()
    return int(row[0])


async def settled_total(admin: httpx.AsyncClient, sid: str, expected: int) -> int:
    """The show's like total once it reached ``expected`` or stopped moving for 2 s
    (the last tick is ≤ 250 ms away); returns it."""
    last, still_since = -1, time.monotonic()
    while True:
        r = await admin.get(f"/api/shows/{sid}/state")
        r.raise_for_status()
        total = int(r.json()["likes"]["total"])
        if total == expected:
            await asyncio.sleep(0.5)  # a tick journals what the state shows: let it land
            return total
        if total != last:
            last, still_since = total, time.monotonic()
        elif time.monotonic() - still_since > 2:
            return total
        await asyncio.sleep(0.1)


async def server_run(args: argparse.Namespace, core: tuple[int | None, int | None]) -> dict[str, float]:
    """One run on a fresh server; returns its figures. Raises SystemExit on a failure."""
    tmp = Path(tempfile.mkdtemp(prefix="live-bench-likes-"))
    db_path = tmp / "live.db"
    port = free_port()
    proc = start_server(db_path, port, core[0], args.profile)
    base = f"http://127.0.0.1:{port}"
    client: NodeViewers | None = None
    try:
        await wait_up(base, proc)
        sid = await create_show(base)
        tokens = await register(base, sid, args.viewers)
        client = await NodeViewers.start(core[1])
        await client.call({"cmd": "open", "url": f"ws://127.0.0.1:{port}/ws/shows/{sid}", "tokens": tokens,
                           "per_address": SOCKETS_PER_ADDRESS})
        await client.call({"cmd": "quiet", "ms": 500})
        cpu0 = cpu_seconds(proc.pid)
        sent = await client.call({"cmd": "likes", "seconds": args.seconds, "rate": args.rate})
        cpu = cpu_seconds(proc.pid) - cpu0
        accepted = int(sent["sent"]) - int(sent["refused"])
        async with httpx.AsyncClient(base_url=base, headers=ADMIN_HEADERS, trust_env=False, timeout=60) as admin:
            state_total = await settled_total(admin, sid, accepted)
            r = await admin.get(f"/api/shows/{sid}/review")
            r.raise_for_status()
            review_total = int(r.json()["metrics"]["likes"])
        journal_total = journaled_likes(db_path, sid)
        exact = state_total == journal_total == review_total == accepted
        out = {"sent": float(sent["sent"]), "skipped": float(sent["skipped"]), "refused": float(sent["refused"]),
               "accepted": float(accepted), "state_total": float(state_total), "journal_total": float(journal_total),
               "review_total": float(review_total), "exact": float(exact), "seconds": float(sent["seconds"]),
               "per_s": accepted / float(sent["seconds"]), "server_cpu_s": cpu,
               "server_us_per_like": cpu / max(1, accepted) * 1e6}
        print(f"  server.py: {out}", file=sys.stderr, flush=True)
        return out
    finally:
        if client is not None:
            await client.close()
        stop_server(proc)
        shutil.rmtree(tmp, ignore_errors=True)


async def floor_run(args: argparse.Namespace, core: tuple[int | None, int | None]) -> dict[str, float]:
    """The same load on ``floor_server.py --sink``; returns its figures."""
    port = free_port()
    floor = await start_floor(pinned([sys.executable, "-m", "scripts.bench.floor_server", str(port), "--sink",
                                      "--loop", args.floor_loop], core[0]))
    client = await NodeViewers.start(core[1])
    try:
        await client.call({"cmd": "open", "url": f"ws://127.0.0.1:{port}/", "count": args.viewers,
                           "per_address": SOCKETS_PER_ADDRESS})
        cpu0 = cpu_seconds(floor.pid)
        sent = await client.call({"cmd": "likes", "seconds": args.seconds, "rate": args.rate})
        cpu = cpu_seconds(floor.pid) - cpu0
        counted = (await client.call({"cmd": "ask", "send": json.dumps({"type": "count"}), "match": "count"}))
        n = int(counted["answer"]["n"]) if counted["answer"] else -1
        out = {"sent": float(sent["sent"]), "accepted": float(n), "exact": float(n == sent["sent"]),
               "seconds": float(sent["seconds"]), "per_s": n / float(sent["seconds"]), "server_cpu_s": cpu,
               "server_us_per_like": cpu / max(1, n) * 1e6}
        print(f"  floor: {out}", file=sys.stderr, flush=True)
        return out
    finally:
        await client.close()
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
        f"{'':26}{'likes/s':>10}{'µs CPU/like':>13}",
        f"{'server.py':26}{s['per_s']:>10,.0f}{s['server_us_per_like']:>13.1f}",
        f"{'floor: websockets sink':26}{f['per_s']:>10,.0f}{f['server_us_per_like']:>13.1f}",
        "counts (accepted / state / journal / review) per run: " + ", ".join(
            f"{r['accepted']:.0f}/{r['state_total']:.0f}/{r['journal_total']:.0f}/{r['review_total']:.0f}"
            for r in result["runs"]["server.py"]),
        f"target ≥ {TARGET_PER_S:,}/s, counts exact: {'met' if result['meets_target'] else 'NOT met'}",
    ]
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--viewers", type=int, default=5_000)
    p.add_argument("--rate", type=int, default=10, help="likes a second per socket (a viewer may add 20)")
    p.add_argument("--seconds", type=float, default=60)
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
    if not node_available():
        raise SystemExit("needs node and scripts/bench/node/node_modules: (cd scripts/bench/node && npm install)")
    if args.pin:
        pin_to_core(1)
    result = asyncio.run(bench(args))
    write_result(args.out, result, table(result))


if __name__ == "__main__":
    main()
