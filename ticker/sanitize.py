"""The one place that decides which HTML an entry or article may contain.

The admin's rich-text editor offers exactly these elements, and everything
stored is cleaned with the same explicit allow-list, whatever path it came
by (admin form, management command, service call).
"""

import re

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


# nh3 serialises every start tag the same way: attributes double-quoted, no
# nested links. So a link and its text can be matched exactly in its output.
_LINK = re.compile(r'<a(?P<attrs>(?:\s+[^\s"=>]+(?:="[^"]*")?)*)\s*>(?P<text>.*?)</a>', re.DOTALL)
_ATTRIBUTE_NAME = re.compile(r'([^\s"=>]+)(?:="[^"]*")?')
_HEADING = re.compile(r"<(/?)h([1-6])>")


def _unwrap_dead_link(match: re.Match[str]) -> str:
    names = _ATTRIBUTE_NAME.findall(match["attrs"])
    return match[0] if "href" in names else match["text"]


def sanitize_html(html: str) -> str:
    """Return ``html`` with everything outside the allow-list removed.

    A link whose address is removed (``javascript:``, an unknown scheme)
    becomes its plain text: an ``<a>`` without ``href`` is no link to a reader.
    """
    cleaned = _LINK.sub(_unwrap_dead_link, _cleaner.clean(html or "")).strip()
    # The editor always leaves one empty paragraph; store that as empty.
    if cleaned in {"<p></p>", "<p><br></p>"}:
        return ""
    return cleaned


def fit_headings(html: str, top: int) -> str:
    """Renumber sanitised sub-headings to start at level ``top`` and never skip one.

    Editors write h3 and h4 (their first and second level); where the text
    sits decides which levels those are: under an entry's h3 headline they
    become h4 and h5, in an article under its h1 they become h2 and h3. A
    heading counts one level below each higher editor level already used
    above it, so an h4 with no h3 before it is a first-level heading.
    """
    seen: set[int] = set()
    opened: list[int] = []

    def renumber(match: re.Match[str]) -> str:
        if match[1]:
            return f"</h{opened.pop() if opened else top}>"
        written = int(match[2])
        seen.add(written)
        level = min(top + sum(1 for other in seen if other < written), 6)
        opened.append(level)
        return f"<h{level}>"

    return _HEADING.sub(renumber, html)
