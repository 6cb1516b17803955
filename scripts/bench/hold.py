"""Viewer sockets held by one server process, up to its fd limit (README, "Benchmarks").

    python -m scripts.bench.hold                      19,000 viewers, 1 run
    python -m scripts.bench.hold --viewers 2000

Target: 10,000 viewers held by one process (stretch: 19,000, as near the
20,000-fd limit as a process with a journal and a listening socket gets).

The server is ``python server.py`` on a temporary SQLite journal, pinned to
core 0. Its viewers register over HTTP; one process may open at most
20,000 fds, so the sockets are held by several Node load clients
(``node/viewers.js``, pinned to core 1), at most ``--per-client`` each, from
loopback source addresses 127.0.x.y (50 a source). Every viewer says hello
and waits for its snapshot. Held means: every socket open after a quiet
second, the show's ``viewers.now`` equal to N, and one staff event
(``product.pin``) reaching every socket (p50/p99 over the sockets of the client that sent it: the
others wait on their own clocks).

The floor, same run, same clients: the bare ``websockets`` server
(``floor_server.py``) and the Node ``ws`` peer each holding N raw sockets.
Memory per socket: RSS with the N open minus RSS before, over N. Prints a
table and writes ``bench-results/hold.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2 as httpx

from scripts.bench.fanout import pinned, start_floor
from scripts.bench.harness import (
    ADMIN,
    ADMIN_HEADERS,
    NODE_DIR,
    SOCKETS_PER_ADDRESS,
    NodeViewers,
    create_show,
    free_port,
    machine,
    percentile,
    register,
    rss_bytes,
    run_bench,
    start_server,
    stop_server,
    wait_up,
)

OUT = Path("bench-results") / "hold.json"
TARGET = 10_000
STRETCH = 19_000


async def open_spread(url: str, count: int, per_client: int, core: int | None,
                      tokens: list[str] | None = None) -> list[NodeViewers]:
    """``count`` sockets to ``url`` over as many load clients as it takes, each
    from its own source addresses; returns the clients."""
    clients: list[NodeViewers] = []
    for first in range(0, count, per_client):
        client = await NodeViewers.start(core)
        clients.append(client)
        part = range(first, min(count, first + per_client))
        cmd: dict[str, Any] = {"cmd": "open", "url": url, "per_address": SOCKETS_PER_ADDRESS,
                               "first_address": first // SOCKETS_PER_ADDRESS}
        if tokens is not None:
            cmd["tokens"] = tokens[part.start:part.stop]
        else:
            cmd["count"] = len(part)
        await client.call(cmd)
    return clients


async def still_open(clients: list[NodeViewers]) -> int:
    """Sockets open across the clients after a quiet second."""
    await asyncio.gather(*(c.call({"cmd": "quiet", "ms": 1000}) for c in clients))
    answers = await asyncio.gather(*(c.call({"cmd": "count"}) for c in clients))
    return sum(int(a["open"]) for a in answers)


async def spread_fanout(clients: list[NodeViewers], trigger: dict[str, Any]) -> tuple[int, list[float]]:
    """Every client waits for ``trigger``'s match; the first sends it. Returns how
    many sockets got it, and the latencies of the first client's sockets (the
    others wait from before the send, on their own clocks)."""
    waits = [asyncio.ensure_future(c.call({"cmd": "fanout", "match": trigger["match"], "wait": True}))
             for c in clients[1:]]
    await asyncio.sleep(0.2)  # the others are waiting
    answers = [await clients[0].call({"cmd": "fanout", **trigger}), *[await w for w in waits]]
    reached = sum(1 for a in answers for x in a["latencies"] if x is not None)
    return reached, [float("inf") if x is None else float(x) for x in answers[0]["latencies"]]


async def close_all(clients: list[NodeViewers]) -> None:
    await asyncio.gather(*(c.close() for c in clients))


async def hold_server(args: argparse.Namespace, core: tuple[int | None, int | None]) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="live-bench-hold-"))
    port = free_port()
    proc = start_server(tmp / "live.db", port, core[0])
    base = f"http://127.0.0.1:{port}"
    clients: list[NodeViewers] = []
    try:
        await wait_up(base, proc)
        sid = await create_show(base)
        t = time.perf_counter()
        tokens = await register(base, sid, args.viewers)
        print(f"registered {len(tokens)} viewers in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        idle = rss_bytes(proc.pid)
        t = time.perf_counter()
        clients = await open_spread(f"ws://127.0.0.1:{port}/ws/shows/{sid}", args.viewers, args.per_client,
                                    core[1], tokens)
        opened_s = time.perf_counter() - t
        held = await still_open(clients)
        loaded = rss_bytes(proc.pid)
        async with httpx.AsyncClient(base_url=base, headers=ADMIN_HEADERS, trust_env=False, timeout=60) as admin:
            now = -1
            deadline = time.monotonic() + 30  # presence is journaled by the ticker
            while time.monotonic() < deadline:
                now = int((await admin.get(f"/api/shows/{sid}/state")).json()["viewers"]["now"])
                if now == args.viewers:
                    break
                await asyncio.sleep(0.25)
        body = json.dumps({"type": "product.pin", "sku": "A2"})
        reached, lat = await spread_fanout(clients, {"match": "product.pinned", "http": {
            "url": f"{base}/api/shows/{sid}/commands", "method": "POST", "body": body,
            "headers": {"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"}}})
        out = {"viewers": args.viewers, "clients": len(clients), "open_seconds": opened_s, "held": held,
               "viewers_now": now, "event_reached": reached, "event_p50_ms": percentile(lat, 50),
               "event_p99_ms": percentile(lat, 99), "kib_per_socket": (loaded - idle) / args.viewers / 1024,
               "rss_mib": loaded / 2**20}
        print(f"  server.py: {out}", file=sys.stderr, flush=True)
        return out
    finally:
        await close_all(clients)
        stop_server(proc)
        shutil.rmtree(tmp, ignore_errors=True)


async def hold_floor(name: str, command: Callable[[int], list[str]], args: argparse.Namespace,
                     core: tuple[int | None, int | None]) -> dict[str, Any]:
    """N raw sockets on the floor server ``command(port)`` starts; returns its figures."""
    port = free_port()
    floor = await start_floor(pinned(command(port), core[0]))
    clients: list[NodeViewers] = []
    try:
        idle = rss_bytes(floor.pid)
        clients = await open_spread(f"ws://127.0.0.1:{port}/", args.viewers, args.per_client, core[1])
        held = await still_open(clients)
        loaded = rss_bytes(floor.pid)
        stub = '{"type":"tick","pad":""}'
        reached, lat = await spread_fanout(clients, {"match": "tick", "send": stub[:-2] + "x" * 300 + stub[-2:]})
        out = {"viewers": args.viewers, "held": held, "event_reached": reached, "event_p50_ms": percentile(lat, 50),
               "event_p99_ms": percentile(lat, 99), "kib_per_socket": (loaded - idle) / args.viewers / 1024,
               "rss_mib": loaded / 2**20}
        print(f"  {name}: {out}", file=sys.stderr, flush=True)
        return out
    finally:
        await close_all(clients)
        floor.terminate()
        await floor.wait()


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    core = (0, 1) if args.pin else (None, None)
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    targets = {"server.py": await hold_server(args, core)}
    targets["floor: websockets"] = await hold_floor(
        "floor: websockets", lambda port: [sys.executable, "-m", "scripts.bench.floor_server", str(port),
                                           "--loop", loop], args, core)
    targets["peer: node ws"] = await hold_floor(
        "peer: node ws", lambda port: ["node", str(NODE_DIR / "floor_server.js"), str(port)], args, core)
    s = targets["server.py"]
    held_all = s["held"] == s["viewers_now"] == s["event_reached"] == args.viewers
    return {
        "bench": "hold",
        "viewers": args.viewers,
        "fd_limit": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        "targets": targets,
        "held_all": held_all,
        "target": TARGET,
        "stretch": STRETCH,
        "meets_target": held_all and args.viewers >= TARGET,
        "meets_stretch": held_all and args.viewers >= STRETCH,
        "pinned": bool(args.pin and shutil.which("taskset")),
        "machine": machine(),
    }


def table(result: dict[str, Any]) -> str:
    lines = [f"viewer sockets held by one process: {result['viewers']} (fd limit {result['fd_limit']})",
             f"{'':22}{'held':>8}{'event got':>11}{'p50 ms*':>9}{'p99 ms*':>9}{'KiB/sock':>10}{'RSS MiB':>9}"]
    for name, t in result["targets"].items():
        lines.append(f"{name:22}{t['held']:>8}{t['event_reached']:>11}{t['event_p50_ms']:>9.1f}"
                     f"{t['event_p99_ms']:>9.1f}{t['kib_per_socket']:>10.2f}{t['rss_mib']:>9.1f}")
    s = result["targets"]["server.py"]
    lines.append(f"server.py viewers.now {s['viewers_now']}; opened in {s['open_seconds']:.1f} s "
                 f"by {s['clients']} load clients")
    lines.append("* one event, over the first load client's sockets (all clients share one core)")
    lines.append(f"target {TARGET:,} held: {'met' if result['meets_target'] else 'NOT met'}; "
                 f"stretch {STRETCH:,}: {'met' if result['meets_stretch'] else 'NOT met'}")
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--viewers", type=int, default=STRETCH)
    p.add_argument("--per-client", type=int, default=7_000, help="sockets per load client process")
    p.add_argument("--no-pin", dest="pin", action="store_false")
    p.add_argument("--out", type=Path, default=OUT)
    return p


def main() -> None:
    args = parser().parse_args()
    run_bench(args, bench, table)


if __name__ == "__main__":
    main()
