"""How the live page's connection behaves when the server closes it, refuses it or goes away.

Every close here is a real one: daphne sends the code from ``ticker/protocol.py``
(the page's own socket sends an oversized frame, floods, or asks for a ticker
that is gone), or the server itself restarts or runs without its channel layer.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser.reader import (
    LIVE_WAIT_MS,
    entry_locator,
    expect_state,
    open_live,
    socket_log,
    wait_for_frame,
    wait_for_socket_event,
    wait_until_live,
)
from ticker import services
from ticker.protocol import CLOSE_RULES, Close

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A Redis nobody listens on: the server's hub cannot subscribe, so every socket
# is refused with 4503, while the changes endpoint (database only) still works.
DEAD_REDIS = "redis://127.0.0.1:1/0"

# Counts the page's requests to the changes endpoint that are in flight at
# once, and slows each answer down so that two loops, if there were two,
# would overlap.
SLOW_POLL_SPY = """
(() => {
  const native = window.fetch;
  window.__polls = { busy: 0, most: 0, starts: [] };
  window.fetch = function (url, options) {
    if (!String(url).includes("/changes/")) return native.call(this, url, options);
    const polls = window.__polls;
    polls.busy += 1;
    polls.most = Math.max(polls.most, polls.busy);
    polls.starts.push(Date.now());
    const done = () => { polls.busy -= 1; };
    return native.call(this, url, options)
      .then((response) => new Promise((resolve) => setTimeout(() => resolve(response), 700)))
      .then((response) => { done(); return response; }, (error) => { done(); throw error; });
  };
})();
"""


# Gives the page a change number the server cannot accept, before live.js reads it.
BAD_SEQ = """
new MutationObserver((changes, observer) => {
  const main = document.querySelector("main[data-ticker]");
  if (main) {
    main.dataset.seq = "-7";
    observer.disconnect();
  }
}).observe(document, { childList: true, subtree: true });
"""


def polls_to(page: Page) -> list[str]:
    """Record the page's requests to the changes endpoint from now on."""
    urls: list[str] = []
    page.on("request", lambda r: "/changes/" in r.url and urls.append(r.url))
    return urls


def test_page_is_back_on_a_websocket_soon_after_a_server_restart(
    daphne_process, new_page, in_thread, ticker
):
    page = new_page()
    polls = polls_to(page)
    open_live(page, daphne_process.url, ticker)
    sockets_before = len(socket_log(page))

    daphne_process.stop()
    expect_state(page, "offline")
    missed = in_thread(services.create_entry, ticker=ticker, body="<p>Während des Neustarts</p>")
    time.sleep(2)  # a deploy: the server is away for a couple of seconds
    daphne_process.start()
    back_at = time.monotonic()

    # Full-jitter back-off capped at 10 s: every reader is back well within 15 s.
    wait_until_live(page, timeout=15000)
    assert time.monotonic() - back_at < 15
    expect(entry_locator(page, missed.pk)).to_have_count(1, timeout=LIVE_WAIT_MS)
    after = in_thread(services.create_entry, ticker=ticker, body="<p>Nach dem Neustart</p>")
    expect(entry_locator(page, after.pk)).to_be_visible(timeout=LIVE_WAIT_MS)
    wait_for_frame(page, after.pk)  # over the new socket
    assert page.evaluate("window.__sockets.at(-1).readyState") == 1
    # Retried several times while the server was away, but never fell back to
    # polling: WebSockets had worked on this page.
    assert len(socket_log(page)) > sockets_before + 2
    assert polls == []
    assert page.evaluate("window.__sameDocument") is True
    assert page.js_errors == []


