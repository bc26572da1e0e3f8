"""The per-process fan-out hub: one subscription per ticker, one frame to every local socket.

Stock Channels gives every reader its own channel and group membership, so a
broadcast costs a full channel-layer message and consumer dispatch per reader.
Here each server process subscribes once per ticker (a :class:`Feed`), takes
each change off the layer once, and writes the already-encoded frame to each
of its own sockets. The feed also keeps frames in sequence order: a change
that arrives ahead of one it has not seen makes it read the gap from the
change log first, and a periodic resync catches anything a layer outage or a
process on another layer lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import sys
import uuid
import weakref
from typing import Any, Protocol

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from ticker import presence, serving, sockets
from ticker.broadcast import MESSAGE_TYPE, group_name
from ticker.protocol import CLOSE_RULES, Close
from ticker.selectors import changes_between, last_seqs

logger = logging.getLogger(__name__)

# Names this process in the reader-presence table.
PROCESS_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

# Channels' groups expire (a day, by default, in channels_redis); renew well before.
GROUP_RENEW_SECONDS = 3600.0

# Longest a connecting reader waits for this process to subscribe to a ticker.
FEED_START_TIMEOUT = 5.0

# Give freed memory back to the OS when at least this many readers have left
# since the last time (and at most once per MEMORY_TRIM_SECONDS).
MEMORY_TRIM_READERS = 1000
MEMORY_TRIM_SECONDS = 10.0

# A layer receive that times out after at least this long was an idle wait
# (channels_redis blocks for 5 s per pop), not a failure worth backing off for.
QUIET_RECEIVE_SECONDS = 1.0


def is_timeout(exc: BaseException) -> bool:
    """Return True for a timeout error of any client library (asyncio, redis-py, ...)."""
    return any(cls.__name__ == "TimeoutError" for cls in type(exc).__mro__)


class Reader(Protocol):
    """What the hub needs of a connected socket."""

    # Highest change number this reader has been sent.
    last_seq: int
    # While the reader is being sent its catch-up, live frames queue here.
    pending: list[tuple[int, str]] | None
    # daphne's protocol object behind the socket, when served by daphne: the hub
    # then writes one prepared frame to it directly (see ``Feed._write``).
    socket: Any

    async def send_frame(self, frame: str) -> None: ...

    async def refuse(self, code: Close) -> None:
        """Explain (an error frame) and close the socket with ``code``."""


# Sockets written to between two yields to the event loop: a long fan-out
# must not keep handshakes and pings waiting for its whole length.
WRITES_PER_YIELD = 500


class Feed:
    """One process's subscription to one ticker, and that ticker's local readers."""

    def __init__(self, hub: Hub, ticker_id: int) -> None:
        self.hub = hub
        self.ticker_id = ticker_id
        self.readers: set[Reader] = set()
        self.last_seq = 0
        self.channel = ""
        self.started: asyncio.Future[None] | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        layer = self.hub.layer
        self.channel = await layer.new_channel(prefix="ticker-feed.")
        await layer.group_add(group_name(self.ticker_id), self.channel)
        # Read the position after subscribing: anything newer arrives on the channel.
        seqs = await database_sync_to_async(last_seqs)([self.ticker_id])
        self.last_seq = seqs.get(self.ticker_id, 0)
        self._task = asyncio.create_task(self._listen(), name=f"ticker-feed-{self.ticker_id}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.channel:
            try:
                await self.hub.layer.group_discard(group_name(self.ticker_id), self.channel)
            except Exception:
                logger.warning("Could not leave group of ticker %s", self.ticker_id)

    async def renew(self) -> None:
        await self.hub.layer.group_add(group_name(self.ticker_id), self.channel)

    async def _listen(self) -> None:
        """Take changes off the layer for as long as the feed lives; never give up.

        A receive that ends with a timeout after waiting a while is an idle
        ticker, not a failure: it is retried at once. Real failures back off
        and resync. A change the feed cannot deliver now (the database down
        while reading a gap) is left to the resync, and the loop goes on.
        """
        loop = asyncio.get_running_loop()
        backoff = 0.5
        while True:
            waited_from = loop.time()
            try:
                message = await self.hub.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if is_timeout(exc) and loop.time() - waited_from >= QUIET_RECEIVE_SECONDS:
                    continue
                # Expected now and then (a Redis restart, a read timeout while the
                # loop was busy with a burst of handshakes): the resync below
                # sends whatever was lost, so one line is enough.
                logger.warning(
                    "Channel layer receive failed for ticker %s (%s: %s); retrying in %.1fs",
                    self.ticker_id,
                    type(exc).__name__,
                    exc,
                    backoff,
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                with contextlib.suppress(Exception):
                    await self.renew()
                with contextlib.suppress(Exception):
                    await self.resync()
                continue
            backoff = 0.5
            if message.get("type") != MESSAGE_TYPE:
                continue
            try:
                await self.deliver(int(message["seq"]), message["frame"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning(
                    "Could not deliver change %s of ticker %s now (%s: %s); the resync will",
                    message.get("seq"),
                    self.ticker_id,
                    type(exc).__name__,
                    exc,
                )

    async def deliver(self, seq: int, frame: str) -> None:
        """Send one change to every local reader, after any change it skipped."""
        async with self._lock:
            if seq <= self.last_seq:
                return
            if seq > self.last_seq + 1:
                # Numbers are taken under the ticker's row lock, so everything
                # before ``seq`` is committed: read the gap from the change log.
                await self._send_missing(upto=seq - 1)
            if seq == self.last_seq + 1:
                await self._write(seq, frame)

    async def resync(self) -> None:
        """Send readers whatever the change log has that this feed has not seen."""
        async with self._lock:
            await self._send_missing()

    async def _send_missing(self, upto: int | None = None) -> None:
        """Write the change log's frames after ``last_seq`` (up to ``upto``), page by page.

        Pages keep one read small; reading on until the log has no more means
        a gap of any size is sent in full, so a change is late, never lost.
        """
        while True:
            page = await database_sync_to_async(changes_between)(
                self.ticker_id, self.last_seq, upto
            )
            for seq, frame in page:
                if seq != self.last_seq + 1:
                    # The log itself has a hole (cannot happen while numbers are
                    # taken under the row lock): never skip past it silently.
                    raise RuntimeError(
                        f"change log of ticker {self.ticker_id} has no change {self.last_seq + 1}"
                    )
                await self._write(seq, frame)
            if not page or (upto is not None and self.last_seq >= upto):
                return

    async def _write(self, seq: int, frame: str) -> None:
        """Write one change to every local reader: the hot loop of the live path.

        Under daphne the frame is UTF-8 encoded and framed once (autobahn's
        prepared message) and written straight to each open socket, which
        skips a per-reader encode, ASGI message and dispatch. Other servers
        (and sockets that are closing) go through the ordinary ASGI send.
        """
        self.last_seq = seq
        prepared = None
        written = 0
        for reader in tuple(self.readers):
            if reader.pending is not None:
                reader.pending.append((seq, frame))
                continue
            if seq <= reader.last_seq:
                continue
            reader.last_seq = seq
            try:
                sock = reader.socket
                if sock is not None and sock.state == getattr(sock, "STATE_CLOSED", None):
                    # The connection is gone but its consumer never said so.
                    self.readers.discard(reader)
                    continue
                if sock is not None and sock.state == sock.STATE_OPEN:
                    if prepared is None:
                        prepared = sockets.prepare(frame)
                    sockets.send_prepared(sock, prepared)
                else:
                    await reader.send_frame(frame)
            except Exception:
                # One broken socket must not keep the frame from the others.
                logger.debug("Dropping frame for a closed reader", exc_info=True)
            written += 1
            if written % WRITES_PER_YIELD == 0:
                await asyncio.sleep(0)


class Hub:
    """All feeds of one event loop (one server process)."""

    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.feeds: dict[int, Feed] = {}
        # Slugs of tickers this process has a feed for: a reader of a ticker
        # that others already follow connects without a database query.
        self.slugs: dict[str, int] = {}
        self._maintenance: asyncio.Task[None] | None = None
        self._retiring: set[asyncio.Task[None]] = set()
        # Most readers since memory was last given back, and when that was.
        self._peak_readers = 0
        self._trimmed_at = 0.0

    def known_ticker(self, slug: str) -> int | None:
        """Return the id of a ticker this process already follows, else None."""
        ticker_id = self.slugs.get(slug)
        if ticker_id is not None and ticker_id in self.feeds:
            return ticker_id
        return None

    async def join(self, ticker_id: int, reader: Reader, *, slug: str = "") -> Feed:
        """Register ``reader`` for the ticker, subscribing this process if needed.

        Waits at most ``FEED_START_TIMEOUT`` for a new subscription (a hung
        layer must not hold every connecting reader); raises if it fails.
        """
        while True:
            feed = self.feeds.get(ticker_id)
            if feed is None:
                feed = self.feeds[ticker_id] = Feed(self, ticker_id)
                feed.started = asyncio.ensure_future(feed.start())
            assert feed.started is not None
            if not feed.started.done():
                try:
                    await asyncio.wait_for(asyncio.shield(feed.started), FEED_START_TIMEOUT)
                except Exception:
                    if self.feeds.get(ticker_id) is feed:
                        del self.feeds[ticker_id]
                        feed.started.add_done_callback(functools.partial(self._retire_later, feed))
                    raise
            elif feed.started.exception() is not None:
                if self.feeds.get(ticker_id) is feed:
                    del self.feeds[ticker_id]
                raise feed.started.exception()  # type: ignore[misc]
            if self.feeds.get(ticker_id) is feed:
                break
        feed.readers.add(reader)
        self._peak_readers = max(
            self._peak_readers, sum(len(f.readers) for f in self.feeds.values())
        )
        if slug:
            self.slugs[slug] = ticker_id
        if self._maintenance is None or self._maintenance.done():
            self._maintenance = asyncio.create_task(
                self._maintain(), name="ticker-hub-maintenance"
            )
        return feed

    def forget(self, ticker_id: int, reader: Reader) -> None:
        """Remove ``reader`` at once, without awaiting anything.

        Safe to call from a ``finally`` of a consumer that crashed or is
        being cancelled (daphne kills applications that overstay their
        timeouts): the reader is gone before anything can interrupt, and a
        feed left without readers is stopped by a task of its own.
        """
        feed = self.feeds.get(ticker_id)
        if feed is None or reader not in feed.readers:
            return
        feed.readers.discard(reader)
        if not feed.readers and feed.started is not None and feed.started.done():
            del self.feeds[ticker_id]
            self._retire(feed)

    async def leave(self, ticker_id: int, reader: Reader) -> None:
        """Forget ``reader`` and wait until a feed it leaves empty has stopped."""
        self.forget(ticker_id, reader)
        if self._retiring:
            await asyncio.gather(*self._retiring, return_exceptions=True)

    def _retire_later(self, feed: Feed, _started: object) -> None:
        self._retire(feed)

    def _retire(self, feed: Feed) -> None:
        """Stop a feed nobody reads any more (in the background), and tidy up."""
        for slug in [s for s, t in self.slugs.items() if t == feed.ticker_id]:
            if feed.ticker_id not in self.feeds:
                del self.slugs[slug]
        task = asyncio.get_running_loop().create_task(self._stop(feed))
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def _stop(self, feed: Feed) -> None:
        await feed.stop()
        self._return_memory_if_readers_left()
        if not self.feeds and self._maintenance is not None:
            # No readers left in this process: stop maintaining, report zero once.
            self._maintenance.cancel()
            self._maintenance = None
            try:
                await database_sync_to_async(presence.report)(PROCESS_ID, {})
            except Exception:
                logger.warning("Could not report reader presence", exc_info=True)

    async def _ticker_deleted(self, ticker_id: int) -> None:
        """Close the sockets of a ticker that no longer exists with 4404, and forget it.

        Its readers were told it ended before it was deleted; from now on
        they would wait for changes that can never come.
        """
        feed = self.feeds.pop(ticker_id, None)
        if feed is None:
            return
        readers = list(feed.readers)
        feed.readers.clear()
        self._retire(feed)
        for reader in readers:
            try:
                await reader.refuse(Close.NOT_FOUND)
            except Exception:
                logger.debug("Could not close a reader of a deleted ticker", exc_info=True)

    def going_away(self) -> int:
        """Close every reader's daphne socket with 4001 ("server restarting, reconnect").

        Called as the server shuts down, so browsers reconnect after the
        protocol's retry hint (with jitter) instead of guessing from a dropped
        connection. Returns how many sockets were told.
        """
        rule = CLOSE_RULES[Close.GOING_AWAY]
        told = 0
        for feed in list(self.feeds.values()):
            for reader in list(feed.readers):
                sock = reader.socket
                if sock is None or sock.state != sock.STATE_OPEN:
                    continue
                try:
                    sock.sendClose(code=int(Close.GOING_AWAY), reason=rule.reason)
                    told += 1
                except Exception:
                    logger.debug("Could not tell a reader the server is going away", exc_info=True)
        logger.info("Server going away: told %d readers to reconnect", told)
        return told

    def reader_counts(self) -> dict[int, int]:
        """Return how many readers this process has per ticker."""
        return {ticker_id: len(feed.readers) for ticker_id, feed in self.feeds.items()}

    def _return_memory_if_readers_left(self) -> None:
        """After a crowd has gone, collect and hand freed memory back (rate-limited)."""
        readers = sum(len(feed.readers) for feed in self.feeds.values())
        self._peak_readers = max(self._peak_readers, readers)
        now = asyncio.get_running_loop().time()
        if (
            self._peak_readers - readers >= MEMORY_TRIM_READERS
            and now - self._trimmed_at >= MEMORY_TRIM_SECONDS
        ):
            serving.return_free_memory()
            self._peak_readers, self._trimmed_at = readers, now

    async def _maintain(self) -> None:
        """Resync, renew subscriptions and report presence while any feed is open."""
        interval = settings.TICKER_RESYNC_SECONDS
        loop = asyncio.get_running_loop()
        renewed = reported_at = loop.time()
        reported: dict[int, int] | None = None
        while True:
            counts = self.reader_counts()
            self._return_memory_if_readers_left()
            try:
                if counts != reported or loop.time() - reported_at > presence.HEARTBEAT_SECONDS:
                    await database_sync_to_async(presence.report)(PROCESS_ID, counts)
                    reported, reported_at = counts, loop.time()
                if not counts:
                    return
                await asyncio.sleep(interval)
                for ticker_id, idle in list(self.feeds.items()):
                    # A feed whose only joiner gave up while it was starting.
                    if not idle.readers and idle.started is not None and idle.started.done():
                        del self.feeds[ticker_id]
                        self._retire(idle)
                followed = list(self.feeds)
                seqs = await database_sync_to_async(last_seqs)(followed)
                for ticker_id in followed:
                    if ticker_id not in seqs:
                        await self._ticker_deleted(ticker_id)
                for ticker_id, seq in seqs.items():
                    feed = self.feeds.get(ticker_id)
                    if feed is not None and seq > feed.last_seq:
                        await feed.resync()
                if loop.time() - renewed > GROUP_RENEW_SECONDS:
                    renewed = loop.time()
                    for feed in list(self.feeds.values()):
                        await feed.renew()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("Ticker hub maintenance failed; retrying", exc_info=True)
                await asyncio.sleep(interval)


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def get_hub() -> Hub:
    """Return the hub of the running event loop (one per server process)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = Hub(get_channel_layer())
        _on_server_shutdown(hub.going_away)
    return hub


def _on_server_shutdown(callback: Any) -> bool:
    """Run ``callback`` when daphne's Twisted reactor begins to shut down.

    Uses Twisted's public system-event triggers, and only where daphne has
    installed the reactor already; elsewhere (tests, other servers) nothing
    is registered and readers see the server's own close.
    """
    reactor_module = sys.modules.get("twisted.internet.reactor")
    add_trigger = getattr(reactor_module, "addSystemEventTrigger", None)
    if add_trigger is None or not getattr(reactor_module, "running", False):
        return False
    add_trigger("before", "shutdown", callback)
    return True
