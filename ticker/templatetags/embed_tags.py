"""Template tags for the embeddable widget: the editors' snippet and oEmbed discovery."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.template.context import Context
from django.utils import translation
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from ticker import embed
from ticker.models import Ticker

register = template.Library()


@register.simple_tag(takes_context=True)
def oembed_link(context: Context, ticker: Ticker) -> SafeString:
    """Return the discovery <link> that lets CMSs turn a pasted live-page URL into the widget."""
    request = context.get("request")
    if request is None:
        return SafeString("")
    return format_html(
        '<link rel="alternate" type="application/json+oembed" href="{}" title="{}">',
        embed.oembed_discovery_url(request, ticker),
        ticker.title,
    )


@register.inclusion_tag("admin/ticker/ticker/_embed_snippet.html", takes_context=True)
def embed_snippet(context: Context, ticker: Ticker) -> dict[str, Any]:
    """Give editors the ready-to-copy widget snippet, its options and a live preview."""
    request = context["request"]
    script_url = embed.embed_script_url(request)
    site_origin = request.build_absolute_uri("/").rstrip("/")
    live_url = request.build_absolute_uri(ticker.get_absolute_url())
    embed_url = request.build_absolute_uri(embed.embed_path(ticker))
    title = embed.widget_title(ticker)
    with translation.override(ticker.language):
        # Shown to the host page's readers, so in the ticker's language.
        noscript_text = _("Follow the live blog: %(title)s") % {"title": ticker.title}
    origin = "" if script_url.startswith(site_origin + "/") else site_origin
    snippet = format_html(
        '<script src="{}" data-ticker="{}" data-title="{}"{} async></script>'
        '<noscript><a href="{}">{}</a></noscript>',
        script_url,
        ticker.slug,
        title,
        format_html(' data-origin="{}"', origin) if origin else "",
        live_url,
        noscript_text,
    )
    return {
        "ticker": ticker,
        "snippet": snippet,
        "script_url": script_url,
        # Only needed when static files come from another host (a CDN).
        "data_origin": origin,
        "live_url": live_url,
        "embed_url": embed_url,
        "widget_title": title,
        "iframe_snippet": embed.iframe_html(
            embed_url, title, embed.DEFAULT_WIDTH, embed.DEFAULT_HEIGHT
        ),
        "count_default": embed.DEFAULT_COUNT,
        "count_min": embed.MIN_COUNT,
        "count_max": embed.MAX_COUNT,
        "languages": settings.LANGUAGES,
        "allowed_origins": embed.allowed_origins(ticker),
        "noscript_text": noscript_text,
    }
