"""The reader's WebSocket through a real daphne: close codes, outages and leaks.

WebsocketCommunicator skips the server, so it cannot show what a browser
sees when the server closes a socket, or whether a reader whose consumer
crashed or was killed by daphne's timeouts stays in the hub. These tests
start daphne in a subprocess and talk to it as a client would.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from tests.daphne import Daphne, server_env
from tests.helpers import free_port
from ticker import presence, services
from ticker.models import Ticker
from ticker.protocol import CLOSE_RULES, Close

pytestmark = pytest.mark.django_db(transaction=True)

DEAD_POSTGRES = "postgres://postgres@127.0.0.1:1/nowhere"


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Daphne]]:
    """Return ``serve(**env)``: start daphne with settings overrides; stopped after the test."""
    servers: list[Daphne] = []

    def start(*, app: str = "liveblog.asgi:application", args: tuple[str, ...] = (), **env):
        server = Daphne(
            tmp_path / f"daphne-{len(servers)}.log", app=app, args=args, env=server_env(**env)
        )
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


def reader(server: Daphne, slug: str, query: str = "since=0") -> ClientConnection:
    return ws_connect(
        f"{server.ws_url}/ws/live/{slug}/?{query}",
        origin=server.url,
        open_timeout=10,
        close_timeout=2,
    )


def closed_with(ws: ClientConnection) -> tuple[dict, int | None]:
    """Read until the server closes; return its error frame and the close code."""
    error: dict = {}
    try:
        while True:
            message = json.loads(ws.recv(timeout=10))
            if message.get("type") == "error" and "code" in message:
                error = message
    except ConnectionClosed as closed:
        return error, closed.rcvd.code if closed.rcvd else None


@pytest.mark.parametrize(
    ("code", "provoke"),
    [
        (Close.BAD_REQUEST, "since=-1"),
        (Close.NOT_FOUND, "unknown"),
        (Close.TOO_LARGE, "big"),
        (Close.TOO_MANY_FRAMES, "flood"),
    ],
)
def test_each_close_code_reaches_the_client_as_documented(ticker, serve, code, provoke):
    server = serve(TICKER_MAX_CLIENT_FRAME="100", TICKER_MAX_CLIENT_FRAMES_PER_MINUTE="3")
    slug = "gibt-es-nicht" if provoke == "unknown" else ticker.slug
    with reader(server, slug, provoke if provoke.startswith("since") else "since=0") as ws:
        if provoke == "big":
            ws.send("x" * 101)
        elif provoke == "flood":
            for _ in range(4):
                ws.send('{"type": "ping"}')
        error, received = closed_with(ws)
    assert received == code
    rule = CLOSE_RULES[code]
    assert error == {
        "type": "error",
        "error": rule.reason,
        "code": int(code),
        "action": rule.action,
        "retry_after": rule.retry_after,
    }
    assert "invalid close code" not in server.output
    assert "Traceback" not in server.output


def test_a_database_outage_closes_with_retry_later(ticker, serve):
    server = serve(DATABASE_URL=DEAD_POSTGRES)
    with reader(server, ticker.slug) as ws:
        error, received = closed_with(ws)
    assert received == Close.UNAVAILABLE
    assert error["action"] == "retry"


def test_a_channel_layer_outage_closes_with_retry_later(ticker, serve):
    server = serve(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    with reader(server, ticker.slug) as ws:
        error, received = closed_with(ws)
    assert received == Close.UNAVAILABLE
    assert error["action"] == "retry"


# ---- Nothing leaks ------------------------------------------------------------------


def readers_now(ticker: Ticker) -> int:
    return presence.readers_now(ticker.pk)


def wait_for_readers(ticker: Ticker, expected: int, timeout: float = 10) -> int:
    deadline = time.monotonic() + timeout
    while True:
        count = readers_now(ticker)
        if count == expected or time.monotonic() > deadline:
            return count
        time.sleep(0.1)


def raw_handshake(server: Daphne, slug: str) -> socket.socket:
    """Open a WebSocket by hand, then leave it to the test (which may never read again)."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws/live/{slug}/?since=0 HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nOrigin: {server.url}\r\n\r\n"
        ).encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1024)
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock


