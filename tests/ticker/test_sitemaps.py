"""Sitemaps and robots.txt, parsed as a crawler reads them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from ticker import services
from ticker.models import Article, Ticker

pytestmark = pytest.mark.django_db

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"


def urls(response) -> dict[str, ET.Element]:
    assert response.status_code == 200
    assert "xml" in response["Content-Type"]
    root = ET.fromstring(response.content)
    assert root.tag == f"{SM}urlset"
    return {url.find(f"{SM}loc").text: url for url in root.findall(f"{SM}url")}


@pytest.fixture
def english(db) -> Ticker:
    return services.save_ticker(
        Ticker(title="Summit live", slug="summit", status=Ticker.Status.LIVE, language="en")
    )


def test_the_sitemap_lists_tickers_and_published_articles(client, ticker, english):
    article = Article.objects.create(title="Hintergrund", slug="hintergrund", ticker=ticker)
    Article.objects.create(
        title="Morgen", slug="morgen", published_at=timezone.now() + timedelta(days=1)
    )
    found = urls(client.get("/sitemap.xml"))
    assert set(found) == {
        "http://testserver/live/krieg-in-der-ukraine/",
        "http://testserver/live/summit/",
        "http://testserver/articles/hintergrund/",
    }
    lastmod = found["http://testserver/articles/hintergrund/"].find(f"{SM}lastmod").text
    assert lastmod == timezone.localtime(article.updated_at).date().isoformat()


def test_a_tickers_lastmod_follows_its_newest_change(client, ticker):
    old = timezone.now() - timedelta(days=5)
    Ticker.objects.filter(pk=ticker.pk).update(updated_at=old)
    url = "http://testserver/live/krieg-in-der-ukraine/"
    services.create_entry(ticker=ticker, body="<p>x</p>")
    ticker.changes.update(created_at=old + timedelta(days=2))
    lastmod = urls(client.get("/sitemap.xml"))[url].find(f"{SM}lastmod").text
    assert lastmod == timezone.localtime(old + timedelta(days=2)).date().isoformat()


def test_the_news_sitemap_has_the_last_two_days_articles(client, ticker, english):
    now = timezone.now()
    Article.objects.create(
        title="Vor drei Tagen", slug="alt", published_at=now - timedelta(days=3)
    )
    german = Article.objects.create(
        title="Lava & Asche <live>", slug="lava", ticker=ticker,
        published_at=now - timedelta(hours=5),
    )  # fmt: skip
    Article.objects.create(
        title="Leaders arrive", slug="leaders", ticker=english, published_at=now
    )
    Article.objects.create(title="Morgen", slug="morgen", published_at=now + timedelta(days=1))
    found = urls(client.get("/news-sitemap.xml"))
    assert set(found) == {
        "http://testserver/articles/lava/",
        "http://testserver/articles/leaders/",
    }
    news = found["http://testserver/articles/lava/"].find(f"{NEWS}news")
    assert news.find(f"{NEWS}publication/{NEWS}name").text == "Liveticker"
    assert news.find(f"{NEWS}publication/{NEWS}language").text == "de"
    assert news.find(f"{NEWS}title").text == "Lava & Asche <live>"
    published = datetime.fromisoformat(news.find(f"{NEWS}publication_date").text)
    assert published == german.published_at.replace(microsecond=0)
    english_news = found["http://testserver/articles/leaders/"].find(f"{NEWS}news")
    assert english_news.find(f"{NEWS}publication/{NEWS}language").text == "en"


def test_the_news_sitemap_names_the_publisher_setting(client, db, settings):
    settings.PUBLISHER_NAME = "Tagesblatt"
    Article.objects.create(title="Heute", slug="heute")
    (url,) = urls(client.get("/news-sitemap.xml")).values()
    assert url.find(f"{NEWS}news/{NEWS}publication/{NEWS}name").text == "Tagesblatt"


def test_robots_txt_points_to_both_sitemaps(client, db):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    assert "Disallow: /admin/" in lines
    assert [line for line in lines if line.startswith("Sitemap:")] == [
        "Sitemap: http://testserver/sitemap.xml",
        "Sitemap: http://testserver/news-sitemap.xml",
    ]


@pytest.mark.parametrize("path", ["/sitemap.xml", "/news-sitemap.xml", "/robots.txt"])
def test_head_works_and_post_does_not(client, db, path):
    head = client.head(path)
    assert head.status_code == 200
    assert head.content == b""
    assert client.post(path).status_code == 405
