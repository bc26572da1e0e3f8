"""The embeddable widget on another site, in a real browser against a real daphne server.

A second local HTTP server on another port plays the partner site: a different
origin that embeds the ticker with the one-line snippet. Writes in the test
process reach daphne through its periodic resync (about a second) when the two
do not share a channel layer, so live assertions wait a few seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone
from playwright.sync_api import Frame, Locator, Page, expect

from ticker import services
from ticker.models import Ticker
from ticker.protocol import client_table

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIVE_WAIT_MS = 8000
WIDGET = ".liveticker-embed > iframe"

LONG_BODY = "".join(
    f"<p>Absatz {n}: Die Lage im Osten des Landes bleibt angespannt, berichten Reporter "
    "vor Ort; Hilfsorganisationen bereiten weitere Konvois vor.</p>"
    for n in range(6)
)


class HostSite:
    """A partner site on its own origin, serving pages the test writes."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path.split("?")[0])
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def host_site() -> Iterator[HostSite]:
    site = HostSite()
    yield site
    site.close()


def host_page(body: str) -> str:
    return (
        '<!doctype html><html lang="de"><head><meta charset="utf-8"><title>Partner</title>'
        "<style>body{font-family:serif;margin:2rem auto;max-width:760px}"
        ".cols{display:grid;grid-template-columns:1fr 1fr;gap:24px}</style>"
        "<script>window.__keysBefore = Object.keys(window);</script></head>"
        f"<body>{body}</body></html>"
    )


def make_entries(ticker: Ticker, count: int) -> None:
    start = timezone.now() - timedelta(hours=1)
    for n in range(count):
        services.create_entry(
            ticker=ticker,
            headline=f"Meldung {n}",
            body=f"<p>Kurzer Text {n}.</p>",
            display_at=start + timedelta(minutes=n),
        )


def widget_frame(page: Page, index: int) -> tuple[Locator, Frame]:
    iframe = page.locator(WIDGET).nth(index)
    frame = iframe.element_handle().content_frame()
    assert frame is not None
    return iframe, frame


def wait_until_connected(frame: Frame) -> None:
    frame.wait_for_function(
        "() => { const s = document.querySelector('[data-live-state]');"
        " return s && s.textContent !== '' && s.textContent === s.dataset.textLive; }",
        timeout=LIVE_WAIT_MS,
    )


def height(iframe: Locator) -> float:
    return iframe.evaluate("el => el.getBoundingClientRect().height")


def wait_until_fitted(iframe: Locator, frame: Frame) -> float:
    """Wait until the iframe is as tall as the document inside it, nothing cut off; return it."""
    deadline = time.monotonic() + LIVE_WAIT_MS / 1000
    while True:
        outer = height(iframe)
        inner = frame.evaluate(
            "[document.documentElement.scrollHeight, document.body.getBoundingClientRect().height]"
        )
        if abs(outer - inner[0]) <= 1 and outer >= inner[1] - 1:
            return outer
        if time.monotonic() > deadline:
            pytest.fail(f"iframe is {outer}px tall, its document {inner}")
        time.sleep(0.1)


def wait_until_shorter(iframe: Locator, limit: float) -> None:
    """Wait until the iframe has shrunk below ``limit`` pixels."""
    deadline = time.monotonic() + LIVE_WAIT_MS / 1000
    while height(iframe) >= limit:
        if time.monotonic() > deadline:
            pytest.fail(f"iframe stayed {height(iframe)}px tall, expected below {limit}px")
        time.sleep(0.1)


