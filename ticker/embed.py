"""The embeddable widget: its page, its options, who may frame it, and oEmbed.

Other sites show a ticker with one ``<script>`` line (``static/ticker/embed.js``)
that inserts an iframe pointing at :func:`embed_page`, or with a plain iframe,
or by pasting the live page's address into a CMS that speaks oEmbed. The embed
page renders entries with the same partial as the live page and runs the same
``live.js``, so the widget follows the same WebSocket protocol and catch-up rule.

Framing: every page answers ``frame-ancestors 'none'`` (``SECURE_CSP``) and
``X-Frame-Options: DENY``; only the embed page is exempt and names the sites
that may frame it, from the ticker's own list or ``EMBED_ALLOWED_ORIGINS``.

Caching: the embed page is public for :data:`EMBED_MAX_AGE` seconds. It carries
the change number it was rendered at (``data-seq``), so a copy served from a
cache is brought up to date by the catch-up on connect. ``embed.js`` is served
by WhiteNoise; see :func:`embed_script_url` for why the snippet uses its
unhashed name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import Resolver404, resolve, reverse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.csp import CSP, build_policy
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe

from ticker.middleware import language_independent
from ticker.models import Ticker
from ticker.validators import parse_sources

# Seconds a browser or CDN may reuse the embed page; widgets multiply page
# views, and the client catches up on whatever happened since (data-seq).
EMBED_MAX_AGE = 30
# Seconds a CMS may reuse an oEmbed answer (sent as Cache-Control and cache_age).
OEMBED_MAX_AGE = 3600
# Name shown by CMSs for embeds from this service.
PROVIDER_NAME = "Liveticker"
# Size of the iframe in the plain-iframe snippet and the oEmbed answer.
DEFAULT_WIDTH = 600
DEFAULT_HEIGHT = 600

MIN_COUNT, DEFAULT_COUNT, MAX_COUNT = 1, 10, 50
THEMES = ("light", "dark")
LAYOUTS = ("full", "compact")
TRUE_WORDS = frozenset({"1", "true", "yes", "on", "show"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", "hide"})

# An exact origin, as ``location.origin`` gives it: the widget's postMessage target.
_ORIGIN_RE = re.compile(r"^https?://(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$")


@dataclass(frozen=True)
class EmbedOptions:
    """What a host page chose for its widget; anything invalid keeps the default."""

    count: int = DEFAULT_COUNT  # newest entries shown
    key_only: bool = False  # only key events
    theme: str = "light"
    language: str = ""  # blank: the ticker's language
    layout: str = "full"
    header: bool = True  # show the ticker's title and status above the entries

    # Query parameter (and, with "data-" and dashes, script attribute) per field.
    PARAMS = {
        "count": "count",
        "key_only": "key_only",
        "theme": "theme",
        "language": "lang",
        "layout": "layout",
        "header": "header",
    }

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> EmbedOptions:
        """Read options from query parameters, ignoring values that make no sense."""
        options = cls()
        count = _parse_int(query.get("count", ""))
        if count is not None:
            options = replace(options, count=max(MIN_COUNT, min(count, MAX_COUNT)))
        key_only = _parse_bool(query.get("key_only", ""))
        if key_only is not None:
            options = replace(options, key_only=key_only)
        theme = query.get("theme", "").strip().lower()
        if theme in THEMES:
            options = replace(options, theme=theme)
        language = query.get("lang", "").strip().lower()
        if language in dict(settings.LANGUAGES):
            options = replace(options, language=language)
        layout = query.get("layout", "").strip().lower()
        if layout in LAYOUTS:
            options = replace(options, layout=layout)
        header = _parse_bool(query.get("header", ""))
        if header is not None:
            options = replace(options, header=header)
        return options

    def as_query(self) -> dict[str, str]:
        """Return the options that differ from the defaults, as query parameters."""
        defaults = EmbedOptions()
        query = {}
        for field, param in self.PARAMS.items():
            value = getattr(self, field)
            if value != getattr(defaults, field):
                query[param] = ("1" if value else "0") if isinstance(value, bool) else str(value)
        return query


def _parse_int(value: str) -> int | None:
    try:
        return int(value.strip())
    except ValueError:
        return None


def _parse_bool(value: str) -> bool | None:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def parse_parent_origin(value: str) -> str:
    """Return ``value`` if it is an http(s) origin, else "" (the widget then posts to "*")."""
    value = value.strip().lower()
    return value if len(value) <= 200 and _ORIGIN_RE.match(value) else ""


def allowed_origins(ticker: Ticker) -> list[str]:
    """Return the sites that may frame ``ticker``'s widget: its own list, else the setting.

    A ticker list with nothing valid in it allows no other site rather than
    every site: whoever filled it in wanted to restrict, not to open up.
    """
    if ticker.embed_origins.strip():
        return parse_sources(ticker.embed_origins)
    return parse_sources(" ".join(settings.EMBED_ALLOWED_ORIGINS))


def frame_ancestors_policy(ticker: Ticker) -> str:
    """Return the Content-Security-Policy of the embed page (our own admin previews it)."""
    sources = [CSP.SELF, *allowed_origins(ticker)]
    if "*" in sources:
        sources = [CSP.SELF, "*"]
    return build_policy({"frame-ancestors": sources})


def embed_path(ticker: Ticker, options: EmbedOptions | None = None) -> str:
    """Return the embed page's path with the non-default options."""
    path = reverse("ticker:embed", kwargs={"slug": ticker.slug})
    query = options.as_query() if options else {}
    return f"{path}?{urlencode(query)}" if query else path


