"""A database outage gives readers a clear, retryable answer."""

from unittest import mock

import pytest
from django.db import OperationalError

pytestmark = pytest.mark.django_db


def test_changes_endpoint_answers_503_json_when_database_is_down(client, ticker):
    with mock.patch("ticker.views.ticker_position", side_effect=OperationalError("refused")):
        response = client.get(f"/live/{ticker.slug}/changes/?since=0")
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert response.json() == {"error": "temporarily unavailable, retry later"}


def test_live_page_answers_503_page_when_database_is_down(client, ticker):
    with mock.patch("ticker.views.entry_page", side_effect=OperationalError("gone away")):
        response = client.get(f"/live/{ticker.slug}/")
    assert response.status_code == 503
    assert "Briefly unavailable" in response.content.decode()


def test_other_errors_are_not_disguised(client, ticker):
    with (
        mock.patch("ticker.views.entry_page", side_effect=ZeroDivisionError),
        pytest.raises(ZeroDivisionError),
    ):
        client.get(f"/live/{ticker.slug}/")
