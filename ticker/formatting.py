"""How times are written for readers, in one place for page, widget, feed and socket."""

from datetime import datetime

from django.utils import timezone, translation
from django.utils.dateformat import format as date_format

# Django date-format strings per language; the first two letters of the active
# language pick one, German is the fallback.
TIME_FORMATS = {"de": "d.m.Y, H:i", "en": "j M Y, H:i"}
SHORT_TIME_FORMATS = {"de": "H:i", "en": "H:i"}


def newsroom_time(value: datetime | None, *, short: bool = False) -> str:
    """Return ``value`` in the site's time zone as "21.10.2025, 14:32" (or "14:32")."""
    if value is None:
        return ""
    language = (translation.get_language() or "de")[:2]
    formats = SHORT_TIME_FORMATS if short else TIME_FORMATS
    return date_format(timezone.localtime(value), formats.get(language, formats["de"]))
