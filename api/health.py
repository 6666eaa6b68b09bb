"""Liveness and readiness, for the orchestrator: one says the process runs, the other that it can serve.

Readiness opens its own short-lived connections instead of the request's, so a dead database or Redis
answers 503 within the deadline (the pool would wait its own 10 s for a connection), and a probe never
holds a pooled connection that a request needs.
"""

import asyncio

import psycopg
import redis.asyncio as aioredis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse

DEADLINE_SECONDS = 1.0


def live(request):
    """The process answers: restart it only when this fails."""
    return JsonResponse({"status": "ok"})


def database_params() -> dict:
    params = connection.get_connection_params()
    # Django's own adapters and cursor class are for its connections; the probe needs neither.
    for name in ("context", "cursor_factory", "prepare_threshold"):
        params.pop(name, None)
    return params


async def _database_up() -> bool:
    params = database_params()
    try:
        async with asyncio.timeout(DEADLINE_SECONDS):
            conn = await psycopg.AsyncConnection.connect(**params, autocommit=True)
            try:
                await conn.execute("SELECT 1")
            finally:
                await conn.close()
    except (TimeoutError, psycopg.Error, OSError):
        return False
    return True


async def _redis_up() -> bool:
    client = aioredis.from_url(
        settings.REDIS_URL, socket_connect_timeout=DEADLINE_SECONDS, socket_timeout=DEADLINE_SECONDS
    )
    try:
        async with asyncio.timeout(DEADLINE_SECONDS):
            return bool(await client.ping())
    except (TimeoutError, OSError, aioredis.RedisError):
        return False
    finally:
        await client.aclose()


async def ready(request):
    """PostgreSQL (and Redis when configured) answer within a second: send traffic here."""
    checks = [_database_up()]
    if settings.REDIS_URL:
        checks.append(_redis_up())
    results = await asyncio.gather(*checks)
    body = {"database": "up" if results[0] else "down"}
    if settings.REDIS_URL:
        body["redis"] = "up" if results[1] else "down"
    healthy = all(results)
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", **body}, status=200 if healthy else 503
    )
