"""Every write that readers can see: one module, one transaction per write.

Each public change takes the ticker's next sequence number inside the
transaction (the ticker row is the lock), stores the rendered frame in the
change log, and schedules the broadcast with ``transaction.on_commit``. A
rolled-back write is therefore never shown, and a committed one is shown once.
The admin, management commands and any later API call these functions;
nothing else writes entries or ticker status. Each opens its transaction
with a ``with`` block rather than a decorator, so mutation testing (which
skips decorated functions) sees the body.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import F

from ticker import broadcast, rendering
from ticker.models import Article, Change, Entry, Ticker
from ticker.sanitize import sanitize_html

User = AbstractBaseUser | AnonymousUser | None

# Fields whose change alters what readers see of an entry.
_PUBLIC_FIELDS = (
    "display_at", "headline", "body", "quote", "quote_attribution", "media_kind",
    "media_url", "media_caption", "media_credit", "media_date", "media_duration",
    "article_id", "byline", "is_key_event", "is_pinned", "status",
)  # fmt: skip


def _next_seq(ticker_id: int) -> int:
    """Take the ticker's next change number; the row stays locked until commit."""
    Ticker.objects.filter(pk=ticker_id).update(last_seq=F("last_seq") + 1)
    return Ticker.objects.filter(pk=ticker_id).values_list("last_seq", flat=True).get()


def _record_entry_change(kind: Change.Kind, entry: Entry) -> Change:
    seq = _next_seq(entry.ticker_id)
    frame = rendering.entry_frame(seq, kind, entry)
    change = Change.objects.create(
        ticker_id=entry.ticker_id, seq=seq, kind=kind, entry_id=entry.pk, frame=frame
    )
    transaction.on_commit(partial(broadcast.send_change, entry.ticker_id, seq, frame))
    return change


def _editor(user: User) -> AbstractBaseUser | None:
    return user if user is not None and user.is_authenticated else None


def _default_byline(user: AbstractBaseUser) -> str:
    full_name = getattr(user, "get_full_name", lambda: "")()
    return full_name or user.get_username()


def save_entry(entry: Entry, *, user: User = None) -> Entry:
    """Save ``entry`` (new or edited) and tell readers what changed for them.

    Publishing a draft is ``entry.published``, hiding a published entry is
    ``entry.unpublished``, pinning or unpinning is ``entry.pinned`` or
    ``entry.unpinned`` and any other visible edit is ``entry.updated``. Drafts
    produce no change at all. Pinning an entry unpins the ticker's other one.
    Raises ``ValidationError`` (and saves nothing) if a field is invalid.
    """
    with transaction.atomic():
        editor = _editor(user)
        previous = None
        if entry.pk is not None:
            previous = Entry.objects.select_for_update().filter(pk=entry.pk).first()
        entry.body = sanitize_html(entry.body)
        if entry.author_id is None and editor is not None:
            entry.author_id = editor.pk
        if not entry.byline and editor is not None:
            entry.byline = _default_byline(editor)
        if entry.media_kind == Entry.Media.NONE:
            entry.media_url = entry.media_caption = entry.media_credit = ""
            entry.media_date = entry.media_duration = None
        # Every caller (admin, command, API) gets the same checks the admin form runs.
        entry.full_clean()
        entry.save()
        # Render with what the partial needs freshly loaded (article title, ticker language).
        entry = Entry.objects.for_rendering().get(pk=entry.pk)

        if entry.is_pinned:
            for other in (
                Entry.objects.for_rendering()
                .filter(ticker_id=entry.ticker_id, is_pinned=True)
                .exclude(pk=entry.pk)
            ):
                other.is_pinned = False
                other.save(update_fields=["is_pinned", "updated_at"])
                if other.is_published:
                    _record_entry_change(Change.Kind.UNPINNED, other)

        was_public = previous is not None and previous.is_published
        if entry.is_published and not was_public:
            _record_entry_change(Change.Kind.PUBLISHED, entry)
        elif was_public and not entry.is_published:
            _record_entry_change(Change.Kind.UNPUBLISHED, entry)
        elif entry.is_published and previous is not None:
            if previous.is_pinned != entry.is_pinned:
                kind = Change.Kind.PINNED if entry.is_pinned else Change.Kind.UNPINNED
                _record_entry_change(kind, entry)
            elif any(getattr(previous, f) != getattr(entry, f) for f in _PUBLIC_FIELDS):
                _record_entry_change(Change.Kind.UPDATED, entry)
        return entry


