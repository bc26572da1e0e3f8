"""Post an update from the command line or a script (a wire feed, a scheduled note).

It goes through the same service as the admin, so the update is numbered,
sanitised and broadcast after commit like any other. With the in-memory
channel layer the server process learns of it from its periodic resync
(``TICKER_RESYNC_SECONDS``); with Redis readers see it at once.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.html import escape, linebreaks

from ticker import services
from ticker.models import Entry, Ticker


class Command(BaseCommand):
    help = "Publish an entry in a ticker (text from the argument, or '-' for standard input)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ticker", help="the ticker's slug")
        parser.add_argument("text", help="the entry's text; '-' reads it from standard input")
        parser.add_argument("--headline", default="")
        parser.add_argument("--byline", default="")
        parser.add_argument("--html", action="store_true", help="the text is HTML (sanitised)")
        parser.add_argument("--key-event", action="store_true")
        parser.add_argument("--pin", action="store_true")
        parser.add_argument("--draft", action="store_true", help="save without publishing")

    def handle(self, *args: Any, **options: Any) -> None:
        ticker = Ticker.objects.filter(slug=options["ticker"]).first()
        if ticker is None:
            raise CommandError(f"No ticker with the slug {options['ticker']!r}.")
        text = sys.stdin.read() if options["text"] == "-" else options["text"]
        if not text.strip():
            raise CommandError("The entry has no text.")
        body = text if options["html"] else linebreaks(escape(text.strip()))
        entry = services.create_entry(
            ticker=ticker,
            headline=options["headline"],
            body=body,
            byline=options["byline"],
            is_key_event=options["key_event"],
            is_pinned=options["pin"],
            status=Entry.Status.DRAFT if options["draft"] else Entry.Status.PUBLISHED,
        )
        ticker.refresh_from_db()
        state = "saved as draft" if options["draft"] else f"published as change {ticker.last_seq}"
        self.stdout.write(f"Entry {entry.pk} {state}: {entry.get_absolute_url()}")
