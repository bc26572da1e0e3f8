"""Small helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from ticker import services
from ticker.models import Entry, Ticker


def make_entries(ticker: Ticker, count: int, **fields: object) -> list[Entry]:
    """Publish ``count`` entries one minute apart through the service, oldest first."""
    start = timezone.now() - timedelta(hours=3)
    return [
        services.create_entry(
            ticker=ticker,
            headline=f"Meldung {n}",
            body=f"<p>Text {n}</p>",
            display_at=start + timedelta(minutes=n),
            **fields,
        )
        for n in range(count)
    ]


def entry_ids(html: str) -> list[int]:
    """Return the ids of the entry partials in ``html``, in page order."""
    return [int(m) for m in re.findall(r'data-entry-id="(\d+)"', html)]


class RedisServer:
    """A private ``redis-server`` that a test may freeze, thaw or kill."""

    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.process = process
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"

    def freeze(self) -> None:
        """Stop the server without closing its sockets: clients hang, as on a stuck host."""
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)


def wait_until_listening(
    name: str,
    process: subprocess.Popen[bytes],
    port: int,
    output: Callable[[], str],
    timeout: float,
) -> None:
    """Wait until ``process`` accepts connections on ``port``; raise with its output if not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{output()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{name} did not listen on {port} within {timeout}s:\n{output()}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    """Run a throw-away Redis on a free port (never the machine's shared one)."""
    executable = shutil.which("redis-server")
    if executable is None:
        raise RuntimeError("redis-server is not installed; the fault tests need their own Redis")
    port = free_port()
    process = subprocess.Popen(
        [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    server = RedisServer(process, port)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the test's redis-server did not start")
            time.sleep(0.05)
        yield server
    finally:
        server.thaw()
        process.kill()
        process.wait()
