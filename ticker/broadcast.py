"""Hand a committed change to the channel layer, once, for every server process.

Each process's fan-out hub (:mod:`ticker.fanout`) is the only subscriber of a
ticker's group in that process, so one ``group_send`` reaches each process
once, whatever the number of readers.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

MESSAGE_TYPE = "ticker.change"


def group_name(ticker_id: int) -> str:
    """Return the channel-layer group for a ticker (same as ``Ticker.group_name``)."""
    return f"ticker.{ticker_id}"


def send_change(ticker_id: int, seq: int, frame: str) -> None:
    """Send an already-encoded frame to every process that has readers of the ticker.

    Runs after commit. If the layer is down the change is still in the change
    log: every hub's periodic resync and every reconnecting reader picks it up,
    so the failure is logged, not raised into the editor's request.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            group_name(ticker_id), {"type": MESSAGE_TYPE, "seq": seq, "frame": frame}
        )
    except Exception:
        logger.exception(
            "Broadcast of change %s of ticker %s failed; readers will get it by resync",
            seq,
            ticker_id,
        )
