"""Open Graph and Twitter card tags, read from the rendered pages with html.parser."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from ticker import services
from ticker.models import Article, Entry, Ticker

pytestmark = pytest.mark.django_db

DEFAULT_IMAGE = "http://testserver/static/ticker/share."


class MetaTags(HTMLParser):
    """Collect ``<meta property|name content>`` from a page's ``<head>``."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, str] = {}
        self.repeated: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        key = values.get("property") or values.get("name")
        if tag == "meta" and key and (key.startswith(("og:", "twitter:"))):
            if key in self.tags:
                self.repeated.append(key)
            self.tags[key] = values.get("content") or ""


def share_tags(client, path: str) -> dict[str, str]:
    response = client.get(path)
    assert response.status_code == 200
    parser = MetaTags()
    parser.feed(response.content.decode())
    assert parser.repeated == []
    return parser.tags


@pytest.fixture
def english(db) -> Ticker:
    return services.save_ticker(
        Ticker(
            title="Summit live",
            slug="summit",
            summary="Leaders meet in Geneva.",
            status=Ticker.Status.LIVE,
            language="en",
        )
    )


def test_the_live_page(client, ticker):
    tags = share_tags(client, f"/live/{ticker.slug}/?utm_source=x")
    assert tags["og:title"] == "Krieg in der Ukraine"
    assert tags["og:description"] == "Alle Entwicklungen im Überblick."
    assert tags["og:url"] == "http://testserver/live/krieg-in-der-ukraine/"
    assert tags["og:type"] == "website"
    assert tags["og:site_name"] == "Liveticker"
    assert tags["og:locale"] == "de_DE"
    assert tags["og:image"].startswith(DEFAULT_IMAGE)
    assert tags["og:image"].endswith(".png")
    assert tags["og:image:alt"] == "Liveticker"
    assert tags["twitter:card"] == "summary_large_image"


def test_the_default_image_is_served(client, ticker):
    from django.contrib.staticfiles import finders

    path = finders.find("ticker/share.png")
    assert path is not None
    data = open(path, "rb").read()  # noqa: SIM115
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20]), int.from_bytes(data[20:24])
    assert (width, height) == (1200, 630)
    assert len(data) < 30_000


def test_an_english_live_page(client, english):
    tags = share_tags(client, "/live/summit/")
    assert tags["og:locale"] == "en_GB"
    assert tags["og:description"] == "Leaders meet in Geneva."


def test_an_entry_with_a_photo(client, english):
    entry = services.create_entry(
        ticker=english,
        headline="Talks begin",
        body="<p>Doors are <em>closed</em> &amp; locked.</p>",
        media_kind=Entry.Media.PHOTO,
        media_url="/static/ticker/demo/hall.jpg",
        media_caption="The conference hall.",
    )
    tags = share_tags(client, entry.get_absolute_url())
    assert tags["og:title"] == "Talks begin"
    assert tags["og:description"] == "Doors are closed & locked."
    assert tags["og:url"] == f"http://testserver/live/summit/entries/{entry.pk}/"
    assert tags["og:type"] == "article"
    assert tags["og:locale"] == "en_GB"
    assert tags["og:image"] == "http://testserver/static/ticker/demo/hall.jpg"
    assert tags["og:image:alt"] == "The conference hall."
    assert tags["twitter:card"] == "summary_large_image"


def test_an_entry_without_headline_or_shareable_photo(client, ticker):
    entry = services.create_entry(
        ticker=ticker,
        body="<p>Die Einsatzleitung meldet: alle in Sicherheit.</p>",
        media_kind=Entry.Media.PHOTO,
        media_url="/static/ticker/demo/lava-nacht.svg",
        media_caption="Lava bei Nacht.",
    )
    tags = share_tags(client, entry.get_absolute_url())
    assert tags["og:title"] == "Die Einsatzleitung meldet: alle in Sicherheit."
    assert tags["og:locale"] == "de_DE"
    # Social networks show no SVG: the default image stands in.
    assert tags["og:image"].startswith(DEFAULT_IMAGE)
    assert tags["og:image:alt"] == "Liveticker"


def test_an_entry_with_only_a_quote(client, ticker):
    entry = services.create_entry(ticker=ticker, quote="Wir bleiben.\nAlle.")
    tags = share_tags(client, entry.get_absolute_url())
    assert tags["og:title"] == "Wir bleiben. Alle."
    assert tags["og:description"] == "Wir bleiben. Alle."


def test_hostile_text_stays_text(client, ticker):
    entry = services.create_entry(
        ticker=ticker, headline='"><script>alert(1)</script>', body="<p>x</p>"
    )
    html = client.get(entry.get_absolute_url()).content.decode()
    assert "<script>alert(1)" not in html
    assert share_tags(client, entry.get_absolute_url())["og:title"] == (
        '"><script>alert(1)</script>'
    )


def test_an_article_with_its_lead_image(client, english, settings):
    settings.PUBLISHER_NAME = "Tagesblatt"
    article = Article.objects.create(
        title="What the summit means",
        slug="summit-explained",
        teaser="Three things to know.",
        image_url="https://images.example.org/summit.jpg",
        image_caption="Flags outside the hall.",
        ticker=english,
    )
    tags = share_tags(client, article.get_absolute_url())
    assert tags["og:title"] == "What the summit means"
    assert tags["og:description"] == "Three things to know."
    assert tags["og:url"] == "http://testserver/articles/summit-explained/"
    assert tags["og:type"] == "article"
    assert tags["og:site_name"] == "Tagesblatt"
    assert tags["og:locale"] == "en_GB"
    assert tags["og:image"] == "https://images.example.org/summit.jpg"
    assert tags["og:image:alt"] == "Flags outside the hall."


def test_an_article_without_ticker_or_image(client, db, settings):
    settings.SHARE_IMAGE = "https://cdn.example.org/card.png"
    Article.objects.create(title="Allein", slug="allein", body="<p>Nur <b>Text</b>.</p>")
    tags = share_tags(client, "/articles/allein/")
    assert tags["og:description"] == "Nur Text."
    assert tags["og:locale"] == "de_DE"
    assert tags["og:image"] == "https://cdn.example.org/card.png"
