"""Load demo content so a fresh checkout shows a real-looking live blog at once.

``./dev run`` calls this on every start, so it is idempotent: users are keyed
by username, tickers and articles by slug, and a ticker's entries are written
only in the run that creates the ticker. Whatever an editor changed in the
demo afterwards (edited, deleted or pinned entries, an ended ticker, a new
password) is left alone. Entries and ticker status go through
:mod:`ticker.services`, like every other write, so the change sequence that
readers catch up from is complete.

All stories, places and people are invented for the demo.
"""

# German and English newsroom typography uses en dashes in running text.
# ruff: noqa: RUF001

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from ticker import services
from ticker.models import Article, Entry, Ticker

EDITOR_USERNAME = "redaktion"
EDITOR_PASSWORD = "demo-redaktion-2025"
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "demo-admin-2025"
EDITORS_GROUP = "Editors"

DEMO_STATIC = "/static/ticker/demo/"
DEMO_CREDIT = "Liveticker-Demo"

LIVE_SLUG = "vulkanausbruch-island"
ENDED_SLUG = "northern-lights-europe"
UPCOMING_SLUG = "iceland-eruption-reader-questions"
ARTICLE_NEWS_SLUG = "lava-erreicht-schutzwall-hafnarvik"
ARTICLE_BACKGROUND_SLUG = "warum-die-reykjanes-halbinsel-nicht-zur-ruhe-kommt"


@dataclass(frozen=True)
class DemoEntry:
    """One entry of a demo ticker, placed ``minutes_ago`` before the load."""

    minutes_ago: int
    fields: dict[str, Any] = field(default_factory=dict)
    article_slug: str = ""


def _photo(name: str, caption: str) -> dict[str, str]:
    return {
        "media_kind": Entry.Media.PHOTO,
        "media_url": f"{DEMO_STATIC}{name}",
        "media_caption": caption,
        "media_credit": DEMO_CREDIT,
    }


def _video(name: str, caption: str, seconds: int) -> dict[str, Any]:
    """A video entry: the demo ships short on-site WebM clips (a few KB each)."""
    return {
        "media_kind": Entry.Media.VIDEO,
        "media_url": f"{DEMO_STATIC}{name}",
        "media_caption": caption,
        "media_credit": DEMO_CREDIT,
        "media_duration": seconds,
    }


REPORTER = "Jonas Albrecht, Reykjavík"
DESK = "Lena Berger"
SCIENCE = "Miriam Okafor, Wissenschaftsredaktion"

