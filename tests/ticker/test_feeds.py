"""Atom feeds, read as a feed reader reads them: parsed XML, not strings."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from tests.helpers import make_entries
from ticker import services
from ticker.models import Article, Entry, Ticker

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
HOSTILE = (
    '<p>Vorsicht <a href="javascript:alert(1)" onclick="alert(2)">hier</a>'
    '<img src="x" onerror="alert(3)"><script>alert(4)</script></p>'
)


def parse(response) -> ET.Element:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    return ET.fromstring(response.content)


def entries(feed: ET.Element) -> list[ET.Element]:
    return feed.findall(f"{ATOM}entry")


def text(element: ET.Element, tag: str) -> str:
    found = element.find(f"{ATOM}{tag}")
    assert found is not None, tag
    return found.text or ""


def when(value: str) -> datetime:
    return datetime.fromisoformat(value)


@pytest.fixture
def english(db) -> Ticker:
    return services.save_ticker(
        Ticker(title="Summit live", slug="summit", status=Ticker.Status.LIVE, language="en")
    )


def test_the_ticker_feed_has_its_published_entries_newest_first(client, ticker):
    made = make_entries(ticker, 3)
    services.create_entry(ticker=ticker, headline="Entwurf", status=Entry.Status.DRAFT)
    feed = parse(client.get(f"/live/{ticker.slug}/feed/"))

    assert feed.get(XML_LANG) == "de"
    assert text(feed, "title") == ticker.title
    assert text(feed, "subtitle") == ticker.summary
    items = entries(feed)
    assert [text(item, "title") for item in items] == ["Meldung 2", "Meldung 1", "Meldung 0"]
    newest = items[0]
    entry = made[2]
    assert newest.find(f"{ATOM}link").get("href") == (
        f"http://testserver/live/{ticker.slug}/entries/{entry.pk}/"
    )
    assert text(newest, "id") == (f"tag:testserver,{entry.created_at:%Y-%m-%d}:entry-{entry.pk}")
    assert when(text(newest, "updated")) == entry.updated_at
    assert when(text(newest, "published")) == entry.display_at
    content = newest.find(f"{ATOM}content")
    assert content is not None
    assert content.get("type") == "html"
    assert "<p>Text 2</p>" in content.text
    # Links inside the content work outside the site.
    assert f'href="http://testserver/live/{ticker.slug}/entries/{entry.pk}/"' in content.text


def test_an_entry_keeps_its_id_when_edited_and_retimed(client, ticker):
    entry = services.create_entry(ticker=ticker, headline="Erst", body="<p>a</p>")
    before = entries(parse(client.get(f"/live/{ticker.slug}/feed/")))[0]
    entry.headline = "Korrigiert"
    entry.display_at = timezone.now() - timedelta(hours=1)
    services.save_entry(entry)
    after = entries(parse(client.get(f"/live/{ticker.slug}/feed/")))[0]
    assert text(after, "id") == text(before, "id")
    assert text(after, "title") == "Korrigiert"
    assert when(text(after, "updated")) >= when(text(before, "updated"))


def test_the_feed_holds_the_newest_fifty(client, ticker):
    make_entries(ticker, 52)
    items = entries(parse(client.get(f"/live/{ticker.slug}/feed/")))
    assert len(items) == 50
    assert text(items[0], "title") == "Meldung 51"
    assert text(items[-1], "title") == "Meldung 2"


def test_an_entry_without_headline_is_titled_by_a_plain_text_excerpt(client, ticker):
    services.create_entry(ticker=ticker, body="<p>Die <strong>Brücke</strong> &amp; der Fluss</p>")
    item = entries(parse(client.get(f"/live/{ticker.slug}/feed/")))[0]
    assert text(item, "title") == "Die Brücke & der Fluss"
    assert text(item, "summary") == "Die Brücke & der Fluss"


def test_hostile_content_reaches_the_feed_without_scripts(client, ticker):
    services.create_entry(ticker=ticker, headline="<script>alert(5)</script>", body=HOSTILE)
    item = entries(parse(client.get(f"/live/{ticker.slug}/feed/")))[0]
    content = item.find(f"{ATOM}content").text
    assert "<script" not in content.lower()
    assert "onerror" not in content
    assert "onclick" not in content
    assert "javascript:" not in content
    # The headline is text: escaped in the content, literal in the title.
    assert "&lt;script&gt;alert(5)&lt;/script&gt;" in content
    assert text(item, "title") == "<script>alert(5)</script>"


def test_an_english_ticker_feed_is_in_english(client, english):
    services.create_entry(
        ticker=english,
        body="<p>Doors are closed.</p>",
        media_kind=Entry.Media.PHOTO,
        media_url="/static/ticker/demo/nordlicht.svg",
        media_credit="AP",
    )
    feed = parse(client.get("/live/summit/feed/"))
    assert feed.get(XML_LANG) == "en"
    content = entries(feed)[0].find(f"{ATOM}content").text
    assert "Source: AP" in content
    assert 'src="http://testserver/static/ticker/demo/nordlicht.svg"' in content


def test_a_german_feed_stays_german_for_an_english_browser(client, ticker):
    services.create_entry(
        ticker=ticker, body="<p>x</p>", media_kind=Entry.Media.PHOTO,
        media_url="https://example.org/a.jpg", media_credit="dpa",
    )  # fmt: skip
    response = client.get(f"/live/{ticker.slug}/feed/", HTTP_ACCEPT_LANGUAGE="en")
    feed = parse(response)
    assert feed.get(XML_LANG) == "de"
    assert "Quelle: dpa" in entries(feed)[0].find(f"{ATOM}content").text
    assert "Accept-Language" not in response.get("Vary", "")


def test_unknown_ticker_feed_is_404_and_head_works(client, ticker):
    services.create_entry(ticker=ticker, body="<p>x</p>")
    assert client.get("/live/gibt-es-nicht/feed/").status_code == 404
    head = client.head(f"/live/{ticker.slug}/feed/")
    assert head.status_code == 200
    assert head.content == b""
    assert head["Content-Type"].startswith("application/atom+xml")
    assert client.post(f"/live/{ticker.slug}/feed/").status_code == 405


def test_the_articles_feed(client, ticker):
    old = Article.objects.create(
        title="Früher", slug="frueher", body="<p>alt</p>",
        published_at=timezone.now() - timedelta(days=3),
    )  # fmt: skip
    new = Article.objects.create(
        title="Was das Treffen bedeutet", slug="treffen", author="Miriam Okafor",
        teaser="Die Lage in drei Punkten.", ticker=ticker,
        body='<p>Text <a href="/live/krieg-in-der-ukraine/">live</a></p><script>x()</script>',
    )  # fmt: skip
    Article.objects.create(
        title="Morgen", slug="morgen", published_at=timezone.now() + timedelta(days=1)
    )
    feed = parse(client.get("/articles/feed/"))
    assert feed.get(XML_LANG) == "de"
    assert text(feed, "title") == "Liveticker: Artikel"
    items = entries(feed)
    assert [text(item, "title") for item in items] == [new.title, old.title]
    first = items[0]
    assert text(first, "id") == f"tag:testserver,{new.created_at:%Y-%m-%d}:article-{new.pk}"
    assert text(first, "summary") == "Die Lage in drei Punkten."
    assert first.find(f"{ATOM}author/{ATOM}name").text == "Miriam Okafor"
    content = first.find(f"{ATOM}content").text
    assert "<script" not in content
    assert 'href="http://testserver/live/krieg-in-der-ukraine/"' in content
    assert client.head("/articles/feed/").status_code == 200


def test_the_article_slug_feed_is_the_feed_not_an_article(client, db):
    assert client.get("/articles/feed/")["Content-Type"].startswith("application/atom+xml")


@pytest.mark.parametrize(
    ("path", "href", "title"),
    [
        ("live", "/live/krieg-in-der-ukraine/feed/", "Krieg in der Ukraine"),
        ("entry", "/live/krieg-in-der-ukraine/feed/", "Krieg in der Ukraine"),
        ("/articles/treffen/", "/articles/feed/", "Liveticker: Artikel"),
    ],
)
def test_pages_advertise_their_feed(client, ticker, path, href, title):
    article = Article.objects.create(title="Treffen", slug="treffen", ticker=ticker)
    entry = services.create_entry(ticker=ticker, body="<p>x</p>", article=article)
    pages = {"live": ticker.get_absolute_url(), "entry": entry.get_absolute_url()}
    html = client.get(pages.get(path, path)).content.decode()
    assert (
        f'<link rel="alternate" type="application/atom+xml" href="{href}" title="{title}">'
    ) in html
