"""Benchmark the live path: publish -> every reader, through a real daphne server.

Starts daphne on a scratch database with the Redis channel layer, connects
``--readers`` WebSocket clients, publishes ``--messages`` entries through the
service (as an editor's save would), and prints:

* delivery latency from the service call to the last reader receiving it
  (p50 / p99 / max over the messages),
* the server process's CPU time per reader per message (the fan-out cost),
* that every reader received every change exactly once, in order.

Run it with ``./dev bench`` (options: ``./dev bench --readers 2000``).
Needs Redis (``REDIS_URL``, default redis://127.0.0.1:6379/15).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """Return user+system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


async def reader(
    url: str,
    expected: int,
    received: dict[int, float],
    seqs: list[int],
    handshakes: asyncio.Semaphore,
) -> None:
    import websockets

    async with handshakes:
        ws = await websockets.connect(
            url, origin="http://127.0.0.1", max_size=2**22, open_timeout=60, compression=None
        )
    async with ws:
        seqs.append(-1)  # marks "connected"
        while len(seqs) - 1 < expected:
            frame = await ws.recv(decode=False)
            now = time.perf_counter()
            # Frames begin with {"seq":N, -- read N without parsing the whole frame,
            # so the readers (on the same cores as the server) cost as little as possible.
            seq = int(frame[7 : frame.index(b",")])
            seqs.append(seq)
            received[seq] = max(received.get(seq, 0.0), now)


def hub_overhead_us(readers: int, messages: int = 200) -> float:
    """Time the hub's own loop over readers whose socket write does nothing."""
    from ticker.fanout import Feed

    class NullReader:
        def __init__(self) -> None:
            self.last_seq = 0
            self.pending = None

        async def send_frame(self, frame: str) -> None:
            return None

    async def measure() -> float:
        feed = Feed(hub=None, ticker_id=0)  # type: ignore[arg-type]
        feed.readers = {NullReader() for _ in range(readers)}
        frame = '{"seq":1,"type":"entry.published","html":"' + "x" * 1500 + '"}'
        started = time.perf_counter()
        for seq in range(1, messages + 1):
            await feed._write(seq, frame)
        return (time.perf_counter() - started) / (readers * messages) * 1e6

    return asyncio.run(measure())


async def run(
    args: argparse.Namespace, ticker_id: int, slug: str, ports: list[int], pids: list[int]
) -> None:
    from asgiref.sync import sync_to_async

    from ticker import services
    from ticker.models import Ticker

    ticker = await sync_to_async(Ticker.objects.get)(pk=ticker_id)
    for port in ports:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                await asyncio.sleep(0.1)
    # Readers are spread round-robin over the server processes.
    urls = [f"ws://127.0.0.1:{port}/ws/live/{slug}/?since=0" for port in ports]
    received: dict[int, float] = {}
    per_reader: list[list[int]] = [[] for _ in range(args.readers)]
    handshakes = asyncio.Semaphore(args.concurrency)
    tasks = [
        asyncio.create_task(reader(urls[i % len(urls)], args.messages, received, seqs, handshakes))
        for i, seqs in enumerate(per_reader)
    ]
    deadline = time.monotonic() + 120
    while sum(1 for s in per_reader if s) < args.readers:
        failed = [t for t in tasks if t.done() and t.exception()]
        if failed or time.monotonic() > deadline:
            raise SystemExit(f"readers failed to connect: {failed[:1] or 'timeout'}")
        await asyncio.sleep(0.05)
    await asyncio.sleep(args.settle)
    print(f"{args.readers} readers connected to {len(ports)} daphne process(es)")

    cpu_before = sum(cpu_seconds(pid) for pid in pids)
    sent_at: dict[int, float] = {}
    for n in range(args.messages):
        entry_started = time.perf_counter()
        await sync_to_async(services.create_entry)(ticker=ticker, body=f"<p>Meldung {n}</p>")
        sent_at[n + 1] = entry_started
        await asyncio.sleep(args.interval)
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
    cpu_used = sum(cpu_seconds(pid) for pid in pids) - cpu_before

    latencies = sorted((received[seq] - sent_at[seq]) * 1000 for seq in sent_at)
    exact = all(s[1:] == list(range(1, args.messages + 1)) for s in per_reader)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"messages: {args.messages}, every reader got each exactly once in order: {exact}")
    print(
        f"publish -> last reader: p50 {statistics.median(latencies):.1f} ms, "
        f"p99 {p99:.1f} ms, max {latencies[-1]:.1f} ms"
    )
    per = cpu_used / (args.readers * args.messages) * 1e6
    print(f"server CPU: {cpu_used:.2f} s in all, {per:.1f} us per reader per message")

    if not exact:
        raise SystemExit("delivery was not exact")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between publishes")
    parser.add_argument("--settle", type=float, default=1.0)
    parser.add_argument("--servers", type=int, default=1, help="daphne processes")
    parser.add_argument("--concurrency", type=int, default=50, help="handshakes at once")
    args = parser.parse_args()

    scratch = tempfile.mkdtemp(prefix="liveblog-bench-")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "liveblog.settings",
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{scratch}/bench.sqlite3"),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
        "CHANNEL_PREFIX": "bench",
        "DEBUG": "0",
        "HTTPS": "0",
        "SECRET_KEY": "benchmark-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from ticker import services
    from ticker.models import Ticker

    ticker = services.save_ticker(
        Ticker(title="Benchmark", slug=f"bench-{int(time.time())}", status="live")
    )
    ports = [free_port() for _ in range(args.servers)]
    servers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "liveblog.asgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        asyncio.run(run(args, ticker.pk, ticker.slug, ports, [s.pid for s in servers]))
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
    print(
        f"hub code alone (no sockets, in this process): {hub_overhead_us(args.readers):.2f} us "
        "per reader per message; the rest is daphne/autobahn writing to the socket"
    )


if __name__ == "__main__":
    main()
