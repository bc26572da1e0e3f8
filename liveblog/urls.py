"""URL configuration of the project."""

from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path
from django.views.decorators.http import require_safe

from ticker.sitemaps import SITEMAPS, news_sitemap, robots_txt

urlpatterns = [
    path("admin/", admin.site.urls),
    path("sitemap.xml", require_safe(sitemap), {"sitemaps": SITEMAPS}, name="sitemap"),
    path("news-sitemap.xml", news_sitemap, name="news-sitemap"),
    path("robots.txt", robots_txt, name="robots"),
    path("", include("ticker.urls")),
]
