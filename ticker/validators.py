"""Validators for what editors type into addresses, shared by models, forms and the widget.

This module sits below both :mod:`ticker.models` and :mod:`ticker.embed`: the
models validate with it, and the widget's framing policy parses with the same
rules, so an address the form accepts is one the policy keeps, and models need
to know nothing about the widget.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

# A CSP host-source, as an editor would type it: optional http(s) scheme, a host
# (optionally "*." for every subdomain) or bracketed IPv6 address, optional port.
# Nothing else (no path, quote, semicolon or space) can reach the header.
_HOST = r"(?:\*\.)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*"
_SOURCE_RE = re.compile(rf"^(?:https?://)?(?:{_HOST}|\[[0-9a-f:.]+\])(?::(?:\d{{1,5}}|\*))?$")


def validate_media_url(value: str) -> None:
    """Accept an http(s) address or a path on this site, nothing else (no javascript:).

    Browsers read ``//host`` and ``/\\host`` (and the same with tabs or line
    breaks stripped out) as another site, so a path on this site may hold no
    backslash, whitespace or control character and may not start with two slashes.
    """
    if value.startswith("/"):
        if value.startswith("//") or any(c == "\\" or c.isspace() or ord(c) < 32 for c in value):
            raise ValidationError(_("Not a path on this site."), code="invalid")
        return
    URLValidator(schemes=["http", "https"])(value)


def validate_embed_origins(value: str) -> None:
    """Reject entries the widget's frame-ancestors policy would have to drop."""
    bad = invalid_sources(value)
    if bad:
        raise ValidationError(
            _("Not a site address: %(bad)s. Use origins such as https://www.example.com."),
            params={"bad": ", ".join(bad)},
        )


def parse_sources(text: str) -> list[str]:
    """Return the valid frame-ancestors sources in ``text`` (spaces, commas or lines apart)."""
    return [token for token in _tokens(text) if _is_source(token)]


def invalid_sources(text: str) -> list[str]:
    """Return what in ``text`` is not a usable source, for the admin form's error."""
    return [token for token in _tokens(text) if not _is_source(token)]


def _tokens(text: str) -> list[str]:
    return [t.lower().rstrip("/") for t in re.split(r"[\s,]+", text.strip()) if t]


def _is_source(token: str) -> bool:
    return token == "*" or (
        len(token) <= 200 and bool(_SOURCE_RE.match(token)) and _looks_like_site(token)
    )


def _looks_like_site(source: str) -> bool:
    """Tell a site from a stray word: without a scheme, a host needs a dot (or is localhost)."""
    if "://" in source or source.startswith("["):
        return True
    host = source.split(":", 1)[0]
    return "." in host or host == "localhost"
