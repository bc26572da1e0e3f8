"""The shipped nginx configuration in front of real daphne processes.

nginx runs as the test user with its own prefix, logs and free ports, and
terminates TLS with a throw-away certificate, as it would in production; the
site file is deploy/nginx/liveblog.conf itself (see tests/deploy/nginx.py).
A missing nginx fails these tests: it is installed by ``./dev test``.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from tests.daphne import Daphne, server_env
from tests.deploy.nginx import HOST, Nginx
from ticker import services
from ticker.models import Change, Ticker

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Stack:
    nginx: Nginx
    servers: list[Daphne]

    def request(
        self, path: str, headers: dict[str, str] | None = None, method: str = "GET"
    ) -> tuple[http.client.HTTPResponse, bytes]:
        connection = self.connection()
        try:
            connection.request(method, path, headers={"Host": HOST, **(headers or {})})
            response = connection.getresponse()
            return response, response.read()
        finally:
            connection.close()

    def connection(self) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(
            HOST, self.nginx.https_port, context=self.nginx.ssl_context(), timeout=10
        )

    def reader(self, slug: str, query: str = "") -> ClientConnection:
        return ws_connect(
            f"{self.nginx.ws_url}/ws/live/{slug}/?{query}",
            ssl=self.nginx.ssl_context(),
            origin=f"https://{HOST}",
            open_timeout=10,
            close_timeout=2,
        )


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    """Return ``stack(processes=1, **env)``: daphne processes behind nginx, as in production."""
    started: list[Daphne | Nginx] = []

    def start(processes: int = 1, args: tuple[str, ...] = (), **env: str) -> Stack:
        environment = server_env(
            BEHIND_PROXY="1",
            HTTPS="1",
            # The test process's key, so a session it creates is valid on the server.
            SECRET_KEY=settings.SECRET_KEY,
            **env,
        )
        servers = []
        for n in range(processes):
            server = Daphne(tmp_path / f"daphne-{n}.log", args=args, env=environment)
            started.append(server)
            servers.append(server.start())
        (tmp_path / "nginx").mkdir()
        nginx = Nginx(tmp_path / "nginx", [server.port for server in servers])
        started.append(nginx)
        return Stack(nginx.start(), servers)

    yield start
    for process in reversed(started):
        process.stop()


def last_seq(ticker: Ticker) -> int:
    return Change.objects.filter(ticker=ticker).order_by("-seq").values_list("seq", flat=True)[0]


def origin_hits(stack: Stack, path: str) -> int:
    """How many times daphne's access logs show ``path`` (each line is one request)."""
    return sum(server.output.count(f'"GET {path}"') for server in stack.servers)


# ---- WebSockets ----------------------------------------------------------------------


@pytest.mark.parametrize("processes", [1, 2])
def test_readers_through_nginx_get_live_changes(ticker, stack, processes):
    """The upgrade passes nginx; each reader gets the change once (one or two upstreams)."""
    site = stack(processes)
    with contextlib.ExitStack() as sockets:
        readers = [sockets.enter_context(site.reader(ticker.slug)) for _ in range(2 * processes)]
        time.sleep(0.3)  # the sockets have joined the hubs
        entry = services.create_entry(ticker=ticker, body="<p>Durch den Proxy</p>")
        for ws in readers:
            # With Redis at once; with the in-memory layer by resync (1 s here).
            event = json.loads(ws.recv(timeout=10))
            assert event["type"] == "entry.published"
            assert event["entry_id"] == entry.pk
            assert event["seq"] == last_seq(ticker)
            with pytest.raises(TimeoutError):
                ws.recv(timeout=0.5)
    if processes == 2:
        # Round robin: each process served some of the sockets.
        assert all("/ws/live/" in server.output for server in site.servers)


def test_a_reader_catches_up_through_nginx(ticker, stack):
    site = stack()
    services.create_entry(ticker=ticker, body="<p>eins</p>")
    services.create_entry(ticker=ticker, body="<p>zwei</p>")
    with site.reader(ticker.slug, "since=0") as ws:
        seqs = [json.loads(ws.recv(timeout=10))["seq"] for _ in range(last_seq(ticker))]
    assert seqs == list(range(1, last_seq(ticker) + 1))