def test_while_the_channel_layer_is_down_the_page_polls_and_returns_to_the_socket(
    daphne_process, new_page, in_thread, ticker
):
    daphne_process.restart(pause=0, REDIS_URL=DEAD_REDIS)
    page = new_page()
    page.add_init_script(SLOW_POLL_SPY)
    page.goto(f"{daphne_process.url}/live/{ticker.slug}/")
    page.evaluate("window.__sameDocument = true")

    # The server accepts, explains and closes with 4503: the page polls meanwhile.
    wait_for_socket_event(page, "close", code=Close.UNAVAILABLE)
    expect_state(page, "polling")
    entry = in_thread(services.create_entry, ticker=ticker, body="<p>Per Abfrage</p>")
    expect(entry_locator(page, entry.pk)).to_be_visible(timeout=LIVE_WAIT_MS)

    # ... and keeps trying the socket, never sooner than the server's hint.
    wait_for_socket_event(page, "close", code=Close.UNAVAILABLE, after=3)
    log = socket_log(page)
    closes = [e for e in log if e["event"] == "close"]
    assert {e["code"] for e in closes} == {Close.UNAVAILABLE}
    hint_ms = CLOSE_RULES[Close.UNAVAILABLE].retry_after * 1000
    creates = [e["at"] for e in log if e["event"] == "create"]
    for close, next_create in zip(closes, creates[1:], strict=False):
        assert next_create - close["at"] >= hint_ms - 50

    # The channel layer is back: so is the socket, and polling stops.
    daphne_process.restart(pause=0)
    wait_until_live(page, timeout=15000)
    later = in_thread(services.create_entry, ticker=ticker, body="<p>Wieder live</p>")
    expect(entry_locator(page, later.pk)).to_be_visible(timeout=LIVE_WAIT_MS)
    wait_for_frame(page, later.pk)
    polls = page.evaluate("window.__polls")
    page.wait_for_timeout(2500)
    assert page.evaluate("window.__polls.starts.length") == len(polls["starts"])
    # One poll loop at most, however often the socket opened and closed meanwhile.
    assert polls["most"] == 1
    assert len(polls["starts"]) >= 2
    assert page.evaluate("window.__sameDocument") is True
    assert page.js_errors == []


@pytest.mark.parametrize(
    ("close", "send"),
    [
        (Close.TOO_LARGE, "ws => ws.send('x'.repeat(4096))"),
        (
            Close.TOO_MANY_FRAMES,
            'ws => { for (let i = 0; i < 40; i++) ws.send(\'{"type":"ping"}\'); }',
        ),
    ],
    ids=["too-large", "too-many-frames"],
)
def test_a_socket_closed_by_the_server_is_retried_no_sooner_than_its_hint(
    daphne_server, new_page, in_thread, ticker, close, send
):
    page = new_page()
    open_live(page, daphne_server, ticker)
    page.evaluate(f"({send})(window.__sockets.at(-1))")
    closed = wait_for_socket_event(page, "close", code=close)
    hint_ms = CLOSE_RULES[close].retry_after * 1000

    # Meanwhile the changes endpoint keeps the page current.
    expect_state(page, "polling")
    entry = in_thread(services.create_entry, ticker=ticker, body="<p>Trotzdem da</p>")
    expect(entry_locator(page, entry.pk)).to_be_visible(timeout=LIVE_WAIT_MS)

    if hint_ms <= 10000:
        reopened = wait_for_socket_event(page, "open", after=len(socket_log(page)) - 1)
        assert reopened["at"] - closed["at"] >= hint_ms
        wait_until_live(page)
    else:
        # A long hint (a minute): no socket before it, polling all along.
        page.wait_for_timeout(3000)
        creates = [e for e in socket_log(page) if e["event"] == "create"]
        assert len(creates) == 1
        expect_state(page, "polling")
    assert page.evaluate("window.__sameDocument") is True
    assert page.js_errors == []


def test_a_ticker_that_is_gone_stops_live_updates_and_says_so(
    daphne_server, new_page, in_thread, ticker
):
    page = new_page()
    polls = polls_to(page)
    open_live(page, daphne_server, ticker)
    in_thread(services.delete_ticker, ticker)
    page.evaluate("window.__sockets.at(-1).close()")  # the reconnect meets 4404

    wait_for_socket_event(page, "close", code=Close.NOT_FOUND)
    expect_state(page, "stopped")
    expect(page.locator("[data-live-toggle]")).to_be_hidden()
    sockets = len(socket_log(page))
    page.wait_for_timeout(3000)
    assert len(socket_log(page)) == sockets  # no retries
    assert polls == []
    assert page.evaluate("window.__sameDocument") is True


def test_a_bad_since_reloads_the_page_once_and_never_in_a_loop(daphne_server, new_page, ticker):
    page = new_page()
    loads = []
    page.on("request", lambda r: r.url.endswith(f"/live/{ticker.slug}/") and loads.append(r.url))
    # A page whose change number the server cannot accept: 4400 on every socket.
    page.add_init_script(BAD_SEQ)
    page.goto(f"{daphne_server}/live/{ticker.slug}/")
    # The first 4400 reloads; the second within a minute stops instead.
    expect_state(page, "stopped", timeout=LIVE_WAIT_MS)
    assert len(loads) == 2
    expect(page.locator("[data-live-toggle]")).to_be_hidden()
    page.wait_for_timeout(2000)
    assert len(loads) == 2
    codes = [e["code"] for e in socket_log(page) if e["event"] == "close"]
    assert codes == [Close.BAD_REQUEST]  # this document's one socket
