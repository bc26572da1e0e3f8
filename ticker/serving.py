"""Tuning for a server process that holds thousands of sockets.

Both measures are plain Python or library features, each with a fallback
that leaves the process as it was, and each is checked by a test.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
from typing import Any

logger = logging.getLogger(__name__)

# Young objects between collections (CPython's default is 2,000): a connect
# creates a few hundred short-lived objects, so the default collects several
# times per connect for nothing.
GC_YOUNG_THRESHOLD = 20_000

_NOT_FORMATTED = "(settings not formatted: autobahn's debug log is off)"


def _unformatted(_obj: Any, *args: Any, **kwargs: Any) -> str:
    return _NOT_FORMATTED


def skip_autobahn_settings_dump() -> bool:
    """Stop autobahn formatting its ~40 settings for every new WebSocket.

    autobahn pretty-prints its settings on each connection for a debug log
    line that is dropped unless debug logging is on; profiling a connect
    storm under daphne put that at about a sixth of the server's CPU. Only
    while autobahn's debug log is off is the formatter replaced by a stub.
    Returns False (and changes nothing) when the library no longer looks as
    expected, so an upgrade costs speed, never correctness.
    """
    try:
        from autobahn.websocket import protocol
    except ImportError:
        return False
    if not callable(getattr(protocol, "pformat", None)):
        return False
    if logging.getLogger("autobahn").isEnabledFor(logging.DEBUG):
        return False
    setattr(protocol, "pformat", _unformatted)  # noqa: B010 - a module of another library
    return True


def tune_collector() -> None:
    """Keep the import-time heap out of the cyclic collector and collect the young less often.

    ``gc.freeze`` moves everything alive after start-up (Django, the app,
    templates) to a generation the collector never scans, so a full
    collection with thousands of readers walks only their objects.
    """
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


_libc: Any = None


def return_free_memory() -> bool:
    """Collect cycles and hand freed heap back to the OS (glibc's ``malloc_trim``).

    Called when readers leave in numbers, so memory a surge took is given
    back. Returns False where ``malloc_trim`` does not exist (other libcs).
    """
    global _libc
    gc.collect()
    if _libc is None:
        name = ctypes.util.find_library("c")
        _libc = ctypes.CDLL(name) if name else False
    trim = getattr(_libc, "malloc_trim", None) if _libc else None
    if trim is None:
        return False
    trim(0)
    return True


def tune_server_process() -> None:
    """Apply the tuning; called once by the ASGI entry point after Django is set up."""
    skipped = skip_autobahn_settings_dump()
    tune_collector()
    logger.debug("Server tuning applied (autobahn settings dump skipped: %s)", skipped)
