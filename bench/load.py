"""The benchmark's load generator: many WebSocket readers (and a polling client) in one process.

``bench/run.py`` starts one or more of these processes and drives them over
stdin/stdout, one JSON object a line; they never run inside the server or the
publisher. Readers speak WebSocket through the ``websockets`` library's
sans-I/O client on plain asyncio protocols (no task per reader), so one
process can hold 10,000 readers and read a frame for a few microseconds.

Each reader behaves like ``ticker/static/ticker/live.js``: it connects with
``?since=<last seq it has>``, and when the connection fails or drops it comes
back after the server's retry hint for the close code (the one table in
``ticker/protocol.py``) plus an exponential back-off with full jitter; a
connection that lasted five seconds starts the back-off afresh. Every frame's ``seq`` is
checked: a reader counts changes it missed, got twice or got out of order.
Receive times are ``time.monotonic()``, the same clock as the publisher's, so
latencies are measured across processes.

Operations (``{"op": ...}``): ``connect``, ``wait``, ``mark``, ``stats``,
``close``, ``poll``, ``exit``; see :class:`Load`.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import sys
import time
from typing import Any
from urllib.parse import urlsplit

from websockets.client import ClientProtocol
from websockets.frames import Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.typing import Origin
from websockets.uri import parse_uri

from ticker.protocol import CLOSE_RULES, Close

SEQ_PREFIX = b'{"seq":'
# live.js: a socket open this long worked, so the next drop starts the back-off afresh.
STABLE_SECONDS = 5.0
ORIGIN = Origin("http://127.0.0.1")


def raise_open_files() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p99": None, "max": None}
    values = sorted(values)
    return {
        "p50": values[len(values) // 2],
        "p99": values[min(len(values) - 1, int(len(values) * 0.99))],
        "max": values[-1],
    }


class Connection(asyncio.Protocol):
    """One TCP connection of a reader, speaking WebSocket through websockets' sans-I/O client."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.ws = ClientProtocol(parse_uri(reader.url), origin=ORIGIN, max_size=2**22)
        self.transport: asyncio.Transport | None = None
        self.handshake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.partial: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.ws.send_request(self.ws.connect())
        self.flush()

    def flush(self) -> None:
        assert self.transport is not None
        for chunk in self.ws.data_to_send():
            if chunk:
                self.transport.write(chunk)
            else:  # end of stream: the closing handshake is over
                self.transport.close()

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        ws = self.ws
        ws.receive_data(data)
        for event in ws.events_received():
            if isinstance(event, Response):
                if not self.handshake.done():
                    if ws.handshake_exc is None:
                        self.handshake.set_result(None)
                    else:
                        self.handshake.set_exception(ws.handshake_exc)
            elif event.opcode is Opcode.TEXT:
                if event.fin:
                    self.reader.frame(bytes(event.data), now)
                else:
                    self.partial = [bytes(event.data)]
            elif event.opcode is Opcode.CONT:
                self.partial.append(bytes(event.data))
                if event.fin:
                    self.reader.frame(b"".join(self.partial), now)
                    self.partial = []
        self.flush()

    def eof_received(self) -> bool | None:
        self.ws.receive_eof()
        self.flush()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.handshake.done():
            self.handshake.set_exception(exc or ConnectionResetError("closed during handshake"))
        self.reader.lost(self)

    def close(self) -> None:
        if self.ws.state is State.OPEN:
            self.ws.send_close(1000)
            self.flush()
        elif self.transport is not None:
            self.transport.close()


class Reader:
    """One simulated browser tab: its position in the ticker and what it received."""

    def __init__(self, load: Load, url: str, since: int) -> None:
        self.load = load
        self.url = url
        self.last_seq = since
        self.missing: set[int] = set()
        self.duplicates = 0
        self.out_of_order = 0
        self.reloads = 0
        self.conn: Connection | None = None
        self.open = False
        self.opened_at = 0.0
        self.attempt = 0
        self.retry: asyncio.TimerHandle | None = None

    def frame(self, data: bytes, now: float) -> None:
        if not data.startswith(SEQ_PREFIX):
            self.load.other_frames += 1
            return
        seq = int(data[7 : data.index(b",", 7)])
        if data.startswith(b'"type":"reload"', data.index(b",", 7) + 1):
            self.reloads += 1
            self.last_seq = seq
            return
        if seq == self.last_seq + 1:
            self.last_seq = seq
        elif seq > self.last_seq:
            self.missing.update(range(self.last_seq + 1, seq))
            self.last_seq = seq
        elif seq in self.missing:
            self.missing.discard(seq)
            self.out_of_order += 1
        else:
            self.duplicates += 1
            return
        self.load.record(seq, now)

    def opened(self, conn: Connection) -> None:
        self.conn = conn
        self.open = True
        self.opened_at = time.monotonic()
        self.load.opened(self)

    def lost(self, conn: Connection) -> None:
        if conn is not self.conn:
            return
        self.conn = None
        if self.open:
            self.open = False
            self.load.drops += 1
            # close_code is only set once the sans-I/O protocol is CLOSED; the
            # frame the server sent is known as soon as it arrived.
            received = conn.ws.close_rcvd
            code = received.code if received is not None else None
            self.load.count("drop", str(code) if code is not None else "no close frame")
            rule = CLOSE_RULES.get(Close(code)) if code in Close else None
            if rule is not None and rule.action == "stop":
                return
            if time.monotonic() - self.opened_at >= STABLE_SECONDS:
                self.attempt = 0
            self.schedule(rule.retry_after if rule is not None else 0.0)

    def schedule(self, hint: float = 0.0) -> None:
        """Come back later, like live.js: the server's hint plus full-jitter back-off."""
        if not self.load.active:
            return
        delay = hint + random.random() * min(self.load.cap, 2.0**self.attempt)
        self.attempt += 1
        self.retry = asyncio.get_running_loop().call_later(delay, self.start)

    def start(self) -> None:
        self.retry = None
        if self.load.active:
            self.load.spawn(self)


