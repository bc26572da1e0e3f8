"""Writing frames to daphne's WebSocket connections, each frame framed once for all.

daphne serves WebSockets with autobahn on Twisted. The hub hands every open
socket the same prepared (encoded and framed) message, and where nothing is
queued on a socket writes it with one ``send`` instead of going through
autobahn's logging and Twisted's write buffer. Every shortcut checks that the
objects look as expected and otherwise takes autobahn's own path.
"""

from __future__ import annotations

import functools
from typing import Any

PreparedMessage: Any
try:  # daphne serves WebSockets with autobahn: frame a message once for all sockets
    from autobahn.websocket.protocol import PreparedMessage
except ImportError:  # pragma: no cover - another ASGI server
    PreparedMessage = None


def prepare(frame: str) -> Any:
    """Encode and frame a text message once, ready to be written to many sockets."""
    return PreparedMessage(frame.encode(), False, False, False)


def _idle_tcp_transport(sock: Any) -> Any:
    """Return the raw socket under an autobahn protocol if a frame may go straight to it.

    That is when nothing is queued anywhere above it: autobahn compresses
    nothing and has no queue, and Twisted's TCP transport is connected with
    an empty write buffer. Anything else (TLS, another reactor, a library
    that changed) returns None and the frame takes autobahn's own path.
    """
    if getattr(sock, "_perMessageCompress", True) is not None or getattr(sock, "send_queue", True):
        return None
    transport: Any = getattr(sock, "transport", None)
    raw = getattr(transport, "socket", None)
    if raw is None:
        return None
    try:
        idle = (
            transport.connected
            and not transport.disconnecting
            and not transport._tempDataLen
            and transport.offset >= len(transport.dataBuffer)
        )
    except AttributeError:
        return None
    return raw if idle else None


def send_prepared(sock: Any, prepared: Any) -> None:
    """Write one prepared frame to one daphne socket, as cheaply as the socket allows.

    autobahn's send logs each write (formatting it even when debug is off)
    and Twisted's buffers it and registers the socket with epoll twice; when
    the socket's buffers are empty, one ``send`` does the same job. Whatever
    the kernel does not take at once goes to Twisted's buffer, in order.
    """
    raw = _idle_tcp_transport(sock)
    if raw is None:
        sock.sendPreparedMessage(prepared)
        return
    data = prepared.payloadHybi
    try:
        sent = raw.send(data)
    except OSError:
        sent = 0  # full (EAGAIN) or broken: Twisted buffers it or notices the error
    if sent < len(data):
        sock.transport.write(data[sent:])


def daphne_socket(send: object) -> Any:
    """Return daphne's WebSocket protocol behind an ASGI ``send``, or None.

    daphne hands each application ``partial(server.handle_reply, protocol)``;
    the hub uses that protocol to write prepared frames without a per-reader
    ASGI round trip. Anything else (another server, the test communicator)
    gives None and the ordinary ASGI send is used.
    """
    if isinstance(send, functools.partial) and send.args:
        protocol = send.args[0]
        if hasattr(protocol, "sendPreparedMessage") and hasattr(protocol, "STATE_OPEN"):
            return protocol
    return None
