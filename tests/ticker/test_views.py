"""Reader pages, the changes endpoint and production settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.utils import timezone

from tests.helpers import entry_ids, make_entries
from ticker import services
from ticker.models import Article, Entry, Ticker

pytestmark = pytest.mark.django_db


def test_list_shows_live_tickers_first(client, ticker):
    services.save_ticker(Ticker(title="Wahlabend", slug="wahl", status=Ticker.Status.ENDED))
    services.save_ticker(Ticker(title="Gipfel", slug="gipfel", status=Ticker.Status.UPCOMING))
    html = client.get("/").content.decode()
    assert html.index(ticker.title) < html.index("Gipfel") < html.index("Wahlabend")


def test_live_page_works_without_javascript(client, ticker):
    entries = make_entries(ticker, 25)
    key = services.update_entry(entries[3], is_key_event=True)
    pinned = services.set_pinned(entries[0], True)
    response = client.get(f"/live/{ticker.slug}/")
    assert response.status_code == 200
    html = response.content.decode()
    ids = entry_ids(html)
    # Pinned first, then (after the key-events list) 20 entries newest first.
    assert ids[0] == pinned.pk
    listed = ids[1:]
    newest = [e.pk for e in reversed(entries) if e.pk != pinned.pk][:20]
    assert listed == newest
    assert f'data-key-entry-id="{key.pk}"' in html
    assert 'aria-live="polite"' in html
    assert f'data-seq="{ticker.changes.count()}"' in html
    assert "?before=" in html

    older = client.get(f"/live/{ticker.slug}/?before={html.split('?before=')[1].split('"')[0]}")
    older_ids = entry_ids(older.content.decode())
    remaining = [e.pk for e in reversed(entries) if e.pk != pinned.pk][20:]
    assert older_ids == remaining
    assert 'data-live="false"' in older.content.decode()


def test_older_fragment_returns_only_entries(client, ticker):
    make_entries(ticker, 22)
    first = client.get(f"/live/{ticker.slug}/").content.decode()
    cursor = first.split("?before=")[1].split('"')[0]
    fragment = client.get(f"/live/{ticker.slug}/?before={cursor}&fragment=older").content.decode()
    assert "<html" not in fragment
    assert len(entry_ids(fragment)) == 2


@pytest.mark.parametrize("cursor", ["abc", "1_x", "99999999999999999999999_1", "_"])
def test_bad_cursor_is_400(client, ticker, cursor):
    assert client.get(f"/live/{ticker.slug}/?before={cursor}").status_code == 400


def test_drafts_are_not_shown(client, ticker):
    draft = services.create_entry(ticker=ticker, body="<p>geheim</p>", status=Entry.Status.DRAFT)
    assert "geheim" not in client.get(f"/live/{ticker.slug}/").content.decode()
    assert client.get(f"/live/{ticker.slug}/entries/{draft.pk}/").status_code == 404


def test_entry_permalink(client, ticker):
    entry = services.create_entry(ticker=ticker, headline="Treffen in Washington", body="<p>x</p>")
    response = client.get(f"/live/{ticker.slug}/entries/{entry.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Treffen in Washington" in html
    assert f"/live/{ticker.slug}/#entry-{entry.pk}" in html


def test_unknown_ticker_is_404(client, db):
    assert client.get("/live/gibt-es-nicht/").status_code == 404
    assert client.get("/live/gibt-es-nicht/changes/?since=0").status_code == 404


def test_changes_endpoint_returns_stored_frames(client, ticker):
    entries = make_entries(ticker, 3)
    services.delete_entry(entries[0])
    response = client.get(f"/live/{ticker.slug}/changes/?since=1")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = json.loads(response.content)
    assert data["last_seq"] == 4
    assert data["reload"] is False
    assert [c["seq"] for c in data["changes"]] == [2, 3, 4]
    assert data["changes"][-1] == {"seq": 4, "type": "entry.deleted", "entry_id": entries[0].pk}
    stored = [json.loads(c.frame) for c in ticker.changes.filter(seq__gt=1).order_by("seq")]
    assert data["changes"] == stored


def test_changes_endpoint_asks_far_behind_clients_to_reload(client, ticker, settings):
    settings.TICKER_CATCHUP_LIMIT = 2
    make_entries(ticker, 4)
    data = json.loads(client.get(f"/live/{ticker.slug}/changes/?since=0").content)
    assert data == {"last_seq": 4, "reload": True, "changes": []}


@pytest.mark.parametrize("since", ["", "abc", "-3", "1e3", "%00"])
def test_changes_endpoint_rejects_bad_since(client, ticker, since):
    response = client.get(f"/live/{ticker.slug}/changes/?since={since}")
    assert response.status_code == 400
    assert "since" in json.loads(response.content)["error"]


def test_hostile_html_never_reaches_the_page(client, ticker):
    entry = services.create_entry(ticker=ticker, body="<p>ok</p>")
    # Even a row written around the service is cleaned when rendered.
    Entry.objects.filter(pk=entry.pk).update(body='<p>ok<script>alert("x")</script></p>')
    html = client.get(f"/live/{ticker.slug}/").content.decode()
    assert 'alert("x")' not in html


def test_entry_with_article_shows_card_and_article_links_back(client, ticker):
    article = Article.objects.create(
        title="Was das Treffen bedeutet", slug="treffen", kicker="Analyse", teaser="Ein Überblick."
    )
    services.create_entry(ticker=ticker, body="<p>x</p>", article=article)
    html = client.get(f"/live/{ticker.slug}/").content.decode()
    assert "/articles/treffen/" in html
    assert "Was das Treffen bedeutet" in html
    page = client.get("/articles/treffen/").content.decode()
    assert ticker.get_absolute_url() in page


def test_times_are_shown_as_the_newsroom_writes_them(client, ticker):
    moment = timezone.make_aware(timezone.datetime(2025, 10, 21, 14, 32))
    services.create_entry(ticker=ticker, body="<p>x</p>", display_at=moment)
    assert "21.10.2025, 14:32" in client.get(f"/live/{ticker.slug}/").content.decode()


def test_static_files_are_served_with_long_cache_for_hashed_names(client):
    from django.templatetags.static import static

    url = static("ticker/live.js")
    assert url != "/static/ticker/live.js", "static names must be hashed (versioned)"


def test_check_deploy_is_clean_with_production_settings():
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
        "ALLOWED_HOSTS": "ticker.example.org",
        "DATABASE_URL": "sqlite:///:memory:",
    }
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_live_page_describes_itself_as_schema_org_live_blog(client, ticker):
    from datetime import date

    services.create_entry(
        ticker=ticker,
        headline="Rutte trifft Trump </script><script>alert(1)</script>",
        body="<p>Das Treffen ist für Mittwoch geplant.</p>",
        media_kind=Entry.Media.VIDEO,
        media_url="/static/ticker/demo/video.mp4",
        media_caption="Reportage von der Ostflanke",
        media_date=date(2025, 10, 21),
        media_duration=279,
        byline="Redaktion",
    )
    html = client.get(f"/live/{ticker.slug}/").content.decode()
    assert "<script>alert(1)" not in html
    raw = html.split('<script type="application/ld+json">')[1].split("</script>")[0]
    data = json.loads(raw)
    assert data["@type"] == "LiveBlogPosting"
    assert data["headline"] == ticker.title
    (update,) = data["liveBlogUpdate"]
    assert update["@type"] == "BlogPosting"
    assert update["headline"].startswith("Rutte trifft Trump </script>")
    assert update["articleBody"] == "Das Treffen ist für Mittwoch geplant."
    assert update["video"]["duration"] == "PT4M39S"
    assert update["video"]["uploadDate"] == "2025-10-21"
    assert update["video"]["contentUrl"] == "http://testserver/static/ticker/demo/video.mp4"
    assert update["author"] == {"@type": "Person", "name": "Redaktion"}


def test_article_page_uses_its_ticker_language(client, ticker):
    english = services.save_ticker(
        Ticker(title="Election night", slug="election", status="live", language="en")
    )
    Article.objects.create(title="Results", slug="results", image_url="/x.svg", image_credit="AP",
                           ticker=english)  # fmt: skip
    Article.objects.create(title="Ergebnisse", slug="ergebnisse", image_url="/x.svg",
                           image_credit="dpa", ticker=ticker)  # fmt: skip
    assert (
        "Source: AP"
        in client.get("/articles/results/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    )
    assert (
        "Quelle: dpa"
        in client.get("/articles/ergebnisse/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )


def test_structured_data_headline_is_cut_at_a_word(client, ticker):
    services.create_entry(ticker=ticker, body="<p>" + "Wort " * 60 + "</p>")
    html = client.get(f"/live/{ticker.slug}/").content.decode()
    raw = html.split('<script type="application/ld+json">')[1].split("</script>")[0]
    headline = json.loads(raw)["liveBlogUpdate"][0]["headline"]
    assert len(headline) <= 110
    assert headline.endswith("Wort…")


# ---- The changes endpoint under a crowd of pollers ----------------------------------


def test_an_up_to_date_poll_is_answered_without_the_database(
    client, ticker, django_assert_num_queries
):
    make_entries(ticker, 2)
    url = f"/live/{ticker.slug}/changes/?since=2"
    assert json.loads(client.get(url).content) == {"last_seq": 2, "reload": False, "changes": []}
    with django_assert_num_queries(0):
        response = client.get(url)
    assert json.loads(response.content)["last_seq"] == 2


def test_a_poll_is_cacheable_and_revalidates_with_its_etag(client, ticker, settings):
    settings.TICKER_POSITION_CACHE_SECONDS = 0
    make_entries(ticker, 1)
    url = f"/live/{ticker.slug}/changes/?since=1"
    first = client.get(url)
    assert first["Cache-Control"] == f"public, max-age={settings.TICKER_POLL_CACHE_SECONDS}"
    assert "Cookie" not in first.get("Vary", "")
    again = client.get(url, headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304
    assert again.content == b""
    make_entries(ticker, 1)
    changed = client.get(url, headers={"If-None-Match": first["ETag"]})
    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]
    assert [c["seq"] for c in json.loads(changed.content)["changes"]] == [2]


def test_a_new_change_reaches_pollers_once_the_position_is_renewed(client, ticker, settings):
    settings.TICKER_POSITION_CACHE_SECONDS = 0
    url = f"/live/{ticker.slug}/changes/?since=0"
    assert json.loads(client.get(url).content)["changes"] == []
    make_entries(ticker, 1)
    assert [c["seq"] for c in json.loads(client.get(url).content)["changes"]] == [1]
