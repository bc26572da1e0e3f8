"""Sitemaps and robots.txt: what search engines should crawl, and when it changed.

``/sitemap.xml`` (Django's sitemaps framework) lists every ticker and article;
``/news-sitemap.xml`` lists the last two days' articles in the Google News
format, which Django does not have; ``/robots.txt`` points crawlers to both.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import Max, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from ticker.formatting import machine_time
from ticker.models import Article, Ticker

# Google News takes articles published in the last two days.
NEWS_WINDOW = timedelta(days=2)
NEWS_LIMIT = 1000


def published_articles() -> QuerySet[Article]:
    return Article.objects.filter(published_at__lte=timezone.now())


class TickerSitemap(Sitemap):
    """Every ticker; it last changed when it or anything readers see in it did."""

    def items(self) -> QuerySet[Ticker]:
        # The change log records every publish, edit, removal and status change.
        return Ticker.objects.annotate(last_change=Max("changes__created_at")).order_by(
            "-starts_at", "-id"
        )

    def lastmod(self, item: Ticker) -> datetime:
        last_change: datetime | None = getattr(item, "last_change", None)
        return max(item.updated_at, last_change) if last_change else item.updated_at


class ArticleSitemap(Sitemap):
    def items(self) -> QuerySet[Article]:
        return published_articles().order_by("-published_at", "-id")

    def lastmod(self, item: Article) -> datetime:
        return item.updated_at


SITEMAPS = {"tickers": TickerSitemap, "articles": ArticleSitemap}


@require_safe
def news_sitemap(request: HttpRequest) -> HttpResponse:
    """Return the Google News sitemap of the articles published in the last two days."""
    since = timezone.now() - NEWS_WINDOW
    articles = (
        published_articles()
        .filter(published_at__gte=since)
        .select_related("ticker")
        .order_by("-published_at", "-id")[:NEWS_LIMIT]
    )
    items = [
        {
            "loc": request.build_absolute_uri(article.get_absolute_url()),
            "language": article.ticker.language if article.ticker else settings.LANGUAGE_CODE,
            "published": machine_time(article.published_at),
            "title": article.title,
        }
        for article in articles
    ]
    return render(
        request,
        "ticker/news_sitemap.xml",
        {"items": items, "publisher": settings.PUBLISHER_NAME},
        content_type="application/xml; charset=utf-8",
    )


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    """Keep crawlers out of the admin and point them to both sitemaps."""
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "",
        f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}",
        f"Sitemap: {request.build_absolute_uri(reverse('news-sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