# ---- What Django learns from the proxy -------------------------------------------------


def test_django_sees_https_from_the_proxy(ticker, stack):
    """X-Forwarded-Proto reaches Django (BEHIND_PROXY=1): no redirect, https in absolute URLs."""
    site = stack()
    response, body = site.request(f"/live/{ticker.slug}/")
    assert response.status == 200  # HTTPS=1 would redirect a request it thought was http
    html = body.decode()
    assert f'<link rel="canonical" href="https://{HOST}/live/{ticker.slug}/">' in html
    assert response.getheader("Strict-Transport-Security")
    response, body = site.request(f"/oembed/?url=https://{HOST}/live/{ticker.slug}/&format=json")
    assert response.status == 200
    oembed = json.loads(body)
    assert oembed["provider_url"] == f"https://{HOST}/"
    assert f'src="https://{HOST}/live/{ticker.slug}/embed/' in oembed["html"]


def test_without_the_proxy_the_same_request_is_sent_to_https(ticker, stack):
    """The header, not the port, made the difference above; plain http on nginx redirects."""
    site = stack()
    direct = http.client.HTTPConnection("127.0.0.1", site.servers[0].port, timeout=10)
    direct.request("GET", f"/live/{ticker.slug}/", headers={"Host": HOST})
    assert direct.getresponse().status == 301
    direct.close()
    plain = http.client.HTTPConnection("127.0.0.1", site.nginx.http_port, timeout=10)
    plain.request("GET", f"/live/{ticker.slug}/", headers={"Host": HOST})
    response = plain.getresponse()
    assert response.status == 301
    assert response.getheader("Location") == f"https://{HOST}/live/{ticker.slug}/"
    plain.close()


def test_a_spoofed_client_address_does_not_reach_the_log(ticker, stack):
    """With daphne's --proxy-headers, X-Real-IP (set by nginx) names the client, not X-F-F."""
    site = stack(args=("--proxy-headers", "--proxy-headers-host", "X-Real-IP"))
    response, _ = site.request(f"/live/{ticker.slug}/", {"X-Forwarded-For": "203.0.113.7"})
    assert response.status == 200
    time.sleep(0.2)
    log = site.servers[0].output
    assert f"/live/{ticker.slug}/" in log
    assert "203.0.113.7" not in log


# ---- The micro-cache -------------------------------------------------------------------


def test_the_changes_endpoint_is_served_from_the_micro_cache(ticker, stack):
    site = stack()
    services.create_entry(ticker=ticker, body="<p>eins</p>")
    path = f"/live/{ticker.slug}/changes/?since={last_seq(ticker)}"
    first, first_body = site.request(path)
    second, second_body = site.request(path)
    assert first.status == second.status == 200
    assert first.getheader("X-Cache-Status") == "MISS"
    assert second.getheader("X-Cache-Status") == "HIT"
    assert second_body == first_body
    assert second.getheader("Cache-Control") == "public, max-age=2"
    assert origin_hits(site, path) == 1
    # A client's revalidation is answered by nginx from the cache.
    revalidated, _ = site.request(path, {"If-None-Match": first.getheader("ETag")})
    assert revalidated.status == 304
    assert origin_hits(site, path) == 1


def test_a_cached_answer_expires_with_the_apps_max_age(ticker, stack):
    """A new change reaches pollers within max-age (2 s) plus the app's position cache (1 s)."""
    site = stack()
    services.create_entry(ticker=ticker, body="<p>eins</p>")
    before = last_seq(ticker)
    path = f"/live/{ticker.slug}/changes/?since={before}"
    assert json.loads(site.request(path)[1])["last_seq"] == before
    services.create_entry(ticker=ticker, body="<p>zwei</p>")
    deadline = time.monotonic() + 8
    while True:
        answer = json.loads(site.request(path)[1])
        if answer["last_seq"] == before + 1:
            break
        assert time.monotonic() < deadline, "the cached answer never expired"
        time.sleep(0.2)
    assert [change["seq"] for change in answer["changes"]] == [before + 1]


