"""pytest plugin for ``./dev mutate``: make mutmut's test runs look like the suite's own.

Loaded only through ``[tool.mutmut] pytest_add_cli_args``; ordinary test runs
never see it. It does two things:

- One SQLite test database per mutmut worker. mutmut forks a worker per
  mutant and each runs its own pytest session, which creates and destroys the
  test database; with several workers at once (``MUTATE_JOBS`` > 1) they
  would share the one file named in the settings. (A file, not memory: the
  tests that start daphne open the same database from a subprocess.)
- A fixed order, the mutated module's own tests first. mutmut passes the
  tests that cover a mutant as a set, so their order would change from run
  to run; here ``tests/ticker/test_<module>.py`` runs first (it kills most
  mutants in seconds, and mutmut stops at the first failure), then the rest
  in the suite's file and definition order.
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


def _mutated_module() -> str:
    """Return e.g. "sanitize" for the mutant ``ticker.sanitize.x_sanitize_html__mutmut_8``."""
    parts = os.environ.get("MUTANT_UNDER_TEST", "").split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "ticker" else ""


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    own_tests = f"test_{_mutated_module()}.py"

    def order(item: pytest.Item) -> tuple[bool, str, int, tuple[int, ...]]:
        callspec = getattr(item, "callspec", None)
        params = tuple(callspec.indices.values()) if callspec is not None else ()
        return item.path.name != own_tests, str(item.path), item.location[1] or 0, params

    items.sort(key=order)
