"""Template filters shared by every ticker template, so times and HTML look the same everywhere."""

from datetime import date, datetime

from django import template
from django.utils.safestring import SafeString, mark_safe

from ticker import formatting, rendering
from ticker.models import Ticker
from ticker.sanitize import fit_headings, sanitize_html

register = template.Library()


@register.filter
def machine_time(value: datetime | date | None) -> str:
    """Format a time for ``<time datetime>`` ("2025-10-21T14:32:05+02:00")."""
    return formatting.machine_time(value)


@register.filter
def newsroom_time(value: datetime | None) -> str:
    """Format a time as the newsroom shows it ("21.10.2025, 14:32")."""
    return formatting.newsroom_time(value)


@register.filter
def newsroom_clock(value: datetime | None) -> str:
    """Format the time of day ("14:32"), with the day if not today, for the key-events list."""
    return formatting.newsroom_clock(value)


@register.filter
def newsroom_date(value: date | None) -> str:
    """Format a calendar day ("21.10.2025"), e.g. a video's date."""
    return formatting.newsroom_date(value)


@register.filter
def clean_html(value: str, top_heading: int | str | None = None) -> SafeString:
    """Mark stored rich text safe only after sanitising it again.

    Services sanitise on save; doing it again at render time costs
    microseconds and means no write path can ever put hostile HTML in front
    of a reader. With ``top_heading`` the editor's sub-headings are
    renumbered to fit the page: ``{{ body|clean_html:4 }}`` under an h3.
    """
    html = sanitize_html(value)
    if top_heading not in (None, ""):
        html = fit_headings(html, int(top_heading))
    return mark_safe(html)


@register.filter
def heading_below(level: int | str | None, default: int = 3) -> int:
    """Return the level one below ``level`` (``default`` when unset), at most 6."""
    return min(int(level or default) + 1, 6)


@register.simple_tag
def status_badge(ticker: Ticker) -> SafeString:
    """Return the ticker's status badge in the ticker's language, on any page."""
    return mark_safe(rendering.render_status(ticker))
