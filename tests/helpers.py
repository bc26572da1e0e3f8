"""Small helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone

from ticker import services
from ticker.models import Entry, Ticker


def make_entries(ticker: Ticker, count: int, **fields: object) -> list[Entry]:
    """Publish ``count`` entries one minute apart through the service, oldest first."""
    start = timezone.now() - timedelta(hours=3)
    return [
        services.create_entry(
            ticker=ticker,
            headline=f"Meldung {n}",
            body=f"<p>Text {n}</p>",
            display_at=start + timedelta(minutes=n),
            **fields,
        )
        for n in range(count)
    ]


def entry_ids(html: str) -> list[int]:
    """Return the ids of the entry partials in ``html``, in page order."""
    return [int(m) for m in re.findall(r'data-entry-id="(\d+)"', html)]
