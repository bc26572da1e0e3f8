"""Tickers, their entries, the articles entries link to, and the change log.

Models hold data and the query vocabulary only. Every write that readers can
see goes through :mod:`ticker.services`, which numbers it and broadcasts it
after the transaction commits; nothing here broadcasts from ``save()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_prose_editor.fields import ProseEditorField

from ticker.sanitize import RICH_TEXT_EXTENSIONS, sanitize_html
from ticker.validators import validate_embed_origins, validate_media_url


class TickerQuerySet(models.QuerySet["Ticker"]):
    def for_listing(self) -> TickerQuerySet:
        """Return tickers live first, then upcoming, then ended, newest first."""
        order = models.Case(
            models.When(status=Ticker.Status.LIVE, then=0),
            models.When(status=Ticker.Status.UPCOMING, then=1),
            default=2,
        )
        return self.annotate(_status_order=order).order_by(
            "_status_order", "-starts_at", "-created_at"
        )


class Ticker(models.Model):
    """A live blog about one running story, such as a war, an election or a match."""

    class Status(models.TextChoices):
        UPCOMING = "upcoming", _("Upcoming")
        LIVE = "live", _("Live")
        ENDED = "ended", _("Ended")

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(
        _("slug"), max_length=100, unique=True, help_text=_("Used in the ticker's address.")
    )
    summary = models.TextField(
        _("summary"), blank=True, help_text=_("One or two sentences shown above the entries.")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.UPCOMING
    )
    starts_at = models.DateTimeField(_("coverage starts"), default=timezone.now)
    ends_at = models.DateTimeField(_("coverage ends"), null=True, blank=True)
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("Language of the ticker's page, widget and dates."),
    )
    # Sites allowed to frame this ticker's widget; blank falls back to the
    # EMBED_ALLOWED_ORIGINS setting. Read by ticker.embed.allowed_origins().
    embed_origins = models.TextField(
        _("sites allowed to embed"),
        blank=True,
        validators=[validate_embed_origins],
        help_text=_(
            "Origins such as https://www.example.com, separated by spaces or new lines, "
            "that may show this ticker's widget. Leave blank to use the site-wide setting."
        ),
    )
    # The last number handed out in this ticker's change sequence. Services
    # increment it in the same transaction that records the change, so the
    # row lock makes numbers unique and gap-free in commit order.
    last_seq = models.PositiveBigIntegerField(_("last change number"), default=0, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = TickerQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticker")
        verbose_name_plural = _("tickers")
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: object, **kwargs: object) -> None:
        """Save, never writing ``last_seq`` back from a possibly stale instance.

        Only :func:`ticker.services._next_seq` moves the counter, with an
        in-database increment; an admin form loaded before other changes
        were published must not roll it back.
        """
        if self.pk is not None and not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.attname
                for f in self._meta.concrete_fields
                if not f.primary_key and f.attname != "last_seq"
            ]
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def get_absolute_url(self) -> str:
        return reverse("ticker:live", kwargs={"slug": self.slug})


class EntryQuerySet(models.QuerySet["Entry"]):
    def published(self) -> EntryQuerySet:
        """Return entries that readers may see."""
        return self.filter(status=Entry.Status.PUBLISHED)

    def newest_first(self) -> EntryQuerySet:
        return self.order_by("-display_at", "-id")

    def for_rendering(self) -> EntryQuerySet:
        """Fetch what the entry partial needs in one query."""
        return self.select_related("article", "ticker")


class Entry(models.Model):
    """One timestamped update in a ticker."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    class Media(models.TextChoices):
        NONE = "", _("None")
        PHOTO = "photo", _("Photo")
        VIDEO = "video", _("Video")

    ticker = models.ForeignKey(
        Ticker, on_delete=models.CASCADE, related_name="entries", verbose_name=_("ticker")
    )
    display_at = models.DateTimeField(
        _("time shown"), default=timezone.now, help_text=_("The time readers see.")
    )
    headline = models.CharField(_("headline"), max_length=200, blank=True)
    body = ProseEditorField(
        _("text"),
        config={"extensions": RICH_TEXT_EXTENSIONS},
        sanitize=sanitize_html,
        blank=True,
    )
    quote = models.TextField(_("quote"), blank=True)
    quote_attribution = models.CharField(
        _("quote attribution"),
        max_length=200,
        blank=True,
        help_text=_("Who said it, e.g. “Wolodymyr Selenskyj, Präsident der Ukraine”."),
    )
    media_kind = models.CharField(
        _("media"), max_length=10, choices=Media.choices, blank=True, default=Media.NONE
    )
    media_url = models.CharField(
        _("media address"),
        max_length=500,
        blank=True,
        validators=[validate_media_url],
        help_text=_("An https:// address or a path on this site (/static/…)."),
    )
    media_caption = models.CharField(_("media caption"), max_length=500, blank=True)
    media_credit = models.CharField(
        _("media credit"), max_length=200, blank=True, help_text=_("For example “epa”.")
    )
    media_date = models.DateField(_("video date"), null=True, blank=True)
    media_duration = models.PositiveIntegerField(
        _("video length in seconds"), null=True, blank=True
    )
    article = models.ForeignKey(
        "Article",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="entries",
        verbose_name=_("linked article"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ticker_entries",
        verbose_name=_("author"),
    )
    byline = models.CharField(
        _("byline"), max_length=200, blank=True, help_text=_("Name shown to readers.")
    )
    is_key_event = models.BooleanField(_("key event"), default=False)
    is_pinned = models.BooleanField(_("pinned"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PUBLISHED
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = EntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("entry")
        verbose_name_plural = _("entries")
        ordering = ["-display_at", "-id"]
        indexes = [models.Index(fields=["ticker", "status", "-display_at", "-id"])]

    if TYPE_CHECKING:
        # Added to the class at runtime by ProseEditorField, which has no type hints.
        def get_body_excerpt(self, words: int = 10, truncate: str = " ...") -> str: ...

    def __str__(self) -> str:
        return self.headline or self.get_body_excerpt(words=8) or f"#{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("ticker:entry", kwargs={"slug": self.ticker.slug, "entry_id": self.pk})

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def anchor(self) -> str:
        """Return the element id of the entry on the live page."""
        return f"entry-{self.pk}"

    @property
    def media_duration_display(self) -> str:
        """Return the video length as newsrooms show it ("4:39")."""
        if not self.media_duration:
            return ""
        minutes, seconds = divmod(self.media_duration, 60)
        hours, minutes = divmod(minutes, 60)
        if hours:
            return f"{hours}:{minutes:02d}:{seconds:02d}"
        return f"{minutes}:{seconds:02d}"


class Article(models.Model):
    """A full article that ticker entries can link to."""

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    kicker = models.CharField(
        _("kicker"), max_length=100, blank=True, help_text=_("Short label above the title.")
    )
    teaser = models.TextField(_("teaser"), blank=True)
    body = ProseEditorField(
        _("text"),
        config={"extensions": RICH_TEXT_EXTENSIONS},
        sanitize=sanitize_html,
        blank=True,
    )
    author = models.CharField(_("author"), max_length=200, blank=True)
    published_at = models.DateTimeField(_("published"), default=timezone.now)
    image_url = models.CharField(
        _("lead image address"), max_length=500, blank=True, validators=[validate_media_url]
    )
    image_caption = models.CharField(_("lead image caption"), max_length=500, blank=True)
    image_credit = models.CharField(_("lead image credit"), max_length=200, blank=True)
    ticker = models.ForeignKey(
        Ticker,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="articles",
        verbose_name=_("related ticker"),
        help_text=_("The live ticker this article links back to."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["-published_at"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("ticker:article", kwargs={"slug": self.slug})


class Change(models.Model):
    """One numbered public change of a ticker, kept so readers can catch up.

    ``frame`` is the exact WebSocket text frame that was broadcast, so a
    catch-up replays byte-for-byte what live readers saw, and no change is
    rendered or encoded twice. ``entry_id`` is a plain number, not a foreign
    key, so the record of a deletion outlives the entry.
    """

    class Kind(models.TextChoices):
        PUBLISHED = "entry.published", _("Entry published")
        UPDATED = "entry.updated", _("Entry edited")
        UNPUBLISHED = "entry.unpublished", _("Entry unpublished")
        DELETED = "entry.deleted", _("Entry deleted")
        PINNED = "entry.pinned", _("Entry pinned")
        UNPINNED = "entry.unpinned", _("Entry unpinned")
        STATUS = "ticker.status", _("Ticker status changed")

    ticker = models.ForeignKey(Ticker, on_delete=models.CASCADE, related_name="changes")
    seq = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    entry_id = models.BigIntegerField(null=True, blank=True)
    frame = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("change")
        verbose_name_plural = _("changes")
        ordering = ["ticker", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["ticker", "seq"], name="change_unique_seq_per_ticker")
        ]

    def __str__(self) -> str:
        return f"{self.ticker_id}#{self.seq} {self.kind}"


class ReaderPresence(models.Model):
    """How many readers one server process has on one ticker, refreshed periodically.

    Each process writes its own row, so the admin can add up readers across
    several processes without a shared in-memory counter.
    """

    process = models.CharField(max_length=64)
    ticker = models.ForeignKey(Ticker, on_delete=models.CASCADE, related_name="presence")
    readers = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["process", "ticker"], name="presence_unique")
        ]

    def __str__(self) -> str:
        return f"{self.process}: {self.readers} on ticker {self.ticker_id}"