def leave_cleanly(server: Daphne, slug: str) -> None:
    with reader(server, slug):
        pass


def leave_after_an_error(server: Daphne, slug: str) -> None:
    with reader(server, slug) as ws:
        ws.send("x" * 2000)  # over TICKER_MAX_CLIENT_FRAME: the server closes it
        closed_with(ws)


def leave_by_crashing_the_consumer(server: Daphne, slug: str) -> None:
    with reader(server, slug) as ws:
        ws.send('"crash"')
        closed_with(ws)


def leave_while_the_consumer_hangs(server: Daphne, slug: str) -> None:
    """The client goes; the consumer is stuck, and daphne kills it after its close timeout."""
    with reader(server, slug) as ws:
        ws.send('"hang"')
        time.sleep(0.2)


def leave_by_vanishing(server: Daphne, slug: str) -> None:
    sock = raw_handshake(server, slug)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.close()  # a reset, no close frame


def leave_by_stalling(server: Daphne, slug: str) -> Callable[[], None]:
    """Never read and never answer pings: daphne's keepalive must notice."""
    sock = raw_handshake(server, slug)
    return sock.close


@pytest.mark.parametrize(
    "leave",
    [
        leave_cleanly,
        leave_after_an_error,
        leave_by_crashing_the_consumer,
        leave_while_the_consumer_hangs,
        leave_by_vanishing,
        leave_by_stalling,
    ],
)
def test_every_way_of_leaving_removes_the_reader(ticker, serve, leave):
    server = serve(
        app="tests.crashing_asgi:application",
        args=("--ping-interval", "1", "--ping-timeout", "2", "--application-close-timeout", "1"),
        TICKER_RESYNC_SECONDS="0.2",
        TICKER_MAX_CLIENT_FRAME="1000",
    )
    with reader(server, ticker.slug):
        assert wait_for_readers(ticker, 1) == 1
        cleanup = leave(server, ticker.slug)
        assert wait_for_readers(ticker, 1) == 1, server.output
    assert wait_for_readers(ticker, 0) == 0, server.output
    if cleanup:
        cleanup()


def test_readers_get_every_change_once_in_order_from_daphne(ticker, serve):
    """Live frames through the hub's direct write to daphne's sockets, several readers."""
    server = serve()
    with reader(server, ticker.slug) as first, reader(server, ticker.slug) as second:
        wait_for_readers(ticker, 2)
        for n in range(3):
            services.create_entry(ticker=ticker, body=f"<p>Meldung {n}</p>")
        for ws in (first, second):
            seqs = [json.loads(ws.recv(timeout=10))["seq"] for _ in range(3)]
            assert seqs == [1, 2, 3]


def test_readers_are_told_to_reconnect_when_the_server_shuts_down(ticker, serve):
    server = serve()
    with reader(server, ticker.slug) as first, reader(server, ticker.slug) as second:
        wait_for_readers(ticker, 2)
        server.stop()  # SIGTERM, as a restart sends it
        for ws in (first, second):
            _, received = closed_with(ws)
            assert received == Close.GOING_AWAY


def test_a_crowd_arriving_at_once_is_connected_not_refused(ticker, serve):
    """A few hundred handshakes in flight together: every one is accepted and goes live."""
    import asyncio

    from websockets.asyncio.client import connect

    server = serve()
    crowd = 300

    async def arrive() -> tuple[int, int]:
        async def one():
            return await connect(
                f"{server.ws_url}/ws/live/{ticker.slug}/?since=0",
                origin=server.url,
                open_timeout=30,
                ping_interval=None,
            )

        results = await asyncio.gather(*(one() for _ in range(crowd)), return_exceptions=True)
        sockets = [r for r in results if not isinstance(r, BaseException)]
        await asyncio.to_thread(services.create_entry, ticker=ticker, body="<p>Alle da?</p>")
        frames = await asyncio.gather(*(ws.recv() for ws in sockets))
        await asyncio.gather(*(ws.close() for ws in sockets))
        return len(sockets), sum(json.loads(f)["seq"] == 1 for f in frames)

    connected, got_it = asyncio.run(arrive())
    assert connected == crowd
    assert got_it == crowd
