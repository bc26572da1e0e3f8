"""Guarantees of the live path that a plausible refactoring could break quietly.

Each test here was written against one such change to the consumer or the hub
and fails under it (the change is named in the test's docstring); the rest of
the suite stayed green under every one of them. They run through the real
ASGI application and the configured channel layer, so they hold on the
in-memory layer and on Redis alike.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from unittest import mock

import pytest
import redis.exceptions
from channels.layers import get_channel_layer
from django.db import OperationalError

from tests.ticker.test_consumers import connect, create_entry, receive
from ticker import broadcast, consumers
from ticker.fanout import Feed, get_hub, is_timeout
from ticker.protocol import CLOSE_RULES, Close

pytestmark = pytest.mark.django_db(transaction=True)


async def eventually(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """Wait until ``condition()`` holds; fail the test if it never does."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        assert loop.time() < deadline, "condition never became true"
        await asyncio.sleep(0.01)


# ---- Live frames that arrive while a reader is catching up -------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [("since=0", [1, 2, 3, 4]), ("since=1", [2, 3, 4]), ("", [3, 4])],
    ids=["from-the-start", "after-a-gap", "from-now"],
)
async def test_changes_arriving_during_the_catch_up_read_are_sent_after_it(
    ticker, settings, query, expected
):
    """Breaks if the consumer drops (or reorders) the frames queued while it caught up.

    The catch-up read returns what the log held when it ran (changes 1 and 2);
    changes 3 and 4 are committed and reach the hub while that read is still
    "in flight", so the hub can only queue them for this reader. The reader
    must get the catch-up, then the queued frames: each change once, in order.
    """
    settings.TICKER_RESYNC_SECONDS = 60  # only the live path may deliver within the test
    await create_entry(ticker=ticker, body="<p>eins</p>")
    await create_entry(ticker=ticker, body="<p>zwei</p>")
    real_catch_up = consumers.TickerConsumer._catch_up

    async def catch_up_overtaken_by_live_changes(consumer, *args, **kwargs):
        result = await real_catch_up(consumer, *args, **kwargs)
        await create_entry(ticker=ticker, body="<p>drei, während des Nachholens</p>")
        await create_entry(ticker=ticker, body="<p>vier, während des Nachholens</p>")
        # Both have gone through the hub before the catch-up "returns".
        await eventually(lambda: consumer.feed.last_seq == 4)
        return result

    with mock.patch.object(
        consumers.TickerConsumer, "_catch_up", catch_up_overtaken_by_live_changes
    ):
        communicator = connect(ticker.slug, query)
        assert (await communicator.connect())[0]
        received = [await receive(communicator) for _ in expected]
    assert [event["seq"] for event in received] == expected
    assert "drei" in received[-2]["html"]
    assert "vier" in received[-1]["html"]
    assert await communicator.receive_nothing(timeout=0.3)
    # After the handover, live frames go straight to the reader.
    await create_entry(ticker=ticker, body="<p>fünf</p>")
    assert (await receive(communicator))["seq"] == 5
    await communicator.disconnect()


# ---- A database outage during the catch-up read ------------------------------------


@pytest.mark.parametrize("since", [0, 5], ids=["behind", "ahead"])
async def test_a_database_error_in_the_catch_up_read_closes_with_try_again_later(ticker, since):
    """Breaks if the catch-up read moves outside the consumer's "try again later" guard.

    The reader has already joined the hub when the read fails (whether it is
    behind the feed or ahead of it): it must be told why (an error frame with
    the retry rule), closed with 4503, and once the socket is gone the hub
    must hold no reader and no subscription for it.
    """
    await create_entry(ticker=ticker, body="<p>eins</p>")
    outage = OperationalError("database went away")
    with (
        mock.patch("ticker.consumers.changes_between", side_effect=outage),
        mock.patch("ticker.consumers.catch_up", side_effect=outage),
    ):
        communicator = connect(ticker.slug, f"since={since}")
        assert (await communicator.connect())[0]
        error = await receive(communicator)
        closed = await communicator.receive_output(timeout=1)
    rule = CLOSE_RULES[Close.UNAVAILABLE]
    assert error == {
        "type": "error",
        "error": rule.reason,
        "code": Close.UNAVAILABLE,
        "action": "retry",
        "retry_after": rule.retry_after,
    }
    assert closed == {"type": "websocket.close", "code": Close.UNAVAILABLE}
    await communicator.disconnect()
    assert get_hub().feeds == {}
    # The next reader (the database is back) subscribes and catches up normally.
    communicator = connect(ticker.slug, "since=0")
    assert (await communicator.connect())[0]
    assert (await receive(communicator))["seq"] == 1
    await communicator.disconnect()