def create_entry(*, ticker: Ticker, user: User = None, **fields: Any) -> Entry:
    """Create an entry in ``ticker`` (published unless ``status`` says draft)."""
    return save_entry(Entry(ticker=ticker, **fields), user=user)


def update_entry(entry: Entry, *, user: User = None, **fields: Any) -> Entry:
    """Change the given fields of ``entry`` and tell readers."""
    for name, value in fields.items():
        setattr(entry, name, value)
    return save_entry(entry, user=user)


def publish_entry(entry: Entry, *, user: User = None) -> Entry:
    return update_entry(entry, user=user, status=Entry.Status.PUBLISHED)


def unpublish_entry(entry: Entry, *, user: User = None) -> Entry:
    return update_entry(entry, user=user, status=Entry.Status.DRAFT)


def set_pinned(entry: Entry, pinned: bool, *, user: User = None) -> Entry:
    return update_entry(entry, user=user, is_pinned=pinned)


def delete_entry(entry: Entry, *, user: User = None) -> None:
    """Delete ``entry``; readers who saw it are told to remove it."""
    with transaction.atomic():
        current = (
            Entry.objects.select_for_update(of=("self",))
            .for_rendering()
            .filter(pk=entry.pk)
            .first()
        )
        if current is None:
            return
        if current.is_published:
            _record_entry_change(Change.Kind.DELETED, current)
        current.delete()


def save_ticker(ticker: Ticker, *, user: User = None) -> Ticker:
    """Save ``ticker``; a status change (upcoming, live, ended) reaches readers live."""
    with transaction.atomic():
        previous_status = None
        if ticker.pk is not None:
            previous_status = (
                Ticker.objects.select_for_update()
                .filter(pk=ticker.pk)
                .values_list("status", flat=True)
                .first()
            )
        ticker.full_clean()
        ticker.save()
        if previous_status is not None and previous_status != ticker.status:
            seq = _next_seq(ticker.pk)
            ticker.last_seq = seq
            frame = rendering.status_frame(seq, ticker)
            Change.objects.create(ticker=ticker, seq=seq, kind=Change.Kind.STATUS, frame=frame)
            transaction.on_commit(partial(broadcast.send_change, ticker.pk, seq, frame))
        return ticker


def set_ticker_status(ticker: Ticker, status: str, *, user: User = None) -> Ticker:
    ticker.status = status
    return save_ticker(ticker, user=user)


# Article fields shown on an entry's "read the full article" card.
_CARD_FIELDS = ("title", "slug", "kicker", "teaser")


def save_article(article: Article, *, user: User = None) -> Article:
    """Save an article; entries whose card shows a changed title or teaser are re-sent.

    A corrected headline must not linger on live pages: each published entry
    linking to the article gets an ``entry.updated`` change with its new card.
    """
    with transaction.atomic():
        previous = None
        if article.pk is not None:
            previous = Article.objects.filter(pk=article.pk).values(*_CARD_FIELDS).first()
        article.body = sanitize_html(article.body)
        article.full_clean()
        article.save()
        if previous and any(previous[f] != getattr(article, f) for f in _CARD_FIELDS):
            linking = Entry.objects.published().for_rendering().filter(article=article)
            for entry in linking.order_by("ticker_id", "display_at", "id"):
                _record_entry_change(Change.Kind.UPDATED, entry)
        return article


def delete_ticker(ticker: Ticker, *, user: User = None) -> None:
    """Delete a ticker; readers still watching are told first that it has ended.

    The ``ticker.status`` frame goes out on commit, after which reconnecting
    readers get "unknown ticker" (4404) and stop retrying.
    """
    with transaction.atomic():
        if ticker.status != Ticker.Status.ENDED:
            set_ticker_status(ticker, Ticker.Status.ENDED, user=user)
        ticker.delete()
