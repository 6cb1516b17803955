"""The raw-socket floor for the fan-out bench: the least a Python process can do.

    python -m scripts.bench.floor_server PORT [--loop asyncio|uvloop]

One asyncio process with the ``websockets`` library and nothing else: every
socket that connects is kept; any text message a socket sends is broadcast
as is, with ``websockets.asyncio.server.broadcast``, to every socket held
(the sender included). No JSON, no queue, no auth: what is left is framing
and the kernel, the cost any Python websocket server pays. The socket
settings match ``server.py``'s (no compression, 64 KiB messages, keepalive
pings every 20 s). Prints ``ready`` on stdout once listening.

With ``--sink`` (the floor of ``likes.py``) it broadcasts nothing: it parses
each message as JSON and counts it; a message ``{"type": "count"}`` is
answered, on its socket, with ``{"type": "count", "n": <messages so far>}``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import signal
import sys

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

CONNECTIONS: set[ServerConnection] = set()
COUNT = 0


async def handler(ws: ServerConnection) -> None:
    """Hold ``ws`` until it closes; broadcast what it sends. Returns when it closed."""
    CONNECTIONS.add(ws)
    try:
        async for message in ws:
            broadcast(CONNECTIONS, message)
    except ConnectionClosed:
        pass  # the load client drops its sockets without a close frame at the end
    finally:
        CONNECTIONS.discard(ws)


async def sink(ws: ServerConnection) -> None:
    """Count what ``ws`` sends (parsed as a server would); returns when it closed."""
    global COUNT
    loads = json.loads
    try:
        async for message in ws:
            if loads(message).get("type") == "count":
                await ws.send(json.dumps({"type": "count", "n": COUNT}))
            else:
                COUNT += 1
    except ConnectionClosed:
        pass


async def main(port: int, sinking: bool = False) -> None:
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(sink if sinking else handler, "127.0.0.1", port, compression=None, max_size=64 * 1024, ping_interval=20.0,
                     ping_timeout=60.0, backlog=1024):
        print("ready", flush=True)
        await stop


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("port", type=int)
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    parser.add_argument("--sink", action="store_true", help="count messages instead of broadcasting them")
    args = parser.parse_args()
    if args.loop == "uvloop":
        # Imported by name: uvloop is installed only for the trial.
        importlib.import_module("uvloop").run(main(args.port, args.sink))
    else:
        asyncio.run(main(args.port, args.sink))
    sys.exit(0)


if __name__ == "__main__":
    run()
