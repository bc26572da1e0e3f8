"""Server-process tuning: each measure applies, and each has a fallback that changes nothing."""

from __future__ import annotations

import gc
import logging
import types
from pathlib import Path

from ticker import serving


def test_autobahn_still_formats_its_settings_per_connection_where_we_skip_it():
    """Fails when an autobahn upgrade drops the name we replace: then revisit the tuning."""
    from autobahn.websocket import protocol

    assert callable(protocol.pformat)
    source = Path(protocol.__file__).read_text()
    assert "pformat(configAttrLog)" in source


def test_the_settings_dump_is_skipped_only_while_debug_logging_is_off(monkeypatch):
    from autobahn.websocket import protocol

    monkeypatch.setattr(protocol, "pformat", lambda obj: "formatted")
    logging.getLogger("autobahn").setLevel(logging.DEBUG)
    try:
        assert serving.skip_autobahn_settings_dump() is False
        assert protocol.pformat([1]) == "formatted"
    finally:
        logging.getLogger("autobahn").setLevel(logging.NOTSET)
    assert serving.skip_autobahn_settings_dump() is True
    assert protocol.pformat([1]) != "formatted"


def test_a_changed_autobahn_is_left_alone(monkeypatch):
    import autobahn.websocket

    fake = types.ModuleType("autobahn.websocket.protocol")
    monkeypatch.setattr(autobahn.websocket, "protocol", fake)
    assert serving.skip_autobahn_settings_dump() is False
    assert not hasattr(fake, "pformat")


def test_the_collector_skips_the_start_up_heap_and_collects_the_young_less_often():
    before = gc.get_threshold()
    try:
        serving.tune_collector()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] == serving.GC_YOUNG_THRESHOLD
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_free_memory_is_returned_where_glibc_can(monkeypatch):
    calls = []
    monkeypatch.setattr(serving, "_libc", types.SimpleNamespace(malloc_trim=calls.append))
    assert serving.return_free_memory() is True
    assert calls == [0]
    monkeypatch.setattr(serving, "_libc", False)
    assert serving.return_free_memory() is False
