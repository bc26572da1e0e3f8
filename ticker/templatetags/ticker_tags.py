"""Template filters shared by every ticker template, so times and HTML look the same everywhere."""

from datetime import datetime

from django import template
from django.utils.safestring import SafeString, mark_safe

from ticker.formatting import newsroom_time as _newsroom_time
from ticker.sanitize import sanitize_html

register = template.Library()


@register.filter
def newsroom_time(value: datetime | None) -> str:
    """Format a time as the newsroom shows it ("21.10.2025, 14:32")."""
    return _newsroom_time(value)


@register.filter
def newsroom_clock(value: datetime | None) -> str:
    """Format only the time of day ("14:32"), for the key-events list."""
    return _newsroom_time(value, short=True)


@register.filter
def clean_html(value: str) -> SafeString:
    """Mark stored rich text safe only after sanitising it again.

    Services sanitise on save; doing it again at render time costs
    microseconds and means no write path can ever put hostile HTML in front
    of a reader.
    """
    return mark_safe(sanitize_html(value))
