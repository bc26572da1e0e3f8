"""The one place that decides which HTML an entry or article may contain.

The admin's rich-text editor offers exactly these elements, and everything
stored is cleaned with the same explicit allow-list, whatever path it came
by (admin form, management command, service call).
"""

import nh3

# Editor features offered to editors in the admin (django-prose-editor names).
RICH_TEXT_EXTENSIONS: dict[str, object] = {
    "Bold": True,
    "Italic": True,
    "Strike": True,
    "Subscript": True,
    "Superscript": True,
    "Heading": {"levels": [3, 4]},
    "BulletList": True,
    "OrderedList": True,
    "ListItem": True,
    "Blockquote": True,
    "HardBreak": True,
    "HorizontalRule": True,
    "Link": {"enableTarget": False},
}

ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        "p", "br", "strong", "b", "em", "i", "s", "sub", "sup",
        "h3", "h4", "ul", "ol", "li", "blockquote", "hr", "a",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {"a": {"href", "title"}, "ol": {"start"}}
ALLOWED_URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})

_cleaner = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes=set(ALLOWED_URL_SCHEMES),
    link_rel="noopener noreferrer nofollow",
    strip_comments=True,
)


def sanitize_html(html: str) -> str:
    """Return ``html`` with everything outside the allow-list removed."""
    cleaned = _cleaner.clean(html or "").strip()
    # The editor always leaves one empty paragraph; store that as empty.
    if cleaned in {"<p></p>", "<p><br></p>"}:
        return ""
    return cleaned
