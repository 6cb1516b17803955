"""Plays a recording (DESIGN.md 6.4) against a running server, each input
through the channel it would come by live, on the server's injected clock.

- socket viewers (the watch page): registered with ``POST …/viewers``, then a
  join is a real websocket (``/ws/shows/{id}``, hello with the viewer token), a
  leave closes it, likes, comments, shares and claims are socket messages;
- platform viewers (``channels["platform"]``): their joins, leaves, likes,
  comments and shares go to ``POST …/interactions`` in batches every BATCH_MS
  of show time (each event keeps its own ``at``), every batch sending the last
  few events of the one before again, as a connector that retries does;
- clicks: ``GET /go/{show}/{sku}``, with the viewer's click cookie unless the
  viewer clicks anonymously (``channels["anonymous_clicks"]``, and everyone on
  the platform);
- orders and returns: the shop's signed webhook, a wrongly signed copy first
  now and then (refused: 401);
- staff commands: ``POST …/commands`` with an assistant's token.

The clock is the server's (a FakeClock the test injected): before each input
the player sets it to the input's ``at`` and waits until the server has taken
the input (a reply, a pong after it, the socket seen closed), so the server
decides every input at its recorded time. The server's ticker runs on its own
(every 250 ms of real time, reading the clock); the player only makes sure a
tick has journaled the likes of a minute before the clock leaves it, as ticks
every 250 ms would live. A ``Probe`` tells the player what only the server
knows: that it has seen a viewer's socket close.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
from typing import Any, Protocol

import httpx2 as httpx
from websockets.asyncio.client import ClientConnection, connect

from live.runtime.presence import GRACE_MS
from tests.waiting import CEILING, eventually

MINUTE_MS = 60_000
BATCH_MS = 20_000  # a platform connector's batch interval (show time)
RESENT = 3  # events of the previous batch every batch sends again
BAD_SIGNATURE_EVERY = 7  # one order in so many is first sent with a wrong signature
Message = dict[str, Any]
INTERESTING = ('"type":"likes.tick"', '"type":"pong"', '"type":"error"', '"request_id"')


class Probe(Protocol):
    async def closed(self, show_id: str, viewer_id: str, still_open: int) -> None:
        """Until the server has seen a socket of the viewer close, leaving ``still_open``."""

    async def settled(self, show_id: str) -> None:
        """Until the server holds nothing for a later tick (likes, grace periods)."""


class Socket:
    """One websocket of a viewer, or the player's own watcher: a reader task
    answers the player's waits and keeps the socket drained."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.waiting: dict[Any, asyncio.Future[Message]] = {}
        self.errors: list[Message] = []
        self.likes_total = 0
        self.reader: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)

    @classmethod
    async def open(cls, url: str, hello: dict[str, Any]) -> tuple[Socket, Message]:
        ws = await connect(url, proxy=None, open_timeout=CEILING, max_size=None)
        await ws.send(json.dumps({"type": "hello", **hello}))
        snapshot: Message = json.loads(await asyncio.wait_for(ws.recv(), CEILING))
        if snapshot.get("type") != "snapshot":
            raise AssertionError(f"hello refused: {snapshot}")
        sock = cls(ws)
        sock.likes_total = snapshot["state"]["likes"]["total"]
        sock.reader = asyncio.ensure_future(sock._read())
        return sock, snapshot

    async def _read(self) -> None:
        async for raw in self.ws:
            # Every socket gets every public event; only these concern the player
            # (a cheap look first: the client shares the machine with the server).
            if not any(mark in raw for mark in INTERESTING):
                continue
            msg: Message = json.loads(raw)
            kind = msg.get("type")
            if kind == "likes.tick":
                self.likes_total = max(self.likes_total, msg["total"])
            key = msg.get("t") if kind == "pong" else msg.get("request_id")
            if kind in ("pong", "command.result", "claim.result", "error") and key in self.waiting:
                self.waiting.pop(key).set_result(msg)
            elif kind == "error":
                self.errors.append(msg)

    async def ask(self, msg: Message, pong: bool = False) -> Message:
        """Send ``msg`` and wait for its answer (with ``pong``: for the pong of a
        ping sent right after it, for messages the server does not answer)."""
        key = next(self._ids)
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self.waiting[key] = future
        if pong:
            await self.ws.send(json.dumps(msg))
            await self.ws.send(json.dumps({"type": "ping", "t": key}))
        else:
            await self.ws.send(json.dumps({**msg, "request_id": key}))
        answer = await asyncio.wait_for(future, CEILING)
        if answer["type"] == "error":
            raise AssertionError(f"{msg['type']} refused: {answer}")
        return answer

    async def close(self) -> None:
        await self.ws.close()
        if self.reader is not None:
            await asyncio.gather(self.reader, return_exceptions=True)


