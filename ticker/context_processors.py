"""Template context every ticker page needs."""

from django.conf import settings
from django.http import HttpRequest


def live_settings(request: HttpRequest) -> dict[str, float]:
    """Expose how often clients without WebSockets poll, for the pages' data attributes."""
    return {"ticker_poll_seconds": settings.TICKER_POLL_SECONDS}
