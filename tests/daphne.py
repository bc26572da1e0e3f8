"""Run the project under a real daphne in a subprocess, as users run it.

Behaviour that depends on the server (close codes, timeouts, reconnects,
leaks) is tested through this, not only through Channels' communicator.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from django.conf import settings

from tests.helpers import free_port, wait_until_listening


def database_url() -> str:
    """Return a DATABASE_URL for the test database this process is using."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return "sqlite:///" + str(Path(db["NAME"]).resolve())
    if "postgresql" in db["ENGINE"]:
        auth = quote(db["USER"] or "", safe="")
        if db.get("PASSWORD"):
            auth += ":" + quote(db["PASSWORD"], safe="")
        host = db["HOST"] or "127.0.0.1"
        return f"postgres://{auth}@{host}:{db['PORT'] or 5432}/{quote(db['NAME'], safe='')}"
    raise RuntimeError(f"Server tests do not support the database engine {db['ENGINE']}")


def server_env(**overrides: str) -> dict[str, str]:
    """Return production-like settings for a server on the test database."""
    env = dict(os.environ)  # keeps REDIS_URL, CHANNEL_PREFIX and the like
    env.update(
        DJANGO_SETTINGS_MODULE="liveblog.settings",
        DATABASE_URL=database_url(),
        STATIC_ROOT=str(settings.STATIC_ROOT),
        DEBUG="0",
        HTTPS="0",
        SECRET_KEY="server-tests-only-not-a-secret",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        # Writes made in the test process reach the server through the change
        # log when the two do not share a channel layer (the in-memory one).
        TICKER_RESYNC_SECONDS="1",
        TICKER_POLL_SECONDS="1",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


class Daphne:
    """One daphne process serving an ASGI application on a port of its own."""

    def __init__(
        self,
        log: Path,
        *,
        app: str = "liveblog.asgi:application",
        args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        port: int | None = None,
    ) -> None:
        self.log = log
        self.app = app
        self.args = args
        self.env = env if env is not None else server_env()
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30, **env: str) -> Daphne:
        """Start daphne (again, on the same port); ``env`` overrides settings for this start."""
        command = [
            sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port),
            *self.args, self.app,
        ]  # fmt: skip
        with self.log.open("ab") as stream:
            self.process = subprocess.Popen(
                command,
                cwd=settings.BASE_DIR,
                env={**self.env, **env},
                stdout=stream,
                stderr=stream,
            )
        wait_until_listening("daphne", self.process, self.port, lambda: self.output, timeout)
        return self

    def stop(self) -> None:
        """Stop daphne as an operator would (SIGTERM), killing it if it hangs."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None

    def restart(self, pause: float = 2.0, **env: str) -> None:
        """Stop, stay down for ``pause`` seconds (a deploy), start again on the same port."""
        self.stop()
        time.sleep(pause)
        self.start(**env)

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""
