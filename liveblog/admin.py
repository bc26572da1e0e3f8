"""The project's admin site: the Django admin with the newsroom's name and translations."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.views.i18n import JavaScriptCatalog

# Apps whose JavaScript strings the admin pages translate: the admin's own, and
# the rich-text editor's dialogs (link, list properties), which ship German.
# The toolbar's button labels are in the project's catalogue (locale/).
JAVASCRIPT_CATALOG_PACKAGES = ["django.contrib.admin", "django_prose_editor"]


class NewsroomAdminSite(admin.AdminSite):
    site_header = "Liveticker"
    site_title = "Liveticker"
    index_title = "Newsroom"

    def i18n_javascript(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Serve the admin's JavaScript catalogue with the editor's strings merged in."""
        view = JavaScriptCatalog.as_view(packages=JAVASCRIPT_CATALOG_PACKAGES)
        return cast(HttpResponse, view(request))  # a rendered catalogue, never streamed
