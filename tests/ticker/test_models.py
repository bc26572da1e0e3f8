"""Model-level rules: validators and the guarded sequence counter."""

import pytest
from django.core.exceptions import ValidationError

from ticker.models import Entry, Ticker
from ticker.validators import validate_embed_origins, validate_media_url


@pytest.mark.parametrize(
    "value", ["", "https://www.example.com", "https://a.example http://b.example:8080", "*"]
)
def test_embed_origins_accepts_sites(value):
    validate_embed_origins(value)


@pytest.mark.parametrize(
    "value", ["https://ok.example 'unsafe-inline'", "javascript:alert(1)", "<b>", "nodot"]
)
def test_embed_origins_rejects_what_the_policy_would_drop(value):
    with pytest.raises(ValidationError):
        validate_embed_origins(value)


@pytest.mark.parametrize("value", ["/static/ticker/demo/x.svg", "https://cdn.example/v.mp4"])
def test_media_url_accepts_site_paths_and_http(value):
    validate_media_url(value)


@pytest.mark.parametrize(
    "value", ["javascript:alert(1)", "//evil.example/x", "data:text/html,x", "ftp://x.example/a"]
)
def test_media_url_rejects_other_schemes(value):
    with pytest.raises(ValidationError):
        validate_media_url(value)


def test_video_length_is_shown_as_minutes_and_seconds():
    assert Entry(media_duration=279).media_duration_display == "4:39"
    assert Entry(media_duration=3725).media_duration_display == "1:02:05"
    assert Entry(media_duration=None).media_duration_display == ""


@pytest.mark.django_db
def test_saving_a_stale_ticker_never_writes_the_counter(ticker):
    Ticker.objects.filter(pk=ticker.pk).update(last_seq=41)
    ticker.title = "Neuer Titel"
    ticker.save()
    ticker.refresh_from_db()
    assert (ticker.title, ticker.last_seq) == ("Neuer Titel", 41)
