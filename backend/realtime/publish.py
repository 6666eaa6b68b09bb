"""Publishing events to WebSocket clients after the database commit.

Events are hints (clients re-fetch over REST), so a lost event is tolerable but a failed publish must
never undo or fail the write that caused it: publishing runs after commit and swallows its errors.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def _send(group: str, event_type: str, payload: dict) -> None:
    try:
        layer = get_channel_layer()
        if layer is None:
            return
        async_to_sync(layer.group_send)(
            group, {"type": "event.message", "event": event_type, "data": payload}
        )
    except Exception:
        logger.warning("could not publish %s to %s", event_type, group, exc_info=True)


def publish(group: str, event_type: str, payload: dict) -> None:
    """Send `{"event": event_type, "data": payload}` to the group once the current transaction commits."""
    transaction.on_commit(lambda: _send(group, event_type, payload), robust=True)
