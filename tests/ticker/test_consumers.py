"""The reader's WebSocket, driven through the real ASGI application."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from liveblog.asgi import application
from ticker import services
from ticker.fanout import get_hub
from ticker.models import Entry
from ticker.protocol import Close

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://localhost")


def connect(slug: str, query: str = "", origin: tuple[bytes, bytes] = ORIGIN):
    path = f"/ws/live/{slug}/" + (f"?{query}" if query else "")
    return WebsocketCommunicator(application, path, headers=[origin])


async def receive(communicator: WebsocketCommunicator, wait: float = 3) -> dict:
    return json.loads(await communicator.receive_from(timeout=wait))


create_entry = database_sync_to_async(services.create_entry)
update_entry = database_sync_to_async(services.update_entry)
delete_entry = database_sync_to_async(services.delete_entry)


async def test_reader_receives_published_entry_live(ticker):
    communicator = connect(ticker.slug, "since=0")
    connected, _ = await communicator.connect()
    assert connected
    entry = await create_entry(ticker=ticker, body="<p>Neue Meldung aus Kiew</p>")
    event = await receive(communicator)
    assert event["seq"] == 1
    assert event["type"] == "entry.published"
    assert event["entry_id"] == entry.pk
    assert "Neue Meldung aus Kiew" in event["html"]
    assert f'data-entry-id="{entry.pk}"' in event["html"]
    await communicator.disconnect()


async def test_frame_text_begins_with_seq(ticker):
    communicator = connect(ticker.slug, "since=0")
    await communicator.connect()
    await create_entry(ticker=ticker, body="<p>x</p>")
    raw = await communicator.receive_from(timeout=3)
    assert raw.startswith('{"seq":1,')
    await communicator.disconnect()


async def test_edit_unpublish_delete_reach_reader_in_order(ticker):
    entry = await create_entry(ticker=ticker, body="<p>Erste Fassung</p>")
    communicator = connect(ticker.slug, "since=1")
    await communicator.connect()
    await update_entry(entry, body="<p>Zweite Fassung</p>")
    await update_entry(entry, status=Entry.Status.DRAFT)
    await update_entry(entry, status=Entry.Status.PUBLISHED)
    await delete_entry(entry)
    events = [await receive(communicator) for _ in range(4)]
    assert [e["seq"] for e in events] == [2, 3, 4, 5]
    assert [e["type"] for e in events] == [
        "entry.updated",
        "entry.unpublished",
        "entry.published",
        "entry.deleted",
    ]
    assert "Zweite Fassung" in events[0]["html"]
    assert "html" not in events[1]
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


async def test_catch_up_after_gap_then_live_exactly_once(ticker):
    for n in range(5):
        await create_entry(ticker=ticker, body=f"<p>Meldung {n}</p>")
    communicator = connect(ticker.slug, "since=2")
    await communicator.connect()
    caught_up = [await receive(communicator) for _ in range(3)]
    assert [e["seq"] for e in caught_up] == [3, 4, 5]
    await create_entry(ticker=ticker, body="<p>Live danach</p>")
    live = await receive(communicator)
    assert live["seq"] == 6
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


async def test_changes_during_catch_up_are_neither_lost_nor_doubled(ticker):
    """Publish concurrently with many reconnecting readers: each sees 1..N once, in order."""
    for n in range(3):
        await create_entry(ticker=ticker, body=f"<p>vorher {n}</p>")

    async def writer():
        for n in range(10):
            await create_entry(ticker=ticker, body=f"<p>während {n}</p>")
            await asyncio.sleep(0)

    readers = [connect(ticker.slug, "since=0") for _ in range(5)]
    write_task = asyncio.create_task(writer())
    for reader in readers:
        await reader.connect()
    await write_task
    for reader in readers:
        seqs = [(await receive(reader))["seq"] for _ in range(13)]
        assert seqs == list(range(1, 14))
        assert await reader.receive_nothing(timeout=0.1)
        await reader.disconnect()


async def test_without_since_reader_starts_at_current_position(ticker):
    await create_entry(ticker=ticker, body="<p>alt</p>")
    communicator = connect(ticker.slug)
    await communicator.connect()
    assert await communicator.receive_nothing(timeout=0.2)
    await create_entry(ticker=ticker, body="<p>neu</p>")
    assert (await receive(communicator))["seq"] == 2
    await communicator.disconnect()


async def test_too_large_gap_asks_for_reload(ticker, settings):
    settings.TICKER_CATCHUP_LIMIT = 3
    for n in range(5):
        await create_entry(ticker=ticker, body=f"<p>{n}</p>")
    communicator = connect(ticker.slug, "since=1")
    await communicator.connect()
    event = await receive(communicator)
    assert event == {"seq": 5, "type": "reload"}
    await communicator.disconnect()


async def test_since_ahead_of_ticker_asks_for_reload(ticker):
    communicator = connect(ticker.slug, "since=99")
    await communicator.connect()
    assert (await receive(communicator))["type"] == "reload"
    await communicator.disconnect()


async def test_unknown_ticker_is_closed_with_4404(db):
    communicator = connect("gibt-es-nicht", "since=0")
    connected, _ = await communicator.connect()
    assert connected
    error = await receive(communicator)
    assert error["code"] == Close.NOT_FOUND
    output = await communicator.receive_output(timeout=1)
    assert output == {"type": "websocket.close", "code": Close.NOT_FOUND}


@pytest.mark.parametrize("since", ["abc", "-1", "1.5"])
async def test_bad_since_is_closed_with_4400(ticker, since):
    communicator = connect(ticker.slug, f"since={since}")
    await communicator.connect()
    assert (await receive(communicator))["code"] == Close.BAD_REQUEST
    output = await communicator.receive_output(timeout=1)
    assert output == {"type": "websocket.close", "code": Close.BAD_REQUEST}


async def test_foreign_origin_is_rejected(ticker):
    communicator = connect(ticker.slug, "since=0", origin=(b"origin", b"https://evil.example"))
    connected, _ = await communicator.connect()
    assert not connected


async def test_malformed_frames_get_errors_and_others_keep_receiving(ticker):
    rude = connect(ticker.slug, "since=0")
    polite = connect(ticker.slug, "since=0")
    await rude.connect()
    await polite.connect()
    await rude.send_to(text_data="{not json")
    assert "malformed" in (await receive(rude))["error"]
    await rude.send_to(text_data='{"type": "publish", "body": "<script>"}')
    assert "unknown message" in (await receive(rude))["error"]
    await rude.send_to(bytes_data=b"\x00\x01")
    assert "binary" in (await receive(rude))["error"]
    await rude.send_to(text_data='{"type": "ping"}')
    assert (await receive(rude))["type"] == "pong"
    await create_entry(ticker=ticker, body="<p>für alle</p>")
    assert (await receive(polite))["seq"] == 1
    assert (await receive(rude))["seq"] == 1
    await rude.disconnect()
    await polite.disconnect()


async def test_oversized_frame_closes_only_that_socket(ticker, settings):
    settings.TICKER_MAX_CLIENT_FRAME = 100
    big = connect(ticker.slug, "since=0")
    other = connect(ticker.slug, "since=0")
    await big.connect()
    await other.connect()
    await big.send_to(text_data="x" * 101)
    assert (await receive(big))["code"] == Close.TOO_LARGE
    output = await big.receive_output(timeout=1)
    assert output == {"type": "websocket.close", "code": Close.TOO_LARGE}
    await create_entry(ticker=ticker, body="<p>weiter</p>")
    assert (await receive(other))["seq"] == 1
    await other.disconnect()


async def test_one_subscription_per_ticker_per_process(ticker):
    readers = [connect(ticker.slug, "since=0") for _ in range(4)]
    for reader in readers:
        await reader.connect()
    hub = get_hub()
    assert list(hub.feeds) == [ticker.pk]
    assert len(hub.feeds[ticker.pk].readers) == 4
    for reader in readers:
        await reader.disconnect()
    assert hub.feeds == {}


async def test_feed_fills_a_gap_from_the_change_log(ticker):
    """A change that overtakes an earlier one is delivered after it, not before."""
    communicator = connect(ticker.slug, "since=0")
    await communicator.connect()
    feed = get_hub().feeds[ticker.pk]
    # Record two changes without broadcasting them, then deliver only the second.
    from unittest import mock

    with mock.patch("ticker.broadcast.send_change"):
        await create_entry(ticker=ticker, body="<p>eins</p>")
        await create_entry(ticker=ticker, body="<p>zwei</p>")
    frame_two = await database_sync_to_async(lambda: ticker.changes.get(seq=2).frame)()
    await feed.deliver(2, frame_two)
    assert [(await receive(communicator))["seq"] for _ in range(2)] == [1, 2]
    await communicator.disconnect()


async def test_resync_delivers_changes_the_layer_lost(ticker, settings):
    settings.TICKER_RESYNC_SECONDS = 0.1
    communicator = connect(ticker.slug, "since=0")
    await communicator.connect()
    from unittest import mock

    with mock.patch("ticker.broadcast.send_change"):
        await create_entry(ticker=ticker, body="<p>verloren</p>")
    event = await receive(communicator, wait=3)
    assert event["seq"] == 1
    await communicator.disconnect()


async def test_database_outage_closes_with_try_again_later(ticker):
    from unittest import mock

    from django.db import OperationalError

    with mock.patch("ticker.consumers._ticker_id", side_effect=OperationalError("down")):
        communicator = connect(ticker.slug, "since=0")
        await communicator.connect()
        assert (await receive(communicator))["code"] == Close.UNAVAILABLE
        output = await communicator.receive_output(timeout=1)
    assert output == {"type": "websocket.close", "code": Close.UNAVAILABLE}


async def test_channel_layer_outage_closes_with_try_again_later(ticker):
    from unittest import mock

    with mock.patch("ticker.fanout.Feed.start", side_effect=ConnectionError("redis unreachable")):
        communicator = connect(ticker.slug, "since=0")
        await communicator.connect()
        assert (await receive(communicator))["code"] == Close.UNAVAILABLE
    assert get_hub().feeds == {}
    # Once the layer is back, the next reader subscribes normally.
    communicator = connect(ticker.slug, "since=0")
    assert (await communicator.connect())[0]
    await create_entry(ticker=ticker, body="<p>wieder da</p>")
    assert (await receive(communicator))["seq"] == 1
    await communicator.disconnect()


async def test_a_reader_flooding_frames_is_closed_others_unharmed(ticker, settings):
    settings.TICKER_MAX_CLIENT_FRAMES_PER_MINUTE = 5
    flood = connect(ticker.slug, "since=0")
    calm = connect(ticker.slug, "since=0")
    await flood.connect()
    await calm.connect()
    for _ in range(5):
        await flood.send_to(text_data='{"type": "ping"}')
        assert (await receive(flood))["type"] == "pong"
    await flood.send_to(text_data='{"type": "ping"}')
    assert (await receive(flood))["code"] == Close.TOO_MANY_FRAMES
    output = await flood.receive_output(timeout=1)
    assert output == {"type": "websocket.close", "code": Close.TOO_MANY_FRAMES}
    await create_entry(ticker=ticker, body="<p>weiter</p>")
    assert (await receive(calm))["seq"] == 1
    await calm.disconnect()


async def test_connected_readers_are_counted_for_the_admin(ticker, settings):
    from ticker import presence

    settings.TICKER_RESYNC_SECONDS = 0.05
    readers = [connect(ticker.slug, "since=0") for _ in range(3)]
    for reader in readers:
        await reader.connect()
    count = database_sync_to_async(presence.readers_now)
    for _ in range(100):
        if await count(ticker.pk) == 3:
            break
        await asyncio.sleep(0.05)
    assert await count(ticker.pk) == 3
    for reader in readers:
        await reader.disconnect()
    # The feed stops (and reports zero) in the background, right after the last reader.
    for _ in range(100):
        if await count(ticker.pk) == 0:
            break
        await asyncio.sleep(0.05)
    assert await count(ticker.pk) == 0


async def test_readers_of_a_deleted_ticker_are_closed_as_unknown(ticker, settings):
    settings.TICKER_RESYNC_SECONDS = 0.1
    communicator = connect(ticker.slug, "since=0")
    await communicator.connect()
    await database_sync_to_async(services.delete_ticker)(ticker)
    frames = [await receive(communicator) for _ in range(2)]
    assert frames[0]["type"] == "ticker.status"
    assert frames[1]["code"] == Close.NOT_FOUND
    output = await communicator.receive_output(timeout=3)
    assert output == {"type": "websocket.close", "code": Close.NOT_FOUND}
    assert get_hub().feeds == {}


# ---- The exact frames a reader is sent (what live.js and other clients parse) ------


async def test_replies_to_a_readers_frames_are_exactly_as_documented(ticker, settings):
    settings.TICKER_MAX_CLIENT_FRAME = 40
    reader = connect(ticker.slug, "since=0")
    await reader.connect()
    await create_entry(ticker=ticker, body="<p>eins</p>")
    assert (await receive(reader))["seq"] == 1
    await reader.send_to(text_data='{"type": "ping"}')
    assert await receive(reader) == {"type": "pong", "last_seq": 1}
    await reader.send_to(text_data="kein json")
    assert await receive(reader) == {"type": "error", "error": "malformed frame: expected JSON"}
    await reader.send_to(bytes_data=b"\x00")
    assert await receive(reader) == {"type": "error", "error": "binary frames are not accepted"}
    await reader.send_to(text_data='{"type": "subscribe"}')
    assert (await receive(reader))["type"] == "error"
    # A frame of exactly the allowed size is still a frame, not a reason to close.
    await reader.send_to(text_data='{"type": "ping", "pad": "' + "x" * 13 + '"}')
    assert await receive(reader) == {"type": "pong", "last_seq": 1}
    await reader.send_to(text_data="x" * 41)
    assert await receive(reader) == {
        "type": "error",
        "error": "frame too large",
        "code": Close.TOO_LARGE,
        "action": "retry",
        "retry_after": 5.0,
    }
    await reader.disconnect()


async def test_the_frame_budget_is_per_minute(ticker, settings):
    from unittest import mock

    settings.TICKER_MAX_CLIENT_FRAMES_PER_MINUTE = 2
    clock = [1000.0]
    with mock.patch("ticker.consumers.monotonic", side_effect=lambda: clock[0]):
        reader = connect(ticker.slug, "since=0")
        await reader.connect()
        for minute in range(3):
            clock[0] += 61 * (minute > 0)
            for _ in range(2):
                await reader.send_to(text_data='{"type": "ping"}')
                assert (await receive(reader))["type"] == "pong"
    await reader.disconnect()


async def test_an_empty_since_starts_from_now(ticker):
    await create_entry(ticker=ticker, body="<p>alt</p>")
    reader = connect(ticker.slug, "since=")
    assert (await reader.connect())[0]
    await create_entry(ticker=ticker, body="<p>neu</p>")
    assert (await receive(reader))["seq"] == 2
    await reader.disconnect()


async def test_a_reader_exactly_at_the_catch_up_limit_is_caught_up_not_reloaded(ticker, settings):
    settings.TICKER_CATCHUP_LIMIT = 3
    first = connect(ticker.slug, "since=0")
    await first.connect()  # the process follows the ticker from here on
    for n in range(3):
        await create_entry(ticker=ticker, body=f"<p>{n}</p>")
    for _ in range(3):
        await receive(first)
    reader = connect(ticker.slug, "since=0")
    await reader.connect()
    assert [(await receive(reader))["seq"] for _ in range(3)] == [1, 2, 3]
    behind = connect(ticker.slug, "since=0")
    await create_entry(ticker=ticker, body="<p>4</p>")
    await receive(first)
    await behind.connect()
    assert (await receive(behind))["type"] == "reload"
    for communicator in (first, reader, behind):
        await communicator.disconnect()


async def test_a_reader_ahead_of_this_process_is_not_sent_anything_twice(ticker):
    """The process's feed lags (or the page came from another process): trust the log."""
    first = connect(ticker.slug, "since=0")
    await first.connect()
    from unittest import mock

    with mock.patch("ticker.broadcast.send_change"):
        await create_entry(ticker=ticker, body="<p>nur im Log</p>")
    ahead = connect(ticker.slug, "since=1")
    await ahead.connect()
    await create_entry(ticker=ticker, body="<p>zwei</p>")
    assert (await receive(ahead))["seq"] == 2
    assert await ahead.receive_nothing(timeout=0.3)
    reset = connect(ticker.slug, "since=9")  # ahead of the database itself: reload
    await reset.connect()
    frame = await receive(reset)
    assert frame == {"seq": 2, "type": "reload"}
    for communicator in (first, ahead, reset):
        await communicator.disconnect()