# The German live ticker, oldest entry first, so change numbers follow the clock.
LIVE_ENTRIES: tuple[DemoEntry, ...] = (
    DemoEntry(
        430,
        {
            "headline": "Neue Eruption auf der Reykjanes-Halbinsel",
            "body": "<p>Nordöstlich des Küstenorts Hafnarvík ist vor wenigen Minuten eine "
            "rund zwei Kilometer lange Spalte aufgerissen. Das isländische Wetteramt "
            "meldet Lavafontänen von bis zu 50 Metern Höhe.</p>",
            "is_key_event": True,
            "byline": DESK,
        },
    ),
    DemoEntry(
        418,
        {
            "body": "<p>Dem Ausbruch ging ein heftiger Erdbebenschwarm voraus. In den Stunden "
            "zuvor zeichneten die Messstationen mehr als 800 kleinere Beben auf, das stärkste "
            "erreichte eine Magnitude von 4,1.</p>",
            "byline": DESK,
        },
    ),
    DemoEntry(
        402,
        {
            "headline": "Hafnarvík wird geräumt",
            "body": "<p>Der Zivilschutz hat die Evakuierung des Ortes angeordnet. Rund 3.000 "
            "Einwohnerinnen und Einwohner müssen ihre Häuser verlassen. Busse bringen sie in "
            "Notunterkünfte in der Hauptstadtregion, die Zufahrtsstraße ist gesperrt.</p>",
            "is_key_event": True,
            "byline": DESK,
        },
    ),
    DemoEntry(
        385,
        {
            "body": "<p>So sah es kurz nach Beginn des Ausbruchs aus: Entlang der Spalte "
            "schießen an mehreren Stellen glühende Fontänen in den dunklen Himmel.</p>",
            **_photo(
                "lava-nacht.svg",
                "Lavafontänen über der Eruptionsspalte kurz nach Beginn des Ausbruchs.",
            ),
            "byline": DESK,
        },
    ),
    DemoEntry(
        366,
        {
            "body": "<p>Auch die Thermalbäder und Hotels in der Umgebung sind vorsorglich "
            "geschlossen worden. Ihre Gäste wurden mit Bussen nach Reykjavík "
            "gebracht.</p>",
            "byline": DESK,
        },
    ),
    DemoEntry(
        348,
        {
            "body": "<p>Die Einsatzleitung hat sich in einer ersten Stellungnahme zur Lage "
            "geäußert:</p>",
            "quote": "Wir haben diesen Fall seit Monaten geübt. Alle Menschen aus dem Ort sind "
            "in Sicherheit, verletzt wurde niemand.",
            "quote_attribution": "Sigrún Halldórsdóttir, Einsatzleiterin des Zivilschutzes",
            "byline": REPORTER,
        },
    ),
    DemoEntry(
        330,
        {
            "headline": "Was bedeutet der Ausbruch für Flugreisende?",
            "body": "<p>Anders als beim Ausbruch des Eyjafjallajökull im Jahr 2010 entsteht bei "
            "solchen Spaltenausbrüchen meist wenig Asche. Der internationale Flughafen der "
            "Insel bleibt nach Angaben des Betreibers vorerst geöffnet.</p>"
            "<ul><li>Reisende sollten den Status ihres Fluges vor der Abfahrt prüfen.</li>"
            "<li>Mehrere Reiseveranstalter bieten kostenlose Umbuchungen an.</li></ul>",
            "byline": DESK,
        },
    ),
    DemoEntry(
        312,
        {
            "body": "<p>Aufnahmen einer Drohne des Zivilschutzes zeigen, wie weit sich die "
            "Spalte inzwischen geöffnet hat.</p>",
            **_video(
                "video-drohnenflug.webm",
                "Drohnenflug entlang der Eruptionsspalte nördlich von Hafnarvík (Demo-Animation).",
                7,
            ),
            "byline": DESK,
        },
    ),
    DemoEntry(
        295,
        {
            "body": "<p>Der Hauptstrom der Lava bewegt sich nach Südwesten, mit etwa 100 Metern "
            "pro Stunde. Bis zum Schutzwall nördlich des Ortes sind es noch rund "
            "anderthalb Kilometer.</p>",
            "byline": REPORTER,
        },
    ),
    DemoEntry(
        276,
        {
            "headline": "Warum die Erde hier nicht zur Ruhe kommt",
            "body": "<p>Die Halbinsel liegt dort, wo zwei Erdplatten auseinanderdriften. Unsere "
            "Wissenschaftsredaktion erklärt, warum sich Ausbrüche hier häufen und wie gut "
            "sie sich vorhersagen lassen.</p>",
            "byline": SCIENCE,
        },
        article_slug=ARTICLE_BACKGROUND_SLUG,
    ),
    DemoEntry(
        258,
        {
            "body": "<p>Der Wind hat gedreht. Das Wetteramt warnt vor erhöhten "
            "Schwefeldioxid-Werten in der Hauptstadtregion und rät, Fenster geschlossen zu "
            "halten und anstrengende Tätigkeiten im Freien zu meiden.</p>",
            "byline": DESK,
        },
    ),
    DemoEntry(
        240,
        {
            "body": "<p>Seit Beginn des Ausbruchs arbeiten Bagger ohne Pause daran, den Wall "
            "an seiner niedrigsten Stelle zu erhöhen.</p>",
            **_photo(
                "schutzwall.svg",
                "Baumaschinen verstärken den Schutzwall nördlich von Hafnarvík.",
            ),
            "byline": REPORTER,
        },
    ),
    DemoEntry(
        222,
        {
            "body": "<p>Das Auswärtige Amt rät Reisenden, die Anweisungen der isländischen "
            "Behörden zu befolgen und das Sperrgebiet weiträumig zu meiden. Die Hauptstadt "
            "ist von dem Ausbruch nicht unmittelbar betroffen.</p>",
            "byline": DESK,
        },
    ),
    DemoEntry(
        205,
        {
            "headline": "Lava erreicht den Schutzwall",
            "body": "<p>Die Lavafront hat den Schutzwall nördlich von Hafnarvík "
            "erreicht. Ob er hält, ist nach Angaben der Einsatzleitung noch "
            "nicht absehbar.</p>",
            "is_key_event": True,
            "byline": REPORTER,
        },
    ),
    DemoEntry(
        190,
        {
            "body": "<p>Unsere Reporterin war an der Straßensperre am Rand des Sperrgebiets "
            "und hat mit Menschen gesprochen, die ihre Häuser Hals über Kopf "
            "verlassen mussten.</p>",
            **_video(
                "video-reportage.webm",
                "An der Straßensperre: Menschen warten auf Nachricht aus ihrem Ort. "
                "Von Anna Keller (Demo-Animation).",
                8,
            ),
            "byline": "Anna Keller",
        },
    ),
    DemoEntry(
        172,
        {
            "body": "<p>Die Lava hat eine Fernwärmeleitung überflossen, die mehrere Orte der "
            "Halbinsel mit heißem Wasser versorgt. Der Versorger arbeitet an einer "
            "Umgehungsleitung; bis dahin bleiben viele Häuser kalt.</p>",
            "byline": DESK,
        },
    ),
    DemoEntry(
        155,
        {
            "body": "<p>In einer Notunterkunft in der Hauptstadtregion erzählt eine Frau, wie "
            "sie die Räumung erlebt hat.</p>",
            "quote": "Wir haben nur das Nötigste eingepackt: Papiere, Medikamente, die Katze. "
            "Ob wir unser Haus wiedersehen, weiß im Moment niemand.",
            "quote_attribution": "Einwohnerin von Hafnarvík",
            "byline": REPORTER,
        },
    ),
    DemoEntry(
        138,
        {
            "headline": "Der Ausbruch im Überblick",
            "body": "<p>Was seit Beginn des Ausbruchs geschehen ist und was Fachleute jetzt "
            "erwarten, haben wir in einem Artikel zusammengefasst.</p>",
            "byline": DESK,
        },
        article_slug=ARTICLE_NEWS_SLUG,
    ),
    DemoEntry(
        121,
        {
            "body": "<p>Das Wetteramt beobachtet, dass die Aktivität entlang der Spalte "
            "nachlässt. Der Ausbruch konzentriert sich inzwischen auf drei Krater im "
            "mittleren Abschnitt.</p>",
            "byline": SCIENCE,
        },
    ),
    DemoEntry(
        104,
        {
            "body": "<p>Unsere Karte zeigt den aktuellen Stand: den Lavastrom, den Verlauf "
            "des Schutzwalls und das Sperrgebiet rund um den Ort.</p>",
            **_photo(
                "karte-sperrgebiet.svg",
                "Lavastrom, Schutzwall und Sperrgebiet bei Hafnarvík (schematisch).",
            ),
            "byline": DESK,
        },
    ),
    DemoEntry(
        88,
        {
            "headline": "Regierung beruft Krisenstab ein",
            "body": "<p>Die Regierung in Reykjavík hat einen Krisenstab einberufen. Sie "
            "kündigte Soforthilfen für die Menschen aus Hafnarvík an und will Wohnungen "
            "für eine längere Zeit bereitstellen, falls eine Rückkehr nicht möglich "
            "ist.</p>",
            "byline": DESK,
        },
    ),
    DemoEntry(
        72,
        {
            "body": "<p>Die Lava staut sich am Wall und fließt an ihm entlang nach Westen. Der "
            "Wall hat bisher nicht nachgegeben.</p>",
            "byline": REPORTER,
        },
    ),
    DemoEntry(
        57,
        {
            "body": "<p>Im Zeitraffer: Wie sich die Lava in den vergangenen Stunden über das "
            "Gelände ausgebreitet hat.</p>",
            **_video(
                "video-zeitraffer.webm",
                "Zeitraffer: Wie sich die Lava in den ersten Stunden ausgebreitet hat "
                "(Demo-Animation).",
                6,
            ),
            "byline": DESK,
        },
    ),
    DemoEntry(
        41,
        {
            "headline": "Schutzwall hält – Lava fließt am Ort vorbei",
            "body": "<p>Nach Einschätzung der Einsatzleitung hat der Wall den Hauptstrom "
            "abgelenkt. Die Lava fließt westlich an Hafnarvík vorbei in Richtung Küste. "
            "Häuser sind bisher nicht beschädigt.</p>",
            "is_key_event": True,
            "byline": REPORTER,
        },
    ),
    DemoEntry(
        30,
        {
            "headline": "Das Wichtigste in Kürze",
            "body": "<ul><li>Nordöstlich von Hafnarvík ist eine neue Eruptionsspalte "
            "aufgerissen.</li><li>Der Ort mit rund 3.000 Einwohnern ist geräumt, verletzt wurde "
            "niemand.</li><li>Ein Schutzwall lenkt die Lava bisher am Ort vorbei.</li>"
            "<li>Der Flughafen ist geöffnet; in der Hauptstadtregion gilt eine "
            "Gaswarnung.</li></ul>",
            "is_pinned": True,
            "byline": DESK,
        },
    ),
    DemoEntry(
        19,
        {
            "body": "<p>Ein Vulkanologe warnt davor, die Lage für entschärft zu halten.</p>",
            "quote": "Solange Magma nachströmt, kann jederzeit eine neue Spalte aufgehen, auch "
            "näher am Ort. Entwarnung geben wir erst, wenn sich der Boden nicht mehr hebt.",
            "quote_attribution": "Einar Magnússon, Vulkanologe",
            "byline": SCIENCE,
        },
    ),
    DemoEntry(
        11,
        {
            "body": "<p>Die Zufahrtsstraße nach Hafnarvík bleibt bis auf Weiteres gesperrt. "
            "Einsatzkräfte dürfen den Ort nur in Begleitung und für kurze Zeit "
            "betreten.</p>",
            "byline": DESK,
        },
    ),
    DemoEntry(
        4,
        {
            "body": "<p>Eine Rückkehr der Einwohner ist nach Angaben des Zivilschutzes "
            "frühestens morgen möglich. In Kürze will die Einsatzleitung vor die "
            "Presse treten. Wir berichten weiter.</p>",
            "byline": DESK,
        },
    ),
    # Still a draft: visible in the newsroom console, not to readers.
    DemoEntry(
        2,
        {
            "headline": "Pressekonferenz des Zivilschutzes",
            "body": "<p>Entwurf – Zahlen zur Fernwärme noch mit dem Versorger abgleichen.</p>",
            "status": Entry.Status.DRAFT,
            "byline": DESK,
        },
    ),
)

