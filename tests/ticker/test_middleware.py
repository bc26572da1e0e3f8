"""Pages in their ticker's language do not vary by the browser's language."""

import pytest

from ticker import services

pytestmark = pytest.mark.django_db


def vary(response) -> set[str]:
    return {v.strip().lower() for v in response.get("Vary", "").split(",") if v.strip()}


def test_ticker_pages_and_widget_do_not_vary_by_browser_language(client, ticker):
    entry = services.create_entry(ticker=ticker, body="<p>x</p>")
    for url in (
        f"/live/{ticker.slug}/",
        f"/live/{ticker.slug}/entries/{entry.pk}/",
        f"/live/{ticker.slug}/embed/",
    ):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200
        assert "accept-language" not in vary(response), url


def test_pages_in_the_browsers_language_still_vary(client, ticker):
    assert "accept-language" in vary(client.get("/", HTTP_ACCEPT_LANGUAGE="en"))
