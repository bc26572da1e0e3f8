"""The per-process hub: ordered, exactly-once delivery and the prepared-frame fast path."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from unittest import mock

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.db import OperationalError

from tests.helpers import redis_server
from tests.ticker.test_consumers import connect, create_entry, receive
from ticker import broadcast, fanout, sockets
from ticker.fanout import Feed, Hub
from ticker.sockets import daphne_socket


class FakeSocket:
    """Stands in for daphne's autobahn protocol: records what would go on the wire."""

    STATE_OPEN = 3
    STATE_CLOSING = 2

    def __init__(self, state: int = 3) -> None:
        self.state = state
        self.wire: list[bytes] = []

    def sendPreparedMessage(self, prepared) -> None:
        self.wire.append(prepared.payloadHybi)


class Reader:
    def __init__(self, socket=None) -> None:
        self.last_seq = 0
        self.pending = None
        self.socket = socket
        self.sent: list[str] = []

    async def send_frame(self, frame: str) -> None:
        self.sent.append(frame)

    async def refuse(self, code) -> None:
        self.refused = code


def text_frame_payload(wire: bytes) -> str:
    """Decode an unmasked server-to-client WebSocket text frame."""
    assert wire[0] == 0x81, "FIN + text opcode"
    length = wire[1] & 0x7F
    offset = 2
    if length == 126:
        length, offset = int.from_bytes(wire[2:4], "big"), 4
    elif length == 127:
        length, offset = int.from_bytes(wire[2:10], "big"), 10
    assert len(wire) == offset + length
    return wire[offset:].decode()


async def test_open_daphne_sockets_get_one_prepared_frame_others_the_asgi_send():
    feed = Feed(hub=None, ticker_id=1)
    fast, closing, plain = (
        Reader(FakeSocket()),
        Reader(FakeSocket(FakeSocket.STATE_CLOSING)),
        Reader(),
    )
    feed.readers = {fast, closing, plain}
    frame = json.dumps({"seq": 1, "type": "entry.published", "html": "ä" * 200})
    await feed._write(1, frame)
    assert [text_frame_payload(w) for w in fast.socket.wire] == [frame]
    assert fast.sent == []
    assert closing.socket.wire == []
    assert closing.sent == [frame]
    assert plain.sent == [frame]
    assert {r.last_seq for r in feed.readers} == {1}


async def test_frames_are_delivered_once_and_in_order():
    feed = Feed(hub=None, ticker_id=1)
    reader = Reader()
    feed.readers = {reader}
    await feed._write(1, '{"seq":1}')
    reader.last_seq = 3  # got 2 and 3 in its catch-up already
    for seq in (2, 3, 4):
        await feed._write(seq, f'{{"seq":{seq}}}')
    assert reader.sent == ['{"seq":1}', '{"seq":4}']


async def test_catching_up_reader_queues_live_frames():
    feed = Feed(hub=None, ticker_id=1)
    reader = Reader()
    reader.pending = []
    feed.readers = {reader}
    await feed._write(5, '{"seq":5}')
    assert reader.pending == [(5, '{"seq":5}')]
    assert reader.sent == []


def test_daphne_socket_is_found_only_behind_daphnes_send():
    class Server:
        async def handle_reply(self, protocol, message):
            return None

    protocol = FakeSocket()
    assert daphne_socket(functools.partial(Server().handle_reply, protocol)) is protocol
    assert daphne_socket(functools.partial(Server().handle_reply, object())) is None

    async def plain_send(message):
        return None

    assert daphne_socket(plain_send) is None


