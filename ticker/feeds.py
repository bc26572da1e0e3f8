"""Atom feeds for feed readers: one per ticker and one of the articles.

Built on Django's syndication framework. An entry's ``<content>`` is the same
HTML readers see on the page (``templates/ticker/_entry.html`` through
:func:`ticker.rendering.render_entry`), sanitised like everything else and
with its links made absolute, since a feed reader has no page to resolve them
against. Each ``<id>`` is a tag: URI made of the host, the day the entry or
article was created and its number, so it stays the same when the entry is
edited, re-timed or its ticker renamed.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone, translation
from django.utils.feedgenerator import Atom1Feed, SyndicationFeed
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from ticker.models import Article, Entry, Ticker
from ticker.rendering import plain_text, render_entry
from ticker.sanitize import sanitize_html
from ticker.social import entry_text

FEED_SIZE = 50
TITLE_CHARS = 90
SUMMARY_CHARS = 300

_SITE_RELATIVE = re.compile(r'(\s(?:href|src)=")/(?!/)')


def absolute_links(html: str, origin: str) -> str:
    """Return ``html`` with site-relative ``href`` and ``src`` addresses made absolute."""
    return _SITE_RELATIVE.sub(lambda m: f"{m.group(1)}{origin}/", html)


def articles_feed_title() -> str:
    """Return the articles feed's title in the active language ("Liveticker: Articles")."""
    articles = _("Articles")
    return f"{settings.PUBLISHER_NAME}: {articles}"


class FullContentAtomFeed(Atom1Feed):
    """Atom with each item's full HTML in ``<content>`` and a stable tag: URI as ``<id>``.

    Items pass ``content`` (HTML with site-relative links), ``tag_date`` and
    ``tag_name``; Django's Atom writer has neither ``<content>`` nor ids that
    survive an edit of the publication time.
    """

    def add_item_elements(self, handler: Any, item: dict[str, Any]) -> None:
        link = urlsplit(item["link"])
        if item.get("tag_name"):
            day = item["tag_date"].strftime("%Y-%m-%d")
            item = {**item, "unique_id": f"tag:{link.hostname},{day}:{item['tag_name']}"}
        super().add_item_elements(handler, item)
        if item.get("content"):
            origin = f"{link.scheme}://{link.netloc}"
            handler.addQuickElement(
                "content", absolute_links(item["content"], origin), {"type": "html"}
            )


class TickerFeed(Feed):
    """The newest published entries of one ticker, in the ticker's language."""

    feed_type = FullContentAtomFeed

    def get_object(self, request: HttpRequest, slug: str) -> Ticker:
        return get_object_or_404(Ticker, slug=slug)

    def get_feed(self, obj: Ticker, request: HttpRequest) -> SyndicationFeed:
        # Feed.language is one fixed value; the active language is each ticker's own.
        with translation.override(obj.language):
            return super().get_feed(obj, request)

    def title(self, obj: Ticker) -> str:
        return obj.title

    def subtitle(self, obj: Ticker) -> str:
        return obj.summary

    def link(self, obj: Ticker) -> str:
        return obj.get_absolute_url()

    def items(self, obj: Ticker) -> QuerySet[Entry]:
        return obj.entries.published().for_rendering().newest_first()[:FEED_SIZE]

    def item_title(self, item: Entry) -> str:
        return item.headline or Truncator(entry_text(item)).chars(TITLE_CHARS) or f"#{item.pk}"

    def item_description(self, item: Entry) -> str:
        return Truncator(entry_text(item)).chars(SUMMARY_CHARS)

    def item_link(self, item: Entry) -> str:
        return item.get_absolute_url()

    def item_pubdate(self, item: Entry) -> datetime:
        return item.display_at

    def item_updateddate(self, item: Entry) -> datetime:
        return item.updated_at

    def item_author_name(self, item: Entry) -> str | None:
        return item.byline or None

    def item_extra_kwargs(self, item: Entry) -> dict[str, Any]:
        return {
            "content": render_entry(item),
            "tag_date": item.created_at,
            "tag_name": f"entry-{item.pk}",
        }


class ArticleFeed(Feed):
    """The newest published articles, in the site's language."""

    feed_type = FullContentAtomFeed
    language = settings.LANGUAGE_CODE

    def get_feed(self, obj: None, request: HttpRequest) -> SyndicationFeed:
        with translation.override(settings.LANGUAGE_CODE):
            return super().get_feed(obj, request)

    def title(self) -> str:
        return articles_feed_title()

    def link(self) -> str:
        return "/"

    def items(self) -> QuerySet[Article]:
        return Article.objects.filter(published_at__lte=timezone.now()).order_by(
            "-published_at", "-id"
        )[:FEED_SIZE]

    def item_title(self, item: Article) -> str:
        return item.title

    def item_description(self, item: Article) -> str:
        return item.teaser or Truncator(plain_text(item.body)).chars(SUMMARY_CHARS)

    def item_link(self, item: Article) -> str:
        return item.get_absolute_url()

    def item_pubdate(self, item: Article) -> datetime:
        return item.published_at

    def item_updateddate(self, item: Article) -> datetime:
        return item.updated_at

    def item_author_name(self, item: Article) -> str | None:
        return item.author or None

    def item_extra_kwargs(self, item: Article) -> dict[str, Any]:
        return {
            "content": sanitize_html(item.body),
            "tag_date": item.created_at,
            "tag_name": f"article-{item.pk}",
        }
