"""Fixtures for tests that drive a real browser against a real daphne server.

The server runs in a subprocess on the same test database as the test, so a
test can write through the services and watch the browser react. Browser
tests need ``transactional_db``: the server cannot see data inside the test's
open transaction.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from tests.daphne import Daphne, server_env

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Records every WebSocket a page opens (window.__sockets), the frames it
# receives (window.__frames) and when sockets were created, opened and closed
# with which code (window.__socketLog), so tests can close a socket, see that a
# frame arrived before the page showed it, or time a reconnect. live.js itself
# exposes nothing.
SOCKET_SPY = """
(() => {
  const Native = window.WebSocket;
  if (!Native) return;
  window.__sockets = [];
  window.__frames = [];
  window.__socketLog = [];
  const log = (event, code) => window.__socketLog.push({ event, code, at: Date.now() });
  window.WebSocket = function (url, protocols) {
    const ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
    window.__sockets.push(ws);
    log("create");
    ws.addEventListener("open", () => log("open"));
    ws.addEventListener("close", (event) => log("close", event.code));
    ws.addEventListener("message", (event) => {
      try { window.__frames.push(JSON.parse(event.data)); } catch (e) {}
    });
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  for (const name of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) {
    window.WebSocket[name] = Native[name];
  }
})();
"""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Attach the server's log to the report of a failed browser test."""
    report = yield
    log = getattr(item, "_daphne_log", None)
    if report.failed and log is not None and log.exists():
        report.sections.append(("daphne server log", log.read_text()))
    return report


@pytest.fixture
def daphne_process(
    request: pytest.FixtureRequest, transactional_db: None, tmp_path: Path
) -> Iterator[Daphne]:
    """Serve the project with daphne on a free port; the test may restart it."""
    server = Daphne(tmp_path / "daphne.log", env=server_env(SECRET_KEY="browser-tests-only"))
    request.node._daphne_log = server.log
    server.start()
    try:
        yield server
    finally:
        # Stop before transactional_db empties the database under the server.
        server.stop()


@pytest.fixture
def daphne_server(daphne_process: Daphne) -> str:
    """Serve the project with daphne on a free port; return its base URL."""
    return daphne_process.url


@pytest.fixture
def newsroom_editor(request: pytest.FixtureRequest, transactional_db: None) -> Any:
    """Return the shared ``editor`` user in a transactional test (the server must see it)."""
    return request.getfixturevalue("editor")


@pytest.fixture
def in_thread() -> Callable[..., Any]:
    """Return ``call(fn, *args, **kwargs)``: run ``fn`` in a worker thread and return its result.

    Services broadcast on commit with ``async_to_sync``, which refuses to run in
    a thread whose event loop is (nominally) running, as Playwright's is. Run
    writes through this so the broadcast really goes out on the channel layer.
    """

    def call(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        def work() -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                connections.close_all()  # the thread's own connection

        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(work).result(timeout=30)

    return call


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's chromium, headless, driven by Playwright (never a downloaded build).

    One per test module, not per session: while Playwright's sync API is
    running, asyncio sees a running loop in this thread, which would break the
    async tests of other modules.
    """
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(
            "chromium is not installed: the browser tests need Debian's chromium "
            "(apt-get install chromium); Playwright's own browser downloads are not used.",
            pytrace=False,
        )
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        # Between two calls, Playwright's sync API leaves its idle event loop
        # marked as running in this thread, which Django takes for "called from
        # async code". The tests' own database calls never run on that loop.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: object) -> Iterator[object]:
    """Return a factory for pages, each in its own context, closed after the test.

    ``new_page(javascript=False)`` gives a reader without JavaScript; every
    page with JavaScript has the socket spy (``SOCKET_SPY``) installed.
    """
    contexts = []

    def factory(*, javascript: bool = True, **options: object) -> object:
        context = browser.new_context(java_script_enabled=javascript, **options)
        context.set_default_timeout(8000)
        contexts.append(context)
        page = context.new_page()
        if javascript:
            page.add_init_script(SOCKET_SPY)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.js_errors = errors
        return page

    yield factory
    for context in contexts:
        context.close()
