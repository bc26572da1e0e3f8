"""Reader pages as documents: HEAD, headings, landmarks, times, badges and video captions.

The browser suite (tests/browser/test_page_quality.py) runs the Nu HTML
Checker and axe-core over every page; these pin down each rule on its own.
"""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from tests.helpers import make_entries
from ticker import services
from ticker.models import Article, Entry, Ticker

pytestmark = pytest.mark.django_db


def headings(html: str) -> list[int]:
    """Return the levels of the headings in ``html``, in document order."""
    return [int(level) for level in re.findall(r"<h([1-6])[\s>]", html)]


def assert_no_skipped_level(html: str) -> None:
    levels = headings(html)
    assert levels, "no headings"
    assert levels[0] == 1, levels
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, levels


@pytest.fixture
def english(db) -> Ticker:
    return services.save_ticker(
        Ticker(title="Summit live", slug="summit", status=Ticker.Status.LIVE, language="en")
    )


@pytest.fixture
def article(ticker) -> Article:
    return Article.objects.create(
        title="Was das Treffen bedeutet",
        slug="treffen",
        body="<p>a</p><h3>Erster Teil</h3><p>b</p><h4>Detail</h4><h3>Zweiter Teil</h3>",
        ticker=ticker,
    )


# ---- HEAD is answered like GET --------------------------------------------------------


def test_head_is_answered_like_get_on_every_reader_page(client, ticker, article):
    entry = services.create_entry(ticker=ticker, body="<p>x</p>", article=article)
    for path in (
        "/",
        ticker.get_absolute_url(),
        entry.get_absolute_url(),
        article.get_absolute_url(),
        f"/live/{ticker.slug}/changes/?since=0",
        f"/live/{ticker.slug}/embed/",
    ):
        get = client.get(path)
        head = client.head(path)
        assert head.status_code == get.status_code == 200, path
        assert head.content == b"", path
        assert head["Content-Type"] == get["Content-Type"], path


def test_head_of_an_unknown_page_is_404(client, db):
    assert client.head("/live/gibt-es-nicht/").status_code == 404


# ---- Headings -------------------------------------------------------------------------


def test_entry_headings_fit_the_live_page_and_the_widget(client, ticker):
    services.create_entry(
        ticker=ticker,
        headline="Mit Zeile",
        body="<p>a</p><h3>Unterzeile</h3><p>b</p><h4>Detail</h4>",
        is_key_event=True,
    )
    services.create_entry(ticker=ticker, body="<h4>Ohne Oberzeile</h4><p>c</p>", is_pinned=True)
    for path in (ticker.get_absolute_url(), f"/live/{ticker.slug}/embed/"):
        html = client.get(path).content.decode()
        assert_no_skipped_level(html)
        assert '<h3 class="entry__headline">Mit Zeile</h3>' in html
        assert "<h4>Unterzeile</h4>" in html
        assert "<h5>Detail</h5>" in html
        assert "<h3>Ohne Oberzeile</h3>" in html


def test_the_widget_without_its_header_still_has_a_title_heading(client, ticker):
    services.create_entry(ticker=ticker, headline="Zeile", body="<p>x</p>")
    html = client.get(f"/live/{ticker.slug}/embed/?header=hide").content.decode()
    assert_no_skipped_level(html)
    assert f'<h1 class="visually-hidden">{ticker.title}</h1>' in html


@pytest.mark.parametrize("headline", ["Treffen in Washington", ""])
def test_the_permalink_page_has_one_h1_and_no_skipped_level(client, ticker, headline):
    entry = services.create_entry(
        ticker=ticker, headline=headline, body="<p>x</p><h3>Teil</h3><h4>Detail</h4>"
    )
    html = client.get(entry.get_absolute_url()).content.decode()
    assert_no_skipped_level(html)
    assert headings(html).count(1) == 1
    assert ticker.title in re.search(r"<h1.*?</h1>", html, re.DOTALL)[0]


def test_article_sub_headings_follow_its_h1(client, article):
    html = client.get(article.get_absolute_url()).content.decode()
    assert_no_skipped_level(html)
    assert "<h2>Erster Teil</h2>" in html
    assert "<h3>Detail</h3>" in html


# ---- Landmarks and contrast -----------------------------------------------------------


def test_article_cards_are_not_landmarks(client, ticker, article):
    other = Article.objects.create(title="Hintergrund", slug="hintergrund")
    services.create_entry(ticker=ticker, body="<p>a</p>", article=article)
    services.create_entry(ticker=ticker, body="<p>b</p>", article=other)
    html = client.get(ticker.get_absolute_url()).content.decode()
    assert html.count('class="article-card"') == 2
    assert "<aside" not in html
    assert 'aria-label="Mehr zum Thema"' not in html


