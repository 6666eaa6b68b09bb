"""A Redis cache that degrades to process memory instead of failing the request when Redis is away.

Throttle counters, sign-in lockouts and the per-process copies of rules all sit in the cache. They are
worth keeping while Redis restarts, and none is worth a 500: on a connection error the call is served
by a local memory cache, and Redis is not tried again for a few seconds, so a dead host costs one
connect timeout per process per pause instead of one per call. Counters then hold per process, which
is weaker than shared but never open.
"""

import logging
import time

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)
RETRY_AFTER_SECONDS = 5.0


def _with_fallback(name):
    def method(self, *args, **kwargs):
        if time.monotonic() >= self._redis_down_until:
            try:
                return getattr(super(FallbackRedisCache, self), name)(*args, **kwargs)
            except UNAVAILABLE:
                self._redis_down_until = time.monotonic() + RETRY_AFTER_SECONDS
                logger.warning("Redis cache unavailable; serving %s from process memory", name, exc_info=True)
        return getattr(self._fallback, name)(*args, **kwargs)

    method.__name__ = name
    return method


class FallbackRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._fallback = LocMemCache(f"fallback:{server}", {"TIMEOUT": params.get("TIMEOUT", 300)})
        self._redis_down_until = 0.0

    add = _with_fallback("add")
    get = _with_fallback("get")
    set = _with_fallback("set")
    touch = _with_fallback("touch")
    delete = _with_fallback("delete")
    get_many = _with_fallback("get_many")
    has_key = _with_fallback("has_key")
    incr = _with_fallback("incr")
    set_many = _with_fallback("set_many")
    delete_many = _with_fallback("delete_many")

    def clear(self):
        self._fallback.clear()
        return _with_fallback("clear")(self)