ENDED_ENTRIES: tuple[DemoEntry, ...] = (
    DemoEntry(
        1560,
        {
            "headline": "Strong geomagnetic storm on its way",
            "body": "<p>Space-weather forecasters expect a burst of solar particles to reach "
            "Earth within hours. If skies stay clear, the northern lights could be visible "
            "far further south than usual.</p>",
            "is_key_event": True,
            "byline": "Sam Whitfield",
        },
    ),
    DemoEntry(
        1500,
        {
            "body": "<p>Tips for watching: get away from street lights, look north, and give "
            "your eyes twenty minutes to adjust. Phone cameras often pick up colours the "
            "eye cannot.</p>",
            "byline": "Sam Whitfield",
        },
    ),
    DemoEntry(
        1440,
        {
            "headline": "First sightings from Scotland and Denmark",
            "body": "<p>Readers are sending us their first pictures. Many say the glow was "
            "clearly visible without a camera.</p>",
            **_photo("nordlicht.svg", "Northern lights over a lake in northern Europe."),
            "is_key_event": True,
            "byline": "Sam Whitfield",
        },
    ),
    DemoEntry(
        1410,
        {
            "quote": "This is the kind of display many people only see once in a decade this "
            "far south.",
            "quote_attribution": "Priya Natarajan, space-weather forecaster",
            "byline": "Sam Whitfield",
        },
    ),
    DemoEntry(
        1380,
        {
            "body": "<p>The storm is weakening and clouds are moving in from the west. That is "
            "where we end our live coverage. Thank you for all your photos.</p>",
            "byline": "Sam Whitfield",
        },
    ),
)

