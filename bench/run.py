"""Benchmark the live ticker as users run it, next to a raw WebSocket reference server.

``./dev bench`` (this file) is the publisher and the conductor. It starts the
real server the way operators do — daphne with production settings (DEBUG
off, a SECRET_KEY, ALLOWED_HOSTS, plain HTTP on loopback), PostgreSQL and the
Redis channel layer — opens readers from separate load-generator processes
(``bench/load.py``), publishes through ``ticker.services.create_entry`` and
prints a Markdown table (and writes JSON) with, for each ``--readers`` count:

* connect: readers connected per second, failed attempts, time until all are
  connected, handshake times, RSS per connected reader and after they leave;
* deliver: latency from the service call to each reader (p50/p99/max, last
  reader), whether every reader got every change exactly once and in order,
  and server CPU time per delivery;
* the same for a raw ``websockets`` broadcast server (``bench/reference.py``)
  driven by the same load generator, and the product/reference ratios;
* storm: the server restarted under N readers, who come back with
  ``since=`` after a full-jitter back-off; and soak (``--soak SECONDS``);

and once per run: save → first reader, the polling endpoint, and the live
page at 100 and 10,000 entries. ``--only`` picks sections. See README.md,
"Tests and benchmark", for how to read the table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import queue
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent

PER_N = ("connect", "deliver", "reference", "storm", "soak")
ONCE = ("save", "poll", "page")
SECTIONS = PER_N + ONCE
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/liveblog_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"


# --- Processes --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class Server:
    """One server process (daphne with the app, or the reference) on a fixed port."""

    def __init__(self, command: list[str], port: int, env: dict[str, str], log: Path) -> None:
        self.command = command
        self.port = port
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 60.0) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"server exited at start; see {self.log}:\n{self.tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"server did not listen; see {self.log}") from None
                time.sleep(0.05)

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])

    def send(self, line: str) -> None:
        assert self.process is not None
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        self.process.stdin.flush()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def rss(self) -> int:
        return rss_bytes(self.pid)


class Servers:
    """The app on ``--servers`` daphne processes, or the reference server."""

    def __init__(self, servers: list[Server]) -> None:
        self.servers = servers

    def urls(self, slug: str) -> list[str]:
        return [f"ws://127.0.0.1:{s.port}/ws/live/{slug}/" for s in self.servers]

    def http(self, path: str) -> str:
        return f"http://127.0.0.1:{self.servers[0].port}{path}"

    def start(self) -> None:
        for server in self.servers:
            server.start()

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

    def cpu(self) -> float:
        return sum(s.cpu() for s in self.servers)

    def rss(self) -> int:
        return sum(s.rss() for s in self.servers)


class Load:
    """The load-generator processes; each op is sent to all and their answers gathered."""

    def __init__(self, count: int, env: dict[str, str], logdir: Path) -> None:
        self.processes = []
        self.answers: list[queue.Queue[str]] = []
        for index in range(count):
            log = (logdir / f"load-{index}.log").open("ab")
            process = subprocess.Popen(
                [sys.executable, str(BENCH / "load.py")],
                cwd=ROOT,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
            )
            answers: queue.Queue[str] = queue.Queue()
            threading.Thread(target=self._pump, args=(process, answers), daemon=True).start()
            self.processes.append(process)
            self.answers.append(answers)

    @staticmethod
    def _pump(process: subprocess.Popen[bytes], answers: queue.Queue[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            answers.put(line.decode())

    def send(self, ops: list[dict[str, Any]]) -> None:
        for process, op in zip(self.processes, ops, strict=True):
            assert process.stdin is not None
            process.stdin.write(json.dumps(op).encode() + b"\n")
            process.stdin.flush()

    def collect(self, timeout: float) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        results = []
        for answers in self.answers:
            try:
                line = answers.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise SystemExit("the load generator did not answer in time") from None
            result = json.loads(line)
            if "error" in result:
                raise SystemExit(f"load generator: {result['error']}")
            results.append(result)
        return results

    def send_one(self, op: dict[str, Any], timeout: float) -> list[dict[str, Any]]:
        """Send an op to the first load process only (polling and page timing)."""
        process = self.processes[0]
        assert process.stdin is not None
        process.stdin.write(json.dumps(op).encode() + b"\n")
        process.stdin.flush()
        try:
            result = json.loads(self.answers[0].get(timeout=timeout))
        except queue.Empty:
            raise SystemExit("the load generator did not answer in time") from None
        if "error" in result:
            raise SystemExit(f"load generator: {result['error']}")
        return [result]

    def all(self, op: dict[str, Any], timeout: float) -> list[dict[str, Any]]:
        self.send([op] * len(self.processes))
        return self.collect(timeout)

    def split(self, n: int) -> list[int]:
        k = len(self.processes)
        return [n // k + (1 if i < n % k else 0) for i in range(k)]

    def exit(self) -> None:
        for process in self.processes:
            with contextlib.suppress(Exception):
                assert process.stdin is not None
                process.stdin.write(b'{"op": "exit"}\n')
                process.stdin.flush()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


# --- Figures ----------------------------------------------------------------------


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))]


def spread(values: list[float]) -> dict[str, float | None]:
    return {
        "p50": pct(values, 0.5),
        "p99": pct(values, 0.99),
        "max": max(values) if values else None,
    }


def merge_stats(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Combine the load processes' answers to ``stats``."""
    busy = [p for p in parts if p["readers"]] or parts[:1]

    def across(key: str, pick: Callable[[list[float]], float]) -> list[float]:
        # Per change: the earliest first / latest last arrival over the processes.
        columns = zip(*(p[key] for p in busy), strict=True)
        return [pick([x for x in column if x is not None] or [float("nan")]) for column in columns]

    merged: dict[str, Any] = {
        "latencies": [x for p in parts for x in p["latencies"]],
        "first": across("first", min),
        "last": across("last", max),
        "failures": {},
    }
    for key in (
        "readers",
        "missed",
        "duplicates",
        "out_of_order",
        "reloads",
        "exact_readers",
        "other_frames",
        "drops",
        "reopens",
    ):
        merged[key] = sum(p[key] for p in parts)
    for p in parts:
        for reason, count in p["failures"].items():
            merged["failures"][reason] = merged["failures"].get(reason, 0) + count
    return merged


