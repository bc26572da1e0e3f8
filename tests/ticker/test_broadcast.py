"""Handing changes to the channel layer: never blocking an editor, one log line per outage."""

from __future__ import annotations

import asyncio
import logging
import time
from unittest import mock

import pytest
from channels_redis.core import RedisChannelLayer

from tests.helpers import redis_server
from ticker import broadcast, services
from ticker.models import Change


@pytest.fixture(autouse=True)
def fresh_publisher(monkeypatch):
    """Each test starts with a publisher that has seen no outage."""
    monkeypatch.setattr(broadcast, "_publisher", broadcast.Publisher(pause=0.3))


class RecordingLayer:
    """An out-of-process layer that records sends (or fails, or hangs, when told)."""

    def __init__(self, mode: str = "ok") -> None:
        self.mode = mode
        self.sent: list[tuple[str, dict]] = []

    async def group_send(self, group: str, message: dict) -> None:
        if self.mode == "down":
            raise ConnectionError("redis is down")
        if self.mode == "hung":
            await asyncio.sleep(30)
        self.sent.append((group, message))


def test_a_change_reaches_the_group_once_in_order():
    layer = RecordingLayer()
    with mock.patch("ticker.broadcast.get_channel_layer", return_value=layer):
        for seq in range(1, 6):
            broadcast.send_change(7, seq, f'{{"seq":{seq}}}')
        deadline = time.monotonic() + 2
        while len(layer.sent) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert [m["seq"] for _, m in layer.sent] == [1, 2, 3, 4, 5]
    assert {group for group, _ in layer.sent} == {broadcast.group_name(7)}


def test_an_outage_is_logged_once_and_sends_pause_then_resume(caplog):
    layer = RecordingLayer("down")
    caplog.set_level(logging.WARNING, logger="ticker.broadcast")
    with mock.patch("ticker.broadcast.get_channel_layer", return_value=layer):
        for seq in range(1, 11):
            broadcast.send_change(7, seq, f'{{"seq":{seq}}}')
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1, "one line per outage, not one per change"
        assert errors[0].exc_info is None, "no traceback for an expected outage"
        assert "resync" in errors[0].getMessage()
        time.sleep(0.35)  # the pause ends; the layer is back
        layer.mode = "ok"
        broadcast.send_change(7, 11, '{"seq":11}')
        deadline = time.monotonic() + 2
        while not layer.sent and time.monotonic() < deadline:
            time.sleep(0.01)
    assert [m["seq"] for _, m in layer.sent] == [11]
    assert any("back" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


def test_a_hung_layer_costs_the_editor_at_most_the_bound(settings):
    settings.TICKER_BROADCAST_WAIT = 0.1
    layer = RecordingLayer("hung")
    with mock.patch("ticker.broadcast.get_channel_layer", return_value=layer):
        started = time.monotonic()
        broadcast.send_change(7, 1, '{"seq":1}')
        broadcast.send_change(7, 2, '{"seq":2}')
        took = time.monotonic() - started
    assert took < 0.5, f"two saves waited {took:.2f}s on a hung layer"


@pytest.mark.django_db(transaction=True)
def test_a_frozen_redis_does_not_hold_up_a_save(ticker, settings, tmp_path):
    """A real Redis, stopped with SIGSTOP: saves return within the bound, changes are logged."""
    settings.TICKER_BROADCAST_WAIT = 0.1
    with redis_server(tmp_path) as server:
        layer = RedisChannelLayer(
            hosts=[{"address": server.url, "socket_timeout": 15, "socket_connect_timeout": 2}],
            prefix="frozen-test",
        )
        with mock.patch("ticker.broadcast.get_channel_layer", return_value=layer):
            services.create_entry(ticker=ticker, body="<p>warm</p>")  # connects first
            server.freeze()
            try:
                started = time.monotonic()
                for n in range(3):
                    services.create_entry(ticker=ticker, body=f"<p>eingefroren {n}</p>")
                took = time.monotonic() - started
            finally:
                server.thaw()
    assert took < 1.0, f"three saves took {took:.2f}s against a frozen Redis"
    assert list(Change.objects.filter(ticker=ticker).values_list("seq", flat=True)) == [1, 2, 3, 4]
