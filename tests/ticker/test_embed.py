"""The embeddable widget: its page and options, framing rules, snippet and oEmbed."""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from django.contrib.auth.models import User
from django.template import Context, Template
from django.test import RequestFactory

from tests.helpers import entry_ids, make_entries
from ticker import embed, services
from ticker.embed import EmbedOptions
from ticker.models import Ticker

pytestmark = pytest.mark.django_db

LIVE_URL = "http://testserver/live/krieg-in-der-ukraine/"


def root_tag(html: str) -> str:
    """Return the opening tag of the widget's root element."""
    return re.search(r"<main[^>]*>", html, re.S).group(0)


def get_embed(client, ticker: Ticker, query: str = ""):
    return client.get(f"/live/{ticker.slug}/embed/" + (f"?{query}" if query else ""))


# ---- The embed page ------------------------------------------------------------


def test_embed_page_shows_newest_entries_with_the_shared_partial(client, ticker):
    entries = make_entries(ticker, 15)
    response = get_embed(client, ticker)
    assert response.status_code == 200
    html = response.content.decode()
    # The default count, newest first, rendered by _entry.html (same markup as the socket).
    expected = [e.pk for e in reversed(entries)][: embed.DEFAULT_COUNT]
    assert entry_ids(html) == expected
    assert 'class="entry' in html
    assert f'id="entry-{expected[0]}"' in html
    tag = root_tag(html)
    ticker.refresh_from_db()
    assert f'data-ticker="{ticker.slug}"' in tag
    assert f'data-seq="{ticker.last_seq}"' in tag
    assert 'data-live="true"' in tag
    assert 'data-embed="true"' in tag
    assert f'data-max-entries="{embed.DEFAULT_COUNT}"' in tag
    assert f'data-ws-path="/ws/live/{ticker.slug}/"' in tag
    assert f'data-changes-url="/live/{ticker.slug}/changes/"' in tag
    assert "data-key-only" not in tag
    assert "data-parent-origin" not in tag
    for hook in ("data-entries", "data-pinned", "data-empty", "data-new-updates"):
        assert hook in html
    assert "data-live-toggle" in html
    assert "data-live-state" in html
    # The live page's client script, not a second one.
    assert re.search(r'<script src="/static/ticker/live\.[0-9a-f]+\.js" defer>', html)


def test_embed_page_opens_links_in_a_new_tab_on_the_live_page(client, ticker):
    make_entries(ticker, 1)
    html = get_embed(client, ticker).content.decode()
    assert '<base target="_blank">' in html
    assert f'<a class="embed__more" href="{LIVE_URL}">' in html
    assert f'<link rel="canonical" href="{LIVE_URL}">' in html


def test_embed_page_shows_live_and_ended_state(client, ticker):
    html = get_embed(client, ticker).content.decode()
    assert "status--live" in html
    services.set_ticker_status(ticker, Ticker.Status.ENDED)
    html = get_embed(client, ticker).content.decode()
    assert "status--ended" in html
    assert "status--live" not in html


def test_embed_page_without_entries_says_so(client, ticker):
    html = get_embed(client, ticker).content.decode()
    assert entry_ids(html) == []
    assert re.search(r"data-empty>", html)  # not hidden


def test_embed_page_unknown_ticker_is_404(client, db):
    assert client.get("/live/gibt-es-nicht/embed/").status_code == 404


def test_embed_page_excludes_drafts_and_shows_pinned_separately(client, ticker):
    entries = make_entries(ticker, 4)
    services.unpublish_entry(entries[3])
    services.set_pinned(entries[0], True)
    html = get_embed(client, ticker, "count=2").content.decode()
    pinned_box = re.search(r"data-pinned>(.*?)</section>", html, re.S).group(1)
    assert entry_ids(pinned_box) == [entries[0].pk]
    # Two unpinned, published entries: 2 and 1 (3 is a draft, 0 is pinned).
    assert entry_ids(html) == [entries[0].pk, entries[2].pk, entries[1].pk]


@pytest.mark.parametrize(
    ("raw", "count"),
    [("3", 3), ("1", 1), ("50", 50), ("999", 50), ("0", 1), ("-4", 1), ("abc", 10), ("", 10)],
)
def test_count_option_is_clamped_and_falls_back(client, ticker, raw, count):
    make_entries(ticker, 55)
    response = get_embed(client, ticker, f"count={raw}")
    assert response.status_code == 200
    html = response.content.decode()
    assert len(entry_ids(html)) == count
    assert f'data-max-entries="{count}"' in root_tag(html)