ARTICLES: tuple[dict[str, Any], ...] = (
    {
        "slug": ARTICLE_NEWS_SLUG,
        "minutes_ago": 140,
        "title": "Lava erreicht Schutzwall – Hafnarvík bleibt geräumt",
        "kicker": "Vulkanausbruch auf Island",
        "teaser": "Auf der Reykjanes-Halbinsel ist eine neue Spalte aufgerissen. "
        "Rund 3.000 Menschen mussten ihre Häuser verlassen. Ein Wall soll "
        "die Lava vom Ort fernhalten.",
        "author": "Jonas Albrecht",
        "image": "schutzwall.svg",
        "image_caption": "Baumaschinen verstärken den Schutzwall nördlich von Hafnarvík.",
        "body": (
            "<p>Für die Menschen in Hafnarvík ging alles sehr schnell. Kaum hatten die "
            "Sirenen geheult, standen die ersten Busse bereit. Nordöstlich des "
            "Küstenorts hatte sich die Erde auf einer Länge von rund zwei Kilometern "
            "geöffnet.</p>"
            "<p>Wenige Stunden später erreichte die Lavafront den Schutzwall, den Bautrupps "
            "schon im vergangenen Jahr aufgeschüttet hatten. Seitdem staut sich das "
            "glühende Gestein an der Barriere und fließt an ihr entlang nach Westen.</p>"
            "<h3>Einsatzleitung: Niemand verletzt</h3>"
            "<p>Nach Angaben des Zivilschutzes verlief die Räumung ohne Zwischenfälle. Die "
            "Einwohnerinnen und Einwohner sind bei Verwandten oder in Notunterkünften in der "
            "Hauptstadtregion untergebracht. Wann sie zurückkehren können, ist offen.</p>"
            "<blockquote><p>Wir haben diesen Fall seit Monaten geübt.</p></blockquote>"
            "<p>So fasste Einsatzleiterin Sigrún Halldórsdóttir die Räumung zusammen. Sie "
            "warnte zugleich davor, die Lage zu unterschätzen.</p>"
            "<h3>Fernwärme unterbrochen, Flughafen offen</h3>"
            "<p>Härter als der Ort selbst trifft der Ausbruch bislang die Infrastruktur: Eine "
            "Fernwärmeleitung wurde von der Lava überflossen, in mehreren Gemeinden bleiben "
            "die Heizungen kalt. Der internationale Flughafen ist dagegen geöffnet, denn bei "
            "diesem Ausbruch entsteht kaum Asche.</p>"
            "<h3>Wie es weitergeht</h3>"
            "<p>Fachleute rechnen damit, dass der Ausbruch Tage bis Wochen andauern kann. "
            "Entscheidend sei, ob weiter Magma aus der Tiefe nachströme. Solange sich der "
            "Boden hebe, könne sich auch eine neue Spalte öffnen.</p>"
        ),
    },
    {
        "slug": ARTICLE_BACKGROUND_SLUG,
        "minutes_ago": 280,
        "title": "Warum die Reykjanes-Halbinsel nicht zur Ruhe kommt",
        "kicker": "Hintergrund",
        "teaser": "Island wächst jedes Jahr um ein paar Zentimeter. Wo die Erdplatten "
        "auseinanderdriften, steigt Magma auf – und findet immer wieder einen Weg an die "
        "Oberfläche.",
        "author": "Miriam Okafor",
        "image": "halbinsel-querschnitt.svg",
        "image_caption": "Wo die Nordamerikanische und die Eurasische Platte "
        "auseinanderdriften, steigt Magma aus dem Erdmantel auf (schematisch).",
        "body": (
            "<p>Island liegt auf dem Mittelatlantischen Rücken, einer Naht, an der die "
            "Nordamerikanische und die Eurasische Platte langsam auseinanderdriften. In die "
            "entstehenden Lücken steigt heißes Gestein aus dem Erdmantel auf.</p>"
            "<h3>Ausbrüche in Phasen</h3>"
            "<p>Auf der Reykjanes-Halbinsel verläuft diese Naht über Land. Vulkanische "
            "Aktivität kommt hier in Phasen, die Jahrzehnte bis Jahrhunderte dauern können, "
            "unterbrochen von langen Ruhezeiten. In einer aktiven Phase folgen Ausbrüche oft "
            "im Abstand weniger Monate aufeinander.</p>"
            "<h3>Wie gut lassen sich Ausbrüche vorhersagen?</h3>"
            "<p>Messstationen erfassen Erdbeben, Satelliten und GPS-Geräte registrieren, wie "
            "sich der Boden hebt, wenn sich unter ihm Magma sammelt. Ob und wann ein "
            "Ausbruch beginnt, lässt sich damit eingrenzen, aber nicht auf die Stunde genau "
            "bestimmen. Wo genau die Erde aufreißt, bleibt die größte Unbekannte.</p>"
            "<h3>Warum Asche diesmal kaum eine Rolle spielt</h3>"
            "<p>Bei Spaltenausbrüchen tritt dünnflüssige Lava aus, die wenig Gas explosiv "
            "freisetzt. Anders ist es, wenn Magma unter einem Gletscher auf Eis trifft: Dann "
            "entstehen Aschewolken, die den Flugverkehr in ganz Europa stören können.</p>"
        ),
    },
)


