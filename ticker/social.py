"""Open Graph and Twitter card tags: what a shared link shows on social networks.

One place builds them for the three pages people share — the live page, an
entry's permalink and an article — and ``templates/ticker/_share_meta.html``
writes them out (through ``{% share_meta %}`` in ``share_tags``). Networks
fetch the image themselves, so every address is absolute, and SVG photos
(which none of them shows) give way to the default share image.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.http import HttpRequest
from django.templatetags.static import static
from django.utils.text import Truncator

from ticker.models import Article, Entry, Ticker
from ticker.rendering import plain_text

# og:locale per ticker language; a language without an entry falls back to ll_LL.
OG_LOCALES = {"de": "de_DE", "en": "en_GB"}
DESCRIPTION_CHARS = 200
TITLE_CHARS = 90


@dataclass(frozen=True)
class ShareTags:
    """The tags of one page: ``og`` as (property, content), ``twitter`` as (name, content)."""

    og: list[tuple[str, str]] = field(default_factory=list)
    twitter: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, str]:
        """Return every tag by its property or name (for tests and debugging)."""
        return dict(self.og + self.twitter)


def og_locale(language: str) -> str:
    code = language[:2].lower()
    return OG_LOCALES.get(code, f"{code}_{code.upper()}")


def _absolute(request: HttpRequest, url: str) -> str:
    return request.build_absolute_uri(url) if url.startswith("/") else url


def _shareable(url: str) -> bool:
    """Return True if social networks can show the image at ``url`` (no SVG)."""
    return bool(url) and not url.lower().split("?")[0].endswith(".svg")


def default_image(request: HttpRequest) -> tuple[str, str]:
    """Return the site's share image (``SHARE_IMAGE``) as an absolute URL, with its alt text."""
    image = settings.SHARE_IMAGE
    url = image if image.startswith(("https://", "http://", "/")) else static(image)
    return _absolute(request, url), settings.PUBLISHER_NAME


def build(
    request: HttpRequest,
    *,
    title: str,
    description: str,
    path: str,
    kind: str,
    language: str,
    image: str = "",
    image_alt: str = "",
) -> ShareTags:
    """Return the tags for one page; a photo that cannot be shared uses the default image."""
    if _shareable(image):
        image_url = _absolute(request, image)
    else:
        image_url, image_alt = default_image(request)
    og = [
        ("og:title", Truncator(title).chars(TITLE_CHARS)),
        ("og:description", Truncator(description).chars(DESCRIPTION_CHARS)),
        ("og:url", request.build_absolute_uri(path)),
        ("og:type", kind),
        ("og:site_name", settings.PUBLISHER_NAME),
        ("og:locale", og_locale(language)),
        ("og:image", image_url),
        ("og:image:alt", image_alt),
    ]
    return ShareTags(og=og, twitter=[("twitter:card", "summary_large_image")])


def entry_text(entry: Entry) -> str:
    """Return an entry as one line of plain text: body, else quote, else media caption."""
    return plain_text(entry.body) or " ".join(entry.quote.split()) or entry.media_caption


def for_ticker(request: HttpRequest, ticker: Ticker) -> ShareTags:
    return build(
        request,
        title=ticker.title,
        description=ticker.summary or ticker.title,
        path=ticker.get_absolute_url(),
        kind="website",
        language=ticker.language,
    )


def for_entry(request: HttpRequest, entry: Entry) -> ShareTags:
    text = entry_text(entry)
    photo = entry.media_url if entry.media_kind == Entry.Media.PHOTO else ""
    return build(
        request,
        title=entry.headline or text or entry.ticker.title,
        description=text or entry.ticker.title,
        path=entry.get_absolute_url(),
        kind="article",
        language=entry.ticker.language,
        image=photo,
        image_alt=entry.media_caption or entry.headline or text,
    )


def for_article(request: HttpRequest, article: Article, ticker: Ticker | None) -> ShareTags:
    """Return the tags of an article, in the language of the live blog it belongs to."""
    return build(
        request,
        title=article.title,
        description=article.teaser or plain_text(article.body) or article.title,
        path=article.get_absolute_url(),
        kind="article",
        language=ticker.language if ticker else settings.LANGUAGE_CODE,
        image=article.image_url,
        image_alt=article.image_caption or article.title,
    )
