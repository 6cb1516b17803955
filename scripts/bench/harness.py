"""What the benchmarks share: the server in a subprocess, viewers registered over
many loopback source addresses, the load clients (Node ``ws`` in a child
process, or this Python process), CPU readings and percentiles."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import resource
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = ROOT / "scripts" / "bench" / "node"
PER_ADDRESS = 30  # fewer than the server's registration burst per client address
SOCKETS_PER_ADDRESS = 50  # fewer than the server's hello burst per address (60 at once)
ADMIN = "bench-admin-" + secrets.token_hex(8)
SECRET = secrets.token_hex(16)  # one per bench process: its servers sign alike (the scaled mode needs it)
ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN}"}
PRODUCTS = [{"sku": "A1", "title": "Serum", "list_price": "299", "live_price": "199", "stock": 10**6},
            {"sku": "A2", "title": "Toner", "list_price": "199", "live_price": "149", "stock": 10**6}]


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


def start_server(db_path: Path | None, port: int, core: int | None, profile: str | None = None,
                 loop: str = "default", env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """``server.py`` on a fresh SQLite journal at ``db_path`` (None: ``env`` names
    DATABASE_URL) at ``port``, pinned to ``core``, ``env`` added to its
    environment; returns the process."""
    extra = {"DATABASE_URL": f"sqlite:///{db_path}"} if db_path is not None else {}
    env = {**os.environ, **extra, **(env or {}), "LIVE_ADMIN_TOKEN": ADMIN,
           "LIVE_SECRET": SECRET, "LIVE_DEMO": "0", "LIVE_PORT": str(port),
           "LIVE_HOST": "127.0.0.1", "LIVE_LOG_LEVEL": "WARNING",
           # a load generator is a few addresses for thousands of viewers
           "LIVE_HELLOS_PER_MINUTE": "1000000"}
    cmd = server_command(loop, profile)
    if core is not None and shutil.which("taskset"):
        cmd = ["taskset", "-c", str(core), *cmd]
    return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """SIGINT (uvicorn shuts down and re-raises it, so a profile is still
    written), then kill after 10 s; returns once it exited."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def create_show(base: str, products: list[dict[str, Any]] | None = None, start: bool = True) -> str:
    """A new show (``PRODUCTS`` unless given), started; returns its id."""
    async with httpx.AsyncClient(base_url=base, headers=ADMIN_HEADERS, trust_env=False, timeout=60) as admin:
        r = await admin.post("/api/shows", json={"title": "bench", "products": products or PRODUCTS})
        r.raise_for_status()
        sid = str(r.json()["id"])
        if start:
            (await admin.post(f"/api/shows/{sid}/commands", json={"type": "show.start"})).raise_for_status()
    return sid


def median_runs(runs: list[dict[str, float]]) -> dict[str, float]:
    """The median over runs of every figure the runs have."""
    return {k: float(statistics.median(r[k] for r in runs)) for k in runs[0]} if runs else {}


def peak_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_bytes(pid: int) -> int:
    """Resident set size of process ``pid`` (Linux /proc), or 0."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


async def wait_up(base: str, proc: Any, path: str = "/api/shows", seconds: float = 30) -> None:
    """Returns once ``GET base+path`` (as the admin) answers 200. Raises SystemExit
    when the process exited or ``seconds`` passed."""
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(trust_env=False) as c:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"the server at {base} exited at start")
            try:
                if (await c.get(f"{base}{path}", headers={"Authorization": f"Bearer {ADMIN}"})).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"the server at {base} was not ready in {seconds:g} s")
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
        # ``ulimit -n`` is the process's: one client holds at most that many sockets
        # (the benches that need more start several).
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


def pin_to_core(core: int) -> None:
    """Pin this process (the load driver) to ``core`` when the machine has two."""
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {core})


def machine() -> dict[str, Any]:
    """What a result was measured on (its load too: the figures are read beside it)."""
    return {"cpus": os.cpu_count(), "load_average": os.getloadavg(), "platform": platform.platform(),
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version}


def write_result(out: Path, result: dict[str, Any], table: str) -> None:
    """Print the table and write the JSON result to ``out``."""
    print(table)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}")


def run_bench(args: Any, bench: Callable[[Any], Awaitable[dict[str, Any]]], table: Callable[[dict[str, Any]], str],
              needs_node: bool = True) -> None:
    """The end of a benchmark's ``main``: refuse without the Node load client
    (when it needs it), pin this process (the load side) to core 1 unless
    ``--no-pin``, run ``bench(args)`` and write its result and table to ``args.out``."""
    if needs_node and not node_available():
        raise SystemExit("needs node and scripts/bench/node/node_modules: (cd scripts/bench/node && npm install)")
    if args.pin:
        pin_to_core(1)
    result = asyncio.run(bench(args))
    write_result(args.out, result, table(result))
