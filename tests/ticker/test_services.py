"""The write path: one service, numbered changes, broadcast only after commit."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from ticker import services
from ticker.models import Change, Entry, Ticker


@pytest.fixture
def sent():
    """Record what reaches the channel layer (patched where services call it)."""
    with mock.patch("ticker.broadcast.send_change") as send_change:
        yield send_change


def changes(ticker: Ticker) -> list[tuple[int, str]]:
    return list(ticker.changes.order_by("seq").values_list("seq", "kind"))


def test_publishing_records_change_and_broadcasts_after_commit(
    ticker, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        entry = services.create_entry(ticker=ticker, body="<p>Eilmeldung</p>")
        assert not sent.called, "nothing may be broadcast before the commit"
    assert len(callbacks) == 1
    callbacks[0]()
    ticker_id, seq, frame = sent.call_args.args
    assert (ticker_id, seq) == (ticker.pk, 1)
    payload = json.loads(frame)
    assert frame.startswith('{"seq":1,')
    assert payload["type"] == "entry.published"
    assert payload["entry_id"] == entry.pk
    assert "Eilmeldung" in payload["html"]
    assert Change.objects.get(ticker=ticker, seq=1).frame == frame


def test_rolled_back_write_is_never_recorded_or_sent(ticker, sent):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.create_entry(ticker=ticker, body="<p>wird zurückgerollt</p>")
        raise RuntimeError("editor's request failed")
    assert not sent.called
    assert not Entry.objects.exists()
    assert changes(ticker) == []
    ticker.refresh_from_db()
    assert ticker.last_seq == 0


def test_each_change_kind_is_numbered_in_order(ticker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        entry = services.create_entry(ticker=ticker, body="<p>eins</p>")
        services.update_entry(entry, body="<p>eins, korrigiert</p>")
        services.set_pinned(entry, True)
        services.set_pinned(entry, False)
        services.unpublish_entry(entry)
        services.publish_entry(entry)
        services.set_ticker_status(ticker, Ticker.Status.ENDED)
        services.delete_entry(entry)
    assert changes(ticker) == [
        (1, "entry.published"),
        (2, "entry.updated"),
        (3, "entry.pinned"),
        (4, "entry.unpinned"),
        (5, "entry.unpublished"),
        (6, "entry.published"),
        (7, "ticker.status"),
        (8, "entry.deleted"),
    ]
    deleted = ticker.changes.get(seq=8)
    assert deleted.entry_id == entry.pk
    assert json.loads(deleted.frame) == {"seq": 8, "type": "entry.deleted", "entry_id": entry.pk}
    assert json.loads(ticker.changes.get(seq=7).frame)["status"] == "ended"


def test_drafts_are_not_public_changes(ticker, sent):
    entry = services.create_entry(ticker=ticker, body="<p>Entwurf</p>", status=Entry.Status.DRAFT)
    services.update_entry(entry, body="<p>Entwurf 2</p>")
    services.delete_entry(entry)
    assert changes(ticker) == []


def test_saving_without_visible_change_records_nothing(ticker):
    entry = services.create_entry(ticker=ticker, body="<p>gleich</p>")
    services.save_entry(Entry.objects.get(pk=entry.pk))
    assert changes(ticker) == [(1, "entry.published")]


def test_pinning_unpins_the_previous_entry(ticker):
    first = services.create_entry(ticker=ticker, body="<p>a</p>", is_pinned=True)
    second = services.create_entry(ticker=ticker, body="<p>b</p>")
    services.set_pinned(second, True)
    first.refresh_from_db()
    assert not first.is_pinned
    assert list(Entry.objects.filter(is_pinned=True)) == [second]
    assert changes(ticker)[-2:] == [(3, "entry.unpinned"), (4, "entry.pinned")]
    assert ticker.changes.get(seq=3).entry_id == first.pk


def test_hostile_html_is_sanitised_on_save(ticker):
    entry = services.create_entry(
        ticker=ticker,
        body=(
            '<p onclick="steal()">Text <script>alert(1)</script>'
            '<a href="javascript:alert(1)">x</a> <a href="https://example.org">ok</a>'
            '<img src=x onerror="alert(1)"><iframe src="https://evil.example"></iframe></p>'
        ),
    )
    entry.refresh_from_db()
    for bad in ("script", "onclick", "javascript:", "onerror", "<img", "<iframe", "alert"):
        assert bad not in entry.body
    assert '<a href="https://example.org" rel="noopener noreferrer nofollow">ok</a>' in entry.body
    assert "alert" not in ticker.changes.get(seq=1).frame


def test_editor_becomes_author_and_byline(ticker, editor):
    entry = services.create_entry(ticker=ticker, body="<p>x</p>", user=editor)
    assert entry.author == editor
    assert entry.byline == "Erika Muster"


def test_stale_ticker_form_cannot_roll_back_the_sequence(ticker):
    stale = Ticker.objects.get(pk=ticker.pk)
    services.create_entry(ticker=ticker, body="<p>1</p>")
    services.create_entry(ticker=ticker, body="<p>2</p>")
    stale.summary = "Neue Zusammenfassung"
    services.save_ticker(stale)
    ticker.refresh_from_db()
    assert ticker.last_seq == 2
    assert ticker.summary == "Neue Zusammenfassung"
    services.create_entry(ticker=ticker, body="<p>3</p>")
    assert [seq for seq, _ in changes(ticker)] == [1, 2, 3]


@pytest.mark.django_db(transaction=True)
def test_concurrent_editors_never_share_a_number(ticker):
    """Four editors publishing at once get unique, gap-free numbers (SQLite and PostgreSQL)."""
    barrier = threading.Barrier(4)

    def editor_session(n: int) -> None:
        try:
            barrier.wait()
            for i in range(8):
                services.create_entry(
                    ticker=Ticker.objects.get(pk=ticker.pk), body=f"<p>{n}-{i}</p>"
                )
        finally:
            connection.close()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(editor_session, range(4)))
    seqs = [seq for seq, _ in changes(ticker)]
    assert seqs == list(range(1, 33))
    ticker.refresh_from_db()
    assert ticker.last_seq == 32
    # Every change's frame carries its own number.
    assert all(json.loads(c.frame)["seq"] == c.seq for c in ticker.changes.all())


def test_deleting_a_live_ticker_tells_readers_it_ended_first(
    ticker, sent, django_capture_on_commit_callbacks
):
    ticker_pk = ticker.pk
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_ticker(ticker)
    assert not Ticker.objects.filter(pk=ticker_pk).exists()
    ((ticker_id, seq, frame),) = [call.args for call in sent.call_args_list]
    assert (ticker_id, seq) == (ticker_pk, 1)
    assert json.loads(frame)["status"] == "ended"


def test_corrected_article_title_updates_the_cards_readers_see(ticker, sent):
    from ticker.models import Article

    article = services.save_article(Article(title="Treffen in Washngton", slug="treffen"))
    linked = services.create_entry(ticker=ticker, body="<p>mit Karte</p>", article=article)
    services.create_entry(ticker=ticker, body="<p>Entwurf</p>", article=article, status="draft")
    services.create_entry(ticker=ticker, body="<p>ohne Karte</p>")
    article.body = "<p>Text<script>x()</script></p>"
    services.save_article(article)  # the body is not on the card: nothing to send
    assert changes(ticker)[-1] == (2, "entry.published")
    assert Article.objects.get().body == "<p>Text</p>"

    article.title = "Treffen in Washington"
    services.save_article(article)
    last = ticker.changes.order_by("seq").last()
    assert (last.seq, last.kind, last.entry_id) == (3, "entry.updated", linked.pk)
    assert "Treffen in Washington" in json.loads(last.frame)["html"]


@pytest.mark.parametrize(
    "media_url",
    ["javascript:alert(document.domain)", "/\\evil.example/x", "//evil.example/x", "/ok\t/x"],
)
def test_the_service_refuses_what_the_admin_form_refuses(ticker, media_url):
    """Every caller gets the model's validation, not only the admin form."""
    with pytest.raises(ValidationError) as caught:
        services.create_entry(
            ticker=ticker, body="<p>Video</p>", media_kind="video", media_url=media_url
        )
    assert "media_url" in caught.value.message_dict
    assert not Entry.objects.exists()
    assert not Change.objects.filter(ticker=ticker).exists()


