"""Prometheus metrics. With PROMETHEUS_MULTIPROC_DIR set (the start scripts set it) every process
writes its values to files there and /metrics adds them up, so several server workers report as one.

Names follow Prometheus conventions; docs/operations.md says what each means and when to alert.
"""

import os

from django.db import transaction

# Every process that imports this module (a server worker, the job worker, a one-off command) writes
# its values there as soon as a metric exists, so the folder must exist before the first one does.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

from prometheus_client import Counter, Gauge, Histogram

REQUEST_SECONDS = Histogram(
    "greenloop_http_request_duration_seconds",
    "Time to answer an HTTP request, by route pattern (not path), method and status.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DEPOSITS = Counter("greenloop_deposits_total", "Kiosk deposits recorded (retries not counted).")
DROPS = Counter("greenloop_drops_total", "Bin drops recorded.")
CREDITS = Counter("greenloop_credits_total", "Point credits committed, by cause kind.", ["kind"])
POINTS_CREDITED = Counter("greenloop_points_credited_total", "Points issued, by cause kind.", ["kind"])
REDEMPTIONS = Counter("greenloop_redemptions_total", "Rewards redeemed.")
WEBSOCKETS = Gauge(
    "greenloop_websocket_connections",
    "Open WebSocket connections, by endpoint.",
    ["endpoint"],
    multiprocess_mode="livesum",
)
REALTIME_DROPPED = Counter(
    "greenloop_realtime_events_dropped_total",
    "WebSocket events not delivered to the channel layer, by reason (queue_full, send_failed).",
    ["reason"],
)
DB_POOL = Gauge(
    "greenloop_db_pool_connections",
    "psycopg pool connections of the server processes, by state (size, idle, waiting requests).",
    ["state"],
    multiprocess_mode="livesum",
)


def count_after_commit(counter, amount: float = 1, **labels) -> None:
    """Count a domain event once its transaction commits: a rolled-back write counts nothing."""
    target = counter.labels(**labels) if labels else counter
    transaction.on_commit(lambda: target.inc(amount), robust=True)


def count_now(counter, amount: float = 1, **labels) -> None:
    """Count a domain event whose write has already committed (an autocommit statement)."""
    (counter.labels(**labels) if labels else counter).inc(amount)


def observe_pool(connection) -> None:
    # Only a pool that exists: the wrapper's `pool` property would create one as a side effect.
    pool = getattr(type(connection), "_connection_pools", {}).get(connection.alias)
    if pool is None:
        return
    stats = pool.get_stats()
    DB_POOL.labels(state="size").set(stats.get("pool_size", 0))
    DB_POOL.labels(state="idle").set(stats.get("pool_available", 0))
    DB_POOL.labels(state="waiting").set(stats.get("requests_waiting", 0))