def embed_script_url(request: HttpRequest) -> str:
    """Return the stable, absolute address of embed.js for host pages.

    Host pages cannot follow our releases, so the snippet names the unhashed
    file. CompressedManifestStaticFilesStorage keeps it next to the hashed
    copy, and WhiteNoise serves unhashed names with WHITENOISE_MAX_AGE (five
    minutes) and an ETag: a release reaches every host page within minutes,
    and revalidating a 2 KB file is a cheap 304. Our own pages use the hashed
    name, cached for ever. A redirecting view would cost every page view of
    every host an extra round trip, for no gain.
    """
    return request.build_absolute_uri(f"{settings.STATIC_URL}ticker/embed.js")


def iframe_html(src: str, title: str, width: int | str, height: int) -> SafeString:
    """Return the plain iframe markup used by oEmbed and the admin snippet."""
    return format_html(
        '<iframe src="{}" title="{}" width="{}" height="{}" style="border:0;max-width:100%" '
        'loading="lazy"></iframe>',
        src,
        title,
        width,
        height,
    )


def widget_title(ticker: Ticker) -> str:
    """Return the accessible title of the widget's iframe, in the ticker's language."""
    with translation.override(ticker.language):
        return _("Live blog: %(title)s") % {"title": ticker.title}


@require_safe
@xframe_options_exempt
@language_independent
def embed_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Render the widget: the newest entries, live, for an iframe on another site."""
    ticker = get_object_or_404(Ticker, slug=slug)
    options = EmbedOptions.from_query(request.GET)
    published = ticker.entries.published().for_rendering()
    if options.key_only:
        published = published.filter(is_key_event=True)
    entries = list(published.filter(is_pinned=False).newest_first()[: options.count])
    context = {
        "ticker": ticker,
        "options": options,
        "entries": entries,
        "pinned": published.filter(is_pinned=True).first(),
        "parent_origin": parse_parent_origin(request.GET.get("parent", "")),
        "live_url": request.build_absolute_uri(ticker.get_absolute_url()),
    }
    with translation.override(options.language or ticker.language):
        response = render(request, "ticker/embed.html", context)
    # Set here, the CSP middleware leaves it alone (it never overwrites a view's header).
    response[CSP.HEADER_ENFORCE] = frame_ancestors_policy(ticker)
    patch_cache_control(response, public=True, max_age=EMBED_MAX_AGE)
    return response


def ticker_for_url(request: HttpRequest, url: str) -> tuple[Ticker, EmbedOptions] | None:
    """Return the ticker (and widget options) a URL on this site points to, if any."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or parts.netloc.lower() != request.get_host().lower():
        return None
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    if match.view_name not in ("ticker:live", "ticker:embed", "ticker:entry"):
        return None
    ticker = Ticker.objects.filter(slug=match.kwargs["slug"]).first()
    if ticker is None:
        return None
    return ticker, EmbedOptions.from_query(QueryDict(parts.query))


def _positive(value: str | None) -> int | None:
    number = _parse_int(value or "")
    return number if number is not None and number > 0 else None


@require_safe
def oembed(request: HttpRequest) -> HttpResponse:
    """Answer oEmbed requests for live pages with a "rich" iframe embed (JSON only)."""
    if request.GET.get("format", "json") != "json":
        return HttpResponse(
            "Only format=json is supported.", status=501, content_type="text/plain"
        )
    url = request.GET.get("url", "")
    if not url:
        return HttpResponseBadRequest("The url parameter is required.", content_type="text/plain")
    found = ticker_for_url(request, url)
    if found is None:
        raise Http404("No ticker at that address.")
    ticker, options = found
    width, height = DEFAULT_WIDTH, DEFAULT_HEIGHT
    if (max_width := _positive(request.GET.get("maxwidth"))) is not None:
        width = min(width, max_width)
    if (max_height := _positive(request.GET.get("maxheight"))) is not None:
        height = min(height, max_height)
    src = request.build_absolute_uri(embed_path(ticker, options))
    document = {
        "version": "1.0",
        "type": "rich",
        "title": ticker.title,
        "provider_name": PROVIDER_NAME,
        "provider_url": request.build_absolute_uri("/"),
        "html": iframe_html(src, widget_title(ticker), width, height),
        "width": width,
        "height": height,
        "cache_age": OEMBED_MAX_AGE,
    }
    response = HttpResponse(
        json.dumps(document, ensure_ascii=False), content_type="application/json; charset=utf-8"
    )
    patch_cache_control(response, public=True, max_age=OEMBED_MAX_AGE)
    # Public data: browser-side CMS editors may fetch it directly.
    response["Access-Control-Allow-Origin"] = "*"
    return response


def oembed_discovery_url(request: HttpRequest, ticker: Ticker) -> str:
    """Return the oEmbed address that describes ``ticker``'s live page."""
    query = urlencode(
        {"url": request.build_absolute_uri(ticker.get_absolute_url()), "format": "json"}
    )
    return request.build_absolute_uri(f"{reverse('ticker:oembed')}?{query}")