def test_a_crowd_of_identical_polls_reaches_daphne_about_once(ticker, stack):
    """Request collapsing: 400 simultaneous requests for a cold URL, one goes to the origin."""
    site = stack(2)
    services.create_entry(ticker=ticker, body="<p>eins</p>")
    path = f"/live/{ticker.slug}/changes/?since={last_seq(ticker)}"
    threads, per_thread = 40, 10
    barrier = threading.Barrier(threads)
    statuses: list[int] = []
    cache: list[str] = []
    lock = threading.Lock()

    def poll() -> None:
        connection = site.connection()
        connection.connect()  # the TLS handshake before the barrier, so requests collide
        barrier.wait(timeout=30)
        for _ in range(per_thread):
            connection.request("GET", path, headers={"Host": HOST})
            response = connection.getresponse()
            response.read()
            with lock:
                statuses.append(response.status)
                cache.append(response.getheader("X-Cache-Status") or "")
        connection.close()

    started = time.monotonic()
    workers = [threading.Thread(target=poll) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    elapsed = time.monotonic() - started
    assert statuses == [200] * threads * per_thread
    time.sleep(0.3)  # daphne writes its access log after the response
    hits = origin_hits(site, path)
    # One per max-age (2 s) at most, plus one background refresh.
    assert 1 <= hits <= 2 + int(elapsed / 2), (hits, elapsed, cache)
    assert cache.count("HIT") + cache.count("UPDATING") >= threads * per_thread - hits - threads


def test_the_admin_is_never_cached(ticker, stack):
    """A logged-in page never comes back from nginx to someone else, nor from a cache."""
    site = stack()
    User.objects.create_superuser("chefin", password="sehr-geheim-2025")
    client = Client()
    client.login(username="chefin", password="sehr-geheim-2025")
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    for _ in range(2):
        response, body = site.request("/admin/", {"Cookie": cookie})
        assert response.status == 200
        assert b"chefin" in body
        assert response.getheader("X-Cache-Status") is None
        assert "private" in (response.getheader("Cache-Control") or "")
    response, body = site.request("/admin/")
    assert response.status == 302
    assert response.getheader("Location").startswith("/admin/login/")
    assert b"chefin" not in body
    # Cookies do not make the public changes endpoint private, nor the other way round.
    path = f"/live/{ticker.slug}/changes/?since=0"
    response, _ = site.request(path, {"Cookie": cookie})
    assert response.getheader("Set-Cookie") is None


# ---- Static files ----------------------------------------------------------------------


def test_static_files_come_from_nginx(ticker, stack):
    site = stack()
    manifest = json.loads((Path(settings.STATIC_ROOT) / "staticfiles.json").read_text())
    hashed = manifest["paths"]["ticker/embed.js"]
    assert re.search(r"\.[0-9a-f]{12}\.js$", hashed)
    stable, stable_body = site.request("/static/ticker/embed.js")
    assert stable.status == 200
    assert stable.getheader("Cache-Control") == "public, max-age=300"
    assert stable_body == (Path(settings.STATIC_ROOT) / "ticker/embed.js").read_bytes()
    forever, _ = site.request(f"/static/{hashed}", {"Accept-Encoding": "gzip"})
    assert forever.status == 200
    assert forever.getheader("Cache-Control") == "public, max-age=31536000, immutable"
    assert forever.getheader("Content-Encoding") == "gzip"
    assert "/static/" not in site.servers[0].output  # daphne never saw them


def test_requests_go_on_when_one_process_is_down(ticker, stack):
    site = stack(2)
    for _ in range(4):
        assert site.request(f"/live/{ticker.slug}/")[0].status == 200
    assert all(f"/live/{ticker.slug}/" in server.output for server in site.servers)
    site.servers[0].stop()
    for _ in range(4):
        assert site.request(f"/live/{ticker.slug}/")[0].status == 200