# --- The run ----------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.sections = set(args.only)
        self.scratch = Path(tempfile.mkdtemp(prefix="liveblog-bench-"))
        self.run_id = f"{int(time.time())}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "liveblog.settings",
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            "CHANNEL_PREFIX": f"bench{os.getpid()}",
            "DEBUG": "0",
            "HTTPS": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "STATIC_ROOT": str(self.scratch / "static"),
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        self.results: dict[str, Any] = {"per_readers": {}}

    # -- setup ---------------------------------------------------------------

    def setup_django(self) -> None:
        os.environ.update(self.env)
        sys.path.insert(0, str(ROOT))
        ensure_database(self.args.database_url)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("collectstatic", "--noinput", verbosity=0)
        from ticker.models import Ticker

        # Earlier runs' tickers (this database is the benchmark's own).
        Ticker.objects.filter(slug__startswith="bench-").delete()

    def new_ticker(self, name: str) -> Any:
        from ticker import services
        from ticker.models import Ticker

        return services.save_ticker(
            Ticker(title=f"Benchmark {name}", slug=f"bench-{self.run_id}-{name}", status="live")
        )

    def last_seq(self, ticker: Any) -> int:
        from ticker.models import Ticker

        return Ticker.objects.values_list("last_seq", flat=True).get(pk=ticker.pk)

    def publish(self, ticker: Any, n: int) -> None:
        from ticker import services

        services.create_entry(
            ticker=ticker,
            headline=f"Meldung {n}",
            body=(
                f"<p>Meldung {n}: Die Lage am Vulkan bleibt angespannt. Nach Angaben des "
                "Wetteramts hat sich die Spalte nach Norden verlängert; die Straße nach "
                "Grindavík ist weiter gesperrt. <strong>Update folgt.</strong></p>"
            ),
        )

    def product(self) -> Servers:
        if self.args.asgi_server == "uvicorn":
            # Side by side with daphne: uvicorn with websockets' sans-I/O protocol.
            # The hub's one-send fast path is daphne's; here every frame goes
            # through the ordinary ASGI send.
            command = [
                sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", "{port}",
                "--ws", "websockets-sansio", "--no-access-log", "--lifespan", "off",
                "liveblog.asgi:application",
            ]  # fmt: skip
        else:
            command = [
                sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", "{port}",
                "liveblog.asgi:application",
            ]  # fmt: skip
        servers = []
        for index in range(self.args.servers):
            port = free_port()
            cmd = [c.replace("{port}", str(port)) for c in command]
            servers.append(Server(cmd, port, self.env, self.scratch / f"daphne-{index}.log"))
        return Servers(servers)

    def reference(self) -> Servers:
        port = free_port()
        cmd = [sys.executable, str(BENCH / "reference.py"), str(port)]
        return Servers([Server(cmd, port, self.env, self.scratch / "reference.log")])

    # -- phases ----------------------------------------------------------------

    def connect(
        self, load: Load, servers: Servers, slug: str, n: int, since: int, **extra: Any
    ) -> dict[str, Any]:
        a = self.args
        counts = load.split(n)
        per = max(1, a.concurrency // len(counts))
        ops = [
            {
                "op": "connect",
                "urls": servers.urls(slug),
                "n": count,
                "since": since,
                "concurrency": per,
                "handshake_timeout": 30.0,
                "deadline": a.connect_deadline,
                **extra,
            }
            for count in counts
        ]
        load.send(ops)
        parts = load.collect(a.connect_deadline + 30)
        elapsed = max(p["elapsed"] for p in parts)
        connected = sum(p["connected"] for p in parts)
        handshakes = sorted(h for p in parts for h in p["handshakes"])
        failures: dict[str, int] = {}
        for p in parts:
            for reason, count in p["failures"].items():
                failures[reason] = failures.get(reason, 0) + count
        return {
            "readers": n,
            "connected": connected,
            "all_connected": all(p["all"] for p in parts),
            "seconds_to_all": elapsed,
            "per_second": connected / elapsed if elapsed else None,
            "failed_attempts": sum(failures.values()),
            "failures": failures,
            "handshake_ms": {k: v and v * 1000 for k, v in spread(handshakes).items()},
            "concurrency": a.concurrency,
        }

    def deliver(
        self,
        load: Load,
        servers: Servers,
        n: int,
        first_seq: int,
        publish: Callable[[int], None],
        messages: int,
        interval: float,
    ) -> dict[str, Any]:
        cpu_before = servers.cpu()
        sent: dict[int, float] = {}
        calls: list[float] = []
        for i in range(messages):
            seq = first_seq + i + 1
            started = time.monotonic()
            publish(seq)
            sent[seq] = started
            calls.append((time.monotonic() - started) * 1000)
            time.sleep(max(0.0, started + interval - time.monotonic()))
        upto = first_seq + messages
        waited = load.all({"op": "wait", "upto": upto, "seconds": 60.0}, 90)
        cpu = servers.cpu() - cpu_before
        stats = stats_of(load, sent, upto)
        deliveries = n * messages
        return {
            "readers": n,
            "messages": messages,
            "interval": interval,
            "all_received": all(w["done"] for w in waited),
            "latency_ms": spread(stats["latencies"]),
            "first_reader_ms": spread(stats["first"]),
            "last_reader_ms": spread(stats["last"]),
            "exact": stats["exact_readers"] == n and not stats["missed"],
            "exact_readers": stats["exact_readers"],
            "delivery_ratio": 1 - stats["missed"] / deliveries if deliveries else None,
            "missed": stats["missed"],
            "duplicates": stats["duplicates"],
            "out_of_order": stats["out_of_order"],
            "reloads": stats["reloads"],
            "drops": stats["drops"],
            "server_cpu_s": cpu,
            "cpu_us_per_delivery": cpu / deliveries * 1e6 if deliveries else None,
            "publish_call_ms": spread(calls),
        }

    def close(self, load: Load) -> None:
        load.all({"op": "close"}, 60)

    def one_reader(self, load: Load, servers: Servers, slug: str, since: int) -> None:
        load.send(
            [
                {
                    "op": "connect",
                    "urls": servers.urls(slug),
                    "n": 1 if i == 0 else 0,
                    "since": since,
                    "concurrency": 1,
                    "handshake_timeout": 30.0,
                }
                for i in range(len(load.processes))
            ]
        )
        load.collect(60)

    def warm(
        self,
        load: Load,
        servers: Servers,
        slug: str,
        since: int,
        publish: Callable[[int], None],
    ) -> int:
        """One reader in, one change to it, and out: warms imports, code paths, connections.

        Returns the new position (``since + 1``). The idle RSS is read after this.
        """
        self.one_reader(load, servers, slug, since)
        publish(since + 1)
        load.all({"op": "wait", "upto": since + 1, "seconds": 30.0}, 60)
        self.close(load)
        time.sleep(1.0)
        return since + 1

    def run_product(self, load: Load, n: int) -> dict[str, Any]:
        a = self.args
        out: dict[str, Any] = {}
        ticker = self.new_ticker(f"n{n}")
        servers = self.product()
        servers.start()
        try:
            self.warm(
                load,
                servers,
                ticker.slug,
                self.last_seq(ticker),
                lambda seq: self.publish(ticker, seq),
            )
            idle = servers.rss()
            if self.sections & {"connect", "deliver", "reference"}:
                seq = self.last_seq(ticker)
                connect = self.connect(load, servers, ticker.slug, n, seq)
                time.sleep(a.settle)
                connected = servers.rss()
                connect["rss_idle_mb"] = idle / 2**20
                connect["rss_connected_mb"] = connected / 2**20
                connect["rss_per_reader_kb"] = (connected - idle) / n / 1024
                if self.sections & {"deliver", "reference"}:
                    out["deliver"] = self.deliver(
                        load,
                        servers,
                        n,
                        seq,
                        lambda seq: self.publish(ticker, seq),
                        a.messages,
                        a.interval,
                    )
                    assert self.last_seq(ticker) == seq + a.messages, "unexpected extra changes"
                self.close(load)
                time.sleep(a.settle + 2)
                connect["rss_after_leaving_mb"] = servers.rss() / 2**20
                out["connect"] = connect
            if "storm" in self.sections:
                out["storm"] = self.storm(load, servers, ticker, n)
            if "soak" in self.sections and a.soak > 0:
                out["soak"] = self.soak(load, servers, ticker, n)
        finally:
            servers.stop()
        return out

    def run_reference(self, load: Load, n: int, frame: str) -> dict[str, Any]:
        a = self.args
        servers = self.reference()
        servers.start()
        _, _, rest = frame.partition(",")

        def publish(seq: int) -> None:
            servers.servers[0].send(f'{{"seq":{seq},{rest}')

        try:
            seq = self.warm(load, servers, "reference", 0, publish)
            idle = servers.rss()
            connect = self.connect(load, servers, "reference", n, seq)
            time.sleep(a.settle)
            connected = servers.rss()
            connect["rss_idle_mb"] = idle / 2**20
            connect["rss_connected_mb"] = connected / 2**20
            connect["rss_per_reader_kb"] = (connected - idle) / n / 1024
            deliver = self.deliver(load, servers, n, seq, publish, a.messages, a.interval)
            self.close(load)
            time.sleep(a.settle + 2)
            connect["rss_after_leaving_mb"] = servers.rss() / 2**20
        finally:
            servers.stop()
        return {"connect": connect, "deliver": deliver, "frame_bytes": len(frame.encode())}

    def storm(self, load: Load, servers: Servers, ticker: Any, n: int) -> dict[str, Any]:
        """N readers; the server restarted; readers return with since= after jittered back-off."""
        a = self.args
        seq = self.last_seq(ticker)
        self.connect(load, servers, ticker.slug, n, seq, cap=a.storm_cap)
        time.sleep(a.settle)
        load.all({"op": "mark"}, 30)
        killed = time.monotonic()
        servers.stop()
        stopped = time.monotonic()
        time.sleep(max(0.0, killed + a.restart_delay - time.monotonic()))
        servers.start()
        listening = time.monotonic()
        # Entries published right after the restart: readers not yet back get them on return.
        sent: dict[int, float] = {}
        for i in range(a.storm_entries):
            started = time.monotonic()
            self.publish(ticker, 1000 + i)
            sent[seq + i + 1] = started
            time.sleep(max(0.0, started + 0.2 - time.monotonic()))
        upto = seq + a.storm_entries
        timeout = a.storm_cap * 6 + 60
        waited = load.all({"op": "wait", "upto": upto, "seconds": timeout}, timeout + 30)
        stats = stats_of(load, sent, upto)
        last_back = max(w["last_open_at"] for w in waited)
        self.close(load)
        return {
            "readers": n,
            "all_back": all(w["done"] for w in waited),
            "shutdown_s": stopped - killed,
            "down_s": listening - killed,
            "all_back_after_restart_s": last_back - listening,
            "reconnected": stats["reopens"],
            "dropped": stats["drops"],
            "failed_attempts": sum(
                v for k, v in stats["failures"].items() if k.startswith("failed")
            ),
            "failures": stats["failures"],
            "entries": a.storm_entries,
            "entry_latency_ms": spread(stats["latencies"]),
            "entry_last_reader_ms": spread(stats["last"]),
            "exact": stats["exact_readers"] == n and not stats["missed"],
            "missed": stats["missed"],
            "duplicates": stats["duplicates"],
            "out_of_order": stats["out_of_order"],
            "reloads": stats["reloads"],
            "cap_s": a.storm_cap,
            "restart_delay_s": a.restart_delay,
        }

    def soak(self, load: Load, servers: Servers, ticker: Any, n: int) -> dict[str, Any]:
        a = self.args
        seq = self.last_seq(ticker)
        self.connect(load, servers, ticker.slug, n, seq, keep_all=False)
        time.sleep(a.settle)
        load.all({"op": "mark"}, 30)
        rss_start = servers.rss()
        deliver = self.deliver(
            load,
            servers,
            n,
            seq,
            lambda seq: self.publish(ticker, seq),
            a.soak,
            1.0,
        )
        rss_end = servers.rss()
        self.close(load)
        return {
            "readers": n,
            "seconds": a.soak,
            "messages": a.soak,
            "missed": deliver["missed"],
            "duplicates": deliver["duplicates"],
            "out_of_order": deliver["out_of_order"],
            "drops": deliver["drops"],
            "exact": deliver["exact"],
            "last_reader_ms": deliver["last_reader_ms"],
            "cpu_us_per_delivery": deliver["cpu_us_per_delivery"],
            "rss_start_mb": rss_start / 2**20,
            "rss_end_mb": rss_end / 2**20,
        }

    def run_once(self, load: Load) -> dict[str, Any]:
        """Save -> first reader, polling and the live page, on one fresh server."""
        a = self.args
        out: dict[str, Any] = {}
        servers = self.product()
        servers.start()
        try:
            if "save" in self.sections:
                ticker = self.new_ticker("save")
                seq = self.warm(
                    load,
                    servers,
                    ticker.slug,
                    self.last_seq(ticker),
                    lambda seq: self.publish(ticker, seq),
                )
                self.one_reader(load, servers, ticker.slug, seq)
                time.sleep(0.5)
                d = self.deliver(
                    load, servers, 1, seq, lambda seq: self.publish(ticker, seq), a.saves, 0.3
                )
                self.close(load)
                out["save"] = {
                    "saves": a.saves,
                    "first_reader_ms": d["first_reader_ms"],
                    "publish_call_ms": d["publish_call_ms"],
                    "exact": d["exact"],
                }
            if "poll" in self.sections:
                ticker = self.new_ticker("poll")
                for i in range(20):
                    self.publish(ticker, i)
                url = servers.http(f"/live/{ticker.slug}/changes/?since={self.last_seq(ticker)}")
                [result] = load.send_one(
                    {
                        "op": "poll",
                        "url": url,
                        "connections": a.poll_connections,
                        "seconds": a.poll_seconds,
                        "max_requests": 1_000_000,
                    },
                    a.poll_seconds + 60,
                )
                out["poll"] = {
                    "connections": a.poll_connections,
                    "seconds": a.poll_seconds,
                    **result,
                }
            if "page" in self.sections:
                out["page"] = {}
                for count in a.page_entries:
                    ticker = self.new_ticker(f"page{count}")
                    fill(ticker, count - 1)
                    self.publish(ticker, count)
                    url = servers.http(f"/live/{ticker.slug}/")
                    get = {"op": "poll", "url": url, "connections": 1, "seconds": 120.0}
                    load.send_one({**get, "max_requests": 1}, 120)  # warm the template cache
                    [result] = load.send_one({**get, "max_requests": a.page_gets}, 300)
                    out["page"][str(count)] = {
                        "entries": count,
                        "gets": result["requests"],
                        "median_ms": result["latency_ms"]["p50"],
                        "max_ms": result["latency_ms"]["max"],
                        "statuses": result["statuses"],
                    }
        finally:
            servers.stop()
        return out

    def run(self) -> dict[str, Any]:
        a = self.args
        self.setup_django()
        started = datetime.now(UTC)
        self.results["meta"] = meta(a, started)
        load = Load(a.load_procs, self.env, self.scratch)
        try:
            for n in a.readers:
                print(f"-- {n:,} readers", file=sys.stderr, flush=True)
                per: dict[str, Any] = {}
                if self.sections & {"connect", "deliver", "storm", "soak", "reference"}:
                    per["product"] = self.run_product(load, n)
                if "reference" in self.sections:
                    frame_ticker = self.new_ticker(f"frame{n}")
                    self.publish(frame_ticker, 0)
                    from ticker.models import Change

                    frame = Change.objects.filter(ticker=frame_ticker).latest("seq").frame
                    per["reference"] = self.run_reference(load, n, frame)
                    per["ratio"] = ratios(per.get("product", {}), per["reference"])
                self.results["per_readers"][str(n)] = per
            if self.sections & set(ONCE):
                print("-- save, poll, page", file=sys.stderr, flush=True)
                self.results.update(self.run_once(load))
        finally:
            load.exit()
        self.results["meta"]["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
        self.results["meta"]["seconds"] = (datetime.now(UTC) - started).total_seconds()
        return self.results


def stats_of(load: Load, sent: dict[int, float], upto: int) -> dict[str, Any]:
    op = {"op": "stats", "sent": {str(k): v for k, v in sent.items()}, "upto": upto}
    return merge_stats(load.all(op, 60))


def fill(ticker: Any, count: int) -> None:
    """Insert ``count`` published entries at once (bulk, no changes: only the page reads them)."""
    from datetime import timedelta

    from django.utils import timezone

    from ticker.models import Entry

    now = timezone.now()
    rows = [
        Entry(
            ticker=ticker,
            display_at=now - timedelta(minutes=count - i),
            headline=f"Eintrag {i}" if i % 5 == 0 else "",
            body=f"<p>Eintrag {i}: kurzer Text mit <strong>Hervorhebung</strong>.</p>",
            is_key_event=i % 20 == 0,
            byline="Redaktion",
        )
        for i in range(count)
    ]
    Entry.objects.bulk_create(rows, batch_size=2000)


def ensure_database(url: str) -> None:
    """Create the benchmark's PostgreSQL database if it is missing."""
    if not url.startswith(("postgres://", "postgresql://")):
        return
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    name = config["NAME"]
    conninfo = {
        "host": config.get("HOST") or "127.0.0.1",
        "port": config.get("PORT") or 5432,
        "user": config.get("USER") or "postgres",
        "dbname": "postgres",
    }
    if config.get("PASSWORD"):
        conninfo["password"] = config["PASSWORD"]
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def ratios(product: dict[str, Any], reference: dict[str, Any]) -> dict[str, float | None]:
    def ratio(a: float | None, b: float | None) -> float | None:
        return a / b if a is not None and b else None

    pc, rc = product.get("connect", {}), reference["connect"]
    pd, rd = product.get("deliver", {}), reference["deliver"]
    return {
        "connect_rate": ratio(pc.get("per_second"), rc.get("per_second")),
        "p99": ratio(pd.get("latency_ms", {}).get("p99"), rd["latency_ms"]["p99"]),
        "cpu_per_delivery": ratio(pd.get("cpu_us_per_delivery"), rd["cpu_us_per_delivery"]),
        "rss_per_reader": ratio(pc.get("rss_per_reader_kb"), rc.get("rss_per_reader_kb")),
    }


def meta(args: argparse.Namespace, started: datetime) -> dict[str, Any]:
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "started": started.isoformat(timespec="seconds"),
        "commit": commit,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "loadavg_start": Path("/proc/loadavg").read_text().split()[:3],
        "args": {k: v for k, v in vars(args).items() if k not in {"database_url", "json"}},
    }


# --- Output -----------------------------------------------------------------------


def fmt(value: float | None, digits: int = 0, unit: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}{unit}"


def ms(d: dict[str, float | None], keys: tuple[str, ...] = ("p50", "p99", "max")) -> str:
    return " / ".join(fmt(d.get(k), 0 if (d.get(k) or 0) >= 10 else 1) for k in keys) + " ms"


def markdown(results: dict[str, Any], args: argparse.Namespace) -> str:
    out: list[str] = []
    m = results["meta"]
    out.append(
        f"Liveticker benchmark {m['started']} ({m['commit']}), {m['cpus']} CPUs, "
        f"load average {' '.join(m['loadavg_start'])} at start, "
        f"{' '.join(m.get('loadavg_end', []))} at end; "
        f"{args.servers} {args.asgi_server} process(es), "
        f"{args.load_procs} load process(es), {args.concurrency} handshakes in flight."
    )
    per = results["per_readers"]

    rows = []
    for n, r in per.items():
        for side in ("product", "reference"):
            c = r.get(side, {}).get("connect")
            if not c:
                continue
            failures = ", ".join(
                f"{k.removeprefix('failed: ')} x{v}" for k, v in c["failures"].items()
            )
            rows.append(
                f"| {int(n):,} | {side} | {fmt(c['per_second'])} | "
                f"{fmt(c['seconds_to_all'], 2, ' s')}{'' if c['all_connected'] else ' (not all!)'}"
                f" | {c['failed_attempts']}{f' ({failures})' if failures else ''} | "
                f"{ms(c['handshake_ms'], ('p50', 'p99'))} | "
                f"{fmt(c['rss_per_reader_kb'], 1, ' KB')} | {fmt(c['rss_idle_mb'], 0)} → "
                f"{fmt(c['rss_connected_mb'], 0)} → "
                f"{fmt(c['rss_after_leaving_mb'], 0)} MB |"
            )
    if rows:
        out += [
            "",
            "### Connect (readers arriving together)",
            "",
            "| readers | server | connected/s | all connected after | failed attempts | "
            "handshake p50 / p99 | RSS per reader | RSS idle → connected → after leaving |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
            *rows,
        ]

    rows = []
    for n, r in per.items():
        for side in ("product", "reference"):
            d = r.get(side, {}).get("deliver")
            if not d:
                continue
            exact = (
                "yes"
                if d["exact"]
                else (
                    f"NO: {d['missed']} missed, {d['duplicates']} twice, "
                    f"{d['out_of_order']} out of order"
                )
            )
            rows.append(
                f"| {int(n):,} | {side} | {ms(d['latency_ms'])} | "
                f"{ms(d['last_reader_ms'], ('p50', 'max'))} | {exact} | "
                f"{fmt(d['delivery_ratio'] * 100, 2, ' %')} | "
                f"{fmt(d['cpu_us_per_delivery'], 1, ' µs')} | "
                f"{ms(d['publish_call_ms'], ('p50',))} |"
            )
    if rows:
        out += [
            "",
            f"### Deliver ({args.messages} changes, one every {args.interval} s)",
            "",
            "| readers | server | to each reader p50 / p99 / max | to the last reader p50 / max | "
            "each once, in order | delivered | server CPU per delivery | publish call |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
            *rows,
        ]

    rows = []
    for n, r in per.items():
        q = r.get("ratio")
        if q:
            rows.append(
                f"| {int(n):,} | {fmt(q['connect_rate'], 2)} | {fmt(q['p99'], 2)} | "
                f"{fmt(q['cpu_per_delivery'], 2)} | {fmt(q['rss_per_reader'], 2)} |"
            )
    if rows:
        out += [
            "",
            "### Product / reference (1 = as good as a raw websockets broadcast; "
            "connect rate: higher is better, the others: lower is better)",
            "",
            "| readers | connect rate | deliver p99 | CPU per delivery | RSS per reader |",
            "| --- | --- | --- | --- | --- |",
            *rows,
        ]

    rows = []
    for n, r in per.items():
        s = r.get("product", {}).get("storm")
        if s:
            failures = ", ".join(
                f"{k.removeprefix('failed: ')} x{v}"
                for k, v in s["failures"].items()
                if k.startswith("failed")
            )
            rows.append(
                f"| {int(n):,} | {fmt(s['shutdown_s'], 1, ' s')} / {fmt(s['down_s'], 1, ' s')} | "
                f"{fmt(s['all_back_after_restart_s'], 1, ' s')}"
                f"{'' if s['all_back'] else ' (not all!)'} | {s['reconnected']:,} | "
                f"{s['failed_attempts']:,}{f' ({failures})' if failures else ''} | "
                f"{ms(s['entry_latency_ms'])} | {'yes' if s['exact'] else 'NO'} |"
            )
    if rows:
        out += [
            "",
            f"### Reconnect storm (server stopped, started again after {args.restart_delay} s; "
            f"readers back off with full jitter, cap {args.storm_cap} s; "
            f"{args.storm_entries} changes published right after the restart)",
            "",
            "| readers | stopping / down in all | all back after restart | reconnects | "
            "failed attempts | "
            "post-restart changes to each reader p50 / p99 / max | each once, in order |",
            "| --- | --- | --- | --- | --- | --- | --- |",
            *rows,
        ]

    rows = []
    for n, r in per.items():
        s = r.get("product", {}).get("soak")
        if s:
            rows.append(
                f"| {int(n):,} | {s['seconds']} s | {s['missed']} | {s['duplicates']} | "
                f"{s['out_of_order']} | {s['drops']} | {ms(s['last_reader_ms'])} | "
                f"{fmt(s['rss_start_mb'], 0)} → {fmt(s['rss_end_mb'], 0)} MB |"
            )
    if rows:
        out += [
            "",
            "### Soak (one change a second)",
            "",
            "| readers | duration | missed | twice | out of order | dropped connections | "
            "to the last reader p50 / p99 / max | server RSS start → end |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
            *rows,
        ]

    once = []
    if "save" in results:
        s = results["save"]
        once.append(
            f"| save → first reader ({s['saves']} saves, one reader) | "
            f"{ms(s['first_reader_ms'])} p50 / p99 / max; the service call itself "
            f"{ms(s['publish_call_ms'], ('p50',))} |"
        )
    if "poll" in results:
        p = results["poll"]
        errors = sum(p["errors"].values())
        once.append(
            f"| polling `changes/?since=<latest>` ({p['connections']} keep-alive connections, "
            f"{p['seconds']} s, one process) | {fmt(p['per_second'])} requests/s, "
            f"{ms(p['latency_ms'], ('p50', 'p99'))} p50 / p99; statuses {p['statuses']}"
            f"{f', {errors} errors' if errors else ''} |"
        )
    for count, p in results.get("page", {}).items():
        once.append(
            f"| live page with {int(count):,} entries (median of {p['gets']} GETs) | "
            f"{fmt(p['median_ms'], 1, ' ms')} (max {fmt(p['max_ms'], 1, ' ms')}); "
            f"statuses {p['statuses']} |"
        )
    if once:
        out += ["", "### Once per run", "", "| measure | result |", "| --- | --- |", *once]
    return "\n".join(out) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    doc = __doc__ or ""
    parser = argparse.ArgumentParser(
        description=doc.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )

    def counts(text: str) -> list[int]:
        return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]

    def sections(text: str) -> list[str]:
        chosen = [part.strip() for part in text.split(",") if part.strip()]
        unknown = set(chosen) - set(SECTIONS)
        if unknown:
            raise argparse.ArgumentTypeError(f"unknown sections {sorted(unknown)}")
        return chosen

    add = parser.add_argument
    add("--readers", type=counts, default=[1000], help="reader counts, e.g. 1000,5000,10000")
    add(
        "--only",
        type=sections,
        default=[s for s in SECTIONS if s != "soak"],
        help=f"sections to run, comma-separated: {','.join(SECTIONS)} "
        "(default: all but soak; --soak adds it)",
    )
    add("--messages", type=int, default=20, help="changes published in the deliver phase")
    add("--interval", type=float, default=0.25, help="seconds between those changes")
    add("--concurrency", type=int, default=200, help="handshakes in flight at once")
    add("--servers", type=int, default=1, help="daphne processes (readers spread round-robin)")
    add(
        "--asgi-server",
        choices=("daphne", "uvicorn"),
        default="daphne",
        help="the app's ASGI server (uvicorn: side by side, needs the bench extra)",
    )
    add("--load-procs", type=int, default=1, help="load-generator processes")
    add("--settle", type=float, default=1.0, help="seconds to wait after connecting")
    add("--connect-deadline", type=float, default=180.0, help="give up connecting after")
    add("--soak", type=int, default=0, help="soak for this many seconds (one change a second)")
    add("--restart-delay", type=float, default=3.0, help="storm: seconds the server stays down")
    add("--storm-cap", type=float, default=10.0, help="storm: readers' back-off cap (seconds)")
    add("--storm-entries", type=int, default=5, help="storm: changes published after restart")
    add("--saves", type=int, default=20, help="saves timed with one reader connected")
    add("--poll-seconds", type=float, default=5.0)
    add("--poll-connections", type=int, default=16)
    add("--page-entries", type=counts, default=[100, 10_000], help="live-page sizes to time")
    add("--page-gets", type=int, default=7, help="GETs per live-page size (median is reported)")
    add(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE),
        help="the benchmark's own database (created if missing; env BENCH_DATABASE_URL)",
    )
    add("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS))
    add("--json", type=Path, default=BENCH / "results" / "latest.json", help="write JSON here")
    args = parser.parse_args(argv)
    if args.soak > 0 and "soak" not in args.only:
        args.only.append("soak")
    return args


def main() -> None:
    args = parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    need = max(args.readers) + 1000
    if hard < need:
        print(f"warning: open-files limit {hard} is below {need}", file=sys.stderr)
    results = Bench(args).run()
    table = markdown(results, args)
    print(table)
    results["markdown"] = table
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1, default=str) + "\n")
    print(f"JSON: {args.json}", file=sys.stderr)
    failed = [
        f"{n} {side}"
        for n, r in results["per_readers"].items()
        for side in ("product", "reference")
        for section in ("deliver", "storm", "soak")
        if r.get(side, {}).get(section) and not r[side][section]["exact"]
    ]
    if failed:
        raise SystemExit(f"delivery was not exact: {', '.join(failed)}")


if __name__ == "__main__":
    main()