def sign(secret: str, raw: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


class Player:
    def __init__(self, http: httpx.AsyncClient, ws_url: str, clock: Any, admin_token: str, probe: Probe,
                 channels: dict[str, list[str]]) -> None:
        self.http = http
        self.ws_url = ws_url
        self.clock = clock
        self.admin = {"Authorization": f"Bearer {admin_token}"}
        self.probe = probe
        self.platform = set(channels.get("platform", ()))
        self.anonymous = set(channels.get("anonymous_clicks", ())) | self.platform
        self.show: Message = {}
        self.staff: dict[str, str] = {}
        self.start: int | None = None
        self.live = False
        self.ended: int | None = None
        self.viewers: dict[str, Message] = {}  # recording's viewer id → {viewer_id, token, cookie}
        self.sockets: dict[str, list[Socket]] = {}  # a viewer's open sockets, oldest first
        self.watcher: Socket | None = None
        self.likes_sent = 0
        self.sales: dict[str, str] = {}  # sku → the latest sale's id
        self.queued: list[Message] = []  # platform events not sent yet
        self.last_batch: list[Message] = []
        self.next_batch = 0
        self.counts = {"inputs": 0, "batches": 0, "duplicates": 0, "refused_webhooks": 0, "webhooks": 0}

    @property
    def sid(self) -> str:
        return str(self.show["id"])

    # -- the clock ------------------------------------------------------------------

    async def advance(self, at: int) -> None:
        """Move the server's clock to ``at``; a minute left with likes not yet
        journaled waits for the tick that journals them first."""
        if at < self.clock.t:
            raise ValueError(f"the clock runs forward only ({at} < {self.clock.t})")
        watcher = self.watcher
        if (self.start is not None and watcher is not None and self.likes_sent > watcher.likes_total
                and (at - self.start) // MINUTE_MS != (self.clock.t - self.start) // MINUTE_MS):

            async def journaled() -> bool:
                return watcher.likes_total >= self.likes_sent

            await eventually(journaled, f"the likes before {self.clock.t} to be journaled")
        self.clock.t = at

    # -- playing ----------------------------------------------------------------------

    async def play(self, lines: list[Message]) -> str:
        """Create the show, play every input; returns the show's id."""
        inputs = lines[1:]
        self.clock.t = max(self.clock.t, inputs[0]["at"])
        r = await self.http.post("/api/shows", json=lines[0]["show"], headers=self.admin)
        assert r.status_code == 201, r.text
        self.show = r.json()
        r = await self.http.post(f"/api/shows/{self.sid}/staff", json={"name": "助理", "role": "assistant"},
                                 headers=self.admin)
        assert r.status_code == 201, r.text
        self.staff = {"Authorization": f"Bearer {r.json()['token']}"}
        self.watcher, _ = await Socket.open(self.url, {})
        for n, line in enumerate(inputs, start=2):
            if self.live and line["at"] >= self.next_batch:
                await self.advance(self.next_batch)
                await self.send_batch()
                while self.next_batch <= line["at"]:  # nothing more to send before this input
                    self.next_batch += BATCH_MS
            if self.ended is not None and self.sockets and line["at"] > self.ended:
                await self.close_all(min(line["at"], self.ended + 1_000))
            await self.apply(n, line)
            self.counts["inputs"] += 1
        if self.ended is not None and self.sockets:
            await self.close_all(self.ended + 1_000)
        await self.advance(self.clock.t + GRACE_MS + 1_000)  # the last grace periods run out
        await self.probe.settled(self.sid)
        for sock in [self.watcher, *(s for socks in self.sockets.values() for s in socks)]:
            assert not sock.errors, sock.errors
        await self.watcher.close()
        return self.sid

    @property
    def url(self) -> str:
        return f"{self.ws_url}/ws/shows/{self.sid}"

    async def apply(self, n: int, line: Message) -> None:
        if "command" in line:
            await self.command(line["at"], line["command"])
        elif "order" in line or "return" in line:
            await self.advance(line["at"])
            await self.webhook("orders" if "order" in line else "returns", line.get("order") or line["return"])
        elif line["viewer"] in self.platform and line["action"] != "click":
            self.queue(n, line)
        else:
            await self.advance(line["at"])
            await self.viewer(line)

    async def command(self, at: int, command: Message) -> None:
        if command["type"] == "show.end":
            await self.advance(at)
            await self.send_batch()  # what the platform saw before the end
        await self.advance(at)
        r = await self.http.post(f"/api/shows/{self.sid}/commands", json=command, headers=self.staff)
        assert r.status_code == 200, (command, r.text)
        for event in r.json()["events"]:
            if event["type"] == "show.started":
                self.start, self.live = at, True
                self.next_batch = at + BATCH_MS
            elif event["type"] == "flash_sale.opened":
                self.sales[event["sale"]["sku"]] = event["sale"]["id"]
            elif event["type"] == "show.ended":
                self.live, self.ended = False, at

    async def close_all(self, at: int) -> None:
        """The sockets still open at the end close after it (not leaves: the visits end with the show)."""
        await self.advance(at)
        for vid in list(self.sockets):
            while vid in self.sockets:
                await self.leave(vid)

    # -- viewers on our sockets ----------------------------------------------------------

    async def viewer(self, line: Message) -> None:
        vid, action = line["viewer"], line["action"]
        if action == "click":
            await self.click(vid, line["sku"])
            return
        if action == "join":
            await self.join(vid, line.get("nickname"))
            return
        if action == "leave":
            await self.leave(vid)
            return
        sock = self.sockets[vid][0]
        if action == "like":
            await sock.ask({"type": "like", "count": line["count"]}, pong=True)
            self.likes_sent += line["count"]
        elif action == "comment":
            await sock.ask({"type": "comment", "text": line["text"]})
        elif action == "share":
            await sock.ask({"type": "share"}, pong=True)
        elif action == "claim":
            await sock.ask({"type": "claim", "sale_id": self.sales[line["sku"]], "qty": line.get("qty", 1)})
        else:
            raise ValueError(f"unknown action {action!r}")

    async def register(self, vid: str, nickname: str | None) -> Message:
        known = self.viewers.get(vid)
        if known is None:
            r = await self.http.post(f"/api/shows/{self.sid}/viewers", json={"nickname": nickname or vid[:20]})
            assert r.status_code == 201, r.text
            known = self.viewers[vid] = {**r.json(), "cookie": r.cookies.get("live_click")}
            self.http.cookies.clear()  # each viewer's click cookie is sent by hand, as their browser would
        return known

    async def join(self, vid: str, nickname: str | None) -> None:
        """A socket opens (another one, for a viewer on a second device)."""
        me = await self.register(vid, nickname)
        sock, _ = await Socket.open(self.url, {"token": me["token"]})
        self.sockets.setdefault(vid, []).append(sock)

    async def leave(self, vid: str) -> None:
        """The viewer's oldest socket closes."""
        socks = self.sockets[vid]
        sock = socks.pop(0)
        if not socks:
            del self.sockets[vid]
        assert not sock.errors, sock.errors
        await sock.close()
        await self.probe.closed(self.sid, self.viewers[vid]["viewer_id"], len(socks))

    async def click(self, vid: str, sku: str) -> None:
        headers = {} if vid in self.anonymous else {"Cookie": f"live_click={self.viewers[vid]['cookie']}"}
        r = await self.http.get(f"/go/{self.sid}/{sku}", headers=headers, follow_redirects=False)
        assert r.status_code == 302, r.text

    # -- the platform ---------------------------------------------------------------------

    def queue(self, n: int, line: Message) -> None:
        event: Message = {"id": f"dy-{n}", "type": line["action"], "viewer_id": line["viewer"], "at": line["at"]}
        for key in ("nickname", "count", "text"):
            if line.get(key) is not None:
                event[key] = line[key]
        self.queued.append(event)

    async def send_batch(self) -> None:
        """The platform's events so far, with the end of the last batch again."""
        while self.next_batch <= self.clock.t:
            self.next_batch += BATCH_MS
        fresh, self.queued = self.queued, []
        if not fresh:
            return
        again = self.last_batch[-RESENT:]
        r = await self.http.post(f"/api/shows/{self.sid}/interactions", json={"events": again + fresh},
                                 headers=self.staff)
        assert r.status_code == 200, r.text
        got = r.json()
        assert (got["accepted"], got["duplicates"], got["dropped"]) == (len(fresh), len(again), 0), got
        self.likes_sent += sum(e.get("count", 1) for e in fresh if e["type"] == "like")
        self.last_batch = fresh
        self.counts["batches"] += 1
        self.counts["duplicates"] += len(again)

    # -- the shop -------------------------------------------------------------------------

    async def webhook(self, path: str, body: Message) -> None:
        body = dict(body)
        who = body.pop("viewer", None)
        if who is not None:
            body["viewer_id"] = self.viewers[who]["viewer_id"] if who in self.viewers else None
        raw = json.dumps(body).encode()
        url = f"/api/shows/{self.sid}/{path}"
        headers = {"Content-Type": "application/json"}
        self.counts["webhooks"] += 1
        if self.counts["webhooks"] % BAD_SIGNATURE_EVERY == 0:  # signed with a guess: refused, nothing written
            r = await self.http.post(url, content=raw, headers={**headers, "X-Live-Signature": sign("wh_x", raw)})
            assert r.status_code == 401, r.text
            self.counts["refused_webhooks"] += 1
        r = await self.http.post(url, content=raw,
                                 headers={**headers, "X-Live-Signature": sign(self.show["webhook_secret"], raw)})
        assert r.status_code in (200, 201), r.text


async def play(http: httpx.AsyncClient, ws_url: str, clock: Any, admin_token: str, probe: Probe,
               lines: list[Message], channels: dict[str, list[str]]) -> tuple[str, dict[str, int]]:
    """Play ``lines`` (a recording, its show line first); returns the live show's
    id and what was sent (``inputs``, ``batches``, ``duplicates``, ``refused_webhooks``)."""
    player = Player(http, ws_url, clock, admin_token, probe, channels)
    sid = await player.play(lines)
    return sid, player.counts

