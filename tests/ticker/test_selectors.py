"""The reads shared by the changes endpoint, the consumer and the hub."""

from __future__ import annotations

import json

import pytest

from ticker import selectors, services
from ticker.models import Change, Ticker

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_ticker(db) -> Ticker:
    return services.save_ticker(
        Ticker(title="Wahl", slug="wahl", status=Ticker.Status.LIVE, language="de")
    )


def publish(ticker: Ticker, count: int) -> None:
    for n in range(count):
        services.create_entry(ticker=ticker, body=f"<p>Meldung {n}</p>")


def seqs(pairs: list[tuple[int, str]]) -> list[int]:
    assert all(json.loads(frame)["seq"] == seq for seq, frame in pairs), "frame matches its seq"
    return [seq for seq, _ in pairs]


# ---- catch_up ----------------------------------------------------------------------


def test_catch_up_returns_every_later_change_of_this_ticker_in_order(ticker, other_ticker):
    publish(ticker, 4)
    publish(other_ticker, 6)
    result = selectors.catch_up(ticker.pk, 1)
    assert result.last_seq == 4
    assert seqs(result.changes) == [2, 3, 4]
    assert result.frames == [frame for _, frame in result.changes]


def test_an_up_to_date_reader_gets_nothing_but_no_reload(ticker):
    publish(ticker, 3)
    result = selectors.catch_up(ticker.pk, 3)
    assert result.changes == []
    assert result.frames == []
    assert result.last_seq == 3


def test_a_reader_ahead_of_the_ticker_reloads(ticker):
    publish(ticker, 2)
    result = selectors.catch_up(ticker.pk, 3)
    assert result.changes is None
    assert result.frames is None
    assert result.last_seq == 2


def test_the_catch_up_limit_is_the_most_a_reader_may_be_behind(ticker, settings):
    settings.TICKER_CATCHUP_LIMIT = 3
    publish(ticker, 5)
    assert seqs(selectors.catch_up(ticker.pk, 2).changes) == [3, 4, 5]
    assert selectors.catch_up(ticker.pk, 1).changes is None
    assert selectors.catch_up(ticker.pk, 1).last_seq == 5
    # An explicit limit overrides the setting, in both directions.
    assert seqs(selectors.catch_up(ticker.pk, 0, limit=5).changes) == [1, 2, 3, 4, 5]
    assert selectors.catch_up(ticker.pk, 3, limit=1).changes is None


def test_catch_up_never_returns_a_change_past_the_position_it_reports(ticker):
    """A change numbered after the position was read belongs to the live stream, not here."""
    publish(ticker, 2)
    Change.objects.create(
        ticker=ticker, seq=3, kind=Change.Kind.STATUS, frame='{"seq":3,"type":"ticker.status"}'
    )
    result = selectors.catch_up(ticker.pk, 0)
    assert result.last_seq == 2
    assert seqs(result.changes) == [1, 2]


# ---- changes_between ---------------------------------------------------------------


def test_changes_between_is_after_exclusive_upto_inclusive(ticker, other_ticker):
    publish(ticker, 5)
    publish(other_ticker, 5)
    assert seqs(selectors.changes_between(ticker.pk, 1, 3)) == [2, 3]
    assert seqs(selectors.changes_between(ticker.pk, 3)) == [4, 5]
    assert selectors.changes_between(ticker.pk, 5) == []
    assert selectors.changes_between(ticker.pk, 2, 2) == []


def test_changes_between_reads_one_page_of_the_catch_up_limit(ticker, settings):
    settings.TICKER_CATCHUP_LIMIT = 2
    publish(ticker, 5)
    assert seqs(selectors.changes_between(ticker.pk, 0)) == [1, 2]
    assert seqs(selectors.changes_between(ticker.pk, 2, 5)) == [3, 4]


# ---- positions ---------------------------------------------------------------------


def test_last_seqs_reads_the_position_of_each_ticker_asked_for(ticker, other_ticker):
    publish(ticker, 2)
    publish(other_ticker, 3)
    assert selectors.last_seqs([ticker.pk, other_ticker.pk]) == {
        ticker.pk: 2,
        other_ticker.pk: 3,
    }
    assert selectors.last_seqs([other_ticker.pk, 10_000]) == {other_ticker.pk: 3}
    assert selectors.last_seqs([]) == {}


def test_ticker_position_answers_from_memory_for_a_while(ticker, settings):
    settings.TICKER_POSITION_CACHE_SECONDS = 0  # a fresh read
    position = ticker.pk + 1  # never equal to the id, so the two cannot be mixed up
    publish(ticker, position)
    assert selectors.ticker_position(ticker.slug) == (ticker.pk, position)
    settings.TICKER_POSITION_CACHE_SECONDS = 60
    publish(ticker, 1)
    assert selectors.ticker_position(ticker.slug) == (ticker.pk, position), "from memory"
    settings.TICKER_POSITION_CACHE_SECONDS = 0
    assert selectors.ticker_position(ticker.slug) == (ticker.pk, position + 1)


def test_ticker_position_of_an_unknown_or_deleted_ticker_is_none(ticker, settings):
    settings.TICKER_POSITION_CACHE_SECONDS = 0
    assert selectors.ticker_position("gibt-es-nicht") is None
    assert selectors.ticker_position(ticker.slug) == (ticker.pk, 0)
    Ticker.objects.filter(pk=ticker.pk).delete()
    assert selectors.ticker_position(ticker.slug) is None
    # Once gone it is not remembered: a longer cache does not bring it back.
    settings.TICKER_POSITION_CACHE_SECONDS = 60
    assert selectors.ticker_position(ticker.slug) is None
