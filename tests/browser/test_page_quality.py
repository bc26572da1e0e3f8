"""Every public page is valid HTML (Nu HTML Checker) and passes axe-core in Chromium.

The pages carry what real tickers carry and demo data hides: entries posted
in real time (times with microseconds), key events on both sides of midnight,
a quote, a photo, a video, two entries linking articles, rich text with
sub-headings and a hostile entry the sanitiser has cleaned. The tools come
from ``package.json`` (``npm ci``, which ``./dev test`` runs); a missing tool
fails the run instead of skipping it, like a missing chromium.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from tests.helpers import make_entries
from ticker import services
from ticker.models import Article, Entry, Ticker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NODE_MODULES = Path(settings.BASE_DIR) / "node_modules"
VNU_JAR = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE_JS = NODE_MODULES / "axe-core" / "axe.min.js"

HOSTILE_BODY = (
    '<p>Harmlos <a href="javascript:alert(1)" onclick="alert(2)">hier klicken</a> und '
    '<a href="https://example.org/quelle" target="_top" style="color:red">eine Quelle</a>'
    '<img src="x" onerror="alert(3)"><script>alert(4)</script></p>'
    "<h4>Zwischenzeile ohne Oberzeile</h4><p>Text <iframe src='https://evil.example'></iframe></p>"
)


DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
# Pages whose layout changes most on a phone are checked at that width too.
PHONE_PAGES = ("index", "live-de", "embed", "embed-dark")


@dataclass(frozen=True)
class Site:
    """The public pages of a filled site: name -> path."""

    pages: dict[str, str]
    frames_path: str


def _require(path: Path, what: str) -> Path:
    if not path.exists():
        pytest.fail(
            f"{what} is missing ({path.relative_to(settings.BASE_DIR)}): run `npm ci` "
            "(./dev test does) to install the page-quality tools from package-lock.json.",
            pytrace=False,
        )
    return path


def _article(slug: str, title: str, ticker: Ticker) -> Article:
    return Article.objects.create(
        slug=slug,
        title=title,
        kicker="Hintergrund",
        teaser="Was bisher bekannt ist und was Fachleute erwarten.",
        author="Miriam Okafor",
        image_url="/static/ticker/demo/schutzwall.svg",
        image_caption="Baumaschinen am Schutzwall.",
        image_credit="Liveticker-Demo",
        body="<p>Einleitung.</p><h3>Erster Abschnitt</h3><p>Text.</p>"
        "<h4>Unterabschnitt</h4><p>Mehr Text.</p><h3>Zweiter Abschnitt</h3><p>Ende.</p>",
        ticker=ticker,
    )


def fill_site() -> Site:
    """Create a German and an English live ticker, an upcoming and an ended one."""
    german = services.save_ticker(
        Ticker(
            title="Vulkanausbruch auf Island",
            slug="vulkan",
            summary="Alle Entwicklungen im Liveblog.",
            status=Ticker.Status.LIVE,
            language="de",
        )
    )
    # Older than one page, so "load older entries" exists; times carry microseconds.
    make_entries(german, 22)
    today = timezone.localdate()
    before_midnight = timezone.make_aware(datetime.combine(today - timedelta(days=1), time(23, 2)))
    services.create_entry(
        ticker=german,
        headline="Eruption am späten Abend",
        body="<p>Eine Spalte ist aufgerissen.</p>",
        is_key_event=True,
        display_at=before_midnight,
    )
    news = _article("lava-erreicht-wall", "Lava erreicht den Schutzwall", german)
    background = _article("warum-island", "Warum Island nicht zur Ruhe kommt", german)
    services.create_entry(
        ticker=german, body="<p>Der Überblick als Artikel.</p>", article=news, byline="Desk"
    )
    services.create_entry(
        ticker=german,
        headline="Die Hintergründe",
        body="<p>Unsere Wissenschaftsredaktion erklärt.</p>",
        article=background,
    )
    services.create_entry(
        ticker=german,
        body="<p>Die Einsatzleitung:</p>",
        quote="Alle Menschen sind in Sicherheit.\nVerletzt wurde niemand.",
        quote_attribution="Sigrún Halldórsdóttir, Einsatzleiterin",
    )
    services.create_entry(
        ticker=german,
        body="<p>So sah es in der Nacht aus.</p>",
        media_kind=Entry.Media.PHOTO,
        media_url="/static/ticker/demo/lava-nacht.svg",
        media_caption="Lavafontänen über der Spalte.",
        media_credit="Liveticker-Demo",
    )
    services.create_entry(
        ticker=german,
        body="<p>Aufnahmen einer Drohne.</p>",
        media_kind=Entry.Media.VIDEO,
        media_url="/static/ticker/demo/video-drohnenflug.webm",
        media_caption="Drohnenflug entlang der Spalte.",
        media_date=date(2025, 10, 21),
        media_duration=279,
        media_credit="Liveticker-Demo",
    )
    services.create_entry(
        ticker=german,
        headline="Was Reisende wissen müssen",
        body="<p>Der Flughafen ist offen.</p><h3>Flüge</h3><p>Planmäßig.</p>"
        "<h4>Umbuchungen</h4><p>Kostenlos.</p><h3>Bahn</h3><p>Ersatzverkehr.</p>",
        is_key_event=True,
    )
    hostile = services.create_entry(ticker=german, body=HOSTILE_BODY)
    services.create_entry(
        ticker=german,
        headline="Das Wichtigste in Kürze",
        body="<ul><li>Spalte offen</li><li>Ort geräumt</li></ul>",
        is_pinned=True,
    )

    english = services.save_ticker(
        Ticker(title="Summit live", slug="summit", status=Ticker.Status.LIVE, language="en")
    )
    services.create_entry(
        ticker=english,
        headline="Leaders arrive",
        body="<p>The first delegations are here.</p>",
        is_key_event=True,
        display_at=before_midnight,
    )
    services.create_entry(
        ticker=english,
        headline="Talks begin",
        body="<p>Doors are closed.</p><h3>Agenda</h3><p>Trade first.</p>",
        is_key_event=True,
        media_kind=Entry.Media.PHOTO,
        media_url="/static/ticker/demo/nordlicht.svg",
        media_caption="The conference hall.",
        media_credit="AP",
    )
    services.save_ticker(
        Ticker(
            title="Reader questions, answered live",
            slug="questions",
            summary="Send yours in advance.",
            status=Ticker.Status.UPCOMING,
            language="en",
            starts_at=timezone.now() + timedelta(days=1),
        )
    )
    ended = services.save_ticker(
        Ticker(title="Northern lights", slug="aurora", status=Ticker.Status.LIVE, language="en")
    )
    services.create_entry(ticker=ended, body="<p>That is where we end.</p>", is_key_event=True)
    services.set_ticker_status(ended, Ticker.Status.ENDED)

    first_page = german.entries.published().filter(is_pinned=False).newest_first()[19:20].get()
    from ticker.views import encode_cursor

    embed = "/live/vulkan/embed/"
    return Site(
        pages={
            "index": "/",
            "live-de": "/live/vulkan/",
            "live-en": "/live/summit/",
            "older": f"/live/vulkan/?before={encode_cursor(first_page)}",
            "permalink-hostile": hostile.get_absolute_url(),
            "permalink-en": english.entries.get(headline="Talks begin").get_absolute_url(),
            "article": news.get_absolute_url(),
            "embed": embed,
            "embed-dark": f"{embed}?theme=dark",
            "embed-compact": f"{embed}?layout=compact",
            "embed-key-only": f"{embed}?key_only=true",
            "embed-no-header": f"{embed}?header=hide",
            "embed-en-dark-compact": "/live/summit/embed/?theme=dark&layout=compact&header=0",
            "upcoming": "/live/questions/",
            "ended": "/live/aurora/",
        },
        frames_path="/live/vulkan/changes/?since=0",
    )


def frames_document(changes_json: bytes) -> str:
    """Wrap the HTML of every stored frame in a page, as live.js puts it into one."""
    frames = json.loads(changes_json)["changes"]
    entries = "".join(f["html"] for f in frames if f.get("html") and "entry_id" in f)
    keys = "".join(f["key_html"] for f in frames if f.get("key_html"))
    return (
        '<!doctype html><html lang="de"><head><meta charset="utf-8"><title>Frames</title>'
        f"</head><body><main><h1>Frames</h1><section><h2>Key events</h2><ol>{keys}</ol>"
        f"</section><section><h2>Updates</h2>{entries}</section></main></body></html>"
    )


def test_every_public_page_is_valid_html(client, tmp_path):
    jar = _require(VNU_JAR, "The Nu HTML Checker (vnu-jar)")
    java = shutil.which("java")
    if java is None:
        pytest.fail("java is missing: the Nu HTML Checker needs Java 11 or newer.", pytrace=False)
    site = fill_site()
    files = {}
    for name, path in site.pages.items():
        response = client.get(path)
        assert response.status_code == 200, (name, path, response.status_code)
        files[name] = tmp_path / f"{name}.html"
        files[name].write_bytes(response.content)
    files["frames"] = tmp_path / "frames.html"
    files["frames"].write_text(frames_document(client.get(site.frames_path).content))

    result = subprocess.run(
        [java, "-jar", str(jar), "--format", "json", "--errors-only",
         *map(str, files.values())],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    messages = json.loads(result.stderr or result.stdout or '{"messages": []}')["messages"]
    by_file = {path.name: name for name, path in files.items()}
    errors = []
    for m in messages:
        if m.get("type") in {"error", "non-document-error"}:
            page = by_file.get(m.get("url", "").rpartition("/")[2], m.get("url"))
            extract = m.get("extract", "").strip()
            errors.append(f"{page}:{m.get('lastLine')}: {m['message']}  [{extract}]")
    assert errors == [], "\n".join(errors)


AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    id: v.id,
    help: v.help,
    nodes: v.nodes.map((n) => n.target.join(" ") + ": " + n.failureSummary),
  }));
}"""


