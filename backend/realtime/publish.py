"""Publishing events to WebSocket clients after the database commit.

Events are hints (clients re-fetch over REST), so a lost event is tolerable but a failed publish must
never undo or fail the write that caused it: publishing runs after commit and swallows its errors.

Nor may it hold the request: a group send to Redis takes a few milliseconds when all is well and up
to the layer's retry and connect timeouts when it is not, and the HTTP answer (a kiosk heartbeat, a
deposit) must not wait for either. So the commit only hands the event to one background thread per
process with its own event loop, which sends in commit order. Not the server's loop: under WSGI (and in
Django's test client) the loop a sync view sees is async_to_sync's throwaway one, which cancels the
send and waits for it when the request ends. The queue is bounded; an event that finds it full is
dropped, logged and counted (`greenloop_realtime_events_dropped_total`), never queued without limit
behind a Redis that is away.
"""

import asyncio
import atexit
import logging
import os
import queue
import threading
import time

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

from backend.observability.metrics import REALTIME_DROPPED

logger = logging.getLogger(__name__)

# Events in flight per process at most; a burst far larger than any real one (one alert per full bin),
# small enough that a Redis outage cannot grow memory without bound.
MAX_PENDING = 1000
# How long a process that exits waits for the events it has already committed to go out.
EXIT_DRAIN_SECONDS = 5


async def _send(group: str, event_type: str, payload: dict) -> None:
    try:
        layer = get_channel_layer()
        if layer is None:
            return
        await layer.group_send(group, {"type": "event.message", "event": event_type, "data": payload})
    except Exception:
        REALTIME_DROPPED.labels(reason="send_failed").inc()
        logger.warning("could not publish %s to %s", event_type, group, exc_info=True)


def _drop(reason: str, group: str, event_type: str) -> None:
    REALTIME_DROPPED.labels(reason=reason).inc()
    logger.warning("dropped %s to %s: %s", event_type, group, reason)


class _BackgroundPublisher:
    """One daemon thread with its own event loop that sends queued events in commit order."""

    def __init__(self):
        self._queue: queue.Queue = queue.Queue(maxsize=MAX_PENDING)
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._start_lock = threading.Lock()

    def submit(self, group: str, event_type: str, payload: dict) -> None:
        self._ensure_thread()
        try:
            self._queue.put_nowait((group, event_type, payload))
        except queue.Full:
            _drop("queue_full", group, event_type)

    def drain(self, timeout: float) -> bool:
        """Wait until every queued event was sent; False when `timeout` seconds were not enough."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)
        return True

    def _ensure_thread(self):
        # A forked child (a prefork server worker) inherits the parent's object but not its thread.
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
                return
            if self._pid != os.getpid():
                self._queue = queue.Queue(maxsize=MAX_PENDING)
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="realtime-publisher", daemon=True)
            self._thread.start()

    def _run(self):
        # The thread waits on the queue itself, not in an executor thread: the interpreter joins executor
        # threads at exit, and one waiting on an empty queue would keep the process from ever exiting.
        loop = asyncio.new_event_loop()
        while True:
            group, event_type, payload = self._queue.get()
            try:
                loop.run_until_complete(_send(group, event_type, payload))
            finally:
                self._queue.task_done()


_background = _BackgroundPublisher()


def _layer_or_none():
    try:
        return get_channel_layer()
    except Exception:
        return None  # _send logs and counts the failure


def _hand_off(group: str, event_type: str, payload: dict) -> None:
    if isinstance(_layer_or_none(), InMemoryChannelLayer):
        # Its queues belong to the loop its consumers wait in, so it is sent from there, waiting; it is
        # the single-process development layer, where a few milliseconds more do not matter.
        async_to_sync(_send)(group, event_type, payload)
    else:
        _background.submit(group, event_type, payload)


def publish(group: str, event_type: str, payload: dict) -> None:
    """Send `{"event": event_type, "data": payload}` to the group once the current transaction commits,
    without waiting for the channel layer."""
    transaction.on_commit(lambda: _hand_off(group, event_type, payload), robust=True)


# Sends started on the server's loop, held until done: the loop keeps only weak references to tasks.
_loop_sends: set[asyncio.Task] = set()


def publish_from_loop(group: str, event_type: str, payload: dict) -> None:
    """Send an event whose write has already committed, from a coroutine on the server's event loop,
    without waiting for the channel layer. The in-memory layer's queues belong to this very loop, so
    its send is a task here; any other layer goes through the background thread like `publish`."""
    if isinstance(_layer_or_none(), InMemoryChannelLayer):
        task = asyncio.get_running_loop().create_task(_send(group, event_type, payload))
        _loop_sends.add(task)
        task.add_done_callback(_loop_sends.discard)
    else:
        _background.submit(group, event_type, payload)


def drain(timeout: float = EXIT_DRAIN_SECONDS) -> bool:
    """Wait for the background thread's queued events; for a process about to exit, and for tests."""
    return _background.drain(timeout)


@atexit.register
def _drain_at_exit():
    # A command or job that commits and exits right away must not take its last events with it.
    if _background._queue.unfinished_tasks and not drain(EXIT_DRAIN_SECONDS):
        logger.warning("exiting with %d realtime events unsent", _background._queue.unfinished_tasks)
