"""Autocommit connections to the default database for coroutines on the server's event loop.

Django's ORM runs only in threads; a request that can be answered with one SQL statement (a kiosk's
deposit) is cheaper sent straight from the loop than handed to a thread. This pool is psycopg's
AsyncConnectionPool on the same connection parameters Django uses (the test database under tests),
opened lazily by the first coroutine that asks, once per event loop: a pool belongs to the loop it
was opened on.
"""

import asyncio
import contextlib

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

# Django-only entries of its connection parameters: a sync cursor class and adapters made for it.
_DJANGO_ONLY = ("cursor_factory", "context", "prepare_threshold")

_pools: dict[asyncio.AbstractEventLoop, AsyncConnectionPool] = {}


def connection_params() -> dict:
    params = connections[DEFAULT_DB_ALIAS].get_connection_params()
    for key in _DJANGO_ONLY:
        params.pop(key, None)
    return params


def _new_pool() -> AsyncConnectionPool:
    return AsyncConnectionPool(
        kwargs={**connection_params(), "autocommit": True},
        connection_class=AsyncConnection,
        # All opened at once (in the background): a burst must not wait for the pool to grow one by one.
        min_size=settings.ASYNC_DATABASE_POOL_MAX,
        max_size=settings.ASYNC_DATABASE_POOL_MAX,
        # Past this a caller gives up on the pool and takes the ordinary path instead.
        timeout=settings.ASYNC_DATABASE_POOL_TIMEOUT,
        open=False,
        name="greenloop-async",
    )


async def pool() -> AsyncConnectionPool:
    loop = asyncio.get_running_loop()
    current = _pools.get(loop)
    if current is None:
        # Stored before the first await, so concurrent first callers share one pool.
        current = _pools[loop] = _new_pool()
    if current.closed:
        await current.open()
    return current


@contextlib.asynccontextmanager
async def connection():
    async with (await pool()).connection() as conn:
        yield conn


async def close() -> None:
    """Close this loop's pool (at server shutdown, and after each test that used it)."""
    current = _pools.pop(asyncio.get_running_loop(), None)
    if current is not None:
        await current.close()
