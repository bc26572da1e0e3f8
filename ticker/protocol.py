"""The reader protocol's close codes: one table for the consumer, ``live.js`` and the README.

WebSocket servers may only send 1000 or codes from 3000-4999 (daphne's
autobahn refuses 1008, 1009, 1013 and the like), so every reason of our own
is a 4xxx code, numbered after the nearest HTTP status. Each code says what a
client should do: ``stop`` (retrying cannot help), ``retry`` (with back-off,
not sooner than ``retry_after`` seconds, with jitter) or ``reload`` (the page
itself is out of date). The live page hands this table to ``live.js`` as
JSON, so the browser never carries a second copy of it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal

Action = Literal["stop", "retry", "reload"]


class Close(enum.IntEnum):
    """Why the server closed a reader's socket."""

    GOING_AWAY = 4001
    BAD_REQUEST = 4400
    NOT_FOUND = 4404
    TOO_LARGE = 4413
    TOO_MANY_FRAMES = 4429
    UNAVAILABLE = 4503


@dataclass(frozen=True)
class CloseRule:
    """What a close code means and what a client does about it."""

    code: Close
    reason: str
    action: Action
    # Seconds a client waits at least before it tries again (with jitter on top).
    retry_after: float = 0.0
    # Whether a retrying client polls the changes endpoint meanwhile: yes when
    # the server is up but cannot serve this socket (the database may well
    # answer), no when the server itself is going away.
    poll_meanwhile: bool = False


CLOSE_RULES: dict[Close, CloseRule] = {
    rule.code: rule
    for rule in (
        CloseRule(Close.GOING_AWAY, "server restarting, reconnect", "retry", 1.0),
        CloseRule(Close.BAD_REQUEST, "since must be a whole number of 0 or more", "reload"),
        CloseRule(Close.NOT_FOUND, "unknown ticker", "stop"),
        CloseRule(Close.TOO_LARGE, "frame too large", "retry", 5.0, poll_meanwhile=True),
        CloseRule(Close.TOO_MANY_FRAMES, "too many frames", "retry", 60.0, poll_meanwhile=True),
        CloseRule(
            Close.UNAVAILABLE, "temporarily unavailable, retry", "retry", 2.0, poll_meanwhile=True
        ),
    )
}


def client_table() -> dict[str, dict[str, object]]:
    """Return the table as ``live.js`` reads it: code -> action, retry hint (ms), poll or not."""
    return {
        str(int(rule.code)): {
            "action": rule.action,
            "retry_ms": int(rule.retry_after * 1000),
            "poll": rule.poll_meanwhile,
        }
        for rule in CLOSE_RULES.values()
    }
