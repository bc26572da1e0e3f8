"""The newsroom console, driven through the real admin URLs with Django's test client.

Every admin path that changes what readers see must go through the services:
a numbered ``Change`` row, a broadcast after commit and an admin history row.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from ticker import broadcast, presence, services
from ticker.models import Article, Entry, ReaderPresence, Ticker

pytestmark = pytest.mark.django_db

HOSTILE_BODY = (
    '<p onclick="steal()">Lage in Kiew<script>alert("xss")</script></p>'
    '<p><a href="javascript:alert(1)">Klick</a> <img src=x onerror="boom()"></p>'
)


@pytest.fixture
def sent(monkeypatch) -> list[tuple[int, int, str]]:
    """Record every broadcast instead of sending it (the real send is tested separately)."""
    calls: list[tuple[int, int, str]] = []
    monkeypatch.setattr(
        broadcast,
        "send_change",
        lambda ticker_id, seq, frame: calls.append((ticker_id, seq, frame)),
    )
    return calls


@pytest.fixture
def client(client):
    """The test client, reading the admin in English so messages can be matched."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def admin_client_(client, django_user_model):
    boss = django_user_model.objects.create_superuser("chefin", "chefin@example.org", "pw-12345!")
    client.force_login(boss)
    return client


def ticker_url(ticker: Ticker) -> str:
    return reverse("admin:ticker_ticker_change", args=[ticker.pk])


def quick_post_url(ticker: Ticker) -> str:
    return reverse("admin:ticker_ticker_quick_post", args=[ticker.pk])


def row_action_url(entry: Entry, action: str) -> str:
    return reverse("admin:ticker_ticker_entry_action", args=[entry.ticker_id, entry.pk, action])


def kinds(ticker: Ticker) -> list[tuple[int, str, int | None]]:
    return list(ticker.changes.order_by("seq").values_list("seq", "kind", "entry_id"))


