"""The newsroom console: the Django admin, with every write routed through the services.

Entries and ticker status are never saved or deleted here directly: every
admin path (change form, list actions, change-form actions, the quick-post
form and the per-row buttons on a ticker's page) calls :mod:`ticker.services`,
so each change is numbered, logged for catch-up and reaches readers live. Every
path also writes the admin history (``LogEntry``), so the newsroom can see who
did what.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import ActionLocation
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    QueryDict,
)
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST
from django_prose_editor.widgets import AdminProseEditorWidget

from ticker import presence, services
from ticker.models import Article, Entry, Ticker

# Actions offered both in the entry list and on an entry's change form.
BOTH_PLACES = [ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM]


class QuickPostForm(forms.ModelForm):
    """The short form at the top of a ticker's admin page: an update in seconds."""

    class Meta:
        model = Entry
        fields = ["headline", "body", "article", "is_key_event", "is_pinned"]
        widgets = {"body": AdminProseEditorWidget}

    def __init__(self, *args: Any, admin_site: admin.AdminSite, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        article = self.fields["article"]
        assert isinstance(article, forms.ModelChoiceField)
        widget = AutocompleteSelect(Entry._meta.get_field("article"), admin_site)
        widget.choices = article.choices
        article.widget = widget
        self.fields["headline"].widget.attrs.update(
            {"class": "vTextField", "placeholder": _("Optional")}
        )
        self.fields["body"].required = True


@admin.register(Ticker)
class TickerAdmin(admin.ModelAdmin):
    list_display = ["title", "status", "starts_at", "language", "entry_count", "readers"]
    list_filter = ["status", "language"]
    search_fields = ["title", "slug", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["last_seq"]
    actions = ["go_live", "end_coverage"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "status", "summary"]}),
        (gettext_lazy("Coverage"), {"fields": ["starts_at", "ends_at", "language", "last_seq"]}),
        (gettext_lazy("Widget"), {"fields": ["embed_origins"], "classes": ["collapse"]}),
    ]
    change_form_template = "admin/ticker/ticker/change_form.html"
    # How many entries the ticker's page lists below the quick-post form.
    recent_entry_count = 25

    def get_queryset(self, request: HttpRequest) -> QuerySet[Ticker]:
        tickers = super().get_queryset(request).annotate(_entry_count=Count("entries"))
        return presence.with_readers(tickers)

    @admin.display(description=gettext_lazy("entries"), ordering="_entry_count")
    def entry_count(self, obj: Ticker) -> int:
        return obj._entry_count  # type: ignore[attr-defined]

    @admin.display(description=gettext_lazy("readers now"), ordering="readers_now")
    def readers(self, obj: Ticker) -> int:
        return obj.readers_now  # type: ignore[attr-defined]

    def save_model(
        self, request: HttpRequest, obj: Ticker, form: forms.Form, change: bool
    ) -> None:
        """Save through the service, so a status change set in the form reaches readers."""
        services.save_ticker(obj, user=request.user)

    def delete_model(self, request: HttpRequest, obj: Ticker) -> None:
        """End a running ticker for its readers before it disappears."""
        services.delete_ticker(obj, user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Ticker]) -> None:
        for ticker in queryset:
            services.delete_ticker(ticker, user=request.user)

    # --- Status actions --------------------------------------------------------

    def _set_status(self, request: HttpRequest, tickers: Iterable[Ticker], status: str) -> int:
        """Set ``status`` through the service where it differs; return how many changed."""
        changed = 0
        for ticker in tickers:
            if ticker.status == status:
                continue
            services.set_ticker_status(ticker, status, user=request.user)
            self.log_change(request, ticker, [{"changed": {"fields": ["status"]}}])
            changed += 1
        return changed

    @admin.action(description=gettext_lazy("Set selected tickers live"), permissions=["change"])
    def go_live(self, request: HttpRequest, queryset: QuerySet[Ticker]) -> None:
        count = self._set_status(request, queryset, Ticker.Status.LIVE)
        self.message_user(
            request,
            ngettext("%d ticker is now live.", "%d tickers are now live.", count) % count,
            messages.SUCCESS,
        )

    @admin.action(description=gettext_lazy("End selected tickers"), permissions=["change"])
    def end_coverage(
        self, request: HttpRequest, queryset: QuerySet[Ticker]
    ) -> HttpResponse | None:
        """Ask first (ending reaches every reader at once), then end the selected tickers."""
        if request.POST.get("post") != "yes":
            return self._confirm_end(request, list(queryset), action="end_coverage")
        count = self._set_status(request, queryset, Ticker.Status.ENDED)
        self.message_user(
            request,
            ngettext("%d ticker ended.", "%d tickers ended.", count) % count,
            messages.SUCCESS,
        )
        return None

    def _confirm_end(
        self, request: HttpRequest, tickers: list[Ticker], *, action: str = ""
    ) -> TemplateResponse:
        """Render the page that asks before coverage ends; it works without JavaScript.

        From the ticker list (``action``) the form posts the action again with
        ``post=yes``; from a ticker's page it posts ``confirm=yes`` to the
        status URL. "No" is a plain link back.
        """
        single = None if action else tickers[0]
        context = {
            **self.admin_site.each_context(request),
            "title": _("End coverage?"),
            "opts": self.opts,
            "tickers": tickers,
            "ticker": single,
            "action": action,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "cancel_url": (
                reverse("admin:ticker_ticker_change", args=[single.pk])
                if single is not None
                else reverse("admin:ticker_ticker_changelist")
            ),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request, "admin/ticker/ticker/end_coverage_confirmation.html", context
        )

    # --- The ticker's page as a console -----------------------------------------

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/post/",
                self.admin_site.admin_view(self.quick_post_view),
                name="{}_{}_quick_post".format(*info),
            ),
            path(
                "<path:object_id>/entries/<int:entry_id>/<str:action>/",
                self.admin_site.admin_view(self.entry_action_view),
                name="{}_{}_entry_action".format(*info),
            ),
            path(
                "<path:object_id>/status/<str:status>/",
                self.admin_site.admin_view(self.status_view),
                name="{}_{}_status".format(*info),
            ),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """Add the quick-post form, the newest entries and the reader count to the page."""
        ticker = self.get_object(request, object_id)
        context: dict[str, Any] = {}
        if ticker is not None:
            user = request.user
            can_post = user.has_perm("ticker.add_entry")
            context = {
                "quick_post_form": self._quick_post_form(request, ticker) if can_post else None,
                "recent_entries": ticker.entries.select_related("article").newest_first()[
                    : self.recent_entry_count
                ],
                "readers_now": presence.readers_now(ticker.pk),
                "can_change_entries": user.has_perm("ticker.change_entry"),
                "can_delete_entries": user.has_perm("ticker.delete_entry"),
                "can_change_ticker": self.has_change_permission(request, ticker),
                "status_choices": Ticker.Status.choices,
            }
        context.update(extra_context or {})
        return super().change_view(request, object_id, form_url, context)

    def _quick_post_form(self, request: HttpRequest, ticker: Ticker) -> QuickPostForm:
        """Return an empty form, or the one that just failed, bound again with its errors."""
        failed = request.session.pop(_quick_post_key(ticker.pk), None)
        if failed is None:
            return QuickPostForm(admin_site=self.admin_site)
        data = QueryDict(mutable=True)
        for key, values in failed.items():
            data.setlist(key, values)
        form = QuickPostForm(data, admin_site=self.admin_site)
        form.is_valid()  # fills form.errors for the template
        return form

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Ticker | None = None,
    ) -> HttpResponse:
        """Merge the quick-post form's media (prose editor, select2) into the page's media.

        Merging instead of rendering it separately loads jQuery once and in
        the order the admin's own scripts and select2 need.
        """
        quick_post_form = context.get("quick_post_form")
        if quick_post_form is not None:
            context["media"] = context["media"] + quick_post_form.media
        return super().render_change_form(request, context, add, change, form_url, obj)

    @property
    def entry_admin(self) -> admin.ModelAdmin:
        """Return the entry admin, under which entry changes go into the history."""
        return self.admin_site.get_model_admin(Entry)

    def _ticker_for_console(self, request: HttpRequest, object_id: str) -> Ticker:
        ticker = self.get_object(request, object_id)
        if ticker is None:
            raise Http404
        if not self.has_view_or_change_permission(request, ticker):
            raise PermissionDenied
        return ticker

    def _back_to_ticker(self, ticker_id: int | str) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:ticker_ticker_change", args=[ticker_id]))

    def quick_post_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Publish (or save as draft) one update and bring the editor back to the ticker.

        On invalid input the ticker page is rendered again with the bound
        form, so the errors show next to the fields and nothing typed is lost.
        """
        if request.method != "POST":
            return self._back_to_ticker(object_id)
        if not request.user.has_perm("ticker.add_entry"):
            raise PermissionDenied
        ticker = self._ticker_for_console(request, object_id)
        form = QuickPostForm(request.POST, admin_site=self.admin_site)
        if not form.is_valid():
            self.message_user(
                request, _("The update was not saved. Please correct the errors below."),
                messages.ERROR,
            )  # fmt: skip
            # Post/redirect/get: the ticker page shows the form again with what was
            # typed and its errors, and reloading it does not post a second time.
            data = {key: request.POST.getlist(key) for key in form.fields if key in request.POST}
            request.session[_quick_post_key(ticker.pk)] = data
            return self._back_to_ticker(ticker.pk)

        entry = form.save(commit=False)
        entry.ticker = ticker
        draft = "_draft" in request.POST
        entry.status = Entry.Status.DRAFT if draft else Entry.Status.PUBLISHED
        entry = services.save_entry(entry, user=request.user)
        self.entry_admin.log_addition(request, entry, [{"added": {}}])
        message = _("Update saved as draft: {entry}") if draft else _("Update published: {entry}")
        self.message_user(
            request,
            format_html(
                message, entry=format_html('<a href="{}">{}</a>', _entry_url(entry), str(entry))
            ),
            messages.SUCCESS,
        )
        return self._back_to_ticker(ticker.pk)

    @method_decorator(require_POST)
    def entry_action_view(
        self, request: HttpRequest, object_id: str, entry_id: int, action: str
    ) -> HttpResponse:
        """Pin, unpin, publish, unpublish or delete one entry from the ticker page."""
        if action not in _ENTRY_ACTIONS:
            raise Http404
        permission, run, fields, message = _ENTRY_ACTIONS[action]
        if not request.user.has_perm(permission):
            raise PermissionDenied
        ticker = self._ticker_for_console(request, object_id)
        entry = get_object_or_404(
            Entry.objects.select_related("ticker"), pk=entry_id, ticker=ticker
        )
        label = str(entry)
        if action == "delete":
            # The history must be written while the entry still exists.
            self.entry_admin.log_deletions(request, Entry.objects.filter(pk=entry.pk))
            run(entry, request)
        else:
            changed: Entry = run(entry, request)
            self.entry_admin.log_change(request, changed, [{"changed": {"fields": fields}}])
        self.message_user(request, str(message) % label, messages.SUCCESS)
        return self._back_to_ticker(ticker.pk)

    def status_view(self, request: HttpRequest, object_id: str, status: str) -> HttpResponse:
        """Set the ticker upcoming or live with one button on its page; ask before ending it.

        Ending takes the ticker off air for every reader at once, so it needs
        a second, explicit POST (``confirm=yes``) from the confirmation page;
        a GET, or a POST without it, shows that page.
        """
        if status not in Ticker.Status.values:
            raise Http404
        ticker = self.get_object(request, object_id)
        if ticker is None:
            raise Http404
        if not self.has_change_permission(request, ticker):
            raise PermissionDenied
        ending = status == Ticker.Status.ENDED
        if ending and ticker.status != status and request.POST.get("confirm") != "yes":
            return self._confirm_end(request, [ticker])
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        self._set_status(request, [ticker], status)
        self.message_user(
            request,
            _("The ticker is now: %s") % Ticker.Status(status).label,
            messages.SUCCESS,
        )
        return self._back_to_ticker(ticker.pk)


def _quick_post_key(ticker_id: int) -> str:
    """Name the session slot holding a failed quick post for one ticker."""
    return f"ticker:quick-post:{ticker_id}"


def _entry_url(entry: Entry) -> str:
    return reverse("admin:ticker_entry_change", args=[entry.pk])


# action name -> (permission, what to do, history fields, message)
_EntryAction = tuple[str, Callable[[Entry, HttpRequest], Any], list[str], Any]
_ENTRY_ACTIONS: dict[str, _EntryAction] = {
    "pin": (
        "ticker.change_entry",
        lambda entry, request: services.set_pinned(entry, True, user=request.user),
        ["is_pinned"],
        gettext_lazy("Pinned: %s"),
    ),
    "unpin": (
        "ticker.change_entry",
        lambda entry, request: services.set_pinned(entry, False, user=request.user),
        ["is_pinned"],
        gettext_lazy("Unpinned: %s"),
    ),
    "publish": (
        "ticker.change_entry",
        lambda entry, request: services.publish_entry(entry, user=request.user),
        ["status"],
        gettext_lazy("Published: %s"),
    ),
    "unpublish": (
        "ticker.change_entry",
        lambda entry, request: services.unpublish_entry(entry, user=request.user),
        ["status"],
        gettext_lazy("Unpublished: %s"),
    ),
    "delete": (
        "ticker.delete_entry",
        lambda entry, request: services.delete_entry(entry, user=request.user),
        [],
        gettext_lazy("Deleted: %s"),
    ),
}


@admin.register(Entry)
class EntryAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "ticker",
        "display_at",
        "status",
        "is_key_event",
        "is_pinned",
        "byline",
    ]
    list_filter = ["ticker", "status", "is_key_event", "is_pinned"]
    list_select_related = ["ticker"]
    search_fields = ["headline", "body", "byline"]
    date_hierarchy = "display_at"
    autocomplete_fields = ["article", "ticker"]
    readonly_fields = ["author", "created_at", "updated_at"]
    actions = ["publish", "unpublish", "pin", "unpin"]
    fieldsets = [
        (None, {"fields": ["ticker", "status", "display_at", "headline", "body"]}),
        (gettext_lazy("Flags"), {"fields": ["is_key_event", "is_pinned"]}),
        (gettext_lazy("Quote"), {"fields": ["quote", "quote_attribution"]}),
        (
            gettext_lazy("Photo or video"),
            {
                "fields": [
                    "media_kind",
                    "media_url",
                    "media_caption",
                    "media_credit",
                    "media_date",
                    "media_duration",
                ]
            },
        ),
        (gettext_lazy("Links and credits"), {"fields": ["article", "byline", "author"]}),
        (gettext_lazy("History"), {"fields": ["created_at", "updated_at"]}),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Entry | None = None) -> list[str]:
        """Keep an entry in its ticker: moving it would leave it on the old ticker's pages."""
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "ticker"] if obj is not None else fields

    def save_model(self, request: HttpRequest, obj: Entry, form: forms.Form, change: bool) -> None:
        """Save through the service, keeping the stored time if the editor did not touch it.

        The admin's date and time inputs drop microseconds; writing the
        truncated time back would count as a visible edit and send every
        reader an ``entry.updated`` for a save that changed nothing.
        """
        if change and "display_at" not in form.changed_data:
            obj.display_at = form.initial["display_at"]
        services.save_entry(obj, user=request.user)

    def delete_model(self, request: HttpRequest, obj: Entry) -> None:
        services.delete_entry(obj, user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Entry]) -> None:
        for entry in queryset.select_related("ticker"):
            services.delete_entry(entry, user=request.user)

    def response_post_save_change(self, request: HttpRequest, obj: Entry) -> HttpResponseRedirect:
        """After editing an entry, go back to its ticker's console rather than the list."""
        ticker_admin = self.admin_site.get_model_admin(Ticker)
        if ticker_admin.has_view_or_change_permission(request, obj.ticker):
            return HttpResponseRedirect(
                reverse("admin:ticker_ticker_change", args=[obj.ticker_id])
            )
        return super().response_post_save_change(request, obj)

    def _bulk(self, request: HttpRequest, entries: list[Entry], **fields: Any) -> int:
        """Apply ``fields`` to each entry that differs, through the service; return how many."""
        changed = 0
        for entry in entries:
            if all(getattr(entry, name) == value for name, value in fields.items()):
                continue
            updated = services.update_entry(entry, user=request.user, **fields)
            self.log_change(request, updated, [{"changed": {"fields": list(fields)}}])
            changed += 1
        return changed

    def _report(self, request: HttpRequest, message: str) -> None:
        self.message_user(request, message, messages.SUCCESS)

    @admin.action(
        description=gettext_lazy("Publish this entry"),
        description_plural=gettext_lazy("Publish selected entries"),
        permissions=["change"],
        location=BOTH_PLACES,
    )
    def publish(self, request: HttpRequest, queryset: QuerySet[Entry]) -> None:
        count = self._bulk(
            request, list(queryset.select_related("ticker")), status=Entry.Status.PUBLISHED
        )
        self._report(
            request, ngettext("%d entry published.", "%d entries published.", count) % count
        )

    @admin.action(
        description=gettext_lazy("Unpublish this entry"),
        description_plural=gettext_lazy("Unpublish selected entries"),
        permissions=["change"],
        location=BOTH_PLACES,
    )
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Entry]) -> None:
        count = self._bulk(
            request, list(queryset.select_related("ticker")), status=Entry.Status.DRAFT
        )
        self._report(
            request, ngettext("%d entry unpublished.", "%d entries unpublished.", count) % count
        )

    @admin.action(
        description=gettext_lazy("Pin this entry"),
        description_plural=gettext_lazy("Pin selected entry (one per ticker)"),
        permissions=["change"],
        location=BOTH_PLACES,
    )
    def pin(self, request: HttpRequest, queryset: QuerySet[Entry]) -> None:
        """Pin the selected entries; a ticker has one pinned entry, so refuse two of one ticker."""
        entries = list(queryset.select_related("ticker"))
        per_ticker = Counter(entry.ticker_id for entry in entries)
        if any(count > 1 for count in per_ticker.values()):
            self.message_user(
                request,
                _("A ticker has only one pinned entry: select one entry per ticker."),
                messages.ERROR,
            )
            return
        count = self._bulk(request, entries, is_pinned=True)
        self._report(request, ngettext("%d entry pinned.", "%d entries pinned.", count) % count)

    @admin.action(
        description=gettext_lazy("Unpin this entry"),
        description_plural=gettext_lazy("Unpin selected entries"),
        permissions=["change"],
        location=BOTH_PLACES,
    )
    def unpin(self, request: HttpRequest, queryset: QuerySet[Entry]) -> None:
        count = self._bulk(request, list(queryset.select_related("ticker")), is_pinned=False)
        self._report(
            request, ngettext("%d entry unpinned.", "%d entries unpinned.", count) % count
        )


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "kicker", "author", "published_at", "ticker"]
    list_filter = ["ticker"]
    search_fields = ["title", "kicker", "teaser"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["ticker"]
    date_hierarchy = "published_at"

    def save_model(
        self, request: HttpRequest, obj: Article, form: forms.Form, change: bool
    ) -> None:
        """Save through the service, so entries showing this article's card are updated."""
        services.save_article(obj, user=request.user)
