"""What browser tests do with a reader's page: open it, find entries, read its state line."""

from __future__ import annotations

import time

from playwright.sync_api import Locator, Page, expect

from ticker.models import Ticker

LIVE_WAIT_MS = 6000

ENTRY = "[data-entries] > article[data-entry-id]"


def open_live(page: Page, base_url: str, ticker: Ticker) -> None:
    """Open the live page and wait until its socket is connected."""
    page.goto(f"{base_url}/live/{ticker.slug}/")
    wait_until_live(page)
    # Survives only as long as the document does: a reload would drop it.
    page.evaluate("window.__sameDocument = true")


def wait_until_live(page: Page, timeout: float = LIVE_WAIT_MS) -> None:
    """Wait until the status line says the page is live (its socket is open)."""
    page.wait_for_function(
        "() => { const s = document.querySelector('[data-live-state]');"
        " return s && s.textContent !== '' && s.textContent === s.dataset.textLive; }",
        timeout=timeout,
    )


def expect_state(page: Page, key: str, timeout: float = LIVE_WAIT_MS) -> None:
    """Expect the status line to show its ``data-text-<key>`` text (live, polling, …)."""
    state = page.locator("[data-live-state]")
    expect(state).to_have_text(state.get_attribute(f"data-text-{key}") or "", timeout=timeout)


def entry_locator(page: Page, entry_id: int) -> Locator:
    return page.locator(f'article[data-entry-id="{entry_id}"]')


def entry_ids(page: Page) -> list[int]:
    """Return the ids of the listed entries, top to bottom."""
    return page.locator(ENTRY).evaluate_all("els => els.map(e => Number(e.dataset.entryId))")


def wait_for_frame(page: Page, entry_id: int, timeout: float = LIVE_WAIT_MS) -> None:
    """Wait until the page's socket has received a change of ``entry_id``."""
    page.wait_for_function(
        "id => window.__frames.some(f => f.entry_id === id)", arg=entry_id, timeout=timeout
    )


def socket_log(page: Page) -> list[dict]:
    """Return the page's socket events: ``{"event": create|open|close, "code", "at"}``."""
    return page.evaluate("window.__socketLog")


def wait_for_socket_event(
    page: Page, event: str, *, after: int = 0, code: int | None = None, timeout: float = 15
) -> dict:
    """Wait for the first socket ``event`` (with ``code``) at index ``after`` or later."""
    deadline = time.monotonic() + timeout
    while True:
        for item in socket_log(page)[after:]:
            if item["event"] == event and (code is None or item["code"] == code):
                return item
        if time.monotonic() > deadline:
            raise AssertionError(f"no socket {event} {code or ''} within {timeout}s")
        page.wait_for_timeout(100)