def test_snippet_embeds_independent_widgets_that_update_live_and_grow(
    daphne_server, host_site, new_page, in_thread, ticker
):
    in_thread(make_entries, ticker, 2)
    script = f"{daphne_server}/static/ticker/embed.js"
    host_site.pages["/artikel.html"] = host_page(
        "<h1>Regionalzeitung</h1><p id='intro'>Unser Partner berichtet live:</p>"
        '<div class="cols"><div id="left">'
        f'<script src="{script}" data-ticker="{ticker.slug}" data-count="5" async></script>'
        '</div><div id="right">'
        f'<script src="{script}" data-ticker="{ticker.slug}" data-theme="dark" '
        'data-layout="compact" data-header="hide" data-height="120" async></script>'
        "</div></div><p id='outro'>Ende des Artikels.</p>"
    )
    page = new_page()
    page.goto(f"{host_site.url}/artikel.html")
    expect(page.locator(WIDGET)).to_have_count(2)

    # Each widget sits right after its own script tag; nothing else on the page changed.
    assert page.locator("#left > .liveticker-embed").count() == 1
    assert page.locator("#right > .liveticker-embed").count() == 1
    assert page.locator("body > *").evaluate_all("els => els.map(e => e.tagName)") == [
        "H1",
        "P",
        "DIV",
        "P",
    ]
    # No globals either (frames show up as numeric keys of window).
    added = page.evaluate(
        "Object.keys(window).filter(k => !__keysBefore.includes(k) && !/^[0-9]+$/.test(k))"
    )
    assert added == ["__keysBefore"] or added == []

    left, left_frame = widget_frame(page, 0)
    right, right_frame = widget_frame(page, 1)
    src = left.get_attribute("src")
    assert src.startswith(f"{daphne_server}/live/{ticker.slug}/embed/?")
    assert f"parent={host_site.url.replace(':', '%3A').replace('/', '%2F')}" in src
    assert "count=5" in src

    # The widgets render the ticker, each with its own options.
    for frame in (left_frame, right_frame):
        expect(frame.locator("[data-entries] > article[data-entry-id]")).to_have_count(2)
        wait_until_connected(frame)
    assert left_frame.evaluate("document.documentElement.dataset.theme") == "light"
    assert right_frame.evaluate("document.documentElement.dataset.theme") == "dark"
    expect(left_frame.locator(".embed__title")).to_have_text(ticker.title)
    expect(right_frame.locator(".embed__title")).to_have_count(0)
    expect(right_frame.locator("[data-ticker-status] .status--live")).to_be_visible()
    assert left_frame.evaluate("document.querySelector('base').target") == "_blank"
    # The widget reads the server's close-code table too, not a copy of its own.
    codes = left_frame.evaluate("JSON.parse(document.querySelector('main').dataset.closeCodes)")
    assert codes == {str(code): value for code, value in client_table().items()}

    left_before = wait_until_fitted(left, left_frame)
    right_before = wait_until_fitted(right, right_frame)
    assert left_before > 300  # grew past the loader's starting height
    assert left_before != right_before

    # A height message from anyone but the widget's own frame is ignored.
    page.evaluate(
        "window.postMessage({type: 'liveticker:height', ticker: 'x', height: 4321}, '*')"
    )
    page.wait_for_timeout(200)
    assert height(left) == left_before
    assert height(right) == right_before

    # An entry published through the service appears live, and both iframes grow.
    entry = in_thread(
        services.create_entry, ticker=ticker, headline="Neue Entwicklung", body=LONG_BODY
    )
    for frame in (left_frame, right_frame):
        article = frame.locator(f'[data-entries] > article[data-entry-id="{entry.pk}"]')
        expect(article).to_be_visible(timeout=LIVE_WAIT_MS)
        expect(article).to_contain_text("Absatz 5")
        expect(frame.locator("[data-entries] > article")).to_have_count(3)
    left_after = wait_until_fitted(left, left_frame)
    right_after = wait_until_fitted(right, right_frame)
    assert left_after > left_before + 100
    assert right_after > right_before + 100

    # Deleting it shrinks the widgets back: the height follows the content both ways.
    in_thread(services.delete_entry, entry)
    for frame in (left_frame, right_frame):
        expect(frame.locator("[data-entries] > article")).to_have_count(2, timeout=LIVE_WAIT_MS)
    # The old height still "fits" until the frame's message arrives: wait for the drop.
    wait_until_shorter(left, left_after - 100)
    wait_until_shorter(right, right_after - 100)
    assert wait_until_fitted(left, left_frame) < left_after - 100
    assert wait_until_fitted(right, right_frame) < right_after - 100
    assert page.js_errors == []
    for frame in (left_frame, right_frame):
        assert frame.evaluate("window.__frames.length") >= 1  # it came over the socket


def test_framing_rules_in_a_real_browser(daphne_server, host_site, new_page, in_thread, ticker):
    other = in_thread(
        services.save_ticker,
        Ticker(
            title="Nur für Partner",
            slug="nur-fuer-partner",
            status=Ticker.Status.LIVE,
            embed_origins="https://partner.example",
        ),
    )
    host_site.pages["/frames.html"] = host_page(
        f'<iframe id="plain" src="{daphne_server}/live/{ticker.slug}/embed/"></iframe>'
        f'<iframe id="page" src="{daphne_server}/live/{ticker.slug}/"></iframe>'
        f'<iframe id="restricted" src="{daphne_server}/live/{other.slug}/embed/"></iframe>'
    )
    page = new_page()
    page.goto(f"{host_site.url}/frames.html")
    page.wait_for_load_state("load")

    def frame_of(selector: str) -> Frame:
        frame = page.locator(selector).element_handle().content_frame()
        assert frame is not None
        return frame

    # The plain iframe works without the loader script: the widget renders.
    plain = frame_of("#plain")
    expect(plain.locator("main[data-ticker]")).to_have_attribute("data-ticker", ticker.slug)
    # Every other page refuses to be framed, and so does a widget for another site.
    for selector in ("#page", "#restricted"):
        blocked = frame_of(selector)
        assert blocked.locator("main[data-ticker]").count() == 0
