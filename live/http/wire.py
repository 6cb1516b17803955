"""How a socket's frames reach the network: the thinnest way the server allows.

``wire_of(ws)`` gives a ``DirectWire`` when uvicorn serves the socket with its
``websockets-sansio`` protocol (its default when ``websockets`` is installed):
prebuilt frame bytes go straight to the asyncio transport in one
``transport.write``, and messages that arrive are handed to a callback as the
protocol parses them (no queue, no task woken per message). Any other server
gets an ``AsgiWire``: every frame through the ASGI ``send``, every message
through ``receive``, as before. The connection (``live.http.socket``) decides
what to send; a wire only moves bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.websockets import WebSocket
from websockets.protocol import State

from live.core.protocol import text_frame

try:  # uvicorn's sans-I/O websockets protocol (uvicorn ≥ 0.35)
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
except ImportError:  # pragma: no cover - an older uvicorn: every socket gets an AsgiWire
    WebSocketsSansIOProtocol = None  # type: ignore[assignment,misc]

Receiver = Callable[[str | bytes], None]


class AsgiWire:
    """Any ASGI server: nothing is ever written directly (``ready`` is False),
    frames go out through ``send``."""

    direct = False

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws

    def ready(self) -> bool:
        return False

    def write(self, frame: bytes) -> None:  # pragma: no cover - never called: ready() is False
        raise RuntimeError("an ASGI wire has no direct lane")

    @staticmethod
    def pack(payload: bytes) -> bytes:
        """What ``send`` takes for a message: the JSON itself."""
        return payload

    async def send(self, data: bytes) -> None:
        """Send one text message (raises what the ASGI send raises: the client left)."""
        await self.ws.send_text(data.decode())

    def receive_directly(self, receiver: Receiver) -> bool:
        """False: messages keep coming through ``receive``."""
        return False

    def queued(self) -> list[str | bytes]:
        return []

    def abort(self) -> None:
        """Nothing to abort below ASGI: the app's return closes the socket."""


class DirectWire:
    """uvicorn's ``WebSocketsSansIOProtocol`` of this socket, written to directly."""

    direct = True

    def __init__(self, ws: WebSocket, protocol: Any) -> None:
        self.ws = ws
        self.protocol = protocol
        self.transport = protocol.transport

    def open(self) -> bool:
        """Whether frames may still go out: no close sent or received, not lost."""
        proto = self.protocol
        return not (proto.close_sent or proto.disconnected) and proto.conn.state is State.OPEN

    def ready(self) -> bool:
        """Whether a frame written now goes out without waiting: open, and the
        transport below its high-water mark (uvicorn's ``writable`` event)."""
        proto = self.protocol  # (inlined ``open``: once per socket per event)
        return (proto.writable.is_set() and not (proto.close_sent or proto.disconnected)
                and proto.conn.state is State.OPEN)

    def write(self, frame: bytes) -> None:
        """One whole frame to the transport (the caller checked ``ready``)."""
        self.transport.write(frame)

    @staticmethod
    def pack(payload: bytes) -> bytes:
        """What ``write`` and ``send`` take for a message: its whole frame."""
        return text_frame(payload)

    async def send(self, data: bytes) -> None:
        """Write one whole frame once the transport drains below its low-water
        mark; dropped when the socket closed meanwhile."""
        await self.protocol.writable.wait()
        if self.open():
            self.transport.write(data)

    def receive_directly(self, receiver: Receiver) -> bool:
        """From now on hand every message to ``receiver`` as uvicorn parses it,
        instead of queueing it for the ASGI ``receive`` (which then only reports
        the disconnect); reading is never paused per message. Returns True.
        A text message that is not UTF-8 is left to uvicorn (it closes 1007)."""
        proto = self.protocol
        original = proto.send_receive_event_to_app  # the bound method of its class

        def handed_over() -> None:
            frames = proto.frames
            data = frames[0] if len(frames) == 1 else b"".join(frames)
            if proto.close_sent:
                proto.frames = []
                return
            if proto.curr_msg_data_type == "text":
                try:
                    text = data.decode()
                except UnicodeDecodeError:
                    original()
                    return
                proto.frames = []
                receiver(text)
            else:
                proto.frames = []
                receiver(bytes(data))

        proto.send_receive_event_to_app = handed_over
        # uvicorn reads the handshake's request and response only to accept:
        # ~2.5 KiB a socket that an idle viewer would hold for the whole show.
        proto.request = proto.response = None
        if proto.read_paused:  # uvicorn paused reading until the app received the hello
            proto.read_paused = False
            self.transport.resume_reading()
        return True

    def queued(self) -> list[str | bytes]:
        """Messages uvicorn queued for ``receive`` before ``receive_directly``
        (between the hello and the hand-over), taken out of its queue in order;
        a disconnect stays queued for ``receive``."""
        queue = self.protocol.queue
        taken: list[str | bytes] = []
        kept: list[Any] = []
        while not queue.empty():
            message = queue.get_nowait()
            if message["type"] == "websocket.receive":
                text = message.get("text")
                taken.append(text if text is not None else bytes(message.get("bytes") or b""))
            else:
                kept.append(message)
        for message in kept:
            queue.put_nowait(message)
        return taken

    def abort(self) -> None:
        """Drop the connection at once (a reader that does not even take a close frame)."""
        self.transport.abort()


Wire = AsgiWire | DirectWire


def wire_of(ws: WebSocket) -> Wire:
    """The thinnest wire for ``ws``: direct when uvicorn's sans-I/O protocol is
    what the ASGI ``receive`` belongs to (Starlette passes it through unwrapped)."""
    protocol = getattr(getattr(ws, "_receive", None), "__self__", None)
    if (WebSocketsSansIOProtocol is not None and isinstance(protocol, WebSocketsSansIOProtocol)
            and all(hasattr(protocol, name) for name in _PROTOCOL_PARTS)):
        return DirectWire(ws, protocol)
    return AsgiWire(ws)


# What DirectWire reads of uvicorn's protocol (uvicorn 0.54): a version without
# one of them gets the ASGI wire rather than a broken direct one.
_PROTOCOL_PARTS = ("transport", "writable", "close_sent", "disconnected", "conn", "frames",
                   "curr_msg_data_type", "send_receive_event_to_app", "queue", "read_paused")
