"""Serving: how a process stops gracefully, and shares its port with others.

A graceful shutdown (SIGTERM, Ctrl+C) first stops listening, then ``drain``:
the process hands over every show it owns (the scaled mode: released, so
another process takes it at once, not after the lease) and closes every
socket with 1012 and a reason that tells the client to reconnect, which the
pages' JS does with the last seq it saw (to another process, behind a load
balancer). Only then does uvicorn close what is left and the lifespan end.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time

import uvicorn

from live.core.failures import describe
from live.core.session import CLOSE_RESTART
from live.runtime.hub import Hub

log = logging.getLogger("live")

DRAIN_SECONDS = 3.0  # how long a graceful shutdown waits for the sockets to close
RESTART_REASON = "server restarting: reconnect"


async def drain(hub: Hub) -> None:
    """Hand this process's shows over, then close every socket with 1012 and
    RESTART_REASON; returns once they are closed (or after DRAIN_SECONDS)."""
    await hub.shows.handover()
    if hub.bus.close_all(CLOSE_RESTART, RESTART_REASON):
        deadline = time.monotonic() + DRAIN_SECONDS
        while hub.open_sockets and time.monotonic() < deadline:
            await asyncio.sleep(0.05)


class DrainingServer(uvicorn.Server):
    """uvicorn, whose shutdown first stops listening and runs the app's
    ``state.drain`` (see the module's docstring)."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for listening in getattr(self, "servers", []):
            listening.close()
        app_state = getattr(self.config.app, "state", None)
        drained = getattr(app_state, "drain", None)
        if drained is not None and not self.force_exit:
            try:
                await asyncio.wait_for(drained(), DRAIN_SECONDS + 5)
            except Exception as exc:  # noqa: BLE001 - the shutdown goes on whatever failed
                log.error("draining failed: %s", describe(exc))
        await super().shutdown(sockets)


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A socket bound with SO_REUSEPORT: every process that binds the same port so
    gets its share of new connections from the kernel (LIVE_REUSE_PORT=1)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock
