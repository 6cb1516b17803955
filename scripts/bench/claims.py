"""Flash sale under load: N simultaneous socket claims on stock 100 (DESIGN §7).

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
import contextlib
import json
import os
import platform
import secrets
import shutil
import signal
import socket
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
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = ROOT / "scripts" / "bench" / "node"
OUT = Path("bench-results") / "claims.json"
TARGET_P99_MS = 500.0
PER_ADDRESS = 30  # the server's registration burst per client address
ADMIN = "bench-admin-" + secrets.token_hex(8)


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


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def source_address(i: int) -> str:
    n = i + 2
    return f"127.0.{n // 256}.{n % 256}"


LOOPS = ("default", "asyncio", "uvloop")


def server_command(loop: str = "default", profile: str | None = None) -> list[str]:
    """The command line that runs ``server.py``. ``loop`` other than "default" runs
    its ``main()`` with uvicorn's event loop forced (``uvicorn.run(..., loop=…)``),
    every other argument as ``server.py`` passes them; "default" leaves uvicorn's
    choice ("auto": uvloop when installed). Raises SystemExit for a profile with a
    forced loop."""
    if loop == "default":
        if profile:
            return [sys.executable, "-m", "cProfile", "-o", profile, str(ROOT / "server.py")]
        return [sys.executable, str(ROOT / "server.py")]
    if profile:
        raise SystemExit("--profile runs server.py as is: use it without --loop")
    code = ("import functools, uvicorn, server; "
            f"uvicorn.run = functools.partial(uvicorn.run, loop={loop!r}); server.main()")
    return [sys.executable, "-c", code]


def start_server(db_path: Path, port: int, core: int | None, profile: str | None = None,
                 loop: str = "default") -> subprocess.Popen[bytes]:
    """``server.py`` on a fresh SQLite journal at ``port``, pinned to ``core``; returns the process."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_path}", "LIVE_ADMIN_TOKEN": ADMIN,
           "LIVE_SECRET": secrets.token_hex(16), "LIVE_DEMO": "0", "LIVE_PORT": str(port),
           "LIVE_HOST": "127.0.0.1", "LIVE_LOG_LEVEL": "WARNING"}
    cmd = server_command(loop, profile)
    if core is not None and shutil.which("taskset"):
        cmd = ["taskset", "-c", str(core), *cmd]
    return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)