class Load:
    """All readers of this process, and the figures the orchestrator asks for."""

    def __init__(self) -> None:
        self.readers: list[Reader] = []
        self.active = False
        self.cap = 10.0
        self.timeout = 30.0
        self.semaphore = asyncio.Semaphore(100)
        self.keep_all = True
        self.times: dict[int, list[float]] = {}
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.counts: dict[int, int] = {}
        self.other_frames = 0
        self.handshakes: list[float] = []
        self.failures: dict[str, int] = {}
        self.drops = 0
        self.opens = 0
        self.last_open_at = 0.0
        self.changed = asyncio.Event()
        self.tasks: set[asyncio.Future[None]] = set()

    # -- bookkeeping ---------------------------------------------------------

    def spawn(self, reader: Reader) -> None:
        task = asyncio.ensure_future(self.open(reader))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def count(self, kind: str, reason: str) -> None:
        key = f"{kind}: {reason}"
        self.failures[key] = self.failures.get(key, 0) + 1

    def record(self, seq: int, now: float) -> None:
        if self.keep_all:
            self.times.setdefault(seq, []).append(now)
        if seq not in self.first:
            self.first[seq] = now
        self.last[seq] = now
        self.counts[seq] = self.counts.get(seq, 0) + 1
        self.changed.set()

    def opened(self, reader: Reader) -> None:
        self.opens += 1
        self.last_open_at = reader.opened_at
        self.changed.set()

    async def open(self, reader: Reader) -> None:
        """One connection attempt (at most ``concurrency`` in flight); retry on failure."""
        if reader.conn is not None:
            return
        async with self.semaphore:
            if not self.active:
                return
            # Ask for what came after the last change this reader has, like live.js.
            base = reader.url.split("?")[0]
            reader.url = f"{base}?since={reader.last_seq}"
            parts = urlsplit(reader.url)
            loop = asyncio.get_running_loop()
            started = time.monotonic()
            conn: Connection | None = None
            try:
                async with asyncio.timeout(self.timeout):
                    _, conn = await loop.create_connection(
                        lambda: Connection(reader), parts.hostname, parts.port
                    )
                    reader.conn = conn
                    await conn.handshake
            except Exception as exc:
                reason = type(exc).__name__
                response = getattr(exc, "response", None)
                if response is not None:
                    reason = f"HTTP {response.status_code}"
                self.count("failed", reason)
                if conn is not None:
                    reader.conn = None
                    if conn.transport is not None:
                        conn.transport.abort()
                reader.schedule()
                return
            self.handshakes.append(time.monotonic() - started)
            reader.opened(conn)

    # -- operations ----------------------------------------------------------

    async def op_connect(
        self,
        urls: list[str],
        n: int,
        since: int,
        concurrency: int,
        handshake_timeout: float,
        cap: float = 10.0,
        keep_all: bool = True,
        deadline: float = 300.0,
    ) -> dict[str, Any]:
        """Open ``n`` readers at once (``concurrency`` handshakes in flight); wait for all."""
        self.active = True
        self.cap = cap
        self.timeout = handshake_timeout
        self.keep_all = keep_all
        self.semaphore = asyncio.Semaphore(concurrency)
        self.handshakes = []
        self.failures = {}
        started = time.monotonic()
        new = [Reader(self, urls[i % len(urls)], since) for i in range(n)]
        self.readers.extend(new)
        for reader in new:
            self.spawn(reader)
        done = await self._until(lambda: all(r.open for r in new), deadline)
        elapsed = (self.last_open_at if done else time.monotonic()) - started
        return {
            "connected": sum(r.open for r in new),
            "all": done,
            "elapsed": elapsed,
            "started": started,
            "handshakes": sorted(self.handshakes),
            "failures": dict(self.failures),
        }

    async def _until(self, condition: Any, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.changed.clear()
            try:
                async with asyncio.timeout(min(remaining, 0.2)):
                    await self.changed.wait()
            except TimeoutError:
                pass
        return True

    async def op_wait(self, upto: int, seconds: float) -> dict[str, Any]:
        """Wait until every reader is connected and has every change up to ``upto``."""
        started = time.monotonic()
        done = await self._until(
            lambda: all(r.open and r.last_seq >= upto for r in self.readers), seconds
        )
        return {
            "done": done,
            "elapsed": time.monotonic() - started,
            "open": sum(r.open for r in self.readers),
            "behind": sum(r.last_seq < upto for r in self.readers),
            "last_open_at": self.last_open_at,
        }

    async def op_mark(self) -> dict[str, Any]:
        """Start counting failures, drops and reconnects afresh (before a storm)."""
        self.failures = {}
        self.handshakes = []
        self.drops = 0
        self.opens = 0
        return {"ok": True}

    async def op_stats(self, sent: dict[str, float], upto: int, clear: bool = True) -> dict:
        """Latencies of the changes in ``sent`` (seq -> publish time) and exactness per reader."""
        latencies: list[float] = []
        first: list[float | None] = []
        last: list[float | None] = []
        counts: list[int] = []
        for key, at in sent.items():
            seq = int(key)
            if self.keep_all:
                latencies.extend(round((t - at) * 1000, 3) for t in self.times.get(seq, ()))
            # None: no reader of this process got the change.
            first.append(round((self.first[seq] - at) * 1000, 3) if seq in self.first else None)
            last.append(round((self.last[seq] - at) * 1000, 3) if seq in self.last else None)
            counts.append(self.counts.get(seq, 0))
        missed = sum(len(r.missing) + max(0, upto - r.last_seq) for r in self.readers)
        exact = sum(
            not r.missing and r.last_seq == upto and not r.duplicates and not r.out_of_order
            for r in self.readers
        )
        result = {
            "readers": len(self.readers),
            "latencies": latencies,
            "first": first,
            "last": last,
            "counts": counts,
            "missed": missed,
            "duplicates": sum(r.duplicates for r in self.readers),
            "out_of_order": sum(r.out_of_order for r in self.readers),
            "reloads": sum(r.reloads for r in self.readers),
            "exact_readers": exact,
            "other_frames": self.other_frames,
            "drops": self.drops,
            "reopens": self.opens,
            "failures": dict(self.failures),
            "handshakes": percentiles(self.handshakes),
        }
        if clear:
            for key in sent:
                self.times.pop(int(key), None)
        return result

    async def op_close(self, seconds: float = 15.0) -> dict[str, Any]:
        """Close every reader cleanly and forget them."""
        self.active = False
        for reader in self.readers:
            if reader.retry is not None:
                reader.retry.cancel()
            if reader.conn is not None:
                reader.conn.close()
        closed = await self._until(lambda: all(r.conn is None for r in self.readers), seconds)
        for reader in self.readers:
            if reader.conn is not None and reader.conn.transport is not None:
                reader.conn.transport.abort()
        count = len(self.readers)
        self.readers = []
        self.times.clear()
        self.first.clear()
        self.last.clear()
        self.counts.clear()
        self.other_frames = 0
        return {"closed": count, "clean": closed}

    async def op_poll(
        self, url: str, connections: int, seconds: float, max_requests: int
    ) -> dict[str, Any]:
        """Hammer one URL over ``connections`` keep-alive HTTP/1.1 connections."""
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: application/json\r\n\r\n"
        ).encode()
        latencies: list[float] = []
        statuses: dict[str, int] = {}
        errors: dict[str, int] = {}
        started = time.monotonic()
        stop_at = started + seconds

        async def client() -> None:
            reader = writer = None
            while time.monotonic() < stop_at and len(latencies) < max_requests:
                try:
                    if writer is None:
                        reader, writer = await asyncio.open_connection(host, port)
                    assert reader is not None
                    sent = time.monotonic()
                    writer.write(request)
                    async with asyncio.timeout(30):
                        status, keep = await read_response(reader)
                    latencies.append((time.monotonic() - sent) * 1000)
                    statuses[str(status)] = statuses.get(str(status), 0) + 1
                    if not keep:
                        writer.close()
                        writer = None
                except Exception as exc:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                    if writer is not None:
                        writer.close()
                    writer = None
                    await asyncio.sleep(0.05)
            if writer is not None:
                writer.close()

        await asyncio.gather(*(client() for _ in range(connections)))
        elapsed = time.monotonic() - started
        return {
            "requests": len(latencies),
            "elapsed": elapsed,
            "per_second": len(latencies) / elapsed if elapsed else 0.0,
            "latency_ms": percentiles(latencies),
            "statuses": statuses,
            "errors": errors,
        }


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one HTTP/1.1 response (Content-Length or chunked); return status and keep-alive."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip().lower()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        await reader.read()
        return status, False
    return status, headers.get("connection") != "close"


async def main() -> None:
    raise_open_files()
    load = Load()
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader(limit=2**26)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    while line := await stdin.readline():
        command = json.loads(line)
        op = command.pop("op")
        if op == "exit":
            break
        try:
            result = await getattr(load, f"op_{op}")(**command)
        except Exception as exc:
            result = {"error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main())