def test_credits_are_not_faded_below_the_caption_colour():
    from django.conf import settings

    css = (settings.BASE_DIR / "ticker" / "static" / "ticker" / "ticker.css").read_text()
    rule = re.search(r"\n\.credit \{(.*?)\}", css, re.DOTALL)[1]
    assert "opacity" not in rule
    assert "color" not in rule  # the caption's --muted, AA on both themes


# ---- Times ----------------------------------------------------------------------------


def test_times_posted_in_real_time_are_valid_datetime_attributes(client, ticker):
    services.create_entry(ticker=ticker, body="<p>x</p>", is_key_event=True)  # posted now
    moment = timezone.make_aware(datetime(2026, 1, 15, 5, 49, 53, 309538))
    services.create_entry(ticker=ticker, body="<p>y</p>", display_at=moment, is_key_event=True)
    html = client.get(ticker.get_absolute_url()).content.decode()
    entries_and_keys = html[html.index('id="key-events-title"') :]
    values = re.findall(r'<time datetime="([^"]+)"', entries_and_keys)
    assert len(values) == 4
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", v) for v in values)
    assert 'datetime="2026-01-15T05:49:53+01:00"' in html


def test_key_events_across_midnight_show_the_day(client, ticker):
    today = timezone.localdate()
    yesterday = timezone.make_aware(datetime.combine(today - timedelta(days=1), time(23, 2)))
    this_morning = timezone.make_aware(datetime.combine(today, time(0, 5)))
    services.create_entry(ticker=ticker, headline="Spät", is_key_event=True, display_at=yesterday)
    services.create_entry(
        ticker=ticker, headline="Früh", is_key_event=True, display_at=this_morning
    )
    html = client.get(ticker.get_absolute_url()).content.decode()
    keys = re.search(r"data-key-events>(.*?)</ol>", html, re.DOTALL)[1]
    assert f">{yesterday:%d.%m.}, 23:02</time> Spät" in keys
    assert ">00:05</time> Früh" in keys


def test_english_tickers_tell_readers_the_time_zone(client, english):
    moment = timezone.make_aware(datetime(2026, 1, 15, 14, 5))
    services.create_entry(ticker=english, headline="Talks", is_key_event=True, display_at=moment)
    html = client.get(english.get_absolute_url()).content.decode()
    assert "15 Jan 2026, 14:05 CET" in html  # the entry
    assert "15 Jan, 14:05 CET</time> Talks" in html  # the key-events list


def test_german_tickers_show_local_times_without_a_zone(client, ticker):
    moment = timezone.make_aware(datetime(2026, 1, 15, 14, 5))
    services.create_entry(ticker=ticker, body="<p>x</p>", display_at=moment)
    html = client.get(ticker.get_absolute_url()).content.decode()
    assert ">15.01.2026, 14:05</time>" in html


# ---- The index --------------------------------------------------------------------------


def test_index_title_and_heading_do_not_repeat_the_site_name(client, ticker):
    html = client.get("/").content.decode()
    title = re.search(r"<title>(.*?)</title>", html)[1]
    assert title == "Alle Liveblogs \N{EN DASH} Liveticker"
    h1 = re.search(r"<h1>(.*?)</h1>", html)[1]
    assert h1 == "Alle Liveblogs"


def test_index_badges_speak_each_tickers_language(client, ticker, english):
    services.set_ticker_status(english, Ticker.Status.ENDED)
    html = client.get("/").content.decode()
    card = re.search(
        r'<li class="ticker-card ticker-card--ended" lang="en">(.*?)</li>', html, re.S
    )
    assert card, html
    assert ">Ended</span>" in card[1]
    assert "Beendet" not in html
    german = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="de"' in german
    assert ">Live</span>" in german


# ---- Video entries --------------------------------------------------------------------


def test_video_date_length_caption_and_source_are_separate_parts(client, ticker):
    services.create_entry(
        ticker=ticker,
        body="<p>x</p>",
        media_kind=Entry.Media.VIDEO,
        media_url="/static/ticker/demo/video-zeitraffer.webm",
        media_caption="Zeitraffer: die ersten Stunden.",
        media_date=date(2025, 10, 21),
        media_duration=279,
        media_credit="Liveticker-Demo",
    )
    html = client.get(ticker.get_absolute_url()).content.decode()
    caption = re.search(r"entry__media--video.*?<figcaption>(.*?)</figcaption>", html, re.S)[1]
    assert caption == (
        '<span class="video-meta"><time datetime="2025-10-21">21.10.2025</time> | 4:39 min'
        '</span> <span class="video-caption">Zeitraffer: die ersten Stunden.</span> '
        '<span class="credit">Quelle: Liveticker-Demo</span>'
    )


def test_older_entries_page_has_no_skipped_heading(client, ticker):
    make_entries(ticker, 22)
    first = client.get(ticker.get_absolute_url()).content.decode()
    cursor = first.split("?before=")[1].split('"')[0]
    assert_no_skipped_level(
        client.get(f"{ticker.get_absolute_url()}?before={cursor}").content.decode()
    )
