"""How the channel layer talks to Redis, so sockets survive a Redis restart.

After a restart every pooled connection is dead, and without a retry the first command on each one
fails (one refused WebSocket per worker). A short retry on connection errors reconnects instead. The
blocking read that waits for socket messages must have no socket timeout: redis-py 8's default of 5 s
equals channels-redis's blocking-read timeout and drops idle sockets.
"""

from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


def channel_layer_host(url: str) -> dict:
    return {
        "address": url,
        "socket_timeout": None,
        "socket_connect_timeout": 1,
        # One retry is what a restart needs; more would hold every publish longer while Redis is away.
        "retry": Retry(ExponentialBackoff(cap=0.25, base=0.05), retries=1),
        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
        "health_check_interval": 15,
    }
