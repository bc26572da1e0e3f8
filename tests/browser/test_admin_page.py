"""The ticker's admin page in German, in Debian's chromium, as an editor sees it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from ticker import services
from ticker.models import Entry, Ticker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The toolbar's labels as django-prose-editor writes them; none may remain in German.
ENGLISH_TOOLBAR = {
    "paragraph", "unordered list", "ordered list", "blockquote", "horizontal rule", "bold",
    "italic", "strike", "subscript", "superscript", "insert link", "remove link", "undo",
    "redo", "Heading 3", "Heading 4", "Paragraph",
}  # fmt: skip


def open_ticker_page(new_page, base_url: str, editor, ticker: Ticker) -> tuple[Page, list[str]]:
    """Log in with a German browser, open the ticker's page; return it and failed requests."""
    page = new_page(locale="de-DE", viewport={"width": 1280, "height": 900})
    failed: list[str] = []
    page.on(
        "response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )
    # Chromium reports some failed loads (the favicon) only on the console.
    page.on("console", lambda m: failed.append(m.text) if m.type == "error" else None)
    change_url = f"/admin/ticker/ticker/{ticker.pk}/change/"
    page.goto(f"{base_url}/admin/login/?next={change_url}")
    page.fill("#id_username", editor.username)
    page.fill("#id_password", "sicher-und-geheim-123")
    page.click("input[type=submit]")
    page.wait_for_url(f"**{change_url}")
    page.wait_for_selector(".prose-menubar button")
    # Two frames: the toolbar's translation runs on the next one.
    page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    page.evaluate("document.fonts.ready.then(() => true)")
    return page, failed


def test_ticker_page_in_german_with_a_working_toolbar_and_admin_buttons(
    daphne_server, new_page, ticker, newsroom_editor, in_thread
):
    create = services.create_entry
    in_thread(create, ticker=ticker, headline="Angeheftet", body="<p>a</p>", is_pinned=True)
    in_thread(create, ticker=ticker, body="<p>Entwurf</p>", status=Entry.Status.DRAFT)
    in_thread(create, ticker=ticker, body="<p>" + "Lange Meldung " * 20 + "</p>")
    page, failed = open_ticker_page(new_page, daphne_server, newsroom_editor, ticker)

    # Every request answered: no favicon 404 and no missing static file.
    assert failed == []
    assert page.js_errors == []

    # Toolbar labels follow the admin's language, tooltips and accessible names alike.
    labels = page.eval_on_selector_all(
        ".prose-menubar button[title]", "bs => bs.map(b => [b.title, b.ariaLabel])"
    )
    assert ["Fett", "Fett"] in labels
    options = page.eval_on_selector_all(
        ".prose-menubar__option > *", "os => os.map(o => o.textContent)"
    )
    assert "Absatz" in options
    assert not {text for pair in labels for text in pair} & ENGLISH_TOOLBAR
    assert not set(options) & ENGLISH_TOOLBAR

    # Icons are drawn by the icon font (one glyph, not the icon's name as text), and no
    # decoration depends on a character the system fonts may lack (the dropdown arrow).
    widths = page.eval_on_selector_all(
        ".prose-menubar .material-icons:not(.hidden)",
        "bs => bs.map(b => { const r = document.createRange(); r.selectNodeContents(b);"
        " return r.getBoundingClientRect().width; })",
    )
    assert widths
    assert max(widths) <= 30, widths
    arrow = page.evaluate(
        "() => getComputedStyle(document.querySelector('.prose-menubar__selected'), '::after')"
        ".content"
    )
    assert arrow in ('""', "none"), arrow

    # The entry table's actions are admin buttons, each label on one line.
    reference = page.evaluate(
        "() => { const a = document.createElement('a'); a.className = 'button';"
        " document.querySelector('#content-main').append(a);"
        " const bg = getComputedStyle(a).backgroundColor; a.remove(); return bg; }"
    )
    buttons = page.eval_on_selector_all(
        "#newsroom-entries .entry-actions .button",
        "bs => bs.map(b => { const r = document.createRange(); r.selectNodeContents(b);"
        " return { text: b.textContent.trim(), lines: r.getClientRects().length,"
        " bg: getComputedStyle(b).backgroundColor, danger: b.classList.contains('danger'),"
        " underline: getComputedStyle(b).textDecorationLine !== 'none',"
        " row: b.closest('tr').dataset.entryRow, top: Math.round(b.getBoundingClientRect().top) };"
        " })",
    )
    assert {b["text"] for b in buttons} >= {"Bearbeiten", "Lösen", "Löschen", "Veröffentlichen"}
    for button in buttons:
        assert button["lines"] == 1, button
        assert not button["underline"], button
        if not button["danger"]:
            assert button["bg"] == reference, button
    for row in {b["row"] for b in buttons}:
        assert len({b["top"] for b in buttons if b["row"] == row}) == 1, row


def test_ending_coverage_asks_first_and_works_without_javascript(
    daphne_server, new_page, ticker, newsroom_editor
):
    page = new_page(javascript=False, locale="de-DE")
    change_url = f"/admin/ticker/ticker/{ticker.pk}/change/"
    page.goto(f"{daphne_server}/admin/login/?next={change_url}")
    page.fill("#id_username", newsroom_editor.username)
    page.fill("#id_password", "sicher-und-geheim-123")
    page.click("input[type=submit]")
    page.wait_for_url(f"**{change_url}")

    page.click("[data-status=ended]")
    page.wait_for_selector("text=Ja, Berichterstattung beenden")
    ticker.refresh_from_db()
    assert ticker.status == Ticker.Status.LIVE

    page.click("text=Nein, zurück")
    page.wait_for_url(f"**{change_url}")
    page.click("[data-status=ended]")
    page.click("text=Ja, Berichterstattung beenden")
    page.wait_for_url(f"**{change_url}")
    ticker.refresh_from_db()
    assert ticker.status == Ticker.Status.ENDED
