"""The real application with two faults a test can trigger from outside, under daphne.

A reader that sends ``"crash"`` makes its consumer raise; one that sends
``"hang"`` makes it block until daphne kills it. Production code has no such
hooks; this module patches them in for the server tests only.
"""

from __future__ import annotations

import asyncio

from liveblog.asgi import application
from ticker.consumers import TickerConsumer

_receive = TickerConsumer.receive


async def _faulty_receive(
    self: TickerConsumer, text_data: str | None = None, bytes_data: bytes | None = None
) -> None:
    if text_data == '"crash"':
        raise RuntimeError("a bug inside the consumer")
    if text_data == '"hang"':
        await asyncio.sleep(3600)
    await _receive(self, text_data=text_data, bytes_data=bytes_data)


TickerConsumer.receive = _faulty_receive  # type: ignore[method-assign]

__all__ = ["application"]