async def wait_up(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient(trust_env=False) as c:
        while True:
            if proc.poll() is not None:
                raise SystemExit("the server exited at start")
            try:
                if (await c.get(f"{base}/api/shows", headers={"Authorization": f"Bearer {ADMIN}"})).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start in 30 s")
            await asyncio.sleep(0.1)


async def register(base: str, sid: str, count: int) -> list[str]:
    """``count`` viewer tokens, PER_ADDRESS per loopback source address."""
    tokens: list[str] = [""] * count
    sem = asyncio.Semaphore(32)

    async def one_address(a: int) -> None:
        async with sem:
            transport = httpx.AsyncHTTPTransport(local_address=source_address(a))
            async with httpx.AsyncClient(base_url=base, transport=transport, trust_env=False, timeout=60) as c:
                async def reg(i: int) -> None:
                    r = await c.post(f"/api/shows/{sid}/viewers", json={"nickname": f"v{i}"})
                    r.raise_for_status()
                    tokens[i] = r.json()["token"]

                await asyncio.gather(*(reg(i) for i in range(a * PER_ADDRESS, min(count, (a + 1) * PER_ADDRESS))))

    await asyncio.gather(*(one_address(a) for a in range((count + PER_ADDRESS - 1) // PER_ADDRESS)))
    return tokens


async def open_sockets(ws_base: str, sid: str, tokens: list[str]) -> list[ClientConnection]:
    sem = asyncio.Semaphore(200)

    async def one(token: str) -> ClientConnection:
        async with sem:
            ws = await connect(f"{ws_base}/ws/shows/{sid}", proxy=None, open_timeout=60, compression=None,
                               max_size=None, ping_interval=None)
            await ws.send(json.dumps({"type": "hello", "token": token}))
            while json.loads(await ws.recv())["type"] != "snapshot":
                pass
            return ws

    return list(await asyncio.gather(*(one(t) for t in tokens)))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux /proc), or 0."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Burst:
    latencies_ms: list[float]
    answers: list[dict[str, Any]]
    wall_s: float
    server_cpu_s: float
    client_cpu_s: float


async def burst(conns: list[ClientConnection], message: Any, answer: str, server_pid: int) -> Burst:
    """Every socket sends ``message(i)`` at the same moment and waits for its first
    message of type ``answer``; returns latencies, answers, wall and CPU times."""
    go = asyncio.Event()
    lat: list[float] = [0.0] * len(conns)
    got: list[dict[str, Any]] = [{}] * len(conns)

    async def one(i: int, ws: ClientConnection) -> None:
        text = json.dumps(message(i))
        await go.wait()
        t0 = time.perf_counter()
        try:
            await ws.send(text)
            while True:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 60))
                if msg["type"] in (answer, "error"):
                    lat[i] = (time.perf_counter() - t0) * 1000
                    got[i] = msg
                    return
        except (TimeoutError, ConnectionClosed):
            lat[i] = float("inf")  # unanswered: counts against p99

    tasks = [asyncio.ensure_future(one(i, ws)) for i, ws in enumerate(conns)]
    await asyncio.sleep(0.2)  # every task is waiting on ``go``
    server0, client0 = cpu_seconds(server_pid), time.process_time()
    start = time.perf_counter()
    go.set()
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - start
    return Burst(lat, got, wall, cpu_seconds(server_pid) - server0, time.process_time() - client0)


def node_available() -> bool:
    return shutil.which("node") is not None and (NODE_DIR / "node_modules" / "ws").is_dir()


class NodeViewers:
    """The sockets held by ``node/viewers.js`` in a child process pinned to ``core``;
    one JSON command per line in, one JSON answer per line out."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, core: int | None) -> NodeViewers:
        cmd = ["node", str(NODE_DIR / "viewers.js")]
        if core is not None and shutil.which("taskset"):
            cmd = ["taskset", "-c", str(core), *cmd]
        # The answers carry 10,000 latencies in one line: a large line limit.
        proc = await asyncio.create_subprocess_exec(*cmd, stdin=asyncio.subprocess.PIPE,
                                                    stdout=asyncio.subprocess.PIPE, limit=2**26)
        return cls(proc)

    async def call(self, command: dict[str, Any], timeout: float = 600) -> dict[str, Any]:
        """Send ``command``; returns its answer. Raises SystemExit if the client failed."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write((json.dumps(command) + "\n").encode())
        await self.proc.stdin.drain()
        while True:
            line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
            if not line:
                raise SystemExit("the node load client exited")
            answer: dict[str, Any] = json.loads(line)
            if answer["type"] == "log":
                print(f"node: {answer['message']}", file=sys.stderr)
                continue
            if answer["type"] == "failed":
                raise SystemExit(f"the node load client failed: {answer['message']}")
            return answer

    async def burst(self, command: dict[str, Any], server_pid: int) -> Burst:
        server0 = cpu_seconds(server_pid)
        answer = await self.call({"cmd": "burst", **command})
        server = cpu_seconds(server_pid) - server0
        lat = [float("inf") if x is None else float(x) for x in answer["latencies"]]
        got = [a or {} for a in answer["answers"]]
        return Burst(lat, got, answer["wall_ms"] / 1000, server, answer["cpu_ms"] / 1000)

    async def close(self) -> None:
        """Stop the client (it closes its sockets); never raises."""
        if self.proc.returncode is None and self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.write(b'{"cmd":"close"}\n')
                self.proc.stdin.close()
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                await self.proc.wait()


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
            await node.call({"cmd": "open", "url": f"{ws_base}/ws/shows/{sid}", "tokens": tokens})
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
    if args.pin and hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    result = asyncio.run(bench(args))
    print(table(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
