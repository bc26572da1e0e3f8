"""Template tags for search engines, social networks and feed readers."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.context import Context

from ticker import feeds, social
from ticker.models import Article, Entry, Ticker

register = template.Library()


@register.inclusion_tag("ticker/_share_meta.html", takes_context=True)
def share_meta(context: Context, page: Ticker | Entry | Article) -> dict[str, Any]:
    """Write the Open Graph and Twitter card tags of a live page, permalink or article."""
    request = context.get("request")
    if request is None:
        return {"share": None}
    tags: social.ShareTags
    if isinstance(page, Entry):
        tags = social.for_entry(request, page)
    elif isinstance(page, Article):
        tags = social.for_article(request, page, context.get("ticker"))
    else:
        tags = social.for_ticker(request, page)
    return {"share": tags}


@register.simple_tag
def articles_feed_title() -> str:
    """Return the title of the articles feed, for its ``<link rel="alternate">``."""
    return feeds.articles_feed_title()
