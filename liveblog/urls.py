"""URL configuration of the project."""

from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Liveticker"
admin.site.site_title = "Liveticker"
admin.site.index_title = "Newsroom"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("ticker.urls")),
]