def _env_or_default(option: str | None, env_name: str, default: str) -> tuple[str, bool]:
    """Return the password to use and whether it is the built-in default."""
    value = option or os.environ.get(env_name, "")
    return (value, False) if value else (default, True)


class Command(BaseCommand):
    help = (
        "Create demo accounts, tickers, entries and articles. Safe to run repeatedly: "
        "existing demo data is left as it is."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--editor-password",
            help="Password for the demo editor (default: $DEMO_EDITOR_PASSWORD or a fixed "
            "demo password).",
        )
        parser.add_argument(
            "--admin-password",
            help="Password for the demo superuser (default: $DEMO_ADMIN_PASSWORD or a fixed "
            "demo password).",
        )
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="Set the demo accounts' passwords again even if the accounts exist.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Allow the fixed demo passwords when DEBUG is off.",
        )
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="Address printed for the login page.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        editor_password, editor_default = _env_or_default(
            options["editor_password"], "DEMO_EDITOR_PASSWORD", EDITOR_PASSWORD
        )
        admin_password, admin_default = _env_or_default(
            options["admin_password"], "DEMO_ADMIN_PASSWORD", ADMIN_PASSWORD
        )
        if not settings.DEBUG and (editor_default or admin_default) and not options["force"]:
            # A superuser with a password printed in the README must not reach a public server.
            raise CommandError(
                "load_demo creates accounts with publicly known passwords. Run it with "
                "DEBUG=1, set DEMO_EDITOR_PASSWORD and DEMO_ADMIN_PASSWORD, or pass --force."
            )

        self.now = timezone.now().replace(second=0, microsecond=0)
        self.report: list[str] = []
        reset = options["reset_passwords"]
        with transaction.atomic():
            editor, editor_note = self._editor(editor_password, reset)
            _admin, admin_note = self._admin(admin_password, reset)
            live, created = self._live_ticker()
            articles = self._articles(live)
            if created:
                self._fill(live, LIVE_ENTRIES, editor, articles)
            self._ended_ticker(editor)
            self._upcoming_ticker()

        for line in self.report:
            self.stdout.write(line)
        base = options["base_url"].rstrip("/")
        self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo editor: username {EDITOR_USERNAME}  password {editor_password}"
                f"{editor_note}, log in at {base}/admin/"
            )
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo admin:  username {ADMIN_USERNAME}  password {admin_password}"
                f"{admin_note}, log in at {base}/admin/"
            )
        )
        self.stdout.write(f"Live ticker: {base}{live.get_absolute_url()}")

    # --- accounts ---------------------------------------------------------------

    def _account(
        self, username: str, password: str, reset: bool, **attrs: Any
    ) -> tuple[User, str]:
        """Create the account, or leave an existing one's password alone unless ``reset``."""
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, **attrs)
            user.set_password(password)
            user.save()
            self.report.append(f"Created user {username}.")
            return user, ""
        changed = [name for name, value in attrs.items() if getattr(user, name) != value]
        for name in changed:
            setattr(user, name, attrs[name])
        if reset:
            user.set_password(password)
            changed.append("password")
        if changed:
            user.save()
            self.report.append(f"Updated user {username}: {', '.join(changed)}.")
        if not reset and not user.check_password(password):
            return user, " (changed since; run with --reset-passwords to restore)"
        return user, ""

    def _editor(self, password: str, reset: bool) -> tuple[User, str]:
        group = Group.objects.filter(name=EDITORS_GROUP).first()
        if group is None:
            raise CommandError(f'The "{EDITORS_GROUP}" group is missing; run migrate first.')
        user, note = self._account(
            EDITOR_USERNAME,
            password,
            reset,
            first_name="Lena",
            last_name="Berger",
            email="redaktion@example.org",
            is_staff=True,
            is_active=True,
        )
        if not user.groups.filter(pk=group.pk).exists():
            user.groups.add(group)
            self.report.append(f"Added {EDITOR_USERNAME} to the {EDITORS_GROUP} group.")
        return user, note

    def _admin(self, password: str, reset: bool) -> tuple[User, str]:
        return self._account(
            ADMIN_USERNAME,
            password,
            reset,
            email="admin@example.org",
            is_staff=True,
            is_superuser=True,
            is_active=True,
        )

    # --- tickers and articles ---------------------------------------------------

    def _ago(self, minutes: int) -> datetime:
        return self.now - timedelta(minutes=minutes)

    def _ticker(self, slug: str, **fields: Any) -> Ticker | None:
        """Create the ticker through the services; return None if it already exists."""
        if Ticker.objects.filter(slug=slug).exists():
            self.report.append(f"Ticker {slug} exists, left unchanged.")
            return None
        ticker = services.save_ticker(Ticker(slug=slug, **fields))
        self.report.append(f"Created ticker {slug}.")
        return ticker

    def _live_ticker(self) -> tuple[Ticker, bool]:
        ticker = self._ticker(
            LIVE_SLUG,
            title="Vulkanausbruch auf Island: Lava bedroht Küstenort",
            summary="Auf der Reykjanes-Halbinsel ist eine neue Spalte aufgerissen. "
            "Der Ort Hafnarvík ist geräumt, ein Schutzwall soll die Lava "
            "ablenken. Alle Entwicklungen im Liveblog.",
            status=Ticker.Status.LIVE,
            language="de",
            starts_at=self._ago(440),
        )
        if ticker is None:
            return Ticker.objects.get(slug=LIVE_SLUG), False
        return ticker, True

    def _articles(self, live: Ticker) -> dict[str, Article]:
        """Create the articles by slug; existing ones are not touched."""
        articles = {}
        for spec in ARTICLES:
            article, created = Article.objects.get_or_create(
                slug=spec["slug"],
                defaults={
                    "title": spec["title"],
                    "kicker": spec["kicker"],
                    "teaser": spec["teaser"],
                    "body": spec["body"],
                    "author": spec["author"],
                    "published_at": self._ago(spec["minutes_ago"]),
                    "image_url": f"{DEMO_STATIC}{spec['image']}",
                    "image_caption": spec["image_caption"],
                    "image_credit": DEMO_CREDIT,
                    "ticker": live,
                },
            )
            state = "Created" if created else "Kept existing"
            self.report.append(f"{state} article {article.slug}.")
            articles[article.slug] = article
        return articles

    def _fill(
        self,
        ticker: Ticker,
        entries: tuple[DemoEntry, ...],
        editor: User,
        articles: dict[str, Article] | None = None,
    ) -> None:
        """Write a new ticker's entries, oldest first, through the services."""
        today: date = timezone.localdate(self.now)
        for spec in entries:
            fields = dict(spec.fields)
            if spec.article_slug and articles:
                fields["article"] = articles[spec.article_slug]
            if fields.get("media_kind") == Entry.Media.VIDEO:
                fields["media_date"] = today
            services.create_entry(
                ticker=ticker, user=editor, display_at=self._ago(spec.minutes_ago), **fields
            )
        self.report.append(f"Wrote {len(entries)} entries to {ticker.slug}.")

    def _ended_ticker(self, editor: User) -> None:
        ticker = self._ticker(
            ENDED_SLUG,
            title="Northern lights across Europe: as it happened",
            summary="A strong geomagnetic storm made the aurora visible far south of its "
            "usual range. Our live coverage has ended.",
            status=Ticker.Status.LIVE,
            language="en",
            starts_at=self._ago(1570),
        )
        if ticker is None:
            return
        self._fill(ticker, ENDED_ENTRIES, editor)
        ticker.ends_at = self._ago(1375)
        services.set_ticker_status(ticker, Ticker.Status.ENDED, user=editor)

    def _upcoming_ticker(self) -> None:
        tomorrow_evening = timezone.localtime(self.now).replace(hour=18, minute=0) + timedelta(
            days=1
        )
        self._ticker(
            UPCOMING_SLUG,
            title="Your questions on Iceland's eruption, answered live",
            summary="Our science desk answers readers' questions about the eruption on the "
            "Reykjanes peninsula. Send yours in advance.",
            status=Ticker.Status.UPCOMING,
            language="en",
            starts_at=tomorrow_evening,
        )
