"""Rendering helpers: plain text for structured data, frames, and times for readers."""

import json
from datetime import date, datetime

import pytest
from django.utils import timezone, translation

from ticker import formatting
from ticker.rendering import encode, plain_text, reload_frame


def test_plain_text_keeps_blocks_apart_and_decodes_entities():
    html = "<p>Lava &amp; Asche</p><ul><li>eins</li><li>zwei</li></ul><p>Ende<br>neu</p>"
    assert plain_text(html) == "Lava & Asche eins zwei Ende neu"


def test_frames_start_with_their_number():
    assert reload_frame(7) == '{"seq":7,"type":"reload"}'
    assert encode({"seq": 3, "type": "x", "html": "ü<"}).startswith('{"seq":3,')
    assert json.loads(encode({"seq": 3, "html": "ü"}))["html"] == "ü"


# ---- Times for readers (ticker.formatting, through the template filters) -----------


def berlin(*args: int) -> datetime:
    return timezone.make_aware(datetime(*args), timezone.get_default_timezone())


def test_machine_time_is_valid_html_whatever_the_precision():
    posted = berlin(2026, 1, 15, 5, 49, 53, 309538)
    assert formatting.machine_time(posted) == "2026-01-15T05:49:53+01:00"
    assert formatting.machine_time(date(2025, 10, 21)) == "2025-10-21"
    assert formatting.machine_time(None) == ""


def test_german_readers_get_local_times_without_a_zone():
    with translation.override("de"):
        assert formatting.newsroom_time(berlin(2026, 1, 15, 14, 5)) == "15.01.2026, 14:05"
        assert formatting.newsroom_date(date(2025, 10, 21)) == "21.10.2025"


def test_english_readers_are_told_the_zone():
    with translation.override("en"):
        assert formatting.newsroom_time(berlin(2026, 1, 15, 14, 5)) == "15 Jan 2026, 14:05 CET"
        assert formatting.newsroom_time(berlin(2026, 7, 15, 14, 5)) == "15 Jul 2026, 14:05 CEST"
        assert formatting.newsroom_clock(berlin(2026, 1, 15, 14, 5), date(2026, 1, 15)) == (
            "14:05 CET"
        )
        assert formatting.newsroom_date(date(2025, 10, 21)) == "21 Oct 2025"


@pytest.mark.parametrize(
    ("language", "moment", "expected"),
    [
        ("de", (2026, 1, 15, 5, 53), "05:53"),
        ("de", (2026, 1, 14, 23, 2), "14.01., 23:02"),
        ("de", (2025, 12, 31, 23, 2), "31.12.2025, 23:02"),
        ("en", (2026, 1, 14, 23, 2), "14 Jan, 23:02 CET"),
    ],
)
def test_key_event_times_show_the_day_when_it_is_not_today(language, moment, expected):
    with translation.override(language):
        assert formatting.newsroom_clock(berlin(*moment), date(2026, 1, 15)) == expected