def test_every_public_page_passes_axe(daphne_server, new_page, in_thread):
    axe = _require(AXE_JS, "axe-core").read_text()
    site = in_thread(fill_site)
    checks = [(name, path, DESKTOP) for name, path in site.pages.items()]
    checks += [(name, site.pages[name], PHONE) for name in PHONE_PAGES]
    violations = []
    for name, path, viewport in checks:
        page = new_page(viewport=viewport, bypass_csp=True)
        page.goto(daphne_server + path)
        if name in {"live-de", "live-en"}:
            # Check the page as readers use it: live.js connected, its controls shown.
            page.wait_for_selector("[data-live-controls]:not([hidden])", state="attached")
        page.add_script_tag(content=axe)
        for found in page.evaluate(AXE_RUN):
            violations.append(
                f"{name} at {viewport['width']}px: {found['id']} ({found['help']})\n    "
                + "\n    ".join(found["nodes"][:5])
            )
        assert page.js_errors == [], (name, page.js_errors)
        page.context.close()
    assert violations == [], "\n".join(violations)


def test_head_through_daphne_answers_like_get_without_a_body(daphne_server, in_thread):
    site = in_thread(fill_site)
    for name, path in [*site.pages.items(), ("changes", site.frames_path)]:
        request = urllib.request.Request(daphne_server + path, method="HEAD")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200, name
            assert response.read() == b"", name
