"""How times are written for readers, in one place for page, widget, feed and socket.

Templates reach these through the filters in ``ticker_tags`` (``machine_time``,
``newsroom_time``, ``newsroom_clock``, ``newsroom_date``); nothing else formats
a reader's time.
"""

from datetime import date, datetime

from django.conf import settings
from django.utils import timezone, translation
from django.utils.dateformat import format as date_format

# Django date-format strings per language; the first two letters of the active
# language pick one, German is the fallback.
TIME_FORMATS = {"de": "d.m.Y, H:i", "en": "j M Y, H:i"}
# Another day of the same year: the key-events list needs the day, not the year.
DAY_FORMATS = {"de": "d.m., H:i", "en": "j M, H:i"}
CLOCK_FORMATS = {"de": "H:i", "en": "H:i"}
# A calendar day with no time (a video's date).
DATE_FORMATS = {"de": "d.m.Y", "en": "j M Y"}


def _language() -> str:
    return (translation.get_language() or settings.LANGUAGE_CODE)[:2]


def _pick(formats: dict[str, str], language: str) -> str:
    return formats.get(language, formats["de"])


def shows_time_zone(language: str | None = None) -> bool:
    """Return True if readers in ``language`` cannot assume the site's time zone.

    Readers of the site's own language read times as local times (a German
    newsroom in Berlin writes "14:05"); everyone else is told the zone
    ("14:05 CET"), since an English reader may be anywhere.
    """
    return (language or _language()) != settings.LANGUAGE_CODE[:2]


def _written(local: datetime, fmt: str, language: str) -> str:
    text = date_format(local, fmt)
    if shows_time_zone(language):
        text += " " + date_format(local, "T")
    return text


def machine_time(value: datetime | date | None) -> str:
    """Return ``value`` for a ``<time datetime>``: local ISO 8601 to the whole second.

    HTML allows at most three digits of a second's fraction; times posted in
    real time carry six, and readers never need them. A day stays a day.
    """
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return value.isoformat()
    return timezone.localtime(value).isoformat(timespec="seconds")


def newsroom_date(value: date | None) -> str:
    """Return a calendar day as "21.10.2025" (German) or "21 Oct 2025"."""
    if value is None:
        return ""
    return date_format(value, _pick(DATE_FORMATS, _language()))


def newsroom_time(value: datetime | None) -> str:
    """Return ``value`` as "21.10.2025, 14:32" (German) or "21 Oct 2025, 14:32 CEST"."""
    if value is None:
        return ""
    language = _language()
    return _written(timezone.localtime(value), _pick(TIME_FORMATS, language), language)


def newsroom_clock(value: datetime | None, today: date | None = None) -> str:
    """Return the time of day ("14:32"), with the day when it is not ``today``.

    For the key-events list, which often crosses midnight: "05:53" today,
    "30.11., 23:02" yesterday, "30.11.2024, 23:02" in another year. ``today``
    defaults to the current day in the site's time zone.
    """
    if value is None:
        return ""
    language = _language()
    local = timezone.localtime(value)
    today = today or timezone.localdate()
    if local.date() == today:
        fmt = CLOCK_FORMATS
    elif local.year == today.year:
        fmt = DAY_FORMATS
    else:
        fmt = TIME_FORMATS
    return _written(local, _pick(fmt, language), language)
