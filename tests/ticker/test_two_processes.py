"""Two real daphne processes on one Redis, as operators scale out.

A change is published from the test process (an editor's request on a third
process) through Redis. Readers on either process get it once and in order,
and a reader who reconnects to the other process with ``since=`` gets what it
missed. Resync is set to a minute, so within the test only the channel layer
can deliver live changes.

This needs Redis in both configurations: on the embedded defaults the test
starts a ``redis-server`` of its own and points the processes and itself at it.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from tests.daphne import Daphne, server_env
from tests.helpers import redis_server
from ticker import broadcast, services
from ticker.models import Change, Ticker

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_BACKEND = "channels_redis.core.RedisChannelLayer"


@pytest.fixture
def shared_redis(tmp_path: Path, settings, monkeypatch) -> Iterator[dict[str, str]]:
    """Return the REDIS_URL and CHANNEL_PREFIX that the test and both processes share."""
    layer = settings.CHANNEL_LAYERS["default"]
    with contextlib.ExitStack() as stack:
        if layer["BACKEND"] == REDIS_BACKEND:
            url = django_settings.REDIS_URL
            prefix = layer["CONFIG"]["prefix"]
        else:
            url = stack.enter_context(redis_server(tmp_path)).url
            prefix = "liveblog-two-processes"
            layer = {
                "BACKEND": REDIS_BACKEND,
                "CONFIG": {"hosts": [{"address": url}], "prefix": prefix},
            }
            settings.CHANNEL_LAYERS = {"default": layer}
        # A publisher of its own: an earlier test's outage pause must not skip our sends.
        monkeypatch.setattr(broadcast, "_publisher", broadcast.Publisher())
        yield {"REDIS_URL": url, "CHANNEL_PREFIX": prefix}


@pytest.fixture
def two_processes(tmp_path: Path, shared_redis) -> Iterator[tuple[Daphne, Daphne]]:
    env = server_env(TICKER_RESYNC_SECONDS="60", **shared_redis)
    servers = [Daphne(tmp_path / f"daphne-{name}.log", env=env) for name in "ab"]
    try:
        for server in servers:
            server.start()
        yield servers[0], servers[1]
    finally:
        for server in servers:
            server.stop()


def reader(server: Daphne, slug: str, query: str = "") -> ClientConnection:
    return ws_connect(
        f"{server.ws_url}/ws/live/{slug}/?{query}",
        origin=server.url,
        open_timeout=10,
        close_timeout=2,
    )


def last_seq(ticker: Ticker) -> int:
    seqs = Change.objects.filter(ticker=ticker).order_by("-seq").values_list("seq", flat=True)
    return seqs[0] if seqs else 0


def receive(ws: ClientConnection, count: int, timeout: float = 5) -> list[dict]:
    """Return the next ``count`` change frames (pongs aside); fail if they are slower."""
    deadline = time.monotonic() + timeout
    events: list[dict] = []
    while len(events) < count:
        event = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        if "seq" in event:
            events.append(event)
    return events


def assert_quiet(ws: ClientConnection, seconds: float = 0.5) -> None:
    with pytest.raises(TimeoutError):
        ws.recv(timeout=seconds)


def publish(ticker: Ticker, count: int, label: str) -> list[int]:
    """Publish ``count`` entries from the test process; return their entry ids in order."""
    return [
        services.create_entry(ticker=ticker, body=f"<p>{label} {n}</p>").pk for n in range(count)
    ]


def test_readers_on_two_processes_get_each_change_once_in_order(ticker, two_processes):
    process_a, process_b = two_processes
    start = last_seq(ticker)
    with reader(process_a, ticker.slug) as on_a, reader(process_b, ticker.slug) as on_b:
        time.sleep(0.5)  # both sockets have joined their process's hub
        entry_ids = publish(ticker, 5, "Meldung")
        for ws in (on_a, on_b):
            events = receive(ws, 5)
            assert [event["seq"] for event in events] == list(range(start + 1, start + 6))
            assert [event["entry_id"] for event in events] == entry_ids
            assert_quiet(ws)
    assert "Traceback" not in process_a.output + process_b.output


def test_a_reader_reconnecting_to_the_other_process_gets_what_it_missed(ticker, two_processes):
    process_a, process_b = two_processes
    with reader(process_b, ticker.slug) as stays_on_b:
        with reader(process_a, ticker.slug) as on_a:
            time.sleep(0.5)
            publish(ticker, 2, "vorher")
            seen = receive(on_a, 2)
        assert receive(stays_on_b, 2) == seen
        # The reader on A is gone; three changes happen before it is back.
        missed = publish(ticker, 3, "verpasst")
        assert [event["entry_id"] for event in receive(stays_on_b, 3)] == missed
        since = seen[-1]["seq"]
        with reader(process_b, ticker.slug, f"since={since}") as back_on_b:
            caught_up = receive(back_on_b, 3)
            assert [event["seq"] for event in caught_up] == [since + 1, since + 2, since + 3]
            assert [event["entry_id"] for event in caught_up] == missed
            # ... and then live, through Redis, with no gap and nothing twice.
            (latest,) = publish(ticker, 1, "danach")
            (live,) = receive(back_on_b, 1)
            assert (live["seq"], live["entry_id"]) == (since + 4, latest)
            assert_quiet(back_on_b)
            assert receive(stays_on_b, 1) == [live]
