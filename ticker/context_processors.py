"""Template context every ticker page needs."""

import json

from django.conf import settings
from django.http import HttpRequest

from ticker.protocol import client_table

# The close-code table as live.js reads it (data-close-codes), so the browser
# never carries a copy of its own. Built once: it only changes with the code.
CLOSE_CODES_JSON = json.dumps(client_table(), separators=(",", ":"), sort_keys=True)


def live_settings(request: HttpRequest) -> dict[str, object]:
    """Expose what live.js needs from the server: how often to poll, what close codes mean."""
    return {
        "ticker_poll_seconds": settings.TICKER_POLL_SECONDS,
        "ticker_close_codes": CLOSE_CODES_JSON,
    }
