"""Turn entries and ticker changes into HTML and into the one encoded event frame.

The live page, the widget, the changes feed and the WebSocket all get an
entry's markup from ``templates/ticker/_entry.html`` through this module.
A broadcast renders and encodes its frame exactly once; every reader is sent
that same string.
"""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import strip_tags
from django.utils.text import Truncator

from ticker.models import Change, Entry, Ticker

ENTRY_TEMPLATE = "ticker/_entry.html"
KEY_EVENT_TEMPLATE = "ticker/_key_event.html"
STATUS_TEMPLATE = "ticker/_status.html"

# Changes after which the entry is gone for readers.
REMOVALS = frozenset({Change.Kind.UNPUBLISHED, Change.Kind.DELETED})


def render_entry(entry: Entry) -> str:
    """Return the entry's HTML, in the ticker's language."""
    with translation.override(entry.ticker.language):
        return render_to_string(ENTRY_TEMPLATE, {"entry": entry, "ticker": entry.ticker})


def render_key_event(entry: Entry) -> str:
    """Return the entry's line in the key-events list."""
    with translation.override(entry.ticker.language):
        return render_to_string(KEY_EVENT_TEMPLATE, {"entry": entry, "ticker": entry.ticker})


def render_status(ticker: Ticker) -> str:
    """Return the ticker's status badge."""
    with translation.override(ticker.language):
        return render_to_string(STATUS_TEMPLATE, {"ticker": ticker})


def encode(payload: dict[str, Any]) -> str:
    """Encode a frame compactly; ``seq`` must be the payload's first key."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def entry_frame(seq: int, kind: str, entry: Entry) -> str:
    """Return the frame that tells readers what happened to ``entry``."""
    payload: dict[str, Any] = {"seq": seq, "type": kind, "entry_id": entry.pk}
    if kind not in REMOVALS:
        payload.update(
            display_at=entry.display_at.isoformat(),
            pinned=entry.is_pinned,
            key_event=entry.is_key_event,
            html=render_entry(entry),
            key_html=render_key_event(entry) if entry.is_key_event else "",
        )
    return encode(payload)


def status_frame(seq: int, ticker: Ticker) -> str:
    """Return the frame that tells readers the ticker's status changed."""
    return encode(
        {
            "seq": seq,
            "type": Change.Kind.STATUS,
            "status": ticker.status,
            "html": render_status(ticker),
        }
    )


def reload_frame(seq: int) -> str:
    """Return the frame that asks a reader too far behind to reload the page."""
    return encode({"seq": seq, "type": "reload"})


def changes_document(last_seq: int, frames: list[str] | None) -> str:
    """Return the JSON for the changes endpoint, reusing the stored frames as they are."""
    if frames is None:
        return encode({"last_seq": last_seq, "reload": True, "changes": []})
    return f'{{"last_seq":{last_seq},"reload":false,"changes":[{",".join(frames)}]}}'


_BLOCK_END = re.compile(r"</(?:p|li|h3|h4|blockquote)>|<br\s*/?>|<hr\s*/?>", re.IGNORECASE)


def plain_text(html: str) -> str:
    """Return rich text as one line of plain text: blocks apart, entities decoded."""
    text = unescape(strip_tags(_BLOCK_END.sub(" ", html)))
    return " ".join(text.split())


def _iso_duration(seconds: int) -> str:
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"PT{hours}H{minutes}M{secs}S" if hours else f"PT{minutes}M{secs}S"


def live_blog_jsonld(ticker: Ticker, entries: list[Entry], base_url: str) -> str:
    """Return schema.org ``LiveBlogPosting`` JSON-LD for the live page, safe inside <script>.

    Search engines show live blogs with their newest updates from this; the
    typed entry content (photo with credit, video with date and length, quote)
    maps onto ``BlogPosting`` fields.
    """

    def update(entry: Entry) -> dict[str, Any]:
        body = plain_text(entry.body)
        if entry.quote:
            body = f"{body}\n„{entry.quote}“ {entry.quote_attribution}".strip()
        item: dict[str, Any] = {
            "@type": "BlogPosting",
            "headline": entry.headline or Truncator(body).chars(110),
            "datePublished": entry.display_at.isoformat(),
            "dateModified": entry.updated_at.isoformat(),
            "url": base_url + entry.get_absolute_url(),
            "articleBody": body,
        }
        if entry.byline:
            item["author"] = {"@type": "Person", "name": entry.byline}
        media_url = entry.media_url
        if media_url.startswith("/"):
            media_url = base_url + media_url
        if entry.media_kind == Entry.Media.PHOTO and media_url:
            item["image"] = {
                "@type": "ImageObject",
                "url": media_url,
                "caption": entry.media_caption,
                "creditText": entry.media_credit,
            }
        elif entry.media_kind == Entry.Media.VIDEO and media_url:
            video: dict[str, Any] = {
                "@type": "VideoObject",
                "name": entry.media_caption or entry.headline,
                "contentUrl": media_url,
            }
            if entry.media_date:
                video["uploadDate"] = entry.media_date.isoformat()
            if entry.media_duration:
                video["duration"] = _iso_duration(entry.media_duration)
            item["video"] = video
        if entry.article is not None:
            item["isBasedOn"] = base_url + entry.article.get_absolute_url()
        return item

    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "LiveBlogPosting",
        "headline": ticker.title,
        "description": ticker.summary,
        "url": base_url + ticker.get_absolute_url(),
        "inLanguage": ticker.language,
        "coverageStartTime": ticker.starts_at.isoformat(),
        "liveBlogUpdate": [update(entry) for entry in entries],
    }
    if ticker.ends_at:
        data["coverageEndTime"] = ticker.ends_at.isoformat()
    text = json.dumps(data, ensure_ascii=False)
    # Nothing in the data may close the <script> element it sits in.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
