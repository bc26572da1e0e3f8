"""The newsroom console: the Django admin, with every write routed through the services."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from ticker import presence, services
from ticker.models import Article, Entry, Ticker


class QuickPostForm(forms.ModelForm):
    """The short form at the top of a ticker's admin page: an update in seconds."""

    class Meta:
        model = Entry
        fields = ["headline", "body", "article", "is_key_event", "is_pinned"]

    def __init__(self, *args: object, admin_site: admin.AdminSite, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        article = self.fields["article"]
        article.widget = AutocompleteSelect(Entry._meta.get_field("article"), admin_site)
        article.widget.choices = article.choices
        self.fields["body"].required = True


@admin.register(Ticker)
class TickerAdmin(admin.ModelAdmin):
    list_display = ["title", "status", "starts_at", "language", "entry_count", "readers"]
    list_filter = ["status", "language"]
    search_fields = ["title", "slug", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["last_seq"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "status", "summary"]}),
        (gettext_lazy("Coverage"), {"fields": ["starts_at", "ends_at", "language", "last_seq"]}),
    ]
    change_form_template = "admin/ticker/ticker/change_form.html"

    @admin.display(description=gettext_lazy("entries"))
    def entry_count(self, obj: Ticker) -> int:
        return obj.entries.count()

    @admin.display(description=gettext_lazy("readers now"))
    def readers(self, obj: Ticker) -> int:
        return presence.readers_now(obj.pk)

    def save_model(
        self, request: HttpRequest, obj: Ticker, form: forms.Form, change: bool
    ) -> None:
        services.save_ticker(obj, user=request.user)

    def get_urls(self) -> list:
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
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        ticker = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if ticker is not None:
            can_post = request.user.has_perm("ticker.add_entry")
            extra_context.update(
                quick_post_form=QuickPostForm(admin_site=self.admin_site) if can_post else None,
                quick_post_media=QuickPostForm(admin_site=self.admin_site).media,
                recent_entries=ticker.entries.select_related("article").newest_first()[:25],
                readers_now=presence.readers_now(ticker.pk),
                can_change_entries=request.user.has_perm("ticker.change_entry"),
                can_delete_entries=request.user.has_perm("ticker.delete_entry"),
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def quick_post_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Publish the quick-post form and return the editor to the ticker page."""
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:ticker_ticker_change", args=[object_id]))
        if not request.user.has_perm("ticker.add_entry"):
            raise PermissionDenied
        ticker = get_object_or_404(Ticker, pk=object_id)
        form = QuickPostForm(request.POST, admin_site=self.admin_site)
        if form.is_valid():
            entry = form.save(commit=False)
            entry.ticker = ticker
            entry = services.save_entry(entry, user=request.user)
            self.log_addition(request, entry, [{"added": {}}])
            self.message_user(request, _("Update published."), messages.SUCCESS)
        else:
            errors = "; ".join(
                f"{form.fields[name].label if name in form.fields else name}: {' '.join(errs)}"
                for name, errs in form.errors.items()
            )
            self.message_user(request, _("Update not published: %s") % errors, messages.ERROR)
        return HttpResponseRedirect(reverse("admin:ticker_ticker_change", args=[ticker.pk]))

    def entry_action_view(
        self, request: HttpRequest, object_id: str, entry_id: int, action: str
    ) -> HttpResponse:
        """Pin, unpin, publish, unpublish or delete one entry from the ticker page."""
        return _entry_action(self, request, object_id, entry_id, action)


@require_POST
def _entry_action(
    model_admin: TickerAdmin, request: HttpRequest, object_id: str, entry_id: int, action: str
) -> HttpResponse:
    entry = get_object_or_404(
        Entry.objects.select_related("ticker"), pk=entry_id, ticker_id=object_id
    )
    needed = "ticker.delete_entry" if action == "delete" else "ticker.change_entry"
    if not request.user.has_perm(needed):
        raise PermissionDenied
    actions = {
        "pin": (lambda: services.set_pinned(entry, True, user=request.user), _("Pinned.")),
        "unpin": (lambda: services.set_pinned(entry, False, user=request.user), _("Unpinned.")),
        "publish": (lambda: services.publish_entry(entry, user=request.user), _("Published.")),
        "unpublish": (
            lambda: services.unpublish_entry(entry, user=request.user),
            _("Unpublished."),
        ),
    }
    if action == "delete":
        entry_admin = model_admin.admin_site.get_model_admin(Entry)
        entry_admin.log_deletion(request, entry, str(entry))
        services.delete_entry(entry, user=request.user)
        model_admin.message_user(request, _("Deleted."), messages.SUCCESS)
    elif action in actions:
        run, message = actions[action]
        changed = run()
        entry_admin = model_admin.admin_site.get_model_admin(Entry)
        entry_admin.log_change(request, changed, [{"changed": {"fields": [action]}}])
        model_admin.message_user(request, message, messages.SUCCESS)
    else:
        model_admin.message_user(request, _("Unknown action."), messages.ERROR)
    return HttpResponseRedirect(reverse("admin:ticker_ticker_change", args=[object_id]))


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

    def save_model(self, request: HttpRequest, obj: Entry, form: forms.Form, change: bool) -> None:
        services.save_entry(obj, user=request.user)

    def delete_model(self, request: HttpRequest, obj: Entry) -> None:
        services.delete_entry(obj, user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Entry]) -> None:
        for entry in queryset:
            services.delete_entry(entry, user=request.user)

    def _bulk(
        self, request: HttpRequest, queryset: QuerySet[Entry], label: str, **fields: object
    ) -> None:
        for entry in queryset.select_related("ticker"):
            changed = services.update_entry(entry, user=request.user, **fields)
            self.log_change(request, changed, [{"changed": {"fields": list(fields)}}])
        self.message_user(request, label, messages.SUCCESS)

    @admin.action(description=gettext_lazy("Publish selected entries"), permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Entry]) -> None:
        self._bulk(request, queryset, _("Published."), status=Entry.Status.PUBLISHED)

    @admin.action(description=gettext_lazy("Unpublish selected entries"), permissions=["change"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Entry]) -> None:
        self._bulk(request, queryset, _("Unpublished."), status=Entry.Status.DRAFT)

    @admin.action(description=gettext_lazy("Pin selected entry"), permissions=["change"])
    def pin(self, request: HttpRequest, queryset: QuerySet[Entry]) -> None:
        self._bulk(request, queryset[:1], _("Pinned."), is_pinned=True)

    @admin.action(description=gettext_lazy("Unpin selected entries"), permissions=["change"])
    def unpin(self, request: HttpRequest, queryset: QuerySet[Entry]) -> None:
        self._bulk(request, queryset, _("Unpinned."), is_pinned=False)


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "kicker", "author", "published_at", "ticker"]
    list_filter = ["ticker"]
    search_fields = ["title", "kicker", "teaser"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["ticker"]
    date_hierarchy = "published_at"
