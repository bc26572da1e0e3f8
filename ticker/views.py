"""Reader pages: rendered on the server, complete without JavaScript."""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings
from django.db.models import Q
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotModified,
)
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.views.decorators.http import require_safe

from ticker import polling, rendering
from ticker.middleware import language_independent
from ticker.models import Article, Entry, Ticker
from ticker.selectors import catch_up, ticker_position


def encode_cursor(entry: Entry) -> str:
    """Return the "load older entries" cursor that points just below ``entry``."""
    micros = int(entry.display_at.timestamp() * 1_000_000)
    return f"{micros}_{entry.pk}"


def decode_cursor(value: str) -> tuple[datetime, int]:
    """Parse a cursor made by :func:`encode_cursor`; raise ValueError if malformed."""
    micros, _, entry_id = value.partition("_")
    moment = datetime.fromtimestamp(int(micros) / 1_000_000, tz=UTC)
    return moment, int(entry_id)


def entry_page(ticker: Ticker, before: str | None) -> tuple[list[Entry], str | None]:
    """Return one page of published, unpinned entries newest first, and the next cursor."""
    qs = ticker.entries.published().filter(is_pinned=False).for_rendering().newest_first()
    if before:
        moment, entry_id = decode_cursor(before)
        qs = qs.filter(Q(display_at__lt=moment) | Q(display_at=moment, id__lt=entry_id))
    size = settings.TICKER_PAGE_SIZE
    entries = list(qs[: size + 1])
    next_cursor = encode_cursor(entries[size - 1]) if len(entries) > size else None
    return entries[:size], next_cursor


@require_safe
def ticker_list(request: HttpRequest) -> HttpResponse:
    tickers = Ticker.objects.for_listing()
    return render(request, "ticker/list.html", {"tickers": tickers})


@require_safe
@language_independent
def live_page(request: HttpRequest, slug: str) -> HttpResponse:
    ticker = get_object_or_404(Ticker, slug=slug)
    try:
        entries, next_cursor = entry_page(ticker, request.GET.get("before"))
    except (ValueError, OverflowError, OSError):
        return HttpResponseBadRequest("Invalid 'before' cursor.")
    published = ticker.entries.published().for_rendering()
    pinned = published.filter(is_pinned=True).first()
    context = {
        "ticker": ticker,
        "entries": entries,
        "next_cursor": next_cursor,
        "older_page": bool(request.GET.get("before")),
        "pinned": pinned,
        "key_events": published.filter(is_key_event=True).newest_first()[:10],
    }
    if not context["older_page"]:
        context["jsonld"] = rendering.live_blog_jsonld(
            ticker,
            ([pinned] if pinned else []) + entries,
            f"{request.scheme}://{request.get_host()}",
        )
    with translation.override(ticker.language):
        if request.GET.get("fragment") == "older":
            # "Load older entries" with JavaScript: just the entries and the next link.
            return render(request, "ticker/_older.html", context)
        return render(request, "ticker/live.html", context)


@require_safe
@language_independent
def entry_detail(request: HttpRequest, slug: str, entry_id: int) -> HttpResponse:
    ticker = get_object_or_404(Ticker, slug=slug)
    entry = get_object_or_404(ticker.entries.published().for_rendering(), pk=entry_id)
    with translation.override(ticker.language):
        return render(request, "ticker/entry_detail.html", {"ticker": ticker, "entry": entry})


@require_safe
def changes(request: HttpRequest, slug: str) -> HttpResponse:
    """Return every change after ``since`` as JSON: the polling twin of the WebSocket.

    Readers who are up to date all ask for the same URL (``since`` = the
    latest number), which is answered from this process's memory and may be
    cached for a moment by a CDN or proxy; ``ETag`` lets them revalidate.
    """
    position = ticker_position(slug)
    if position is None:
        raise Http404("Unknown ticker")
    ticker_id, last_seq = position
    raw = request.GET.get("since", "")
    try:
        since = int(raw)
        if since < 0:
            raise ValueError
    except ValueError:
        return HttpResponseBadRequest(
            '{"error": "since must be a whole number of 0 or more"}',
            content_type="application/json",
        )
    if since == last_seq:
        body = rendering.changes_document(last_seq, [])
    else:
        result = catch_up(ticker_id, since)
        last_seq = result.last_seq
        body = rendering.changes_document(last_seq, result.frames)
    etag = polling.etag(ticker_id, since, last_seq)
    response: HttpResponse
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = polling.cache_control()
    return response


@require_safe
@language_independent
def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    article = get_object_or_404(Article.objects.select_related("ticker"), slug=slug)
    # The ticker that links here: the one set on the article, else the newest linking entry's.
    ticker = article.ticker
    if ticker is None:
        linking = article.entries.published().select_related("ticker").newest_first().first()
        ticker = linking.ticker if linking else None
    # The article reads in its live blog's language (dates, "Source", the teaser).
    with translation.override(ticker.language if ticker else None):
        return render(
            request, "ticker/article_detail.html", {"article": article, "ticker": ticker}
        )
