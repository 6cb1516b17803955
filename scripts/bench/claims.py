"""Flash sale under load: N simultaneous socket claims on stock 100 (README, "Benchmarks").

    python -m scripts.bench.claims                    10,000 viewers, 3 runs
    python -m scripts.bench.claims --viewers 2000 --runs 1

Target: exactly ``--stock`` orders, every claimant answered, p99 ≤ 500 ms.

The server is ``python server.py`` in a subprocess on a temporary SQLite
journal, pinned to core 0 (``taskset``); the load generator is pinned to
core 1. Viewers register over HTTP, spread over loopback source addresses
127.0.0.2, 127.0.0.3, … (the server lets one address register 30 a minute),
then each opens a socket and says hello.

The load generator is ``scripts/bench/node/viewers.js`` (Node + ``ws``; run
``npm install`` in ``scripts/bench/node`` once) when ``node`` and its
``node_modules`` are there, else this Python process (``--client python``).
One Python process on one core cannot hold 10,000 sockets without itself
being the slowest part: its ping→pong floor was ~1 s.

Each run: first the floor, every viewer sends one ``ping`` at the same
moment and times its ``pong`` (the same sockets, the same client loop, no
journal write); then a new sale opens and every viewer sends one ``claim``
at the same moment and times its ``claim.result``. A latency is from the
viewer's own send to its answer. The run checks the journal (SQLite, read
directly) holds exactly ``--stock`` claims for the sale. The median of the
runs is reported. Prints a table and writes ``bench-results/claims.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from scripts.bench.harness import (
    ADMIN,
    LOOPS,
    SOCKETS_PER_ADDRESS,
    NodeViewers,
    burst,
    free_port,
    node_available,
    open_sockets,
    percentile,
    register,
    run_bench,
    start_server,
    wait_up,
)

OUT = Path("bench-results") / "claims.json"
TARGET_P99_MS = 500.0


@dataclass
class Run:
    viewers: int
    stock: int
    answered: int
    orders_answered: int
    orders_journaled: int
    losers: dict[str, int]
    claim_p50_ms: float
    claim_p99_ms: float
    claim_max_ms: float
    floor_p50_ms: float
    floor_p99_ms: float
    burst_seconds: float  # from the first claim sent to the last answer
    claim_server_cpu_s: float  # CPU the server process used during the claim burst
    claim_client_cpu_s: float  # … and this load generator
    floor_server_cpu_s: float
    floor_client_cpu_s: float
    client: str = "python"


def claim_message(sale_id: str) -> Any:
    """Viewer i's claim on ``sale_id`` (one request_id per viewer and sale)."""
    return lambda i: {"type": "claim", "sale_id": sale_id, "qty": 1, "request_id": f"{sale_id}-{i}"}


def journaled_orders(db_path: Path, sid: str, sale_id: str) -> int:
    with sqlite3.connect(db_path) as db:
        row = db.execute("SELECT count(*) FROM events WHERE show_id = ? AND type = 'flash_sale.claimed' "
                         "AND json_extract(data, '$.sale_id') = ?", (sid, sale_id)).fetchone()
    return int(row[0])