def test_key_only_option_shows_only_key_events(client, ticker):
    entries = make_entries(ticker, 6)
    key = [services.update_entry(entries[i], is_key_event=True) for i in (1, 4)]
    html = get_embed(client, ticker, "key_only=1").content.decode()
    assert entry_ids(html) == [key[1].pk, key[0].pk]
    assert 'data-key-only="true"' in root_tag(html)
    # A pinned entry that is no key event stays out too.
    services.set_pinned(entries[5], True)
    html = get_embed(client, ticker, "key_only=true").content.decode()
    assert entries[5].pk not in entry_ids(html)


@pytest.mark.parametrize("raw", ["maybe", "2", ""])
def test_key_only_invalid_value_shows_everything(client, ticker, raw):
    make_entries(ticker, 3)
    html = get_embed(client, ticker, f"key_only={raw}").content.decode()
    assert len(entry_ids(html)) == 3
    assert "data-key-only" not in root_tag(html)


@pytest.mark.parametrize(
    ("raw", "theme"),
    [("dark", "dark"), ("DARK", "dark"), ("light", "light"), ("pink", "light"), ("", "light")],
)
def test_theme_option(client, ticker, raw, theme):
    html = get_embed(client, ticker, f"theme={raw}").content.decode()
    assert re.search(rf'<html lang="de" data-theme="{theme}"', html)


@pytest.mark.parametrize(
    ("raw", "layout"), [("compact", "compact"), ("full", "full"), ("tiny", "full")]
)
def test_layout_option(client, ticker, raw, layout):
    html = get_embed(client, ticker, f"layout={raw}").content.decode()
    assert f'class="embed embed--{layout}"' in html


@pytest.mark.parametrize(
    ("raw", "shown"),
    [("hide", False), ("0", False), ("false", False), ("show", True), ("x", True)],
)
def test_header_option(client, ticker, raw, shown):
    html = get_embed(client, ticker, f"header={raw}").content.decode()
    assert ('class="embed__title"' in html) is shown
    assert ticker.title in html  # still in <title>
    # The live/ended badge stays, in the header or else in the footer.
    assert html.count("data-ticker-status") == 1


def test_widget_uses_ticker_language_by_default(client, ticker):
    make_entries(ticker, 1)
    html = get_embed(client, ticker).content.decode()
    assert '<html lang="de"' in html
    ticker.language = "en"
    services.save_ticker(ticker)
    html = get_embed(client, ticker).content.decode()
    assert '<html lang="en"' in html
    assert "All updates on the live blog" in html


@pytest.mark.parametrize(("raw", "lang"), [("en", "en"), ("EN", "en"), ("fr", "de"), ("", "de")])
def test_language_option(client, ticker, raw, lang):
    html = get_embed(client, ticker, f"lang={raw}").content.decode()
    assert f'<html lang="{lang}"' in html


def test_all_invalid_options_together_still_render_the_default_widget(client, ticker):
    make_entries(ticker, 12)
    query = "count=%00&key_only=%FF&theme=<x>&lang=zz&layout=&header=&parent=javascript:alert(1)"
    response = get_embed(client, ticker, query)
    assert response.status_code == 200
    html = response.content.decode()
    assert len(entry_ids(html)) == embed.DEFAULT_COUNT
    assert 'data-theme="light"' in html
    assert "javascript" not in html


@pytest.mark.parametrize(
    ("raw", "origin"),
    [
        ("https://www.example.com", "https://www.example.com"),
        ("http://127.0.0.1:8001", "http://127.0.0.1:8001"),
        ("HTTPS://Partner.EXAMPLE", "https://partner.example"),
        ("https://example.com/path", ""),
        ("ftp://example.com", ""),
        ('https://x.com"onload="alert(1)', ""),
        ("null", ""),
    ],
)
def test_parent_origin_is_validated(client, ticker, raw, origin):
    html = get_embed(client, ticker, f"parent={quote(raw)}").content.decode()
    tag = root_tag(html)
    if origin:
        assert f'data-parent-origin="{origin}"' in tag
    else:
        assert "data-parent-origin" not in tag


def test_options_round_trip_through_query():
    options = EmbedOptions(count=5, key_only=True, theme="dark", language="en", header=False)
    query = options.as_query()
    assert query == {"count": "5", "key_only": "1", "theme": "dark", "lang": "en", "header": "0"}
    assert EmbedOptions.from_query(query) == options
    assert EmbedOptions().as_query() == {}


def test_embed_page_is_cacheable_and_sets_no_cookie(client, ticker):
    response = get_embed(client, ticker)
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert cache_control == {"public", f"max-age={embed.EMBED_MAX_AGE}"}
    assert not response.cookies


# ---- Framing ----------------------------------------------------------------------