def test_an_edit_that_fails_validation_changes_nothing(ticker):
    entry = services.create_entry(ticker=ticker, body="<p>Foto</p>")
    with pytest.raises(ValidationError):
        services.update_entry(entry, media_kind="photo", media_url="javascript:x()")
    entry.refresh_from_db()
    assert entry.media_url == ""
    assert [seq for seq, _ in changes(ticker)] == [1]


def test_an_on_site_media_path_is_accepted(ticker):
    entry = services.create_entry(
        ticker=ticker, body="<p>Foto</p>", media_kind="photo", media_url="/static/ticker/a.svg"
    )
    assert entry.media_url == "/static/ticker/a.svg"


@pytest.mark.parametrize(
    ("helper", "arguments"),
    [
        (services.update_entry, {"body": "<p>redigiert</p>"}),
        (services.publish_entry, {}),
        (services.unpublish_entry, {}),
        (services.set_pinned, {"pinned": True}),
    ],
    ids=["update", "publish", "unpublish", "pin"],
)
def test_the_editor_of_an_entry_posted_without_author_becomes_its_author(
    ticker, editor, helper, arguments
):
    """A wire entry (posted by a script, no author) is signed by the first editor to act on it."""
    entry = services.create_entry(ticker=ticker, body="<p>Agenturmeldung</p>")
    assert (entry.author, entry.byline) == (None, "")
    entry = helper(entry, user=editor, **arguments)
    entry.refresh_from_db()
    assert entry.author == editor
    assert entry.byline == "Erika Muster"
