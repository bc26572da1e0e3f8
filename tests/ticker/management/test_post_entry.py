"""Posting from the command line goes through the same service as the admin."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from ticker.models import Entry

pytestmark = pytest.mark.django_db


def test_posts_plain_text_as_escaped_paragraphs(ticker):
    out = io.StringIO()
    call_command(
        "post_entry", ticker.slug, "Erste Zeile <b>\n\nZweiter Absatz",
        "--headline", "Eilmeldung", "--key-event", "--byline", "dpa", stdout=out,
    )  # fmt: skip
    entry = Entry.objects.get()
    assert entry.body == "<p>Erste Zeile &lt;b&gt;</p>\n\n<p>Zweiter Absatz</p>"
    assert (entry.headline, entry.byline, entry.is_key_event) == ("Eilmeldung", "dpa", True)
    change = ticker.changes.get()
    assert json.loads(change.frame)["type"] == "entry.published"
    assert f"Entry {entry.pk} published as change 1" in out.getvalue()


def test_html_is_sanitised_and_stdin_is_read(ticker, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO('<p onclick="x()">Hallo<script>y()</script></p>'))
    call_command("post_entry", ticker.slug, "-", "--html", stdout=io.StringIO())
    assert Entry.objects.get().body == "<p>Hallo</p>"


def test_draft_is_not_a_public_change(ticker):
    call_command("post_entry", ticker.slug, "Entwurf", "--draft", stdout=io.StringIO())
    assert Entry.objects.get().status == Entry.Status.DRAFT
    assert not ticker.changes.exists()


def test_unknown_ticker_and_empty_text_are_clear_errors(ticker):
    with pytest.raises(CommandError, match="No ticker"):
        call_command("post_entry", "gibt-es-nicht", "x")
    with pytest.raises(CommandError, match="no text"):
        call_command("post_entry", ticker.slug, "   ")
    assert not Entry.objects.exists()
