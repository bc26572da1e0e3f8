"""Reader-facing pages of the ticker app."""

from django.urls import path

from ticker import embed, views

app_name = "ticker"

urlpatterns = [
    path("", views.ticker_list, name="list"),
    path("live/<slug:slug>/", views.live_page, name="live"),
    path("live/<slug:slug>/entries/<int:entry_id>/", views.entry_detail, name="entry"),
    path("live/<slug:slug>/changes/", views.changes, name="changes"),
    path("live/<slug:slug>/embed/", embed.embed_page, name="embed"),
    path("oembed/", embed.oembed, name="oembed"),
    path("articles/<slug:slug>/", views.article_detail, name="article"),
]
