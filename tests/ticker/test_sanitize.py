"""The sanitiser: the allow-list, links that lose their address, sub-heading levels."""

import pytest

from ticker.sanitize import fit_headings, sanitize_html


@pytest.mark.parametrize(
    "href",
    ["javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "data:text/html,x",
     "vbscript:x", "ftp://example.org/"],
)  # fmt: skip
def test_a_link_whose_address_is_removed_becomes_its_text(href):
    link = f'<a href="{href}" title="t">hier <em>klicken</em></a>'
    html = sanitize_html(f"<p>Vorher {link} nachher</p>")
    assert html == "<p>Vorher hier <em>klicken</em> nachher</p>"


def test_links_with_allowed_addresses_stay_links():
    html = sanitize_html(
        '<p><a href="javascript:x">weg</a> <a href="https://example.org/a?b=1&amp;c=2" '
        'title="x &gt; href=y">Quelle</a> <a href="mailto:desk@example.org">Mail</a></p>'
    )
    assert html.startswith("<p>weg <a href=")
    assert html.count("<a ") == 2
    assert html.count("</a>") == 2
    assert 'href="https://example.org/a?b=1&amp;c=2"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_a_link_with_no_address_at_all_becomes_its_text():
    assert sanitize_html('<p><a name="x">Anker</a></p>') == "<p>Anker</p>"


def test_hostile_markup_is_removed():
    html = sanitize_html(
        '<p onclick="x()">a<script>alert(1)</script><img src=x onerror=alert(2)>'
        '<iframe src="https://evil.example"></iframe></p>'
    )
    assert html == "<p>a</p>"


@pytest.mark.parametrize(
    ("top", "given", "expected"),
    [
        # Under an entry's h3 headline: the editor's h3/h4 become h4/h5.
        (4, "<h3>a</h3><p>x</p><h4>b</h4><h3>c</h3>", "<h4>a</h4><p>x</p><h5>b</h5><h4>c</h4>"),
        # In an article under its h1: h2/h3.
        (2, "<h3>a</h3><h4>b</h4>", "<h2>a</h2><h3>b</h3>"),
        # A second level with no first level before it is a first level: no skipping.
        (
            3,
            "<h4>a</h4><h4>b</h4><h3>c</h3><h4>d</h4>",
            "<h3>a</h3><h3>b</h3><h3>c</h3><h4>d</h4>",
        ),  # noqa: E501
        # Never deeper than h6.
        (6, "<h3>a</h3><h4>b</h4>", "<h6>a</h6><h6>b</h6>"),
    ],
)
def test_sub_headings_fit_where_the_text_sits(top, given, expected):
    assert fit_headings(given, top) == expected
