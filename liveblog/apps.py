"""App configuration of the project itself."""

from django.contrib.admin.apps import AdminConfig


class NewsroomAdminConfig(AdminConfig):
    """The Django admin, with :class:`liveblog.admin.NewsroomAdminSite` as ``admin.site``."""

    default_site = "liveblog.admin.NewsroomAdminSite"
