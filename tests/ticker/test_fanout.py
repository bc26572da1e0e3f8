"""The per-process hub: ordered, exactly-once delivery and the prepared-frame fast path."""

from __future__ import annotations

import functools
import json

from ticker.consumers import daphne_socket
from ticker.fanout import Feed


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
