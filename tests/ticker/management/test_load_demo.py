"""The demo loader that ``./dev run`` calls on every start."""

from __future__ import annotations

import os
import re
import struct
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from ticker.management.commands import load_demo
from ticker.models import Article, Change, Entry, Ticker

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    """Hash with MD5: the loader sets and checks passwords on every run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def debug(settings) -> None:
    """Run as ``./dev run`` does, with DEBUG=1."""
    settings.DEBUG = True


def run(*args: str, **options: object) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out, **options)
    return out.getvalue()


def snapshot() -> dict[str, object]:
    """Everything a repeated run must leave exactly as it was."""
    return {
        "users": sorted(User.objects.values_list("username", "password", "is_staff")),
        "tickers": sorted(Ticker.objects.values_list("slug", "status", "last_seq", "updated_at")),
        "entries": sorted(Entry.objects.values_list("pk", "ticker__slug", "updated_at")),
        "articles": sorted(Article.objects.values_list("slug", "updated_at")),
        "changes": sorted(Change.objects.values_list("ticker__slug", "seq", "kind", "entry_id")),
    }


def test_creates_the_live_ticker_with_every_kind_of_content(debug):
    run()
    live = Ticker.objects.get(slug=load_demo.LIVE_SLUG)
    assert live.status == Ticker.Status.LIVE
    assert live.language == "de"
    entries = list(live.entries.all())
    published = [e for e in entries if e.is_published]
    assert 25 <= len(published) <= 30
    assert any(not e.is_published for e in entries), "a draft shows the console's drafts"
    # More than one page, so "load older entries" has something to load.
    assert len([e for e in published if not e.is_pinned]) > 20
    assert [e.is_pinned for e in published].count(True) == 1
    assert sum(e.is_key_event for e in published) >= 3
    assert sum(bool(e.headline) for e in published) >= 5
    assert all(e.byline and e.author.username == "redaktion" for e in entries)
    quotes = [e for e in published if e.quote]
    assert quotes
    assert all(e.quote_attribution for e in quotes)
    photos = [e for e in published if e.media_kind == Entry.Media.PHOTO]
    videos = [e for e in published if e.media_kind == Entry.Media.VIDEO]
    assert len(photos) >= 2
    assert all(e.media_caption and e.media_credit for e in photos)
    assert len(videos) >= 2
    assert all(e.media_date and e.media_duration and e.media_caption for e in videos)
    # Spread over the last hours, none in the future.
    now = timezone.now()
    times = [e.display_at for e in published]
    assert max(times) <= now
    assert now - min(times) > timezone.timedelta(hours=3)
    assert len(set(times)) == len(times)


def test_creates_articles_linked_both_ways(debug):
    run()
    live = Ticker.objects.get(slug=load_demo.LIVE_SLUG)
    articles = list(Article.objects.all())
    assert len(articles) == 2
    for article in articles:
        assert article.ticker == live
        assert all([article.title, article.kicker, article.teaser, article.author])
        assert article.body.count("<h3>") >= 2
        assert article.body.count("<p>") >= 3
        assert all([article.image_url, article.image_caption, article.image_credit])
        assert article.entries.published().filter(ticker=live).exists()


def test_every_demo_picture_and_video_is_a_shipped_static_file(debug):
    run()
    photos = [e.media_url for e in Entry.objects.filter(media_kind=Entry.Media.PHOTO)]
    photos += [a.image_url for a in Article.objects.exclude(image_url="")]
    videos = [e.media_url for e in Entry.objects.filter(media_kind=Entry.Media.VIDEO)]
    assert len(photos) >= 5
    assert len(videos) >= 2
    for url in photos + videos:
        assert url.startswith("/static/ticker/demo/")
        path = finders.find(url.removeprefix("/static/"))
        assert path, f"{url} is not a static file"
        with open(path, "rb") as media:
            head = media.read(64)
        if url in videos:
            # A real video a browser plays (WebM: EBML header, "webm" doc type), and tiny.
            assert head.startswith(b"\x1a\x45\xdf\xa3"), url
            assert b"webm" in head, url
            assert os.path.getsize(path) < 8 * 1024, url
        else:
            assert head.lstrip().startswith(b"<svg"), url


def test_demo_video_lengths_are_the_clips_lengths(debug):
    run()
    for entry in Entry.objects.filter(media_kind=Entry.Media.VIDEO):
        path = finders.find(entry.media_url.removeprefix("/static/"))
        with open(path, "rb") as media:
            data = media.read()
        # The WebM Duration element (0x4489, a float in milliseconds) of the Info section.
        at = data.index(b"\x44\x89", data.index(b"\x15\x49\xa9\x66"))
        width = data[at + 2] & 0x0F
        seconds = struct.unpack(">f" if width == 4 else ">d", data[at + 3 : at + 3 + width])[0]
        assert entry.media_duration == round(seconds / 1000), entry.media_url


def test_other_tickers_show_english_and_every_status(debug):
    run()
    ended = Ticker.objects.get(slug=load_demo.ENDED_SLUG)
    upcoming = Ticker.objects.get(slug=load_demo.UPCOMING_SLUG)
    assert (ended.language, ended.status) == ("en", Ticker.Status.ENDED)
    assert ended.ends_at is not None
    assert ended.entries.published().count() == len(load_demo.ENDED_ENTRIES)
    assert (upcoming.language, upcoming.status) == ("en", Ticker.Status.UPCOMING)
    assert upcoming.starts_at > timezone.now()


def test_change_sequence_counts_every_public_change(debug):
    run()
    live = Ticker.objects.get(slug=load_demo.LIVE_SLUG)
    published = live.entries.published()
    changes = list(live.changes.order_by("seq"))
    assert live.last_seq == published.count() == len(changes)
    assert [c.seq for c in changes] == list(range(1, len(changes) + 1))
    assert {c.kind for c in changes} == {Change.Kind.PUBLISHED}
    assert sorted(c.entry_id for c in changes) == sorted(published.values_list("pk", flat=True))
    # Written oldest first, so the sequence follows the clock.
    by_seq = [Entry.objects.get(pk=c.entry_id).display_at for c in changes]
    assert by_seq == sorted(by_seq)

    ended = Ticker.objects.get(slug=load_demo.ENDED_SLUG)
    kinds = list(ended.changes.order_by("seq").values_list("kind", flat=True))
    assert ended.last_seq == len(kinds) == ended.entries.published().count() + 1
    assert kinds[-1] == Change.Kind.STATUS
    assert Ticker.objects.get(slug=load_demo.UPCOMING_SLUG).last_seq == 0


def test_editor_and_admin_can_log_in(client, debug):
    output = run()
    editor = User.objects.get(username=load_demo.EDITOR_USERNAME)
    assert editor.is_staff
    assert not editor.is_superuser
    assert list(editor.groups.values_list("name", flat=True)) == ["Editors"]
    assert editor.has_perm("ticker.add_entry")
    assert not editor.has_perm("auth.add_user")
    assert client.login(username="redaktion", password=load_demo.EDITOR_PASSWORD)
    live = Ticker.objects.get(slug=load_demo.LIVE_SLUG)
    response = client.get(f"/admin/ticker/ticker/{live.pk}/change/")
    assert response.status_code == 200
    client.logout()

    admin = User.objects.get(username=load_demo.ADMIN_USERNAME)
    assert admin.is_superuser
    assert admin.is_staff
    assert client.login(username="admin", password=load_demo.ADMIN_PASSWORD)

    assert re.search(
        rf"Demo editor: username redaktion\s+password {load_demo.EDITOR_PASSWORD}\b.*"
        r"http://127\.0\.0\.1:8000/admin/",
        output,
    )
    admin_line = rf"Demo admin:\s+username admin\s+password {load_demo.ADMIN_PASSWORD}\b"
    assert re.search(admin_line, output)


def test_second_run_changes_nothing(debug):
    run()
    before = snapshot()
    output = run()
    assert snapshot() == before
    assert "Created" not in output
    assert "Demo editor: username redaktion" in output


def test_second_run_keeps_what_editors_changed(debug):
    from ticker import services

    run()
    live = Ticker.objects.get(slug=load_demo.LIVE_SLUG)
    services.delete_entry(live.entries.published().first())
    services.set_ticker_status(live, Ticker.Status.ENDED)
    editor = User.objects.get(username="redaktion")
    editor.set_password("mein-eigenes-passwort")
    editor.save()
    before = snapshot()

    output = run()
    assert snapshot() == before
    assert "changed since" in output
    assert User.objects.get(username="redaktion").check_password("mein-eigenes-passwort")

    run("--reset-passwords")
    assert User.objects.get(username="redaktion").check_password(load_demo.EDITOR_PASSWORD)


def test_passwords_can_be_set_by_option_or_environment(debug, monkeypatch):
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "admin-aus-der-umgebung")
    output = run(editor_password="redaktion-per-option")
    assert User.objects.get(username="redaktion").check_password("redaktion-per-option")
    assert User.objects.get(username="admin").check_password("admin-aus-der-umgebung")
    assert "redaktion-per-option" in output


def test_refuses_known_passwords_without_debug(settings, monkeypatch):
    settings.DEBUG = False
    monkeypatch.delenv("DEMO_EDITOR_PASSWORD", raising=False)
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="publicly known passwords"):
        run()
    assert not User.objects.exists()
    assert not Ticker.objects.exists()
    # With passwords of its own, a non-debug server may load the demo.
    run(editor_password="eigenes-passwort-1", admin_password="eigenes-passwort-2")
    assert User.objects.get(username="admin").check_password("eigenes-passwort-2")


def test_live_page_shows_the_demo(client, debug):
    run()
    live = Ticker.objects.get(slug=load_demo.LIVE_SLUG)
    response = client.get(live.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert live.title in html
    pinned = live.entries.get(is_pinned=True)
    assert pinned.headline in html
    newest = live.entries.published().filter(is_pinned=False).newest_first().first()
    assert f'data-entry-id="{newest.pk}"' in html
    assert "/static/ticker/demo/" in html
    assert "Liveticker-Demo" in html
    assert "<figcaption>Einar Magnússon, Vulkanologe</figcaption>" in html
    assert f'data-seq="{live.last_seq}"' in html
    assert "Pressekonferenz des Zivilschutzes" not in html, "drafts stay hidden"

    # Every published entry is reachable through "load older entries".
    seen = set(map(int, re.findall(r'data-entry-id="(\d+)"', html)))
    cursor = re.search(r"\?before=([0-9_]+)", html)
    assert cursor
    older = client.get(f"{live.get_absolute_url()}?before={cursor.group(1)}").content.decode()
    seen |= set(map(int, re.findall(r'data-entry-id="(\d+)"', older)))
    assert seen == set(live.entries.published().values_list("pk", flat=True))

    article = Article.objects.get(slug=load_demo.ARTICLE_NEWS_SLUG)
    page = client.get(article.get_absolute_url()).content.decode()
    assert article.title in page
    assert "<h2>" in page  # the editor's sub-headings, one level below the article's h1
    assert live.get_absolute_url() in page


def test_list_page_orders_live_upcoming_ended(client, debug):
    run()
    html = client.get("/").content.decode()
    titles = [
        Ticker.objects.get(slug=s).title
        for s in (load_demo.LIVE_SLUG, load_demo.UPCOMING_SLUG, load_demo.ENDED_SLUG)
    ]
    positions = [html.index(t.replace("'", "&#x27;")) for t in titles]
    assert positions == sorted(positions)
