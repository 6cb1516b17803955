"""One overlay event to N viewer sockets, beside the raw-socket floor (README, "Benchmarks").

    python -m scripts.bench.fanout                       10,000 viewers, 3 runs of 20 events
    python -m scripts.bench.fanout --viewers 2000 --runs 1 --events 5
    python -m scripts.bench.fanout --loop uvloop         uvicorn (and the floor) on uvloop

Targets: p50 ≤ 70 ms, p99 ≤ 150 ms, ≤ 1.5× the raw-socket floor and no
worse than a Node ``ws`` broadcast server; ≤ 16 KiB per idle viewer.

The server is ``python server.py`` on a temporary SQLite journal
(LIVE_DEMO=0), pinned to core 0 (``taskset``). Viewers register over HTTP,
spread over loopback source addresses as in ``claims.py``, then the Node
load client (``node/viewers.js``, pinned to core 1) opens their sockets
(from loopback source addresses 127.0.x.y, 50 a source) and says hello. An event is a staff ``product.pin`` sent over HTTP by that
client (alternating two products, so every one is a ``product.pinned``);
a latency is from the command's send to the ``product.pinned`` parsed on a
socket, on the client's clock. p50 and p99 are over the N receipts of one
event; a run's figure is the median over its events; the result is the
median over the runs.

The floor, in the same run on the same core with the same client and N:
``floor_server.py``, a bare ``websockets`` asyncio broadcast server; socket 0
sends a message the size of the server's ``product.pinned`` and the server
broadcasts it to all. The peer: ``node/floor_server.js``, the same with
Node ``ws`` (``--no-node-peer`` leaves it out). Events alternate between the
servers so background load falls on all alike. One unmeasured warm-up event
each first.

Memory per idle viewer: the server's RSS with the N sockets open and quiet
minus its RSS just before they opened (viewers already registered), over N.
The same for the floor.

Prints a table and writes ``bench-results/fanout.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx

from scripts.bench.harness import (
    ADMIN,
    LOOPS,
    NODE_DIR,
    ROOT,
    SOCKETS_PER_ADDRESS,
    NodeViewers,
    cpu_seconds,
    free_port,
    percentile,
    register,
    rss_bytes,
    run_bench,
    start_server,
    wait_up,
)

OUT = Path("bench-results") / "fanout.json"
TARGET_P50_MS = 70.0
TARGET_P99_MS = 150.0
TARGET_RATIO = 1.5
TARGET_KIB_PER_VIEWER = 16.0
QUIET_MS = 300  # no message on any socket for this long before the next event


def pinned(cmd: list[str], core: int | None) -> list[str]:
    return ["taskset", "-c", str(core), *cmd] if core is not None and shutil.which("taskset") else cmd


@dataclass
class Target:
    """One server under test and the load client that holds its sockets."""

    name: str
    pid: int
    client: NodeViewers
    idle_rss: int = 0  # before the sockets opened
    loaded_rss: int = 0  # with the N sockets open and quiet
    events: list[dict[str, float]] = field(default_factory=list)

    async def fanout(self, command: dict[str, Any], viewers: int) -> dict[str, float]:
        """One event to every socket; returns its figures. Raises SystemExit if a
        socket did not get it."""
        server0 = cpu_seconds(self.pid)
        answer = await self.client.call({"cmd": "fanout", **command})
        server = cpu_seconds(self.pid) - server0
        lat = [float("inf") if x is None else float(x) for x in answer["latencies"]]
        missing = sum(1 for x in lat if x == float("inf"))
        if missing:
            raise SystemExit(f"{self.name}: {missing} of {viewers} sockets did not get the event")
        await self.client.call({"cmd": "quiet", "ms": QUIET_MS})
        return {"p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99), "max_ms": max(lat),
                "min_ms": min(lat), "wall_ms": float(answer["wall_ms"]), "server_cpu_s": server,
                "client_cpu_s": float(answer["cpu_ms"]) / 1000}


async def start_floor(cmd: list[str]) -> asyncio.subprocess.Process:
    """Start a floor server; returns it once it printed ``ready``. Raises SystemExit if it did not."""
    proc = await asyncio.create_subprocess_exec(*cmd, cwd=ROOT, stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    if line.strip() != b"ready":
        raise SystemExit(f"{cmd[-2:]} did not start")
    return proc


async def open_raw(name: str, pid: int, port: int, viewers: int, core: int | None) -> Target:
    """A load client with ``viewers`` raw sockets on a floor server; returns the target, RSS measured."""
    target = Target(name, pid, await NodeViewers.start(core))
    target.idle_rss = rss_bytes(pid)
    await target.client.call({"cmd": "open", "url": f"ws://127.0.0.1:{port}/", "count": viewers,
                              "per_address": SOCKETS_PER_ADDRESS})
    await target.client.call({"cmd": "quiet", "ms": 1000})
    target.loaded_rss = rss_bytes(pid)
    return target


def summarize(events: list[dict[str, float]], per_run: int) -> dict[str, Any]:
    """Median over each run's events, then the median over runs, of every figure."""
    runs = [events[i:i + per_run] for i in range(0, len(events), per_run)]
    names = events[0].keys()
    run_medians = [{n: float(statistics.median(e[n] for e in run)) for n in names} for run in runs]
    return {"runs": run_medians, "median": {n: float(statistics.median(r[n] for r in run_medians)) for n in names}}


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    server_core, client_core = (0, 1) if args.pin else (None, None)
    tmp = Path(tempfile.mkdtemp(prefix="live-bench-fanout-"))
    port, floor_port, peer_port = free_port(), free_port(), free_port()
    proc = start_server(tmp / "live.db", port, server_core, args.profile, args.loop)
    floors: list[asyncio.subprocess.Process] = []
    targets: list[Target] = []
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_up(base, proc)
        async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {ADMIN}"}, trust_env=False,
                                     timeout=60) as admin:
            r = await admin.post("/api/shows", json={"title": "bench", "products": [
                {"sku": "A1", "title": "Serum", "list_price": "299", "live_price": "199", "stock": 100},
                {"sku": "A2", "title": "Toner", "list_price": "199", "live_price": "149", "stock": 100}]})
            r.raise_for_status()
            sid = r.json()["id"]
            (await admin.post(f"/api/shows/{sid}/commands", json={"type": "show.start"})).raise_for_status()
        t = time.perf_counter()
        tokens = await register(base, sid, args.viewers)
        print(f"registered {len(tokens)} viewers in {time.perf_counter() - t:.1f} s", file=sys.stderr)

        app = Target("server.py", proc.pid, await NodeViewers.start(client_core))
        targets.append(app)
        app.idle_rss = rss_bytes(proc.pid)
        t = time.perf_counter()
        await app.client.call({"cmd": "open", "url": f"ws://127.0.0.1:{port}/ws/shows/{sid}", "tokens": tokens,
                               "per_address": SOCKETS_PER_ADDRESS})
        print(f"opened {len(tokens)} viewer sockets in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        await app.client.call({"cmd": "quiet", "ms": 1000})
        app.loaded_rss = rss_bytes(proc.pid)

        # The floor runs on the loop server.py runs on (uvicorn's "auto" takes uvloop when installed).
        loop = args.loop if args.loop != "default" else "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
        floor = await start_floor(pinned([sys.executable, "-m", "scripts.bench.floor_server", str(floor_port),
                                          "--loop", loop], server_core))
        floors.append(floor)
        targets.append(await open_raw("floor: websockets", floor.pid, floor_port, args.viewers, client_core))
        if args.node_peer:
            peer = await start_floor(pinned(["node", str(NODE_DIR / "floor_server.js"), str(peer_port)],
                                            server_core))
            floors.append(peer)
            targets.append(await open_raw("peer: node ws", peer.pid, peer_port, args.viewers, client_core))

        skus = ["A1", "A2"]
        pins = 0

        def pin_command() -> dict[str, Any]:
            nonlocal pins
            pins += 1
            body = json.dumps({"type": "product.pin", "sku": skus[pins % 2]})
            return {"match": "product.pinned", "http": {
                "url": f"{base}/api/shows/{sid}/commands", "method": "POST", "body": body,
                "headers": {"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"}}}

        # Warm-up (not counted); the first answer gives the size the floors send.
        first = await app.client.call({"cmd": "fanout", **pin_command()})
        await app.client.call({"cmd": "quiet", "ms": QUIET_MS})
        size = len(json.dumps(first["first"], ensure_ascii=False, separators=(",", ":")).encode())
        stub = '{"type":"tick","pad":""}'
        payload = stub[:-2] + "x" * max(0, size - len(stub)) + stub[-2:]
        raw_command = {"match": "tick", "send": payload}
        for target in targets[1:]:
            await target.fanout(raw_command, args.viewers)

        for n in range(args.runs):
            for _ in range(args.events):
                app.events.append(await app.fanout(pin_command(), args.viewers))
                for target in targets[1:]:
                    target.events.append(await target.fanout(raw_command, args.viewers))
            line = ", ".join(f"{t.name} p50 {statistics.median(e['p50_ms'] for e in t.events[-args.events:]):.1f} "
                             f"p99 {statistics.median(e['p99_ms'] for e in t.events[-args.events:]):.1f}"
                             for t in targets)
            print(f"run {n + 1}: {line}", file=sys.stderr)
    finally:
        for target in targets:
            await target.client.close()
        proc.send_signal(signal.SIGINT)
        for f in floors:
            with contextlib.suppress(ProcessLookupError):
                f.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        for f in floors:
            try:
                await asyncio.wait_for(f.wait(), 10)
            except TimeoutError:
                f.kill()
                await f.wait()
        shutil.rmtree(tmp, ignore_errors=True)

    result_targets: dict[str, dict[str, Any]] = {}
    for target in targets:
        s = summarize(target.events, args.events)
        result_targets[target.name] = {
            **s,
            "idle_rss_bytes": target.idle_rss,
            "loaded_rss_bytes": target.loaded_rss,
            "kib_per_socket": (target.loaded_rss - target.idle_rss) / args.viewers / 1024,
            "events": target.events,
        }
    m = result_targets["server.py"]["median"]
    fl = result_targets["floor: websockets"]["median"]
    ratio = {"p50": m["p50_ms"] / fl["p50_ms"], "p99": m["p99_ms"] / fl["p99_ms"]}
    kib = result_targets["server.py"]["kib_per_socket"]
    peer_m: dict[str, float] | None = result_targets.get("peer: node ws", {}).get("median")
    checks = {
        "p50": m["p50_ms"] <= TARGET_P50_MS,
        "p99": m["p99_ms"] <= TARGET_P99_MS,
        "ratio_to_floor": max(ratio.values()) <= TARGET_RATIO,
        "memory": kib <= TARGET_KIB_PER_VIEWER,
    }
    if peer_m is not None:
        checks["no_worse_than_node_ws"] = m["p50_ms"] <= peer_m["p50_ms"] and m["p99_ms"] <= peer_m["p99_ms"]
    return {
        "bench": "fanout",
        "viewers": args.viewers,
        "runs": args.runs,
        "events_per_run": args.events,
        "message_bytes": size,
        "loop": args.loop,
        "floor_loop": loop,
        "targets": result_targets,
        "ratio_to_floor": ratio,
        "kib_per_viewer": kib,
        "targets_met": checks,
        "target": {"p50_ms": TARGET_P50_MS, "p99_ms": TARGET_P99_MS, "ratio": TARGET_RATIO,
                   "kib_per_viewer": TARGET_KIB_PER_VIEWER},
        "pinned": bool(args.pin and shutil.which("taskset")),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
                    "load_average": os.getloadavg()},
    }


