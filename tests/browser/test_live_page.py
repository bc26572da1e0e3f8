"""The live page in a real browser, against a real daphne server.

Writes in the test process reach the server through its periodic resync of
the change log (about a second) when the two do not share a channel layer,
so assertions about them wait a few seconds.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from tests.browser.reader import (
    ENTRY,
    LIVE_WAIT_MS,
    entry_ids,
    entry_locator,
    open_live,
    wait_for_frame,
)
from ticker import services
from ticker.formatting import newsroom_time
from ticker.models import Entry, Ticker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_editor_posts_in_admin_and_open_reader_page_shows_it(
    daphne_server, new_page, ticker, newsroom_editor
):
    editor = newsroom_editor
    reader = new_page()
    open_live(reader, daphne_server, ticker)
    expect(reader.locator(ENTRY)).to_have_count(0)
    expect(reader.locator("[data-empty]")).to_be_visible()

    desk = new_page()
    change_url = f"/admin/ticker/ticker/{ticker.pk}/change/"
    desk.goto(f"{daphne_server}/admin/login/?next={change_url}")
    desk.fill("#id_username", editor.username)
    desk.fill("#id_password", "sicher-und-geheim-123")
    desk.click("input[type=submit]")
    desk.wait_for_url(f"**{change_url}")
    form = desk.locator("#quick-post")
    form.locator("input[name=headline]").fill("Waffenruhe verkündet")
    form.locator('.ProseMirror[contenteditable="true"]').click()
    desk.keyboard.type("Beide Seiten stimmen der Feuerpause zu.")
    form.locator("[type=submit][name=_publish]").click()
    desk.wait_for_url(f"**{change_url}")

    entry = Entry.objects.get(ticker=ticker, headline="Waffenruhe verkündet")
    article = entry_locator(reader, entry.pk)
    expect(article).to_be_visible(timeout=LIVE_WAIT_MS)
    expect(article).to_contain_text("Beide Seiten stimmen der Feuerpause zu.")
    expect(reader.locator(ENTRY)).to_have_count(1)
    expect(reader.locator("[data-empty]")).to_be_hidden()
    assert reader.evaluate("window.__sameDocument") is True
    assert reader.js_errors == []


def test_edits_and_deletes_in_services_reach_the_open_page(
    daphne_server, new_page, in_thread, ticker
):
    older = in_thread(services.create_entry, ticker=ticker, body="<p>Erste Meldung</p>")
    entry = in_thread(services.create_entry, ticker=ticker, body="<p>Erste Fassung</p>")
    page = new_page()
    open_live(page, daphne_server, ticker)
    expect(page.locator(ENTRY)).to_have_count(2)

    in_thread(services.update_entry, entry, body="<p>Korrigierte Fassung</p>", is_key_event=True)
    expect(entry_locator(page, entry.pk)).to_contain_text(
        "Korrigierte Fassung", timeout=LIVE_WAIT_MS
    )
    expect(page.locator("[data-key-events-section]")).to_be_visible()
    expect(page.locator(f'[data-key-entry-id="{entry.pk}"]')).to_have_count(1)

    in_thread(services.set_pinned, older, True)
    expect(page.locator(f'[data-pinned] > [data-entry-id="{older.pk}"]')).to_be_visible(
        timeout=LIVE_WAIT_MS
    )
    expect(page.locator(ENTRY)).to_have_count(1)

    in_thread(services.delete_entry, entry)
    expect(entry_locator(page, entry.pk)).to_have_count(0, timeout=LIVE_WAIT_MS)
    expect(page.locator("[data-key-events-section]")).to_be_hidden()
    expect(page.locator("[data-empty]")).to_be_visible()

    in_thread(services.set_ticker_status, ticker, Ticker.Status.ENDED)
    expect(page.locator("[data-ticker-status] .status--ended")).to_be_visible(timeout=LIVE_WAIT_MS)
    # An ended ticker no longer claims to be live, and pausing makes no sense any more.
    expect(page.locator("[data-live-state]")).to_have_text(re.compile("ended|beendet", re.I))
    expect(page.locator("[data-live-toggle]")).to_be_hidden()
    assert page.evaluate("window.__sameDocument") is True
    assert page.js_errors == []


def test_entries_published_while_disconnected_appear_once_after_reconnect(
    daphne_server, new_page, in_thread, ticker
):
    page = new_page()
    open_live(page, daphne_server, ticker)
    seen = Ticker.objects.get(pk=ticker.pk).last_seq
    state = page.locator("[data-live-state]")
    page.context.set_offline(True)
    page.evaluate("window.__sockets.at(-1).close()")
    expect(state).to_have_text(state.get_attribute("data-text-offline") or "")
    missed = [
        in_thread(services.create_entry, ticker=ticker, body=f"<p>Verpasst {n}</p>")
        for n in range(3)
    ]
    page.wait_for_timeout(1200)  # the server's resync has now seen them
    page.context.set_offline(False)

    for entry in missed:
        expect(entry_locator(page, entry.pk)).to_have_count(1, timeout=LIVE_WAIT_MS)
    later = in_thread(services.create_entry, ticker=ticker, body="<p>Danach</p>")
    expect(entry_locator(page, later.pk)).to_have_count(1, timeout=LIVE_WAIT_MS)
    page.wait_for_timeout(1500)  # another resync: nothing may arrive twice
    expect(page.locator(ENTRY)).to_have_count(4)
    order = page.locator(ENTRY).evaluate_all("els => els.map(e => Number(e.dataset.entryId))")
    assert order == [later.pk, *reversed([e.pk for e in missed])]
    # Every reconnect asked for exactly what the page had not seen.
    urls = page.evaluate("window.__sockets.map(s => s.url)")
    assert len(urls) >= 2
    assert all(url.endswith(f"?since={seen}") for url in urls)
    expect(state).to_have_text(state.get_attribute("data-text-live") or "")
    assert page.evaluate("window.__sameDocument") is True


def test_without_javascript_entries_show_and_older_entries_are_a_link(
    daphne_server, new_page, in_thread, ticker, settings
):
    start = timezone.now() - timedelta(hours=5)
    entries = [
        in_thread(
            services.create_entry,
            ticker=ticker,
            body=f"<p>Meldung {n}</p>",
            display_at=start + timedelta(minutes=n),
        )
        for n in range(settings.TICKER_PAGE_SIZE + 2)
    ]
    newest_first = [e.pk for e in reversed(entries)]

    page = new_page(javascript=False)
    page.goto(f"{daphne_server}/live/{ticker.slug}/")
    ids = page.locator(ENTRY).evaluate_all("els => els.map(e => Number(e.dataset.entryId))")
    assert ids == newest_first[: settings.TICKER_PAGE_SIZE]
    expect(page.locator("[data-live-controls]")).to_be_hidden()
    page.click("[data-load-older]")
    page.wait_for_url("**/?before=*")
    ids = page.locator(ENTRY).evaluate_all("els => els.map(e => Number(e.dataset.entryId))")
    assert ids == newest_first[settings.TICKER_PAGE_SIZE :]

    # With JavaScript the same link appends the older entries in place.
    page = new_page()
    open_live(page, daphne_server, ticker)
    page.click("[data-load-older]")
    expect(page.locator(ENTRY)).to_have_count(len(entries))
    ids = page.locator(ENTRY).evaluate_all("els => els.map(e => Number(e.dataset.entryId))")
    assert ids == newest_first
    expect(page.locator("[data-load-older]")).to_have_count(0)
    assert page.evaluate("window.__sameDocument") is True


def test_pause_holds_updates_back_until_resumed(daphne_server, new_page, in_thread, ticker):
    page = new_page()
    open_live(page, daphne_server, ticker)
    toggle = page.locator("[data-live-toggle]")
    state = page.locator("[data-live-state]")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(state).to_have_text(state.get_attribute("data-text-paused") or "")
    expect(toggle).to_have_text(toggle.get_attribute("data-label-resume") or "")

    entry = in_thread(services.create_entry, ticker=ticker, body="<p>Zurückgehalten</p>")
    wait_for_frame(page, entry.pk)
    expect(entry_locator(page, entry.pk)).to_have_count(0)

    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(entry_locator(page, entry.pk)).to_be_visible()
    expect(state).to_have_text(state.get_attribute("data-text-live") or "")


def test_reader_scrolled_down_gets_a_new_updates_button(
    daphne_server, new_page, in_thread, ticker
):
    start = timezone.now() - timedelta(hours=1)
    for n in range(8):
        in_thread(
            services.create_entry,
            ticker=ticker,
            body="<p>" + "Ein langer Absatz. " * 40 + "</p>",
            display_at=start + timedelta(minutes=n),
        )
    page = new_page(viewport={"width": 390, "height": 700})
    open_live(page, daphne_server, ticker)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    button = page.locator("[data-new-updates]")

    entry = in_thread(services.create_entry, ticker=ticker, body="<p>Brandneu</p>")
    expect(button).to_be_visible(timeout=LIVE_WAIT_MS)
    expect(button).to_have_text(button.get_attribute("data-text-one") or "")
    expect(entry_locator(page, entry.pk)).to_have_count(0)

    button.click()
    expect(button).to_be_hidden()
    expect(page.locator(ENTRY).first).to_have_attribute("data-entry-id", str(entry.pk))
    assert (
        page.evaluate("document.querySelector('[data-entries]').getBoundingClientRect().top") >= -1
    )


def test_without_websockets_the_page_polls_the_changes_endpoint(
    daphne_server, new_page, in_thread, ticker
):
    """A browser (or proxy) without WebSockets still gets every update, by polling."""
    before = in_thread(services.create_entry, ticker=ticker, body="<p>Schon da</p>")
    page = new_page()
    page.add_init_script("delete window.WebSocket")
    polls: list[str] = []
    page.on("request", lambda r: "/changes/?since=" in r.url and polls.append(r.url))
    page.goto(f"{daphne_server}/live/{ticker.slug}/")
    state = page.locator("[data-live-state]")
    expect(state).to_have_text(state.get_attribute("data-text-polling") or "")
    expect(entry_locator(page, before.pk)).to_have_count(1)

    entry = in_thread(services.create_entry, ticker=ticker, body="<p>Per Abfrage</p>")
    expect(entry_locator(page, entry.pk)).to_be_visible(timeout=LIVE_WAIT_MS)
    in_thread(services.delete_entry, before)
    expect(entry_locator(page, before.pk)).to_have_count(0, timeout=LIVE_WAIT_MS)
    # Each poll asks only for what is new: the page started at change 1.
    assert polls[0].endswith("?since=1")
    assert any(url.endswith("?since=2") for url in polls)
    assert page.js_errors == []


def test_new_updates_button_counts_only_entries_that_will_appear(
    daphne_server, new_page, in_thread, ticker, settings
):
    start = timezone.now() - timedelta(hours=5)
    entries = [
        in_thread(
            services.create_entry,
            ticker=ticker,
            body="<p>" + "Ein langer Absatz. " * 20 + "</p>",
            display_at=start + timedelta(minutes=n),
        )
        for n in range(settings.TICKER_PAGE_SIZE + 3)
    ]
    unloaded = entries[:3]  # on the page behind "Load older entries"
    page = new_page(viewport={"width": 390, "height": 700})
    open_live(page, daphne_server, ticker)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    button = page.locator("[data-new-updates]")

    # Edits and pin moves of entries the page does not show are nothing new to see.
    in_thread(services.update_entry, unloaded[0], body="<p>Korrigiert</p>")
    in_thread(services.set_pinned, unloaded[1], True)
    in_thread(services.set_pinned, unloaded[2], True)  # unpins unloaded[1] again
    wait_for_frame(page, unloaded[0].pk)
    page.wait_for_function(
        "id => window.__frames.filter(f => f.entry_id === id).length >= 2", arg=unloaded[1].pk
    )
    wait_for_frame(page, unloaded[2].pk)
    # Only the newly pinned entry will appear (in the pinned box).
    expect(button).to_have_text(button.get_attribute("data-text-one") or "")

    fresh = in_thread(services.create_entry, ticker=ticker, body="<p>Brandneu</p>")
    wait_for_frame(page, fresh.pk)
    expect(button).to_have_text((button.get_attribute("data-text-many") or "").replace("NUM", "2"))
    button.click()
    expect(button).to_be_hidden()
    # Exactly what was counted appeared.
    expect(page.locator(f'[data-pinned] > [data-entry-id="{unloaded[2].pk}"]')).to_be_visible()
    assert entry_ids(page)[0] == fresh.pk
    expect(entry_locator(page, unloaded[0].pk)).to_have_count(0)
    expect(entry_locator(page, unloaded[1].pk)).to_have_count(0)
    assert page.js_errors == []


def test_changes_during_load_older_are_not_undone_by_the_older_page(
    daphne_server, new_page, in_thread, ticker, settings
):
    start = timezone.now() - timedelta(hours=5)
    entries = [
        in_thread(
            services.create_entry,
            ticker=ticker,
            body=f"<p>Meldung {n}</p>",
            display_at=start + timedelta(minutes=n),
        )
        for n in range(settings.TICKER_PAGE_SIZE + 3)
    ]
    deleted, edited, kept = entries[:3]  # all three on the older page
    page = new_page()
    open_live(page, daphne_server, ticker)

    # Hold the older page's answer back until the changes below have arrived.
    held = []

    def hold(route) -> None:
        held.append((route, route.fetch()))

    page.route("**/*fragment=older*", hold)
    page.click("[data-load-older]")
    page.wait_for_function("() => document.querySelector('[data-load-older][aria-busy]')")
    while not held:
        page.wait_for_timeout(50)
    in_thread(services.delete_entry, deleted)
    in_thread(services.update_entry, edited, body="<p>Meldung korrigiert</p>")
    wait_for_frame(page, deleted.pk)
    wait_for_frame(page, edited.pk)
    route, response = held[0]
    route.fulfill(response=response)  # rendered before both changes

    expect(entry_locator(page, kept.pk)).to_have_count(1)
    expect(entry_locator(page, deleted.pk)).to_have_count(0)
    expect(entry_locator(page, edited.pk)).to_contain_text("Meldung korrigiert")
    expected = [e.pk for e in reversed(entries) if e != deleted]
    assert entry_ids(page) == expected
    assert page.js_errors == []


def test_resuming_applies_only_the_latest_state_of_each_entry(
    daphne_server, new_page, in_thread, ticker
):
    page = new_page()
    open_live(page, daphne_server, ticker)
    page.evaluate(
        """() => {
          window.__added = [];
          new MutationObserver((changes) => changes.forEach((c) => c.addedNodes.forEach((n) => {
            if (n.dataset && n.dataset.entryId) window.__added.push(Number(n.dataset.entryId));
          }))).observe(document.querySelector("[data-entries]"), { childList: true });
        }"""
    )
    page.click("[data-live-toggle]")
    kept = in_thread(services.create_entry, ticker=ticker, body="<p>Fassung 1</p>")
    for n in (2, 3, 4):
        in_thread(services.update_entry, kept, body=f"<p>Fassung {n}</p>")
    gone = in_thread(services.create_entry, ticker=ticker, body="<p>Gleich weg</p>")
    in_thread(services.delete_entry, gone)
    page.wait_for_function(
        "n => window.__frames.filter(f => typeof f.seq === 'number').length >= n", arg=6
    )
    assert page.evaluate("window.__added") == []

    page.click("[data-live-toggle]")
    expect(entry_locator(page, kept.pk)).to_contain_text("Fassung 4")
    # One insertion of the latest version; the deleted entry never flashed up.
    assert page.evaluate("window.__added") == [kept.pk]
    expect(entry_locator(page, gone.pk)).to_have_count(0)


def test_entries_in_the_same_second_are_ordered_like_the_server_orders_them(
    daphne_server, new_page, in_thread, ticker
):
    second = timezone.now().replace(microsecond=0) - timedelta(minutes=10)

    def at(micros: int) -> object:
        return second + timedelta(microseconds=micros)

    late = in_thread(
        services.create_entry,
        ticker=ticker,
        body="<p>A</p>",
        is_key_event=True,
        display_at=at(900_000),
    )
    early = in_thread(
        services.create_entry,
        ticker=ticker,
        body="<p>B</p>",
        is_key_event=True,
        display_at=at(100),
    )
    page = new_page()
    open_live(page, daphne_server, ticker)
    assert entry_ids(page) == [late.pk, early.pk]

    # Same second, different microseconds; and the very same instant, broken by id.
    middle = in_thread(
        services.create_entry,
        ticker=ticker,
        body="<p>C</p>",
        is_key_event=True,
        display_at=at(5000),
    )
    twin = in_thread(
        services.create_entry,
        ticker=ticker,
        body="<p>D</p>",
        is_key_event=True,
        display_at=at(100),
    )
    expect(page.locator(ENTRY)).to_have_count(4, timeout=LIVE_WAIT_MS)
    live_order = entry_ids(page)
    assert live_order == [late.pk, middle.pk, twin.pk, early.pk]
    key_lines = "[data-key-events] > li"
    expect(page.locator(key_lines)).to_have_count(4)
    key_order = page.locator(key_lines).evaluate_all(
        "els => els.map(e => Number(e.dataset.keyEntryId))"
    )
    assert key_order == live_order
    page.reload()
    assert entry_ids(page) == live_order


def test_upcoming_ticker_says_when_coverage_starts_and_shows_controls_once_live(
    daphne_server, new_page, in_thread, ticker
):
    starts = timezone.now() + timedelta(days=1)
    ticker.status = Ticker.Status.UPCOMING
    ticker.starts_at = starts
    in_thread(services.save_ticker, ticker)
    page = new_page()
    page.goto(f"{daphne_server}/live/{ticker.slug}/")
    page.evaluate("window.__sameDocument = true")
    upcoming = page.locator("[data-live-upcoming]")
    with translation.override(ticker.language):
        expect(upcoming).to_contain_text(newsroom_time(starts))
    expect(page.locator("[data-live-toggle]")).to_be_hidden()
    expect(page.locator("[data-live-state]")).to_be_hidden()
    page.wait_for_function("() => window.__sockets.some(s => s.readyState === 1)")

    in_thread(services.set_ticker_status, ticker, Ticker.Status.LIVE)
    expect(page.locator("[data-live-toggle]")).to_be_visible(timeout=LIVE_WAIT_MS)
    expect(upcoming).to_be_hidden()
    state = page.locator("[data-live-state]")
    expect(state).to_have_text(state.get_attribute("data-text-live") or "")
    assert page.evaluate("window.__sameDocument") is True
    assert page.js_errors == []