def test_embed_page_may_be_framed_by_any_site_by_default(client, ticker):
    response = get_embed(client, ticker)
    assert "X-Frame-Options" not in response
    assert response["Content-Security-Policy"] == "frame-ancestors 'self' *"


@pytest.mark.parametrize(
    "path", ["/", "/live/krieg-in-der-ukraine/", "/live/krieg-in-der-ukraine/changes/?since=0"]
)
def test_other_pages_refuse_framing(client, ticker, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["Content-Security-Policy"] == "frame-ancestors 'none'"


def test_admin_refuses_framing(client):
    response = client.get("/admin/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["Content-Security-Policy"] == "frame-ancestors 'none'"


def test_setting_limits_who_may_frame(client, ticker, settings):
    settings.EMBED_ALLOWED_ORIGINS = ["https://www.partner.example", "https://*.news.example"]
    response = get_embed(client, ticker)
    assert response["Content-Security-Policy"] == (
        "frame-ancestors 'self' https://www.partner.example https://*.news.example"
    )


def test_ticker_origins_override_the_setting(client, ticker, settings):
    settings.EMBED_ALLOWED_ORIGINS = ["*"]
    ticker.embed_origins = "https://regional.example\n  http://localhost:8001, partner.example"
    services.save_ticker(ticker)
    response = get_embed(client, ticker)
    assert response["Content-Security-Policy"] == (
        "frame-ancestors 'self' https://regional.example http://localhost:8001 partner.example"
    )


def test_invalid_ticker_origins_are_dropped_and_never_reach_the_header(client, ticker):
    # Stored before validation existed (the service refuses such a list now).
    Ticker.objects.filter(pk=ticker.pk).update(
        embed_origins=(
            "https://ok.example https://a.example/x 'unsafe-inline' ;script-src javascript:x() <b>"
        )
    )
    policy = get_embed(client, ticker)["Content-Security-Policy"]
    assert policy == "frame-ancestors 'self' https://ok.example"


def test_ticker_origins_with_nothing_valid_allow_only_our_own_site(client, ticker):
    Ticker.objects.filter(pk=ticker.pk).update(embed_origins="not a url!")
    assert get_embed(client, ticker)["Content-Security-Policy"] == "frame-ancestors 'self'"


# ---- oEmbed ---------------------------------------------------------------------------


def get_oembed(client, **params: str):
    return client.get("/oembed/", params)


def test_oembed_returns_rich_iframe(client, ticker):
    response = get_oembed(client, url=LIVE_URL, format="json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    doc = json.loads(response.content)
    assert doc["version"] == "1.0"
    assert doc["type"] == "rich"
    assert doc["title"] == ticker.title
    assert doc["provider_name"] == embed.PROVIDER_NAME
    assert doc["provider_url"] == "http://testserver/"
    assert (doc["width"], doc["height"]) == (embed.DEFAULT_WIDTH, embed.DEFAULT_HEIGHT)
    src = unescape(re.search(r'<iframe src="([^"]+)"', doc["html"]).group(1))
    assert src == f"http://testserver/live/{ticker.slug}/embed/"
    assert f'width="{embed.DEFAULT_WIDTH}" height="{embed.DEFAULT_HEIGHT}"' in doc["html"]
    assert f'title="{embed.widget_title(ticker)}"' in doc["html"]
    assert ticker.title in embed.widget_title(ticker)
    # The iframe it points to really is frameable.
    embed_response = client.get(urlsplit(src).path)
    assert embed_response.status_code == 200
    assert "frame-ancestors 'self' *" in embed_response["Content-Security-Policy"]


def test_oembed_format_defaults_to_json(client, ticker):
    assert get_oembed(client, url=LIVE_URL).status_code == 200


def test_oembed_respects_maxwidth_and_maxheight(client, ticker):
    doc = json.loads(get_oembed(client, url=LIVE_URL, maxwidth="320", maxheight="400").content)
    assert (doc["width"], doc["height"]) == (320, 400)
    assert 'width="320" height="400"' in doc["html"]
    # Larger limits do not enlarge it; nonsense limits are ignored.
    doc = json.loads(get_oembed(client, url=LIVE_URL, maxwidth="5000", maxheight="x").content)
    assert (doc["width"], doc["height"]) == (embed.DEFAULT_WIDTH, embed.DEFAULT_HEIGHT)
    doc = json.loads(get_oembed(client, url=LIVE_URL, maxwidth="-1", maxheight="0").content)
    assert (doc["width"], doc["height"]) == (embed.DEFAULT_WIDTH, embed.DEFAULT_HEIGHT)


def test_oembed_carries_widget_options_from_the_pasted_url(client, ticker):
    doc = json.loads(get_oembed(client, url=LIVE_URL + "?theme=dark&count=5&bogus=1").content)
    src = unescape(re.search(r'<iframe src="([^"]+)"', doc["html"]).group(1))
    assert parse_qs(urlsplit(src).query) == {"count": ["5"], "theme": ["dark"]}


def test_oembed_accepts_entry_and_embed_urls(client, ticker):
    entry = make_entries(ticker, 1)[0]
    for url in (f"{LIVE_URL}entries/{entry.pk}/", f"{LIVE_URL}embed/"):
        assert json.loads(get_oembed(client, url=url).content)["title"] == ticker.title


def test_oembed_xml_is_not_implemented(client, ticker):
    assert get_oembed(client, url=LIVE_URL, format="xml").status_code == 501


@pytest.mark.parametrize(
    "url",
    [
        "http://testserver/live/gibt-es-nicht/",
        "http://elsewhere.example/live/krieg-in-der-ukraine/",
        "http://testserver/articles/krieg-in-der-ukraine/",
        "http://testserver/admin/",
        "javascript:alert(1)",
        "http://[::1",
    ],
)
def test_oembed_unknown_url_or_other_host_is_404(client, ticker, url):
    assert get_oembed(client, url=url).status_code == 404


def test_oembed_without_url_is_400(client, db):
    assert get_oembed(client).status_code == 400


def test_oembed_answer_is_cacheable(client, ticker):
    response = get_oembed(client, url=LIVE_URL)
    assert "public" in response["Cache-Control"]
    assert json.loads(response.content)["cache_age"] == embed.OEMBED_MAX_AGE


def test_live_page_advertises_oembed(client, ticker):
    html = client.get(f"/live/{ticker.slug}/").content.decode()
    link = re.search(r'<link rel="alternate" type="application/json\+oembed" href="([^"]+)"', html)
    assert link is not None
    discovery = unescape(link.group(1))
    parts = urlsplit(discovery)
    assert parts.path == "/oembed/"
    assert parse_qs(parts.query) == {"url": [LIVE_URL], "format": ["json"]}
    # Following the advertised address gives the widget.
    assert client.get(discovery).status_code == 200


# ---- The editors' snippet ----------------------------------------------------------


def render_snippet(ticker: Ticker) -> str:
    request = RequestFactory().get("/admin/ticker/ticker/1/change/")
    template = Template("{% load embed_tags %}{% embed_snippet ticker %}")
    return template.render(Context({"request": request, "ticker": ticker}))


def test_snippet_is_one_line_with_stable_script_url(ticker):
    html = render_snippet(ticker)
    code = unescape(re.search(r"data-snippet>(.*?)</textarea>", html, re.S).group(1))
    assert "\n" not in code
    assert code.startswith(
        '<script src="http://testserver/static/ticker/embed.js" data-ticker="krieg-in-der-ukraine"'
    )
    noscript = re.fullmatch(
        r'.* async></script><noscript><a href="([^"]+)">([^<]+)</a></noscript>', code
    )
    assert noscript is not None
    assert noscript.group(1) == LIVE_URL
    assert ticker.title in noscript.group(2)
    assert "data-preview" in html
    iframe = unescape(re.search(r"data-iframe-snippet>(.*?)</textarea>", html, re.S).group(1))
    assert iframe.startswith('<iframe src="http://testserver/live/krieg-in-der-ukraine/embed/"')


def test_embed_script_has_a_stable_address_and_a_versioned_one(client):
    """Host pages use the unhashed name (short cache); our pages the hashed one (for ever)."""
    from django.contrib.staticfiles.storage import staticfiles_storage

    stable = client.get("/static/ticker/embed.js")
    assert stable.status_code == 200
    assert "max-age=300" in stable["Cache-Control"]
    hashed_url = staticfiles_storage.url("ticker/embed.js")
    assert re.search(r"/static/ticker/embed\.[0-9a-f]{12}\.js$", hashed_url)
    hashed = client.get(hashed_url)
    assert hashed.status_code == 200
    assert "immutable" in hashed["Cache-Control"]
    assert b"".join(stable.streaming_content) == b"".join(hashed.streaming_content)


def test_embed_page_and_oembed_answer_head_requests(client, ticker):
    assert client.head(f"/live/{ticker.slug}/embed/").status_code == 200
    assert client.head("/oembed/", {"url": LIVE_URL}).status_code == 200


def test_admin_ticker_page_shows_snippet_and_preview(client, ticker):
    admin = User.objects.create_superuser("chefin", password="geheim-genug-123")
    client.force_login(admin)
    html = client.get(f"/admin/ticker/ticker/{ticker.pk}/change/").content.decode()
    assert 'id="embed-snippet"' in html
    assert "data-preview" in html
    assert 'name="embed_origins"' in html