def table(result: dict[str, Any]) -> str:
    n = result["viewers"]
    lines = [
        (f"one overlay event ({result['message_bytes']} bytes) to {n} sockets, loop {result['loop']} "
         f"(median of {result['runs']} runs × {result['events_per_run']} events)"),
        f"{'':22}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'srv µs/sock':>13}{'cli µs/sock':>13}{'KiB/sock':>10}",
    ]
    for name, t in result["targets"].items():
        m = t["median"]
        lines.append(f"{name:22}{m['p50_ms']:>9.1f}{m['p99_ms']:>9.1f}{m['max_ms']:>9.1f}"
                     f"{m['server_cpu_s'] / n * 1e6:>13.1f}{m['client_cpu_s'] / n * 1e6:>13.1f}"
                     f"{t['kib_per_socket']:>10.2f}")
    r = result["ratio_to_floor"]
    lines.append(f"server.py / floor: p50 {r['p50']:.2f}×, p99 {r['p99']:.2f}× (target ≤ {TARGET_RATIO}×)")
    met = result["targets_met"]
    lines.append("targets: " + ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in met.items())
                 + f" (p50 ≤ {TARGET_P50_MS:.0f} ms, p99 ≤ {TARGET_P99_MS:.0f} ms, "
                 f"≤ {TARGET_KIB_PER_VIEWER:.0f} KiB per idle viewer)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--events", type=int, default=20, help="events per run")
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="do not pin servers and client to cores")
    parser.add_argument("--loop", choices=LOOPS, default="default",
                        help="server.py's event loop: uvicorn's choice (default) or forced; the floor follows")
    parser.add_argument("--no-node-peer", dest="node_peer", action="store_false",
                        help="leave out the Node ws broadcast server")
    parser.add_argument("--out", type=Path, default=OUT, help=f"JSON results (default {OUT})")
    parser.add_argument("--profile", metavar="FILE", help="run server.py under cProfile, stats to FILE")
    args = parser.parse_args()
    run_bench(args, bench, table)


if __name__ == "__main__":
    main()