async def drain(conns: list[ClientConnection], quiet: float = 0.5) -> None:
    """Read what the sockets still have (tickers, closes) so the next burst starts clean."""
    async def one(ws: ClientConnection) -> None:
        try:
            while True:
                await asyncio.wait_for(ws.recv(), quiet)
        except (TimeoutError, ConnectionClosed):
            pass  # a closed socket shows up as an unanswered claim in the run

    await asyncio.gather(*(one(ws) for ws in conns))


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="live-bench-claims-"))
    db_path = tmp / "live.db"
    port = free_port()
    proc = start_server(db_path, port, 0 if args.pin else None, args.profile, args.loop)
    base, ws_base = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"
    conns: list[ClientConnection] = []
    node: NodeViewers | None = None
    try:
        await wait_up(base, proc)
        admin = httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {ADMIN}"}, trust_env=False,
                                  timeout=60)
        r = await admin.post("/api/shows", json={"title": "bench", "products": [
            {"sku": "A1", "title": "Serum", "list_price": "299", "live_price": "199", "stock": 10**6}]})
        r.raise_for_status()
        sid = r.json()["id"]
        (await admin.post(f"/api/shows/{sid}/commands", json={"type": "show.start"})).raise_for_status()
        t = time.perf_counter()
        tokens = await register(base, sid, args.viewers)
        print(f"registered {len(tokens)} viewers in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        t = time.perf_counter()
        if args.client == "node":
            node = await NodeViewers.start(1 if args.pin else None)
            await node.call({"cmd": "open", "url": f"{ws_base}/ws/shows/{sid}", "tokens": tokens,
                             "per_address": SOCKETS_PER_ADDRESS})
        else:
            conns = await open_sockets(ws_base, sid, tokens)
        print(f"opened {len(tokens)} sockets ({args.client} client) in {time.perf_counter() - t:.1f} s",
              file=sys.stderr)
        runs: list[Run] = []
        for n in range(args.runs):
            await drain(conns)
            if node is not None:
                await node.call({"cmd": "quiet", "ms": 500})
                floor = await node.burst({"kind": "ping"}, proc.pid)
            else:
                floor = await burst(conns, lambda i: {"type": "ping", "t": i}, "pong", proc.pid)
            open_sale = {"type": "flash_sale.open", "sku": "A1", "price": "99", "stock": args.stock,
                         "per_viewer_limit": 1, "duration_seconds": 600}
            if node is not None:
                # Opened through the client, so every socket has the sale before the rush.
                opened = await node.call({"cmd": "fanout", "match": "flash_sale.opened", "http": {
                    "url": f"{base}/api/shows/{sid}/commands", "method": "POST", "body": json.dumps(open_sale),
                    "headers": {"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"}}})
                if opened["first"] is None or None in opened["latencies"]:
                    raise SystemExit("not every viewer saw the sale open")
                sale_id = opened["first"]["sale"]["id"]
            else:
                r = await admin.post(f"/api/shows/{sid}/commands", json=open_sale)
                r.raise_for_status()
                sale_id = next(e for e in r.json()["events"] if e["type"] == "flash_sale.opened")["sale"]["id"]
            await drain(conns)
            if node is not None:
                claims = await node.burst({"kind": "claim", "sale_id": sale_id}, proc.pid)
            else:
                claims = await burst(conns, claim_message(sale_id), "claim.result", proc.pid)
            lat, answers = claims.latencies_ms, claims.answers
            ok = [a for a in answers if a.get("type") == "claim.result" and a.get("ok")]
            losers = Counter(str(a.get("code")) for a in answers if not a.get("ok"))
            run = Run(viewers=len(tokens), stock=args.stock, answered=sum(1 for a in answers if a),
                      orders_answered=len(ok), orders_journaled=journaled_orders(db_path, sid, sale_id),
                      losers=dict(losers), claim_p50_ms=percentile(lat, 50), claim_p99_ms=percentile(lat, 99),
                      claim_max_ms=max(lat), floor_p50_ms=percentile(floor.latencies_ms, 50),
                      floor_p99_ms=percentile(floor.latencies_ms, 99), burst_seconds=claims.wall_s,
                      claim_server_cpu_s=claims.server_cpu_s, claim_client_cpu_s=claims.client_cpu_s,
                      floor_server_cpu_s=floor.server_cpu_s, floor_client_cpu_s=floor.client_cpu_s,
                      client=args.client)
            runs.append(run)
            print(f"run {n + 1}: {asdict(run)}", file=sys.stderr)
        await admin.aclose()
    finally:
        if node is not None:
            await node.close()
        await asyncio.gather(*(ws.close() for ws in conns), return_exceptions=True)
        # SIGINT: uvicorn shuts down and re-raises it, so a profile is still written.
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)

    def med(name: str) -> float:
        return float(statistics.median(getattr(r, name) for r in runs))

    summary = {name: med(name) for name in ("claim_p50_ms", "claim_p99_ms", "claim_max_ms", "floor_p50_ms",
                                            "floor_p99_ms", "burst_seconds", "claim_server_cpu_s",
                                            "claim_client_cpu_s", "floor_server_cpu_s", "floor_client_cpu_s")}
    exact = all(r.orders_answered == r.orders_journaled == r.stock and r.answered == r.viewers for r in runs)
    return {
        "bench": "claims",
        "viewers": args.viewers,
        "stock": args.stock,
        "runs": [asdict(r) for r in runs],
        "median": summary,
        "exactly_stock_orders_and_all_answered": exact,
        "target_p99_ms": TARGET_P99_MS,
        "meets_target": exact and summary["claim_p99_ms"] <= TARGET_P99_MS,
        "pinned": bool(args.pin and shutil.which("taskset")),
        "client": args.client,
        "loop": args.loop,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
    }


def table(result: dict[str, Any]) -> str:
    m = result["median"]
    lines = [
        (f"flash sale: {result['viewers']} simultaneous socket claims on stock {result['stock']}, "
         f"loop {result['loop']} (median of {len(result['runs'])} runs)"),
        f"{'':26}{'p50 ms':>10}{'p99 ms':>10}",
        f"{'claim → claim.result':26}{m['claim_p50_ms']:>10.1f}{m['claim_p99_ms']:>10.1f}",
        f"{'floor: ping → pong':26}{m['floor_p50_ms']:>10.1f}{m['floor_p99_ms']:>10.1f}",
        "orders per run (answered/journaled): "
        + ", ".join(f"{r['orders_answered']}/{r['orders_journaled']}" for r in result["runs"]),
        f"every claimant answered, exactly {result['stock']} orders: {result['exactly_stock_orders_and_all_answered']}",
        f"target p99 ≤ {TARGET_P99_MS:.0f} ms: {'met' if result['meets_target'] else 'NOT met'}",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=int, default=10_000)
    parser.add_argument("--stock", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="do not pin server and client to cores")
    parser.add_argument("--profile", metavar="FILE", help="run the server under cProfile, stats to FILE")
    parser.add_argument("--loop", choices=LOOPS, default="default",
                        help="the server's event loop: uvicorn's choice (default), or forced")
    parser.add_argument("--out", type=Path, default=OUT, help=f"JSON results (default {OUT})")
    parser.add_argument("--client", choices=("node", "python"), default="node" if node_available() else "python",
                        help="load generator: node/viewers.js (default when installed) or this process")
    args = parser.parse_args()
    run_bench(args, bench, table, needs_node=args.client == "node")


if __name__ == "__main__":
    main()
