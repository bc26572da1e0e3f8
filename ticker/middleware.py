"""Keep pages that are always in their ticker's language cacheable across readers.

Django's LocaleMiddleware adds ``Vary: Accept-Language`` to every response.
A live page, entry, article or widget is rendered in its ticker's language
whatever the browser asks for, so that header would only split shared caches
(a CDN in front of widgets on partner sites) into one copy per browser
language for identical content.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse

View = Callable[..., HttpResponse]


def language_independent(view: View) -> View:
    """Mark a view's responses as not depending on the browser's language."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response.language_independent = True  # type: ignore[attr-defined]
        return response

    return wrapped


class LanguageIndependentVaryMiddleware:
    """Drop ``Accept-Language`` from ``Vary`` on responses marked language-independent.

    It must come before LocaleMiddleware in MIDDLEWARE, so that it sees the
    response after LocaleMiddleware has added the header.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(response, "language_independent", False) and response.has_header("Vary"):
            kept = [
                value.strip()
                for value in response["Vary"].split(",")
                if value.strip() and value.strip().lower() != "accept-language"
            ]
            if kept:
                response["Vary"] = ", ".join(kept)
            else:
                del response["Vary"]
        return response
