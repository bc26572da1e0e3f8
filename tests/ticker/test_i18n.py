"""German and English: each ticker's pages speak the ticker's language, whatever the browser asks.

Also checks the committed German catalogue itself: every message translated,
placeholders kept, and the compiled ``.mo`` in step with the ``.po`` (users'
machines may not have gettext to compile it).
"""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from ticker import services
from ticker.models import Article, Change, Entry, Ticker

pytestmark = pytest.mark.django_db

LOCALE = Path(settings.BASE_DIR) / "locale" / "de" / "LC_MESSAGES"

GERMAN = ["Mehr zum Thema", "Wichtigste Ereignisse", "Liveblog", "Quelle: epa", "Video ansehen"]
ENGLISH = ["Read the full article", "Key events", "Live blog", "Source: epa", "Watch the video"]


def fill(ticker: Ticker) -> None:
    """Give ``ticker`` an entry with an article, a key event, a photo and a video."""
    article = Article.objects.create(
        title="Was das Treffen bedeutet", slug=f"treffen-{ticker.slug}", kicker="Analyse"
    )
    services.create_entry(ticker=ticker, body="<p>Mit Artikel</p>", article=article)
    services.create_entry(ticker=ticker, headline="Gipfel beginnt", is_key_event=True)
    services.create_entry(
        ticker=ticker,
        body="<p>Foto</p>",
        media_kind=Entry.Media.PHOTO,
        media_url="/static/ticker/demo/lava-nacht.svg",
        media_caption="Lava",
        media_credit="epa",
    )
    services.create_entry(
        ticker=ticker,
        body="<p>Video</p>",
        media_kind=Entry.Media.VIDEO,
        media_url="https://video.example.org/clip",
        media_duration=279,
    )


@pytest.fixture
def english_ticker(db) -> Ticker:
    return services.save_ticker(
        Ticker(title="Summit live", slug="summit", status=Ticker.Status.LIVE, language="en")
    )


def test_german_ticker_page_is_german_even_for_english_browsers(client, ticker):
    fill(ticker)
    html = client.get(ticker.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="de">' in html
    for label in GERMAN:
        assert label in html
    for label in ENGLISH:
        assert label not in html
    assert "Live-Aktualisierung anhalten" in html
    assert "4:39 min" in html


def test_english_ticker_page_is_english_even_for_german_browsers(client, english_ticker):
    fill(english_ticker)
    response = client.get(english_ticker.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="de")
    html = response.content.decode()
    assert '<html lang="en">' in html
    for label in ENGLISH:
        assert label in html
    for label in GERMAN:
        assert label not in html
    assert "Pause live updates" in html


@pytest.mark.parametrize(
    ("status", "german", "english"),
    [
        (Ticker.Status.UPCOMING, "Angekündigt", "Upcoming"),
        (Ticker.Status.ENDED, "Beendet", "Ended"),
    ],
)
def test_status_badge_in_the_tickers_language(
    client, ticker, english_ticker, status, german, english
):
    services.set_ticker_status(ticker, status)
    services.set_ticker_status(english_ticker, status)
    assert german in client.get(ticker.get_absolute_url()).content.decode()
    assert english in client.get(english_ticker.get_absolute_url()).content.decode()


def test_live_frames_use_the_tickers_language_not_the_editors(ticker, english_ticker):
    with translation.override("en"):
        fill(ticker)
    with translation.override("de"):
        fill(english_ticker)
    german_frames = "".join(Change.objects.filter(ticker=ticker).values_list("frame", flat=True))
    english_frames = "".join(
        Change.objects.filter(ticker=english_ticker).values_list("frame", flat=True)
    )
    assert "Mehr zum Thema" in german_frames
    assert "Read the full article" not in german_frames
    assert "Read the full article" in english_frames
    assert "Mehr zum Thema" not in english_frames


def test_site_pages_follow_the_browser_and_default_to_german(client, db):
    assert "Noch keine Liveticker." in client.get("/").content.decode()
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No tickers yet." in english


# --- the catalogue ------------------------------------------------------------------


def read_po(path: Path) -> list[dict[str, object]]:
    """Parse the entries of a .po file (enough of the format for our own catalogue)."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.splitlines() if line and not line.startswith("#~")]
        if not lines:
            continue
        entry: dict[str, object] = {"flags": set(), "msgstr": {}}
        key = None
        parts: dict[str, list[str]] = {}
        for line in lines:
            if line.startswith("#,"):
                entry["flags"] = {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                parts[key].append(ast.literal_eval(line))
            else:
                key, _, value = line.partition(" ")
                parts[key] = [ast.literal_eval(value)]
        text = {name: "".join(values) for name, values in parts.items()}
        entry["msgid"] = text.get("msgid", "")
        entry["msgid_plural"] = text.get("msgid_plural")
        entry["msgstr"] = {
            name: value for name, value in text.items() if name.startswith("msgstr")
        }
        entries.append(entry)
    return entries


CATALOGUE = [e for e in read_po(LOCALE / "django.po") if e["msgid"]]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}|\bNUM\b")


def test_catalogue_is_complete():
    assert len(CATALOGUE) > 100
    untranslated = [
        e["msgid"] for e in CATALOGUE if not all(e["msgstr"].values()) or "fuzzy" in e["flags"]
    ]
    assert untranslated == []


def test_translations_keep_their_placeholders():
    broken = []
    for entry in CATALOGUE:
        expected = sorted(PLACEHOLDER.findall(str(entry["msgid_plural"] or entry["msgid"])))
        for translated in entry["msgstr"].values():
            found = sorted(PLACEHOLDER.findall(translated))
            # A German singular may spell out "1" where English has "%d"; none may be invented.
            if found != expected and not (entry["msgid_plural"] and set(found) <= set(expected)):
                broken.append((entry["msgid"], translated))
    assert broken == []


def test_compiled_catalogue_matches_the_source():
    with (LOCALE / "django.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    for entry in CATALOGUE:
        msgid = str(entry["msgid"])
        if entry["msgid_plural"]:
            assert (
                compiled.ngettext(msgid, entry["msgid_plural"], 1) == entry["msgstr"]["msgstr[0]"]
            )
            assert (
                compiled.ngettext(msgid, entry["msgid_plural"], 5) == entry["msgstr"]["msgstr[1]"]
            )
        else:
            assert compiled.gettext(msgid) == entry["msgstr"]["msgstr"], msgid
