"""Reader-facing pages of the ticker app."""

from django.urls import path
from django.views.decorators.http import require_safe

from ticker import embed, feeds, views
from ticker.middleware import language_independent

app_name = "ticker"

urlpatterns = [
    path("", views.ticker_list, name="list"),
    path("live/<slug:slug>/", views.live_page, name="live"),
    path("live/<slug:slug>/entries/<int:entry_id>/", views.entry_detail, name="entry"),
    path(
        "live/<slug:slug>/feed/",
        language_independent(require_safe(feeds.TickerFeed())),
        name="feed",
    ),
    path("live/<slug:slug>/changes/", views.changes, name="changes"),
    path("live/<slug:slug>/embed/", embed.embed_page, name="embed"),
    path("oembed/", embed.oembed, name="oembed"),
    # Before the article pattern, which would take "feed" for an article's slug.
    path(
        "articles/feed/",
        language_independent(require_safe(feeds.ArticleFeed())),
        name="article_feed",
    ),
    path("articles/<slug:slug>/", views.article_detail, name="article"),
]