# ---- The last reader leaving ends the feed -----------------------------------------


async def test_the_last_reader_leaving_stops_the_feed_and_leaves_the_group(ticker):
    """Breaks if a feed keeps listening (or stays in the group) once its readers are gone.

    An abandoned feed would keep a task, a channel and a group membership per
    ticker ever read in this process: after the last reader disconnects no
    task started for it may still run, and a broadcast to the ticker's group
    must no longer reach the feed's channel.
    """
    before = asyncio.all_tasks()
    readers = [connect(ticker.slug, "since=0") for _ in range(2)]
    for reader in readers:
        assert (await reader.connect())[0]
    feed = get_hub().feeds[ticker.pk]
    channel = feed.channel
    started = asyncio.all_tasks() - before
    assert started, "a feed listens in a task of its own"
    for reader in readers:
        await reader.disconnect()
    await eventually(lambda: not [task for task in started if not task.done()])
    assert get_hub().feeds == {}

    layer = get_channel_layer()
    await layer.group_send(
        broadcast.group_name(ticker.pk),
        {"type": broadcast.MESSAGE_TYPE, "seq": 1, "frame": '{"seq":1}'},
    )
    with pytest.raises(TimeoutError):
        message = await asyncio.wait_for(layer.receive(channel), timeout=0.5)
        pytest.fail(f"the feed's channel is still in the group and got {message}")


async def test_a_reader_after_the_feed_stopped_gets_a_new_working_feed(ticker):
    """Breaks if a stopped feed is reused: the next reader must hear live changes again."""
    first = connect(ticker.slug, "since=0")
    assert (await first.connect())[0]
    old_feed = get_hub().feeds[ticker.pk]
    await first.disconnect()
    second = connect(ticker.slug, "since=0")
    assert (await second.connect())[0]
    assert get_hub().feeds[ticker.pk] is not old_feed
    await create_entry(ticker=ticker, body="<p>nach dem Neustart</p>")
    assert (await receive(second))["seq"] == 1
    await second.disconnect()


# ---- The feed's position is read after it subscribes -------------------------------


async def test_a_change_committed_while_the_feed_subscribes_is_sent_once(ticker, settings):
    """Breaks if the feed reads its position before joining the ticker's group.

    A change committed just before the subscription takes effect is broadcast
    to nobody in this process. The feed must count it as already covered by
    its readers' catch-up (its position includes it), so the reader gets it
    exactly once from the catch-up and the next change arrives live, without
    the feed having to go back to the change log for a "gap".
    """
    settings.TICKER_RESYNC_SECONDS = 60
    layer = get_channel_layer()
    real_group_add = layer.group_add
    committed_during_subscribe = []

    async def group_add_racing_a_commit(group, channel):
        if group == broadcast.group_name(ticker.pk) and not committed_during_subscribe:
            entry = await create_entry(ticker=ticker, body="<p>während des Abonnierens</p>")
            committed_during_subscribe.append(entry)
        await real_group_add(group, channel)

    with mock.patch.object(layer, "group_add", group_add_racing_a_commit):
        communicator = connect(ticker.slug, "since=0")
        assert (await communicator.connect())[0]
    assert committed_during_subscribe, "the change was committed inside the subscription"
    first = await receive(communicator)
    assert (first["seq"], first["entry_id"]) == (1, committed_during_subscribe[0].pk)

    with mock.patch("ticker.fanout.changes_between", side_effect=AssertionError("gap read")):
        await create_entry(ticker=ticker, body="<p>danach, live</p>")
        assert (await receive(communicator))["seq"] == 2
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


