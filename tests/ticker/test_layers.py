"""The app's layering: lower modules never import the ones built on them.

Models know no delivery and no widget; a name both need lives below both
(``ticker.validators``) or with the lower one (``ticker.broadcast.group_name``).
"""

import ast
from pathlib import Path

import pytest

import ticker

APP = Path(ticker.__file__).parent

# module -> ticker modules it must not import (directly or inside a function).
FORBIDDEN = {
    "models": {"broadcast", "embed", "fanout", "consumers", "services", "views", "admin"},
    "validators": {"models", "broadcast", "embed", "services", "views", "admin"},
    "sanitize": {"models", "broadcast", "embed", "services", "views", "admin"},
    "broadcast": {"embed", "fanout", "consumers", "views", "admin"},
}


def ticker_imports(module: str) -> set[str]:
    """Return the ``ticker`` submodules that ``ticker/<module>.py`` imports anywhere."""
    tree = ast.parse((APP / f"{module}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "ticker" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("module", sorted(FORBIDDEN))
def test_lower_modules_do_not_import_higher_ones(module):
    assert ticker_imports(module) & FORBIDDEN[module] == set()
