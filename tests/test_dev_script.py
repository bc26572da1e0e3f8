"""The ``dev`` script as contributors and operators use it (README: "The two commands")."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "dev"

pytestmark = pytest.mark.skipif(
    not (ROOT / ".venv" / ".installed").exists() or Path(sys.prefix) != ROOT / ".venv",
    reason="needs the project's own .venv, installed by ./dev",
)


def run_dev(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DEV), *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_setup_does_nothing_and_says_nothing_when_nothing_changed():
    # ./dev test has just run setup, so the install is current: no pip, no warnings.
    started = time.monotonic()
    result = run_dev("setup")
    assert result.returncode == 0, result.stderr
    assert (result.stdout, result.stderr) == ("", "")
    assert time.monotonic() - started < 5


def test_manage_runs_manage_py_in_the_venv():
    result = run_dev("manage", "check")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_readme_runs_django_commands_through_dev():
    # The system Python has no Django: every command the README shows goes through ./dev.
    readme = (ROOT / "README.md").read_text()
    assert "python manage.py" not in readme
    assert "./dev manage load_demo --help" in readme
