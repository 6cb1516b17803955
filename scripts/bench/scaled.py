"""Fan-out and a flash sale with two server processes on Redis (README, "Benchmarks").

    python -m scripts.bench.scaled                    5,000 viewers, 3 runs
    python -m scripts.bench.scaled --viewers 1000 --runs 1 --events 3

The scaled mode as docs/deploy.md runs it: two ``server.py`` processes on
one PostgreSQL database (a scratch one, dropped afterwards) and one Redis
(a key prefix of this run's own, deleted afterwards), both pinned to core 0
(the machine has two cores: the load client has the other). The show is
created on process A, which takes its lease and runs its engine; process B
follows it: it forwards its viewers' claims to A and relays A's events,
read from the show's Redis stream, to its own sockets.

The viewers register over HTTP and the Node load client opens their
sockets alternately on A and B (from loopback source addresses 127.0.x.y).
Fan-out: a staff ``product.pin`` over HTTP to A; a latency is from the
command's send to ``product.pinned`` on a socket, reported for A's sockets
and B's apart. Claims: every viewer claims at once on a sale of stock
``--stock``; exactly that many orders must be answered and be in the
journal, every claimant answered; the floor is ping→pong on the same
sockets just before.

Beside it, the same run: the same viewers and load on one process (the
same PostgreSQL, no Redis) — what the second process and Redis cost. Prints
a table and writes ``bench-results/scaled.json``.
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import statistics
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from scripts.bench.harness import (
    ADMIN,
    SOCKETS_PER_ADDRESS,
    NodeViewers,
    create_show,
    free_port,
    machine,
    median_runs,
    percentile,
    register,
    run_bench,
    start_server,
    stop_server,
    wait_up,
)
from scripts.bench.journal import asyncpg_dsn, pg_admin, scratch_url

OUT = Path("bench-results") / "scaled.json"
PG = "postgresql://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/0"
TARGET_CLAIM_P99_MS = 500.0


async def journaled_orders(db_url: str, sid: str, sale_id: str) -> int:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        return int(await conn.fetchval(
            "SELECT count(*) FROM events WHERE show_id = $1 AND type = 'flash_sale.claimed' "
            "AND (data::json ->> 'sale_id') = $2", sid, sale_id))
    finally:
        await conn.close()


def command_http(base: str, sid: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"url": f"{base}/api/shows/{sid}/commands", "method": "POST", "body": json.dumps(body),
            "headers": {"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"}}


def split(lat: list[float | None], parts: int) -> list[list[float]]:
    """Latencies of socket i into part i % parts (the process it is on); None as inf."""
    out: list[list[float]] = [[] for _ in range(parts)]
    for i, x in enumerate(lat):
        out[i % parts].append(float("inf") if x is None else float(x))
    return out


async def mode(args: argparse.Namespace, processes: int, core: tuple[int | None, int | None]) -> dict[str, Any]:
    """One deployment (``processes`` servers, on Redis when more than one) under the
    bench's load; returns its runs and their medians."""
    db_url, db_name = scratch_url(args.pg)
    await pg_admin(args.pg, f"CREATE DATABASE {db_name}")
    prefix = f"bench{secrets.token_hex(4)}:"
    env = {"DATABASE_URL": db_url, "LIVE_REDIS_PREFIX": prefix}
    if processes > 1:
        env["REDIS_URL"] = args.redis
    ports = [free_port() for _ in range(processes)]
    procs = [start_server(None, port, core[0], env=env) for port in ports]
    bases = [f"http://127.0.0.1:{p}" for p in ports]
    client: NodeViewers | None = None
    name = f"server.py ×{processes}" + (" on Redis" if processes > 1 else "")
    try:
        for base, proc in zip(bases, procs):
            await wait_up(base, proc, "/readyz", 60)
        sid = await create_show(bases[0])
        tokens = await register(bases[0], sid, args.viewers)
        client = await NodeViewers.start(core[1])
        await client.call({"cmd": "open", "urls": [f"ws://127.0.0.1:{p}/ws/shows/{sid}" for p in ports],
                           "tokens": tokens, "per_address": SOCKETS_PER_ADDRESS})
        await client.call({"cmd": "quiet", "ms": 1000})
        runs: list[dict[str, float]] = []
        codes: list[dict[str, int]] = []  # per run, what the claimants without an order got
        pins = 0
        for n in range(args.runs):
            events: list[dict[str, float]] = []
            for _ in range(args.events):
                pins += 1
                answer = await client.call({"cmd": "fanout", "match": "product.pinned", "http": command_http(
                    bases[0], sid, {"type": "product.pin", "sku": "A1" if pins % 2 else "A2"})})
                parts = split(answer["latencies"], processes)
                if any(x == float("inf") for part in parts for x in part):
                    raise SystemExit(f"{name}: a socket did not get the event")
                every = [x for part in parts for x in part]
                figures = {"p50_ms": percentile(every, 50), "p99_ms": percentile(every, 99)}
                for k, part in enumerate(parts):
                    figures[f"p50_ms_{'AB'[k]}"] = percentile(part, 50)
                    figures[f"p99_ms_{'AB'[k]}"] = percentile(part, 99)
                events.append(figures)
                await client.call({"cmd": "quiet", "ms": 300})
            run = {k: float(statistics.median(e[k] for e in events)) for k in events[0]}
            floor = await client.burst({"kind": "ping"}, procs[0].pid)
            opened = await client.call({"cmd": "fanout", "match": "flash_sale.opened", "http": command_http(
                bases[0], sid, {"type": "flash_sale.open", "sku": "A1", "price": "99", "stock": args.stock,
                                "per_viewer_limit": 1, "duration_seconds": 600})})
            if opened["first"] is None or None in opened["latencies"]:
                raise SystemExit(f"{name}: not every viewer saw the sale open")
            sale_id = opened["first"]["sale"]["id"]
            await client.call({"cmd": "quiet", "ms": 300})
            claims = await client.burst({"kind": "claim", "sale_id": sale_id}, procs[0].pid)
            answered = sum(1 for a in claims.answers if a.get("type") == "claim.result")
            orders = sum(1 for a in claims.answers if a.get("type") == "claim.result" and a.get("ok"))
            journaled = await journaled_orders(db_url, sid, sale_id)
            codes.append(dict(Counter(f"{a.get('type')} {a.get('code')}" for a in claims.answers if not a.get("ok"))))
            run |= {"claim_p50_ms": percentile(claims.latencies_ms, 50),
                    "claim_p99_ms": percentile(claims.latencies_ms, 99),
                    "ping_p50_ms": percentile(floor.latencies_ms, 50), "ping_p99_ms": percentile(floor.latencies_ms, 99),
                    "answered": float(answered), "orders_answered": float(orders), "orders_journaled": float(journaled),
                    "exact": float(answered == args.viewers and orders == journaled == args.stock)}
            runs.append(run)
            print(f"  {name} run {n + 1}/{args.runs}: {run} {codes[-1]}", file=sys.stderr, flush=True)
        return {"processes": processes, "redis": processes > 1, "runs": runs, "median": median_runs(runs),
                "losers": codes, "exact": all(r["exact"] for r in runs)}
    finally:
        if client is not None:
            await client.close()
        for proc in procs:
            stop_server(proc)
        await pg_admin(args.pg, f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")
        if processes > 1:
            await drop_prefix(args.redis, prefix)


async def drop_prefix(url: str, prefix: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url)
    try:
        async for key in client.scan_iter(match=f"{prefix}*"):
            await client.delete(key)
    finally:
        await client.aclose()


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    core = (0, 1) if args.pin else (None, None)
    two = await mode(args, 2, core)
    one = await mode(args, 1, core)
    m2, m1 = two["median"], one["median"]
    return {
        "bench": "scaled",
        "viewers": args.viewers,
        "stock": args.stock,
        "runs": args.runs,
        "events_per_run": args.events,
        "modes": {"server.py ×2 on Redis": two, "server.py ×1": one},
        "ratio_to_one_process": {"fanout_p50": m2["p50_ms"] / m1["p50_ms"], "fanout_p99": m2["p99_ms"] / m1["p99_ms"],
                                 "claim_p99": m2["claim_p99_ms"] / m1["claim_p99_ms"]},
        "claims_exact": two["exact"],
        "target_claim_p99_ms": TARGET_CLAIM_P99_MS,
        "meets_target": two["exact"] and m2["claim_p99_ms"] <= TARGET_CLAIM_P99_MS,
        "pinned": bool(args.pin and shutil.which("taskset")),
        "machine": machine(),
    }


def table(result: dict[str, Any]) -> str:
    lines = [(f"scaled mode: {result['viewers']} viewers, claims on stock {result['stock']} "
              f"(median of {result['runs']} runs × {result['events_per_run']} events)"),
             (f"{'':24}{'event p50':>10}{'p99':>8}{'A p50/p99':>14}{'B p50/p99':>14}{'claim p50':>10}{'p99':>8}"
              f"{'ping p50':>9}{'p99':>8}  orders")]
    for name, m in result["modes"].items():
        med = m["median"]
        b = f"{med['p50_ms_B']:.0f}/{med['p99_ms_B']:.0f}" if "p50_ms_B" in med else "-"
        orders = ", ".join(f"{r['orders_answered']:.0f}/{r['orders_journaled']:.0f}" for r in m["runs"])
        a = f"{med['p50_ms_A']:.0f}/{med['p99_ms_A']:.0f}"
        lines.append(f"{name:24}{med['p50_ms']:>10.1f}{med['p99_ms']:>8.1f}{a:>14}{b:>14}{med['claim_p50_ms']:>10.1f}"
                     f"{med['claim_p99_ms']:>8.1f}{med['ping_p50_ms']:>9.1f}{med['ping_p99_ms']:>8.1f}  {orders}")
    r = result["ratio_to_one_process"]
    lines.append(f"×2 on Redis / ×1: fan-out p50 {r['fanout_p50']:.2f}×, p99 {r['fanout_p99']:.2f}×, "
                 f"claim p99 {r['claim_p99']:.2f}×")
    lines.append(f"A: the show's owner; B: follows it over Redis. Exactly {result['stock']} orders, all answered: "
                 f"{result['claims_exact']}; claim p99 ≤ {TARGET_CLAIM_P99_MS:.0f} ms: "
                 f"{'met' if result['meets_target'] else 'NOT met'}")
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--viewers", type=int, default=5_000)
    p.add_argument("--stock", type=int, default=100)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--events", type=int, default=5, help="fan-out events per run")
    p.add_argument("--pg", default=PG, help=f"PostgreSQL server URL (a scratch database is made on it; default {PG})")
    p.add_argument("--redis", default=REDIS, help=f"Redis URL (default {REDIS})")
    p.add_argument("--no-pin", dest="pin", action="store_false")
    p.add_argument("--out", type=Path, default=OUT)
    return p


def main() -> None:
    args = parser().parse_args()
    run_bench(args, bench, table)


if __name__ == "__main__":
    main()
