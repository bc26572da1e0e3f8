"""Reader counts added up across server processes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ticker import presence, services
from ticker.models import ReaderPresence, Ticker

pytestmark = pytest.mark.django_db


def test_counts_from_several_processes_add_up(ticker):
    other = services.save_ticker(Ticker(title="Wahl", slug="wahl", status="live"))
    presence.report("web-1", {ticker.pk: 120, other.pk: 4})
    presence.report("web-2", {ticker.pk: 33})
    assert presence.readers_now(ticker.pk) == 153
    annotated = {t.pk: t.readers_now for t in presence.with_readers(Ticker.objects.all())}
    assert annotated == {ticker.pk: 153, other.pk: 4}


def test_a_process_that_lost_its_readers_reports_zero(ticker):
    presence.report("web-1", {ticker.pk: 7})
    presence.report("web-1", {})
    assert presence.readers_now(ticker.pk) == 0
    assert not ReaderPresence.objects.exists()


def test_stale_rows_do_not_count_and_old_ones_are_cleared(ticker):
    presence.report("alive", {ticker.pk: 2})
    ReaderPresence.objects.create(
        process="stopped", ticker=ticker, readers=5000,
        updated_at=timezone.now() - presence.STALE_AFTER - timedelta(seconds=1),
    )  # fmt: skip
    ReaderPresence.objects.create(
        process="long-gone", ticker=ticker, readers=9,
        updated_at=timezone.now() - presence.STALE_AFTER * 11,
    )  # fmt: skip
    assert presence.readers_now(ticker.pk) == 2
    assert presence.with_readers(Ticker.objects.filter(pk=ticker.pk)).get().readers_now == 2
    presence.report("alive", {ticker.pk: 3})
    assert set(ReaderPresence.objects.values_list("process", flat=True)) == {"alive", "stopped"}
