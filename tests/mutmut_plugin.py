"""pytest plugin for ``./dev mutate``: make mutmut's test runs look like the suite's own.

Loaded only through ``[tool.mutmut] pytest_add_cli_args``; ordinary test runs
never see it. It does two things:

- One SQLite test database per mutmut worker. mutmut forks a worker per
  mutant and each runs its own pytest session, which creates and destroys the
  test database; with several workers at once (``MUTATE_JOBS`` > 1) they
  would share the one file named in the settings. (A file, not memory: the
  tests that start daphne open the same database from a subprocess.)
- The suite's own order. mutmut passes the tests that cover a mutant as a set,
  so their order changes from run to run; sorting them back into file and
  definition order keeps a mutant's verdict from depending on the order.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.sqlite3":
        return
    test = database.setdefault("TEST", {})
    name = Path(test.get("NAME") or "test-db.sqlite3")
    test["NAME"] = str(name.with_name(f"{name.stem}-{os.getpid()}{name.suffix}"))


def _suite_order(item: pytest.Item) -> tuple[str, int, tuple[int, ...]]:
    callspec = getattr(item, "callspec", None)
    params = tuple(callspec.indices.values()) if callspec is not None else ()
    return str(item.path), item.location[1] or 0, params


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_suite_order)