# ---- Found by mutation testing ------------------------------------------------------


class ListReader:
    """A reader that only records the frames the hub writes to it."""

    def __init__(self) -> None:
        self.last_seq = 0
        self.pending = None
        self.socket = None
        self.sent: list[int] = []

    async def send_frame(self, frame: str) -> None:
        self.sent.append(json.loads(frame)["seq"])


async def test_one_resync_sends_a_gap_larger_than_a_page(ticker, settings):
    """Breaks if the resync stops (or fails) after its first page of the change log."""
    settings.TICKER_CATCHUP_LIMIT = 2  # the page size of a change-log read
    feed = Feed(hub=None, ticker_id=ticker.pk)
    reader = ListReader()
    feed.readers = {reader}
    with mock.patch("ticker.broadcast.send_change"):
        for n in range(5):
            await create_entry(ticker=ticker, body=f"<p>verloren {n}</p>")
    await feed.resync()
    assert reader.sent == [1, 2, 3, 4, 5]
    assert feed.last_seq == 5


def test_only_timeouts_count_as_an_idle_receive():
    """Breaks if any failure counts as an idle wait (no back-off, no resync after it)."""
    assert is_timeout(TimeoutError())
    assert is_timeout(redis.exceptions.TimeoutError())
    assert not is_timeout(ConnectionError("redis went away"))
    assert not is_timeout(redis.exceptions.ConnectionError())
    assert not is_timeout(OperationalError("database went away"))


class ClosedSocket:
    """daphne's protocol object of a connection that has gone away."""

    STATE_CLOSED, STATE_OPEN = 0, 3
    state = STATE_CLOSED

    def sendPreparedMessage(self, prepared) -> None:
        raise AssertionError("written to a closed socket")


async def test_one_write_reaches_every_live_reader_past_queued_and_closed_ones():
    """Breaks if a catching-up or a vanished reader ends the write loop, or is kept.

    A reader still catching up gets the frame queued; a reader whose socket
    is closed (its consumer never said goodbye) is dropped without a write;
    neither may keep the frame from the readers after them.
    """
    feed = Feed(hub=None, ticker_id=1)
    live = [ListReader() for _ in range(10)]
    catching_up = [ListReader() for _ in range(10)]
    gone = [ListReader() for _ in range(10)]
    for reader in catching_up:
        reader.pending = []
    for reader in gone:
        reader.socket = ClosedSocket()
    feed.readers = {*live, *catching_up, *gone}
    await feed._write(1, '{"seq":1}')
    assert [reader.sent for reader in live] == [[1]] * 10
    assert [reader.pending for reader in catching_up] == [[(1, '{"seq":1}')]] * 10
    assert [reader.sent for reader in gone] == [[]] * 10
    assert feed.readers == {*live, *catching_up}


async def test_a_reader_of_a_ticker_this_process_follows_connects_without_the_database(ticker):
    """Breaks if the hub stops answering "which ticker is this slug" from its own feeds.

    An up-to-date reader of a ticker that this process already follows needs
    nothing from the database, so it connects even while the database is down.
    """
    first = connect(ticker.slug, "since=0")
    assert (await first.connect())[0]
    outage = OperationalError("database went away")
    with (
        mock.patch("ticker.consumers._ticker_id", side_effect=outage),
        mock.patch("ticker.consumers.changes_between", side_effect=outage),
        mock.patch("ticker.consumers.catch_up", side_effect=outage),
    ):
        second = connect(ticker.slug, "since=0")
        assert (await second.connect())[0]
        assert await second.receive_nothing(timeout=0.3), "no error, no close"
    await create_entry(ticker=ticker, body="<p>für beide</p>")
    assert (await receive(first))["seq"] == 1
    assert (await receive(second))["seq"] == 1
    await first.disconnect()
    await second.disconnect()
