"""Fixtures shared by the whole suite.

The suite runs twice (see ``./dev test``): on the embedded defaults and on
PostgreSQL + Redis. With ``TEST_REQUIRE_SERVICES=1`` a missing service fails
the run at once instead of quietly testing the defaults again.
"""

from __future__ import annotations

import importlib
import os

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from ticker import services
from ticker.models import Ticker


def pytest_sessionstart(session: pytest.Session) -> None:
    # Build hashed static files once, as production serves them, before any
    # test module builds the ASGI application (WhiteNoise indexes them then).
    call_command("collectstatic", interactive=False, verbosity=0)
    if os.environ.get("TEST_REQUIRE_SERVICES") != "1":
        return
    engine = settings.DATABASES["default"]["ENGINE"]
    backend = settings.CHANNEL_LAYERS["default"]["BACKEND"]
    if "postgresql" not in engine or "channels_redis" not in backend:
        raise pytest.UsageError(
            f"TEST_REQUIRE_SERVICES=1 but the suite is configured for {engine} and {backend}; "
            "set DATABASE_URL to PostgreSQL and REDIS_URL to Redis."
        )
    import psycopg
    import redis

    db = settings.DATABASES["default"]
    try:
        psycopg.connect(
            host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname="postgres",
            password=db["PASSWORD"] or None, connect_timeout=5,
        ).close()  # fmt: skip
    except psycopg.Error as exc:
        raise pytest.UsageError(f"PostgreSQL is required but unreachable: {exc}") from exc
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        raise pytest.UsageError(f"Redis is required but unreachable: {exc}") from exc


@pytest.fixture(autouse=True)
def _plain_http(settings) -> None:
    """Talk plain HTTP to the app; production HTTPS settings are checked by ``check --deploy``."""
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Give every test its own layer instance (the in-memory one is bound to an event loop)."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _forget_ticker_positions():
    """Each test starts with no remembered ticker positions (its database is new)."""
    from ticker import selectors

    selectors._positions.clear()
    yield
    selectors._positions.clear()


@pytest.fixture
def ticker(db) -> Ticker:
    return services.save_ticker(
        Ticker(
            title="Krieg in der Ukraine",
            slug="krieg-in-der-ukraine",
            summary="Alle Entwicklungen im Überblick.",
            status=Ticker.Status.LIVE,
            language="de",
        )
    )


def editors_group() -> Group:
    """Return the "Editors" group, rebuilt from migration 0002's own list if missing.

    The group comes from a data migration; a transactional test's flush
    deletes it, so tests that need it restore it exactly as migrated.
    """
    from django.contrib.auth.models import Permission

    migration = importlib.import_module("ticker.migrations.0002_editors_group")
    group, created = Group.objects.get_or_create(name=migration.GROUP_NAME)
    if created:
        codenames = [
            f"{action}_{model}"
            for model, actions in migration.PERMISSIONS.items()
            for action in actions
        ]
        group.permissions.set(
            Permission.objects.filter(content_type__app_label="ticker", codename__in=codenames)
        )
    return group


@pytest.fixture
def editor(db) -> User:
    """A newsroom editor: staff, in the Editors group made by the data migration."""
    user = User.objects.create_user(
        "redakteurin", password="sicher-und-geheim-123", is_staff=True, first_name="Erika",
        last_name="Muster",
    )  # fmt: skip
    user.groups.add(editors_group())
    return user
