"""Reads shared by views, the consumer and the fan-out hub."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings

from ticker.models import Change, Ticker


@dataclass(frozen=True)
class CatchUp:
    """What a reader that has seen up to ``since`` needs next."""

    last_seq: int
    # (seq, frame) pairs after ``since`` in order, or None when the reader is
    # too far behind (or ahead, after a database reset) and must reload.
    changes: list[tuple[int, str]] | None

    @property
    def frames(self) -> list[str] | None:
        return None if self.changes is None else [frame for _, frame in self.changes]


def catch_up(ticker_id: int, since: int, *, limit: int | None = None) -> CatchUp:
    """Return every change of the ticker after ``since``, in order, or a reload."""
    limit = settings.TICKER_CATCHUP_LIMIT if limit is None else limit
    last_seq = Ticker.objects.filter(pk=ticker_id).values_list("last_seq", flat=True).get()
    if since > last_seq or last_seq - since > limit:
        return CatchUp(last_seq, None)
    changes = list(
        Change.objects.filter(ticker_id=ticker_id, seq__gt=since, seq__lte=last_seq)
        .order_by("seq")
        .values_list("seq", "frame")
    )
    return CatchUp(last_seq, changes)


def changes_between(ticker_id: int, after: int, upto: int | None = None) -> list[tuple[int, str]]:
    """Return (seq, frame) for the ticker's changes after ``after`` (up to ``upto``)."""
    qs = Change.objects.filter(ticker_id=ticker_id, seq__gt=after)
    if upto is not None:
        qs = qs.filter(seq__lte=upto)
    return list(qs.order_by("seq").values_list("seq", "frame")[: settings.TICKER_CATCHUP_LIMIT])


def last_seqs(ticker_ids: list[int]) -> dict[int, int]:
    """Return the newest change number of each ticker, in one query."""
    return dict(Ticker.objects.filter(pk__in=ticker_ids).values_list("pk", "last_seq"))


# slug -> (fetched at, ticker id, last change number): this process's view of
# each ticker's position, at most TICKER_POSITION_CACHE_SECONDS old.
_positions: dict[str, tuple[float, int, int]] = {}


def fresh_position(slug: str) -> tuple[int, int] | None:
    """Return the remembered (ticker id, last change number) if young enough, without a query."""
    hit = _positions.get(slug)
    if hit is not None and time.monotonic() - hit[0] < settings.TICKER_POSITION_CACHE_SECONDS:
        return hit[1], hit[2]
    return None


def ticker_position(slug: str) -> tuple[int, int] | None:
    """Return (ticker id, last change number) for ``slug``, or None for an unknown ticker.

    Pollers that are up to date ask this many times a second; a position a
    second old costs them at most a second's delay and spares the database.
    """
    remembered = fresh_position(slug)
    if remembered is not None:
        return remembered
    row = Ticker.objects.filter(slug=slug).values_list("pk", "last_seq").first()
    if row is None:
        _positions.pop(slug, None)
        return None
    _positions[slug] = (time.monotonic(), row[0], row[1])
    return row
