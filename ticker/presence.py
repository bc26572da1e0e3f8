"""How many readers are connected, added up across server processes.

Each process's hub reports its own counts here when they change and at least
every ``HEARTBEAT_SECONDS``; rows of a process that stopped reporting age out.
"""

from datetime import timedelta

from django.db.models import OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from ticker.models import ReaderPresence, Ticker

HEARTBEAT_SECONDS = 30.0
# A process's row counts while it is younger than this.
STALE_AFTER = timedelta(seconds=HEARTBEAT_SECONDS * 2.5)


def report(process: str, counts: dict[int, int]) -> None:
    """Store this process's reader count per ticker (and drop tickers it no longer serves)."""
    now = timezone.now()
    for ticker_id, readers in counts.items():
        ReaderPresence.objects.update_or_create(
            process=process, ticker_id=ticker_id, defaults={"readers": readers, "updated_at": now}
        )
    ReaderPresence.objects.filter(process=process).exclude(ticker_id__in=list(counts)).delete()
    # Rows of processes that stopped without saying so would otherwise pile up.
    ReaderPresence.objects.filter(updated_at__lt=now - STALE_AFTER * 10).delete()


def _fresh() -> QuerySet[ReaderPresence]:
    return ReaderPresence.objects.filter(updated_at__gte=timezone.now() - STALE_AFTER)


def readers_now(ticker_id: int) -> int:
    """Return how many readers all live processes have on the ticker."""
    return _fresh().filter(ticker_id=ticker_id).aggregate(total=Sum("readers"))["total"] or 0


def with_readers(tickers: QuerySet[Ticker]) -> QuerySet[Ticker]:
    """Annotate each ticker with ``readers_now`` in the same query (for lists)."""
    per_ticker = (
        _fresh()
        .filter(ticker=OuterRef("pk"))
        .values("ticker")
        .annotate(total=Sum("readers"))
        .values("total")
    )
    return tickers.annotate(readers_now=Coalesce(Subquery(per_ticker), 0))
