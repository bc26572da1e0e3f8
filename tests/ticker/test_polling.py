"""The changes endpoint's fast lane: up-to-date polls answered from memory, like the view."""

from __future__ import annotations

import asyncio
import json
from unittest import mock

import pytest
from channels.db import database_sync_to_async
from django.core.asgi import get_asgi_application

from tests.helpers import make_entries
from ticker.polling import UpToDatePolls

pytestmark = pytest.mark.django_db(transaction=True)


async def get(path: str, query: str = "", **headers: str) -> tuple[int, dict[str, str], bytes]:
    """Send one GET through the project's ASGI application, as daphne would."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")]
        + [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    sent: list[dict] = []
    requested = False
    done = asyncio.Event()

    async def receive() -> dict:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()  # the client stays until the answer is complete
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    # Built per request: Django's middleware reads settings when it is set up.
    application = UpToDatePolls(get_asgi_application())
    await application(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    names = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return start["status"], names, body


@pytest.fixture
def polled(ticker):
    make_entries(ticker, 2)
    return ticker, f"/live/{ticker.slug}/changes/"


async def test_an_up_to_date_poll_gets_the_views_answer_without_django(polled):
    _, url = polled
    by_view = await get(url, "since=2")  # the view answers and remembers the position
    with (
        mock.patch("ticker.views.ticker_position", side_effect=AssertionError("view called")),
        mock.patch("ticker.selectors.Ticker", side_effect=AssertionError("database read")),
    ):
        fast = await get(url, "since=2")
    assert fast[0] == by_view[0] == 200
    assert fast[2] == by_view[2]
    assert json.loads(fast[2]) == {"last_seq": 2, "reload": False, "changes": []}
    ignore = {"content-language", "vary"}
    assert {k: v for k, v in fast[1].items() if k not in ignore} == {
        k: v for k, v in by_view[1].items() if k not in ignore
    }


async def test_a_revalidating_poller_gets_304_from_memory(polled):
    _, url = polled
    first = await get(url, "since=2")
    status, headers, body = await get(url, "since=2", if_none_match=first[1]["etag"])
    assert (status, body) == (304, b"")
    assert headers["etag"] == first[1]["etag"]


async def test_a_reader_who_is_behind_gets_the_changes_from_the_view(polled):
    _, url = polled
    await get(url, "since=2")
    status, _, body = await get(url, "since=0")
    assert status == 200
    assert [c["seq"] for c in json.loads(body)["changes"]] == [1, 2]


async def test_a_new_change_is_not_hidden_once_the_position_is_old(polled, settings):
    ticker, url = polled
    settings.TICKER_POSITION_CACHE_SECONDS = 0
    await get(url, "since=2")
    await database_sync_to_async(make_entries)(ticker, 1)
    _, _, body = await get(url, "since=2")
    assert [c["seq"] for c in json.loads(body)["changes"]] == [3]


async def test_what_django_must_decide_still_goes_to_django(polled, settings):
    _, url = polled
    await get(url, "since=2")
    settings.ALLOWED_HOSTS = ["example.org"]
    assert (await get(url, "since=2"))[0] == 400
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    settings.SECURE_SSL_REDIRECT = True
    assert (await get(url, "since=2"))[0] == 301
