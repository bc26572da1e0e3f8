"""The reader's WebSocket: validate, catch up, then hand the socket to the hub.

Readers never write. The consumer checks the ticker and ``since``, registers
with the process's fan-out hub *before* reading the change log (so nothing
can fall between catch-up and live stream), replays what the reader missed,
then lets the hub write live frames straight to the socket.
"""

from __future__ import annotations

import json
import logging
from time import monotonic
from typing import Any
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from ticker import rendering
from ticker.fanout import Feed, get_hub
from ticker.models import Ticker
from ticker.protocol import CLOSE_RULES, Close
from ticker.selectors import CatchUp, catch_up, changes_between
from ticker.sockets import daphne_socket

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
def _catch_up(ticker_id: int, since: int) -> CatchUp:
    return catch_up(ticker_id, since)


@database_sync_to_async
def _changes_after(ticker_id: int, since: int, upto: int) -> list[tuple[int, str]]:
    return changes_between(ticker_id, since, upto)


class TickerConsumer(AsyncWebsocketConsumer):
    """One reader of one ticker."""

    # Readers are fed by the process's hub, so none needs a channel-layer
    # channel of its own: an alias with no layer behind it skips creating one.
    channel_layer_alias = "ticker-readers-use-the-hub"
    ticker_id: int | None = None
    feed: Feed | None = None
    socket: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Run the consumer; however it ends, the reader leaves the hub.

        A clean close reaches ``disconnect``, but an exception inside the
        consumer or daphne killing it after a timeout does not: without this
        ``finally`` such a reader would stay in the hub for good.
        """
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._leave_hub()

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Dispatch without Channels' per-message connection check.

        Channels closes stale database connections before every message (a
        thread hop each); this consumer touches the database only through
        ``database_sync_to_async``, which does that check itself.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    def _leave_hub(self) -> None:
        if self.ticker_id is not None and self.feed is not None:
            get_hub().forget(self.ticker_id, self)
            self.feed = None

    async def connect(self) -> None:
        self.last_seq = 0
        self.pending: list[tuple[int, str]] | None = []
        self._accepted = False
        self._frames_window = (monotonic(), 0)
        self.socket = daphne_socket(self.base_send)
        slug = self.scope["url_route"]["kwargs"]["slug"]
        try:
            since = parse_since(self.scope.get("query_string", b""))
        except (ValueError, UnicodeDecodeError):
            await self.refuse(Close.BAD_REQUEST)
            return
        hub = get_hub()
        try:
            ticker_id = hub.known_ticker(slug)
            if ticker_id is None:
                ticker_id = await _ticker_id(slug)
            if ticker_id is None:
                await self.refuse(Close.NOT_FOUND)
                return
            self.ticker_id = ticker_id
            # Subscribe first, read second: live frames queue in ``pending`` meanwhile.
            self.feed = feed = await hub.join(ticker_id, self, slug=slug)
            await self.accept()
            changes = await self._catch_up(feed, since)
        except Exception:
            logger.warning("Reader could not be connected to ticker %r", slug, exc_info=True)
            self._leave_hub()
            await self.refuse(Close.UNAVAILABLE)
            return
        if changes is None:
            await self.send(text_data=rendering.reload_frame(self.last_seq))
        else:
            for seq, frame in changes:
                await self.send(text_data=frame)
                self.last_seq = seq
        # Hand over to live frames; whatever arrived meanwhile goes out first, once.
        while self.pending:
            seq, frame = self.pending.pop(0)
            if seq > self.last_seq:
                await self.send(text_data=frame)
                self.last_seq = seq
        self.pending = None

    async def _catch_up(self, feed: Feed, since: int | None) -> list[tuple[int, str]] | None:
        """Return what a reader who has seen ``since`` needs before live frames, or None to reload.

        The feed knows the newest change it has sent, so a reader who is up
        to date (or starts from now) costs no database read; only a reader
        who is behind reads the change log, and one too far behind reloads.
        """
        position = feed.last_seq
        if since is None or since == position:
            self.last_seq = position
            return []
        if since < position:
            if position - since > settings.TICKER_CATCHUP_LIMIT:
                self.last_seq = position
                return None
            self.last_seq = since
            return await _changes_after(feed.ticker_id, since, position)
        # Ahead of this process's feed: it lags, or the database was reset.
        result = await _catch_up(feed.ticker_id, since)
        self.last_seq = result.last_seq if result.changes is None else since
        return result.changes

    async def refuse(self, code: Close) -> None:
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
        self._leave_hub()

    async def send_frame(self, frame: str) -> None:
        """Write an already-encoded frame; called by the hub for live changes."""
        await self.base_send({"type": "websocket.send", "text": frame})

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Answer pings; reject anything else without disturbing other readers."""
        size = len(text_data) if text_data is not None else len(bytes_data or b"")
        if size > settings.TICKER_MAX_CLIENT_FRAME:
            await self.refuse(Close.TOO_LARGE)
            return
        started, count = self._frames_window
        now = monotonic()
        if now - started > 60:
            started, count = now, 0
        self._frames_window = (started, count + 1)
        if count + 1 > settings.TICKER_MAX_CLIENT_FRAMES_PER_MINUTE:
            await self.refuse(Close.TOO_MANY_FRAMES)
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
