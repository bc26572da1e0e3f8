"""Hand a committed change to the channel layer, once, for every server process.

Each process's fan-out hub (:mod:`ticker.fanout`) is the only subscriber of a
ticker's group in that process, so one ``group_send`` reaches each process
once, whatever the number of readers.

An editor's save must never wait on the bus: with an out-of-process layer
(Redis) the send runs on a publisher thread of its own, and the editor's
request waits for it at most ``TICKER_BROADCAST_WAIT`` seconds. A slow send
still completes in the background; a failed one opens a short pause in which
nothing is sent, and is logged once per outage. The change is in the change
log either way, so every hub's resync delivers it: late, never lost.
"""

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings

logger = logging.getLogger(__name__)

MESSAGE_TYPE = "ticker.change"


def group_name(ticker_id: int) -> str:
    """Return the channel-layer group that carries a ticker's changes to every process."""
    return f"ticker.{ticker_id}"


class Publisher:
    """Sends changes to an out-of-process channel layer from one thread of its own.

    Sends run one after another (FIFO) on the thread's event loop, so changes
    leave in the order they were committed. After a failure, sends are
    skipped for ``pause`` seconds: during an outage an editor's save costs
    nothing and the log gets one line, not a traceback per change.
    """

    def __init__(self, *, send_timeout: float = 5.0, pause: float = 5.0) -> None:
        self.send_timeout = send_timeout
        self.pause = pause
        self._loop: asyncio.AbstractEventLoop | None = None
        self._start_lock = threading.Lock()
        self._send_lock: asyncio.Lock | None = None
        self._down_until = 0.0
        self._outage_logged = False

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._start_lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="ticker-publisher", daemon=True
                )
                thread.start()
                self._loop = loop
            return self._loop

    def submit(self, ticker_id: int, seq: int, frame: str) -> concurrent.futures.Future[bool]:
        """Start sending one change; return a future that is True once it was sent."""
        if time.monotonic() < self._down_until:
            skipped: concurrent.futures.Future[bool] = concurrent.futures.Future()
            skipped.set_result(False)
            return skipped
        return asyncio.run_coroutine_threadsafe(
            self._send(ticker_id, seq, frame), self._ensure_loop()
        )

    async def _send(self, ticker_id: int, seq: int, frame: str) -> bool:
        if self._send_lock is None:
            self._send_lock = asyncio.Lock()
        async with self._send_lock:
            if time.monotonic() < self._down_until:
                return False
            layer = get_channel_layer()
            if layer is None:
                return False
            try:
                await asyncio.wait_for(
                    layer.group_send(
                        group_name(ticker_id), {"type": MESSAGE_TYPE, "seq": seq, "frame": frame}
                    ),
                    self.send_timeout,
                )
            except Exception as exc:
                self._down_until = time.monotonic() + self.pause
                if not self._outage_logged:
                    self._outage_logged = True
                    logger.error(
                        "Channel layer unavailable (%s: %s): changes reach readers by resync "
                        "until it is back (first lost: change %s of ticker %s)",
                        type(exc).__name__,
                        exc,
                        seq,
                        ticker_id,
                    )
                return False
            if self._outage_logged:
                self._outage_logged = False
                logger.warning("Channel layer is back: broadcasting changes again")
            return True


_publisher = Publisher()


def send_change(ticker_id: int, seq: int, frame: str) -> None:
    """Send an already-encoded frame to every process that has readers of the ticker.

    Runs after commit, in the editor's request. The in-memory layer (one
    process) is sent to directly; any other layer through the publisher
    thread, waiting at most ``TICKER_BROADCAST_WAIT`` seconds. A failure is
    logged, never raised into the request: the change is in the change log.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    if isinstance(layer, InMemoryChannelLayer):
        # Same process, same event loop as the hub: nothing can hang here.
        async_to_sync(layer.group_send)(
            group_name(ticker_id), {"type": MESSAGE_TYPE, "seq": seq, "frame": frame}
        )
        return
    future = _publisher.submit(ticker_id, seq, frame)
    with contextlib.suppress(concurrent.futures.TimeoutError):
        future.result(timeout=settings.TICKER_BROADCAST_WAIT)