def history(model: type, object_id: int) -> list[tuple[int, str]]:
    return list(
        LogEntry.objects.filter(
            content_type__app_label="ticker",
            content_type__model=model._meta.model_name,
            object_id=str(object_id),
        )
        .order_by("pk")
        .values_list("action_flag", "change_message")
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- Quick post -------------------------------------------------------------------


def test_quick_post_publishes_and_returns_to_ticker(
    editor_client, editor, ticker, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(
            quick_post_url(ticker),
            {
                "body": "<p>Explosionen in Kiew gemeldet</p>",
                "headline": "Luftalarm",
                "is_key_event": "on",
            },
        )
    assert response.status_code == 302
    assert response["Location"] == ticker_url(ticker)

    entry = Entry.objects.get(ticker=ticker)
    assert entry.body == "<p>Explosionen in Kiew gemeldet</p>"
    assert entry.headline == "Luftalarm"
    assert entry.is_key_event
    assert not entry.is_pinned
    assert entry.is_published
    assert entry.author == editor
    assert entry.byline == "Erika Muster"
    assert kinds(ticker) == [(1, "entry.published", entry.pk)]
    assert len(sent) == 1
    ticker_id, seq, frame = sent[0]
    assert (ticker_id, seq) == (ticker.pk, 1)
    assert "Explosionen in Kiew gemeldet" in json.loads(frame)["html"]
    assert history(Entry, entry.pk) == [(ADDITION, '[{"added": {}}]')]

    page = editor_client.get(response["Location"])
    assert any("Luftalarm" in m for m in messages_of(page))
    assert f'data-entry-row="{entry.pk}"' in page.content.decode()


def test_quick_post_reaches_the_real_channel_layer(
    editor_client, ticker, django_capture_on_commit_callbacks
):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(broadcast.group_name(ticker.pk), channel)
    with django_capture_on_commit_callbacks(execute=True):
        editor_client.post(quick_post_url(ticker), {"body": "<p>Über den Layer</p>"})
    message = async_to_sync(layer.receive)(channel)
    assert message["type"] == broadcast.MESSAGE_TYPE
    assert message["seq"] == 1
    assert message["frame"] == ticker.changes.get(seq=1).frame
    async_to_sync(layer.group_discard)(broadcast.group_name(ticker.pk), channel)


def test_quick_post_broadcasts_only_after_commit(editor_client, ticker, sent):
    editor_client.post(quick_post_url(ticker), {"body": "<p>Noch nicht</p>"})
    # The test transaction never commits, so nothing may have been sent.
    assert sent == []
    assert ticker.changes.count() == 1


def test_quick_post_as_draft_is_not_shown_to_readers(
    editor_client, ticker, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(
            quick_post_url(ticker), {"body": "<p>Entwurf</p>", "_draft": "1"}
        )
    assert response.status_code == 302
    entry = Entry.objects.get(ticker=ticker)
    assert entry.status == Entry.Status.DRAFT
    assert kinds(ticker) == []
    assert sent == []
    page = editor_client.get(ticker_url(ticker)).content.decode()
    assert f'class="is-draft" data-entry-row="{entry.pk}"' in page


def test_quick_post_errors_keep_what_was_typed(editor_client, ticker, sent):
    response = editor_client.post(
        quick_post_url(ticker),
        {"body": "", "headline": "Meine getippte Überschrift", "is_key_event": "on"},
        follow=True,
    )
    # Redirected back to the ticker page (so a reload cannot post twice).
    assert response.redirect_chain == [(ticker_url(ticker), 302)]
    assert response.status_code == 200
    assert response.templates[0].name == "admin/ticker/ticker/change_form.html"
    form = response.context["quick_post_form"]
    assert form.is_bound
    assert "body" in form.errors
    html = response.content.decode()
    assert 'value="Meine getippte Überschrift"' in html
    assert 'name="is_key_event" id="id_is_key_event" checked' in html
    assert any("not saved" in m for m in messages_of(response))
    assert not Entry.objects.exists()
    assert kinds(ticker) == []
    # The ticker's own form was rendered, not processed.
    ticker.refresh_from_db()
    assert ticker.title == "Krieg in der Ukraine"
    # Shown once: the next visit has an empty form again.
    again = editor_client.get(ticker_url(ticker))
    assert not again.context["quick_post_form"].is_bound


def test_quick_post_rejects_unknown_article(editor_client, ticker):
    response = editor_client.post(
        quick_post_url(ticker), {"body": "<p>Text bleibt</p>", "article": "999999"}, follow=True
    )
    assert response.status_code == 200
    assert "article" in response.context["quick_post_form"].errors
    assert "Text bleibt" in response.content.decode()
    assert not Entry.objects.exists()


def test_quick_post_with_article_and_pin_replaces_previous_pin(
    editor_client, ticker, sent, django_capture_on_commit_callbacks
):
    article = Article.objects.create(title="Hintergrund: Die Front", slug="front")
    old = services.create_entry(ticker=ticker, body="<p>alt</p>", is_pinned=True)
    with django_capture_on_commit_callbacks(execute=True):
        editor_client.post(
            quick_post_url(ticker),
            {"body": "<p>neu</p>", "article": str(article.pk), "is_pinned": "on"},
        )
    new = Entry.objects.exclude(pk=old.pk).get()
    old.refresh_from_db()
    assert new.article == article
    assert new.is_pinned
    assert not old.is_pinned
    assert kinds(ticker) == [
        (1, "entry.published", old.pk),
        (2, "entry.unpinned", old.pk),
        (3, "entry.published", new.pk),
    ]
    assert [seq for _, seq, _ in sent] == [2, 3]
    assert "Hintergrund: Die Front" in json.loads(sent[-1][2])["html"]


def test_quick_post_get_redirects_and_anonymous_is_sent_to_login(client, ticker):
    response = client.post(quick_post_url(ticker), {"body": "<p>x</p>"})
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
    assert not Entry.objects.exists()


def test_quick_post_needs_add_permission(client, django_user_model, ticker):
    viewer = django_user_model.objects.create_user("leser", password="x", is_staff=True)
    client.force_login(viewer)
    response = client.post(quick_post_url(ticker), {"body": "<p>x</p>"})
    assert response.status_code == 403
    assert not Entry.objects.exists()


# --- The ticker page as a console -------------------------------------------------------


def test_ticker_page_loads_editor_and_autocomplete_media_once(editor_client, ticker):
    html = editor_client.get(ticker_url(ticker)).content.decode()
    # The quick-post form comes first, before the ticker's own settings form.
    assert html.index('id="quick-post"') < html.index('id="ticker_form"')
    assert html.count("admin/js/vendor/jquery/jquery") == 1
    assert "admin/js/vendor/select2/select2.full" in html
    assert "admin/js/autocomplete" in html
    assert "admin/css/vendor/select2/select2" in html
    assert 'type="importmap"' in html
    assert html.index('type="importmap"') < html.index('type="module"')
    assert "django_prose_editor/editor" in html
    assert "data-django-prose-editor-configurable" in html
    assert 'class="admin-autocomplete' in html
    assert 'data-model-name="entry"' in html
    assert 'data-field-name="article"' in html
    assert f'href="{ticker.get_absolute_url()}"' in html


def test_article_autocomplete_answers_editors(editor_client):
    Article.objects.create(title="Was wir über Cherson wissen", slug="cherson")
    Article.objects.create(title="Wahl in Berlin", slug="berlin")
    response = editor_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "ticker", "model_name": "entry", "field_name": "article", "term": "Cherson"},
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Was wir über Cherson wissen"]


def test_ticker_page_shows_drafts_differently_and_newest_first(editor_client, ticker):
    older = services.create_entry(
        ticker=ticker, body="<p>eins</p>", display_at=timezone.now() - timedelta(minutes=5)
    )
    draft = services.create_entry(ticker=ticker, body="<p>zwei</p>", status=Entry.Status.DRAFT)
    html = editor_client.get(ticker_url(ticker)).content.decode()
    assert f'class="is-published" data-entry-row="{older.pk}"' in html
    assert f'class="is-draft" data-entry-row="{draft.pk}"' in html
    assert html.index(f'data-entry-row="{draft.pk}"') < html.index(f'data-entry-row="{older.pk}"')
    assert row_action_url(draft, "publish") in html
    assert row_action_url(older, "unpublish") in html


def test_row_buttons_pin_unpin_unpublish_publish_delete(
    editor_client, ticker, sent, django_capture_on_commit_callbacks
):
    entry = services.create_entry(ticker=ticker, body="<p>Meldung</p>", headline="Meldung")
    with django_capture_on_commit_callbacks(execute=True):
        for action in ["pin", "unpin", "unpublish", "publish", "delete"]:
            response = editor_client.post(row_action_url(entry, action))
            assert response.status_code == 302, action
            assert response["Location"] == ticker_url(ticker)
    assert [(kind, entry_id) for _, kind, entry_id in kinds(ticker)] == [
        ("entry.published", entry.pk),
        ("entry.pinned", entry.pk),
        ("entry.unpinned", entry.pk),
        ("entry.unpublished", entry.pk),
        ("entry.published", entry.pk),
        ("entry.deleted", entry.pk),
    ]
    assert [seq for _, seq, _ in sent] == [2, 3, 4, 5, 6]
    assert not Entry.objects.filter(pk=entry.pk).exists()
    assert [flag for flag, _ in history(Entry, entry.pk)] == [CHANGE] * 4 + [DELETION]
    assert json.loads(history(Entry, entry.pk)[0][1]) == [{"changed": {"fields": ["is_pinned"]}}]
    page = editor_client.get(ticker_url(ticker))
    assert any("Meldung" in m for m in messages_of(page))


def test_row_buttons_only_accept_post_and_known_actions(editor_client, ticker, sent):
    entry = services.create_entry(ticker=ticker, body="<p>x</p>")
    other = services.save_ticker(Ticker(title="Wahl", slug="wahl"))
    assert editor_client.get(row_action_url(entry, "delete")).status_code == 405
    assert editor_client.post(row_action_url(entry, "explode")).status_code == 404
    foreign = reverse("admin:ticker_ticker_entry_action", args=[other.pk, entry.pk, "delete"])
    assert editor_client.post(foreign).status_code == 404
    assert Entry.objects.filter(pk=entry.pk).exists()


def test_status_buttons_set_status_through_the_service(
    editor_client, ticker, sent, django_capture_on_commit_callbacks
):
    url = reverse("admin:ticker_ticker_status", args=[ticker.pk, "ended"])
    assert url in editor_client.get(ticker_url(ticker)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(url, {"confirm": "yes"})
    assert response.status_code == 302
    assert response["Location"] == ticker_url(ticker)
    ticker.refresh_from_db()
    assert ticker.status == Ticker.Status.ENDED
    assert kinds(ticker) == [(1, "ticker.status", None)]
    assert sent[0][:2] == (ticker.pk, 1)
    assert history(Ticker, ticker.pk) == [(CHANGE, '[{"changed": {"fields": ["status"]}}]')]
    bad = reverse("admin:ticker_ticker_status", args=[ticker.pk, "paused"])
    assert editor_client.post(bad).status_code == 404


def test_ending_coverage_from_the_ticker_page_asks_first(editor_client, ticker, sent):
    url = reverse("admin:ticker_ticker_status", args=[ticker.pk, "ended"])
    page = editor_client.get(ticker_url(ticker)).content.decode()
    # A link to the question, not a form that ends at once.
    assert f'<a href="{url}" class="button" data-status="ended">' in page

    for response in (editor_client.get(url), editor_client.post(url)):
        assert response.status_code == 200
        assert "admin/ticker/ticker/end_coverage_confirmation.html" in [
            t.name for t in response.templates
        ]
        html = response.content.decode()
        assert f'<form method="post" action="{url}">' in html
        assert '<input type="hidden" name="confirm" value="yes">' in html
        assert f'href="{ticker_url(ticker)}" class="button cancel-link"' in html
        assert ticker.title in html
    ticker.refresh_from_db()
    assert ticker.status == Ticker.Status.LIVE
    assert kinds(ticker) == []
    assert sent == []


def test_other_status_buttons_need_no_question_but_a_post(editor_client, ticker):
    url = reverse("admin:ticker_ticker_status", args=[ticker.pk, "upcoming"])
    assert editor_client.get(url).status_code == 405
    assert editor_client.post(url).status_code == 302
    ticker.refresh_from_db()
    assert ticker.status == Ticker.Status.UPCOMING


def test_end_coverage_list_action_asks_first(
    admin_client_, ticker, sent, django_capture_on_commit_callbacks
):
    changelist = reverse("admin:ticker_ticker_changelist")
    data = {"action": "end_coverage", "_selected_action": [ticker.pk]}
    response = admin_client_.post(changelist, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<input type="hidden" name="action" value="end_coverage">' in html
    assert f'<input type="hidden" name="_selected_action" value="{ticker.pk}">' in html
    assert '<input type="hidden" name="post" value="yes">' in html
    ticker.refresh_from_db()
    assert ticker.status == Ticker.Status.LIVE
    assert sent == []

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(changelist, {**data, "post": "yes"})
    assert response.status_code == 302
    ticker.refresh_from_db()
    assert ticker.status == Ticker.Status.ENDED
    assert kinds(ticker) == [(1, "ticker.status", None)]


def test_admin_pages_carry_the_site_favicon(editor_client, ticker):
    for url in (reverse("admin:index"), ticker_url(ticker)):
        html = editor_client.get(url).content.decode()
        assert '<link rel="icon" href="/static/ticker/favicon' in html, url


def test_admin_javascript_catalogue_translates_the_rich_text_editor(editor_client):
    response = editor_client.get(reverse("admin:jsi18n"), HTTP_ACCEPT_LANGUAGE="de")
    catalogue = response.content.decode()
    # The editor's dialogs (the package's catalogue) and its toolbar (ours).
    assert '"Link bearbeiten"' in catalogue
    assert '"Fett"' in catalogue
    assert '"Durchgestrichen"' in catalogue


def test_ticker_form_status_change_goes_through_the_service(
    editor_client, ticker, sent, django_capture_on_commit_callbacks
):
    start = timezone.localtime(ticker.starts_at)
    data = {
        "title": "Krieg in der Ukraine, Tag 1000",
        "slug": ticker.slug,
        "status": "ended",
        "summary": ticker.summary,
        "starts_at_0": start.strftime("%Y-%m-%d"),
        "starts_at_1": start.strftime("%H:%M:%S"),
        "ends_at_0": "",
        "ends_at_1": "",
        "language": "de",
        "_continue": "1",
    }
    services.create_entry(ticker=ticker, body="<p>x</p>")  # seq 1: the form must not roll it back
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(ticker_url(ticker), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    ticker.refresh_from_db()
    assert ticker.status == Ticker.Status.ENDED
    assert ticker.last_seq == 2
    assert kinds(ticker)[-1] == (2, "ticker.status", None)
    assert [seq for _, seq, _ in sent] == [2]
    assert [flag for flag, _ in history(Ticker, ticker.pk)] == [CHANGE]


def test_ticker_list_action_sets_live(admin_client_, sent, django_capture_on_commit_callbacks):
    upcoming = services.save_ticker(Ticker(title="Wahl", slug="wahl"))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(
            reverse("admin:ticker_ticker_changelist"),
            {"action": "go_live", "_selected_action": [upcoming.pk]},
        )
    assert response.status_code == 302
    upcoming.refresh_from_db()
    assert upcoming.status == Ticker.Status.LIVE
    assert kinds(upcoming) == [(1, "ticker.status", None)]
    assert [flag for flag, _ in history(Ticker, upcoming.pk)] == [CHANGE]


def test_deleting_a_ticker_ends_it_for_readers_first(
    admin_client_, ticker, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(
            reverse("admin:ticker_ticker_delete", args=[ticker.pk]), {"post": "yes"}
        )
    assert response.status_code == 302
    assert not Ticker.objects.filter(pk=ticker.pk).exists()
    assert len(sent) == 1
    assert json.loads(sent[0][2])["type"] == "ticker.status"
    assert [flag for flag, _ in history(Ticker, ticker.pk)] == [DELETION]


# --- Entry admin: change form, change-form actions, list actions, delete -------------------


def entry_form_data(entry: Entry, **overrides: str) -> dict[str, str]:
    shown = timezone.localtime(entry.display_at)
    data = {
        "status": entry.status,
        "display_at_0": shown.strftime("%Y-%m-%d"),
        "display_at_1": shown.strftime("%H:%M:%S"),
        # The admin sends the initial value of fields with a callable default.
        "initial-display_at_0": shown.strftime("%Y-%m-%d"),
        "initial-display_at_1": shown.strftime("%H:%M:%S"),
        "headline": entry.headline,
        "body": entry.body,
        "quote": "",
        "quote_attribution": "",
        "media_kind": "",
        "media_url": "",
        "media_caption": "",
        "media_credit": "",
        "media_date": "",
        "media_duration": "",
        "article": "",
        "byline": entry.byline,
        "_save": "1",
    }
    return data | overrides


def test_entry_change_form_edit_is_broadcast_and_logged(
    editor_client, ticker, sent, django_capture_on_commit_callbacks
):
    entry = services.create_entry(ticker=ticker, body="<p>Erste Fassung</p>", byline="dpa")
    url = reverse("admin:ticker_entry_change", args=[entry.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(url, entry_form_data(entry, body="<p>Korrigiert</p>"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert response["Location"] == ticker_url(ticker)
    entry.refresh_from_db()
    assert entry.body == "<p>Korrigiert</p>"
    assert kinds(ticker) == [(1, "entry.published", entry.pk), (2, "entry.updated", entry.pk)]
    assert [seq for _, seq, _ in sent] == [2]
    assert "Korrigiert" in json.loads(sent[0][2])["html"]
    flag, message = history(Entry, entry.pk)[-1]
    assert flag == CHANGE
    assert json.loads(message) == [{"changed": {"fields": ["Text"]}}]


def test_saving_an_unchanged_entry_tells_readers_nothing(
    editor_client, ticker, sent, django_capture_on_commit_callbacks
):
    entry = services.create_entry(ticker=ticker, body="<p>Stand 14 Uhr</p>", byline="dpa")
    url = reverse("admin:ticker_entry_change", args=[entry.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(url, entry_form_data(entry))
    assert response.status_code == 302
    assert kinds(ticker) == [(1, "entry.published", entry.pk)]
    assert sent == []


def test_entry_add_form_publishes_through_the_service(
    editor_client, editor, ticker, sent, django_capture_on_commit_callbacks
):
    add_url = reverse("admin:ticker_entry_add")
    page = editor_client.get(add_url, {"ticker": ticker.pk})
    assert page.status_code == 200
    data = entry_form_data(Entry(ticker=ticker), body="<p>Aus dem Formular</p>")
    data["ticker"] = str(ticker.pk)
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(add_url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    entry = Entry.objects.get()
    assert entry.author == editor
    assert kinds(ticker) == [(1, "entry.published", entry.pk)]
    assert [seq for _, seq, _ in sent] == [1]
    assert [flag for flag, _ in history(Entry, entry.pk)] == [ADDITION]


def test_entry_change_form_cannot_move_entry_to_another_ticker(editor_client, ticker, sent):
    entry = services.create_entry(ticker=ticker, body="<p>x</p>")
    other = services.save_ticker(Ticker(title="Wahl", slug="wahl"))
    url = reverse("admin:ticker_entry_change", args=[entry.pk])
    editor_client.post(url, entry_form_data(entry, ticker=str(other.pk)))
    entry.refresh_from_db()
    assert entry.ticker_id == ticker.pk


def test_entry_change_form_action_pins(
    editor_client, ticker, sent, django_capture_on_commit_callbacks
):
    entry = services.create_entry(ticker=ticker, body="<p>x</p>")
    url = reverse("admin:ticker_entry_change", args=[entry.pk])
    assert 'name="CHANGE_FORM-action"' in editor_client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(
            url, {"CHANGE_FORM-action": "pin", "_selected_action": str(entry.pk)}
        )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.is_pinned
    assert kinds(ticker)[-1] == (2, "entry.pinned", entry.pk)
    assert history(Entry, entry.pk) == [(CHANGE, '[{"changed": {"fields": ["is_pinned"]}}]')]


def post_action(client, action: str, entries: list[Entry]):
    return client.post(
        reverse("admin:ticker_entry_changelist"),
        {"action": action, "_selected_action": [e.pk for e in entries]},
    )


def test_bulk_unpublish_publish_and_unpin(
    editor_client, ticker, sent, django_capture_on_commit_callbacks
):
    a = services.create_entry(ticker=ticker, body="<p>a</p>", is_pinned=True)
    b = services.create_entry(ticker=ticker, body="<p>b</p>")
    with django_capture_on_commit_callbacks(execute=True):
        assert post_action(editor_client, "unpublish", [a, b]).status_code == 302
        assert post_action(editor_client, "publish", [a, b]).status_code == 302
        assert post_action(editor_client, "unpin", [a, b]).status_code == 302
    assert [kind for _, kind, _ in kinds(ticker)][2:] == [
        "entry.unpublished", "entry.unpublished", "entry.published", "entry.published",
        "entry.unpinned",
    ]  # fmt: skip
    assert [seq for _, seq, _ in sent] == [3, 4, 5, 6, 7]
    # b was never pinned: no change, no history row for the unpin.
    assert [flag for flag, _ in history(Entry, a.pk)] == [CHANGE] * 3
    assert [flag for flag, _ in history(Entry, b.pk)] == [CHANGE] * 2


def test_bulk_pin_pins_one_entry_and_refuses_two_of_one_ticker(
    editor_client, ticker, sent, django_capture_on_commit_callbacks
):
    a = services.create_entry(ticker=ticker, body="<p>a</p>")
    b = services.create_entry(ticker=ticker, body="<p>b</p>")
    response = post_action(editor_client, "pin", [a, b])
    assert response.status_code == 302
    page = editor_client.get(response["Location"])
    assert any("one pinned entry" in m for m in messages_of(page))
    assert not Entry.objects.filter(is_pinned=True).exists()
    with django_capture_on_commit_callbacks(execute=True):
        post_action(editor_client, "pin", [b])
    b.refresh_from_db()
    assert b.is_pinned
    assert kinds(ticker)[-1] == (3, "entry.pinned", b.pk)
    assert history(Entry, b.pk) == [(CHANGE, '[{"changed": {"fields": ["is_pinned"]}}]')]


def test_delete_view_and_bulk_delete_go_through_the_service(
    editor_client, ticker, sent, django_capture_on_commit_callbacks
):
    a = services.create_entry(ticker=ticker, body="<p>a</p>")
    b = services.create_entry(ticker=ticker, body="<p>b</p>")
    c = services.create_entry(ticker=ticker, body="<p>c</p>", status=Entry.Status.DRAFT)
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(
            reverse("admin:ticker_entry_delete", args=[a.pk]), {"post": "yes"}
        )
        assert response.status_code == 302
        response = editor_client.post(
            reverse("admin:ticker_entry_changelist"),
            {"action": "delete_selected", "_selected_action": [b.pk, c.pk], "post": "yes"},
        )
        assert response.status_code == 302
    assert not Entry.objects.exists()
    # The draft was never public, so readers are told about a and b only.
    assert kinds(ticker)[2:] == [(3, "entry.deleted", a.pk), (4, "entry.deleted", b.pk)]
    assert [seq for _, seq, _ in sent] == [3, 4]
    for entry in (a, b, c):
        assert [flag for flag, _ in history(Entry, entry.pk)] == [DELETION]


# --- Editors group: what they may and may not do ------------------------------------------


def test_editor_may_not_delete_tickers_or_manage_users(editor_client, ticker):
    assert (
        editor_client.get(reverse("admin:ticker_ticker_delete", args=[ticker.pk])).status_code
        == 403
    )
    response = editor_client.post(
        reverse("admin:ticker_ticker_delete", args=[ticker.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert Ticker.objects.filter(pk=ticker.pk).exists()
    for name in ["auth_user_changelist", "auth_group_changelist", "auth_user_add"]:
        assert editor_client.get(reverse(f"admin:{name}")).status_code == 403, name

    html = editor_client.get(ticker_url(ticker)).content.decode()
    assert reverse("admin:ticker_ticker_delete", args=[ticker.pk]) not in html
    changelist = editor_client.get(reverse("admin:ticker_ticker_changelist"))
    choices = dict(changelist.context["action_form"].fields["action"].choices)
    assert "delete_selected" not in choices
    assert "go_live" in choices


def test_editor_may_write_articles(editor_client, ticker):
    form = {
        "title": "Was wir wissen",
        "slug": "was-wir-wissen",
        "kicker": "Überblick",
        "teaser": "",
        "body": "<p>Text</p>",
        "author": "Erika Muster",
        "published_at_0": "2025-10-21",
        "published_at_1": "14:00:00",
        "image_url": "",
        "image_caption": "",
        "image_credit": "",
        "ticker": str(ticker.pk),
    }
    response = editor_client.post(reverse("admin:ticker_article_add"), form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    article = Article.objects.get(slug="was-wir-wissen")
    assert article.ticker == ticker
    change_url = reverse("admin:ticker_article_change", args=[article.pk])
    assert editor_client.get(change_url).status_code == 200
    assert history(Article, article.pk)[0][0] == ADDITION

    # Correcting the title re-sends the card of every published entry that links to it.
    entry = services.create_entry(ticker=ticker, body="<p>x</p>", article=article)
    response = editor_client.post(change_url, {**form, "title": "Was wir bisher wissen"})
    assert response.status_code == 302
    assert kinds(ticker)[-1] == (2, "entry.updated", entry.pk)
    assert "Was wir bisher wissen" in ticker.changes.get(seq=2).frame


def test_editor_sees_entry_delete_buttons_but_viewer_sees_none(
    client, editor_client, django_user_model, ticker
):
    entry = services.create_entry(ticker=ticker, body="<p>x</p>")
    assert (
        row_action_url(entry, "delete") in editor_client.get(ticker_url(ticker)).content.decode()
    )

    viewer = django_user_model.objects.create_user("praktikant", password="x", is_staff=True)
    viewer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_ticker", "view_entry"])
    )
    client.force_login(viewer)
    html = client.get(ticker_url(ticker)).content.decode()
    assert 'id="quick-post"' not in html
    assert row_action_url(entry, "delete") not in html
    assert row_action_url(entry, "pin") not in html
    assert client.post(row_action_url(entry, "delete")).status_code == 403
    assert client.post(row_action_url(entry, "pin")).status_code == 403
    assert Entry.objects.filter(pk=entry.pk).exists()


# --- Readers connected now --------------------------------------------------------------


def test_readers_now_counts_only_fresh_presence_rows(editor_client, ticker):
    now = timezone.now()
    ReaderPresence.objects.create(process="web-1", ticker=ticker, readers=120, updated_at=now)
    ReaderPresence.objects.create(process="web-2", ticker=ticker, readers=33, updated_at=now)
    ReaderPresence.objects.create(
        process="web-dead",
        ticker=ticker,
        readers=5000,
        updated_at=now - presence.STALE_AFTER - timedelta(seconds=1),
    )
    page = editor_client.get(ticker_url(ticker))
    assert page.context["readers_now"] == 153
    assert 'data-readers-now="153"' in page.content.decode()

    changelist = editor_client.get(reverse("admin:ticker_ticker_changelist"))
    html = changelist.content.decode()
    assert '<td class="field-readers">153</td>' in html
    assert "5153" not in html


# --- Sanitising -------------------------------------------------------------------------


def assert_harmless(html: str) -> None:
    for needle in ("steal()", 'alert("xss")', "javascript:", "onerror", "boom()", "<img"):
        assert needle not in html, needle


def test_hostile_html_from_quick_post_is_never_stored_or_shown(editor_client, client, ticker):
    editor_client.post(quick_post_url(ticker), {"body": HOSTILE_BODY, "headline": "Gefahr"})
    entry = Entry.objects.get()
    assert_harmless(entry.body)
    assert "Lage in Kiew" in entry.body
    assert_harmless(ticker.changes.get().frame)
    live = client.get(ticker.get_absolute_url()).content.decode()
    assert "Lage in Kiew" in live
    assert_harmless(live)


def test_hostile_html_from_entry_change_form_is_never_stored(editor_client, ticker):
    entry = services.create_entry(ticker=ticker, body="<p>brav</p>")
    url = reverse("admin:ticker_entry_change", args=[entry.pk])
    response = editor_client.post(url, entry_form_data(entry, body=HOSTILE_BODY))
    assert response.status_code == 302
    entry.refresh_from_db()
    assert "Lage in Kiew" in entry.body
    assert_harmless(entry.body)
    assert_harmless(ticker.changes.order_by("seq").last().frame)


def test_bulk_deleting_tickers_ends_live_ones(
    admin_client_, ticker, sent, django_capture_on_commit_callbacks
):
    ended = services.save_ticker(Ticker(title="Wahl", slug="wahl", status=Ticker.Status.ENDED))
    services.create_entry(ticker=ticker, body="<p>x</p>")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(
            reverse("admin:ticker_ticker_changelist"),
            {
                "action": "delete_selected",
                "_selected_action": [ticker.pk, ended.pk],
                "post": "yes",
            },
        )
    assert response.status_code == 302
    assert not Ticker.objects.exists()
    assert not Entry.objects.exists()
    # Only the live ticker had readers to tell; the ended one sends nothing.
    assert [(ticker_id, json.loads(frame)["type"]) for ticker_id, _, frame in sent] == [
        (ticker.pk, "ticker.status")
    ]