# ---- The feed's listener against real faults --------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_a_database_error_in_the_gap_read_does_not_stop_live_delivery(ticker, settings):
    settings.TICKER_RESYNC_SECONDS = 60  # only the listener can deliver within the test
    reader = connect(ticker.slug, "since=0")
    await reader.connect()
    with mock.patch("ticker.broadcast.send_change"):
        await create_entry(ticker=ticker, body="<p>eins</p>")
        await create_entry(ticker=ticker, body="<p>zwei</p>")
    frame_two = await database_sync_to_async(lambda: ticker.changes.get(seq=2).frame)()
    real = fanout.changes_between
    calls = 0

    def fail_once(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OperationalError("database went away")
        return real(*args, **kwargs)

    layer = get_channel_layer()
    with mock.patch("ticker.fanout.changes_between", side_effect=fail_once):
        # Change 2 overtakes change 1: its gap read fails once.
        await layer.group_send(
            broadcast.group_name(ticker.pk),
            {"type": broadcast.MESSAGE_TYPE, "seq": 2, "frame": frame_two},
        )
        await asyncio.sleep(0.2)
        assert calls == 1
        await create_entry(ticker=ticker, body="<p>drei</p>")
        assert [(await receive(reader))["seq"] for _ in range(3)] == [1, 2, 3]
    await reader.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_gap_longer_than_the_catch_up_limit_is_sent_in_full(ticker, settings):
    settings.TICKER_CATCHUP_LIMIT = 3
    settings.TICKER_RESYNC_SECONDS = 60
    reader = connect(ticker.slug, "since=0")
    await reader.connect()
    with mock.patch("ticker.broadcast.send_change"):
        for n in range(5):
            await create_entry(ticker=ticker, body=f"<p>verloren {n}</p>")
    await create_entry(ticker=ticker, body="<p>sechs</p>")
    assert [(await receive(reader))["seq"] for _ in range(6)] == [1, 2, 3, 4, 5, 6]
    await reader.disconnect()


class SignallingReader(Reader):
    def __init__(self) -> None:
        super().__init__()
        self.arrived = asyncio.Event()

    async def send_frame(self, frame: str) -> None:
        await super().send_frame(frame)
        self.arrived.set()


class QuickPopLayer(RedisChannelLayer):
    """channels_redis with a 1 s blocking pop, so idle timeouts come quickly in a test."""

    brpop_timeout = 1


@pytest.mark.django_db(transaction=True)
async def test_an_idle_redis_feed_delivers_at_once(ticker, tmp_path, caplog):
    """A quiet receive is normal: after idling past two timeouts a change still comes at once.

    The Redis client's socket timeout equals the blocking pop's here (the
    configuration that made every idle receive raise), so the listener must
    tell an idle timeout from a failure.
    """
    caplog.set_level(logging.WARNING, logger="ticker.fanout")
    with redis_server(tmp_path) as server:
        layer = QuickPopLayer(
            hosts=[{"address": server.url, "socket_timeout": 1}], prefix="idle-test"
        )
        hub = Hub(layer)
        reader = SignallingReader()
        feed = await hub.join(ticker.pk, reader)
        try:
            await asyncio.sleep(3.5)  # idle, more than twice the timeout
            started = time.monotonic()
            await layer.group_send(
                broadcast.group_name(ticker.pk),
                {"type": broadcast.MESSAGE_TYPE, "seq": 1, "frame": '{"seq":1}'},
            )
            await asyncio.wait_for(reader.arrived.wait(), 5)
            latency = time.monotonic() - started
        finally:
            await hub.leave(ticker.pk, reader)
            await layer.flush()
    assert reader.sent == ['{"seq":1}']
    assert latency < 0.3, f"an idle feed delivered after {latency:.2f}s"
    assert feed.last_seq == 1
    assert not [r for r in caplog.records if "receive failed" in r.getMessage()]


# ---- Writing a prepared frame straight to an idle socket ----------------------------


class TcpTransport:
    """The attributes of Twisted's TCP transport that the direct write reads."""

    def __init__(self, raw, *, buffered: bytes = b"") -> None:
        self.socket = raw
        self.connected = True
        self.disconnecting = False
        self._tempDataLen = len(buffered)
        self.dataBuffer = b""
        self.offset = 0
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(bytes(data))


class AutobahnProtocol(FakeSocket):
    """An open daphne socket as autobahn leaves it: no compression, nothing queued."""

    def __init__(self, transport) -> None:
        super().__init__()
        self.transport = transport
        self._perMessageCompress = None
        self.send_queue = []


def test_an_idle_socket_gets_the_frame_with_one_send():
    import socket as socketlib

    ours, peer = socketlib.socketpair()
    with ours, peer:
        protocol = AutobahnProtocol(TcpTransport(ours))
        prepared = sockets.prepare('{"seq":1,"type":"entry.published"}')
        sockets.send_prepared(protocol, prepared)
        assert text_frame_payload(peer.recv(4096)) == '{"seq":1,"type":"entry.published"}'
    assert protocol.wire == [], "autobahn's own send was not needed"
    assert protocol.transport.written == []


def test_what_the_kernel_does_not_take_goes_to_twisted_in_order():
    class TightSocket:
        def send(self, data: bytes) -> int:
            return 3

    protocol = AutobahnProtocol(TcpTransport(TightSocket()))
    prepared = sockets.prepare("x" * 50)
    sockets.send_prepared(protocol, prepared)
    assert protocol.transport.written == [prepared.payloadHybi[3:]]


@pytest.mark.parametrize(
    "change",
    ["twisted has data buffered", "autobahn has a queue", "compression", "not plain tcp"],
)
def test_anything_queued_or_unusual_takes_autobahns_path(change):
    transport = TcpTransport(
        object(), buffered=b"x" if change == "twisted has data buffered" else b""
    )
    protocol = AutobahnProtocol(transport)
    if change == "autobahn has a queue":
        protocol.send_queue.append((b"x", False))
    elif change == "compression":
        protocol._perMessageCompress = object()
    elif change == "not plain tcp":
        del transport.socket
    prepared = sockets.prepare('{"seq":1}')
    sockets.send_prepared(protocol, prepared)
    assert [text_frame_payload(w) for w in protocol.wire] == ['{"seq":1}']


def test_the_libraries_still_have_what_the_direct_write_reads():
    """Fails when an upgrade of Twisted or autobahn renames what the direct write relies on."""
    import inspect

    from autobahn.websocket.protocol import WebSocketProtocol
    from twisted.internet import abstract

    twisted_source = inspect.getsource(abstract.FileDescriptor)
    for name in ("_tempDataLen", "self.offset", "self.dataBuffer", "disconnecting"):
        assert name in twisted_source
    autobahn_source = inspect.getsource(WebSocketProtocol)
    assert "self._perMessageCompress = None" in autobahn_source
    assert "self.send_queue" in autobahn_source


def test_no_shutdown_hook_is_registered_outside_a_running_daphne():
    calls = []
    assert fanout._on_server_shutdown(lambda: calls.append(1)) is False
    assert calls == []


class ClosableSocket(FakeSocket):
    """An autobahn protocol that records the close frames it is asked to send."""

    def __init__(self, state: int = 3, *, broken: bool = False) -> None:
        super().__init__(state)
        self.closes: list[tuple[int, str]] = []
        self.broken = broken

    def sendClose(self, code: int, reason: str) -> None:
        if self.broken:
            raise ConnectionError("gone")
        self.closes.append((code, reason))


def test_going_away_tells_every_open_daphne_socket_to_reconnect():
    from ticker.protocol import CLOSE_RULES, Close

    hub = Hub(layer=None)
    open_a, open_b, closing, broken = (
        ClosableSocket(),
        ClosableSocket(),
        ClosableSocket(FakeSocket.STATE_CLOSING),
        ClosableSocket(broken=True),
    )
    first, second = Feed(hub, 1), Feed(hub, 2)
    first.readers = {Reader(open_a), Reader(closing), Reader(None)}
    second.readers = {Reader(broken), Reader(open_b)}
    hub.feeds = {1: first, 2: second}
    assert hub.going_away() == 2
    reason = CLOSE_RULES[Close.GOING_AWAY].reason
    assert open_a.closes == open_b.closes == [(Close.GOING_AWAY, reason)]
    assert closing.closes == []


def test_the_shutdown_hook_uses_twisteds_trigger_once_the_reactor_runs(monkeypatch):
    import sys
    import types

    triggers = []
    reactor = types.SimpleNamespace(
        running=False, addSystemEventTrigger=lambda *args: triggers.append(args)
    )
    monkeypatch.setitem(sys.modules, "twisted.internet.reactor", reactor)

    def callback() -> None:
        return None

    assert fanout._on_server_shutdown(callback) is False
    reactor.running = True
    assert fanout._on_server_shutdown(callback) is True
    assert triggers == [("before", "shutdown", callback)]
