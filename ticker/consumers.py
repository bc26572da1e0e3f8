"""The reader's WebSocket: validate, catch up, then hand the socket to the hub.

Readers never write. The consumer checks the ticker and ``since``, registers
with the process's fan-out hub *before* reading the change log (so nothing
can fall between catch-up and live stream), replays what the reader missed,
then lets the hub write live frames straight to the socket.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from ticker import rendering
from ticker.fanout import Feed, get_hub
from ticker.models import Ticker
from ticker.protocol import CLOSE_RULES, Close
from ticker.selectors import CatchUp, catch_up

logger = logging.getLogger(__name__)


def parse_since(query_string: bytes) -> int | None:
    """Return ``since`` from the query string, None if absent; raise ValueError if bad."""
    values = parse_qs(query_string.decode("latin-1")).get("since")
    if not values or values[-1] == "":
        return None
    since = int(values[-1])
    if since < 0:
        raise ValueError("since must not be negative")
    return since


@database_sync_to_async
def _ticker_id(slug: str) -> int | None:
    return Ticker.objects.filter(slug=slug).values_list("pk", flat=True).first()


@database_sync_to_async
def _catch_up(ticker_id: int, since: int | None) -> CatchUp:
    if since is None:
        # A reader with nothing starts from now.
        current = Ticker.objects.filter(pk=ticker_id).values_list("last_seq", flat=True).get()
        return CatchUp(current, [])
    return catch_up(ticker_id, since)


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


class TickerConsumer(AsyncWebsocketConsumer):
    """One reader of one ticker."""

    # Readers are fed by the process's hub, so none needs a channel-layer
    # channel of its own: an alias with no layer behind it skips creating one.
    channel_layer_alias = "ticker-readers-use-the-hub"
    ticker_id: int | None = None
    feed: Feed | None = None
    socket: Any = None

    async def connect(self) -> None:
        self.last_seq = 0
        self.pending: list[tuple[int, str]] | None = []
        self._accepted = False
        self._frames_window = (time.monotonic(), 0)
        self.socket = daphne_socket(self.base_send)
        logger.debug("Reader connected (prepared frames: %s)", self.socket is not None)
        slug = self.scope["url_route"]["kwargs"]["slug"]
        try:
            since = parse_since(self.scope.get("query_string", b""))
        except (ValueError, UnicodeDecodeError):
            await self._refuse(Close.BAD_REQUEST)
            return
        try:
            ticker_id = await _ticker_id(slug)
            if ticker_id is None:
                await self._refuse(Close.NOT_FOUND)
                return
            self.ticker_id = ticker_id
            # Subscribe first, read second: live frames queue in ``pending`` meanwhile.
            self.feed = await get_hub().join(ticker_id, self)
            await self.accept()
            result = await _catch_up(ticker_id, since)
        except Exception:
            logger.exception("Reader could not be connected to ticker %r", slug)
            await self._refuse(Close.UNAVAILABLE)
            return
        self.last_seq = since if since is not None else result.last_seq
        if result.changes is None:
            await self.send(text_data=rendering.reload_frame(result.last_seq))
            self.last_seq = result.last_seq
        else:
            for seq, frame in result.changes:
                await self.send(text_data=frame)
                self.last_seq = seq
        # Hand over to live frames; whatever arrived meanwhile goes out first, once.
        while self.pending:
            seq, frame = self.pending.pop(0)
            if seq > self.last_seq:
                await self.send(text_data=frame)
                self.last_seq = seq
        self.pending = None

    async def _refuse(self, code: Close) -> None:
        """Accept only to explain: browsers see a close code, not a failed handshake."""
        rule = CLOSE_RULES[code]
        if not self._accepted:
            await self.accept()
        await self.send(
            text_data=json.dumps(
                {
                    "type": "error",
                    "error": rule.reason,
                    "code": int(code),
                    "action": rule.action,
                    "retry_after": rule.retry_after,
                }
            )
        )
        await self.close(code=int(code))

    async def accept(self, subprotocol: str | None = None, headers: list | None = None) -> None:
        self._accepted = True
        await super().accept(subprotocol, headers)

    async def disconnect(self, code: int) -> None:
        if self.ticker_id is not None and self.feed is not None:
            await get_hub().leave(self.ticker_id, self)

    async def send_frame(self, frame: str) -> None:
        """Write an already-encoded frame; called by the hub for live changes."""
        await self.base_send({"type": "websocket.send", "text": frame})

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Answer pings; reject anything else without disturbing other readers."""
        size = len(text_data) if text_data is not None else len(bytes_data or b"")
        if size > settings.TICKER_MAX_CLIENT_FRAME:
            await self._refuse(Close.TOO_LARGE)
            return
        started, count = self._frames_window
        now = time.monotonic()
        if now - started > 60:
            started, count = now, 0
        self._frames_window = (started, count + 1)
        if count + 1 > settings.TICKER_MAX_CLIENT_FRAMES_PER_MINUTE:
            await self._refuse(Close.TOO_MANY_FRAMES)
            return
        if text_data is None:
            await self._error("binary frames are not accepted")
            return
        try:
            message = json.loads(text_data)
        except ValueError:
            await self._error("malformed frame: expected JSON")
            return
        if isinstance(message, dict) and message.get("type") == "ping":
            await self.send(text_data=json.dumps({"type": "pong", "last_seq": self.last_seq}))
        else:
            await self._error('unknown message: readers may only send {"type": "ping"}')

    async def _error(self, reason: str) -> None:
        await self.send(text_data=json.dumps({"type": "error", "error": reason}))
