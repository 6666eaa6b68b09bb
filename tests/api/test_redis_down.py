"""With Redis away, sign-in, registration and refresh still answer, and throttles still count."""

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from tests.factories import PASSWORD, ResidentFactory

# A port where nothing listens: Redis is down for these tests, the shared server is untouched.
DEAD_REDIS = {
    "default": {
        "BACKEND": "backend.cache.FallbackRedisCache",
        "LOCATION": "redis://127.0.0.1:6390/14",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("throttle_rates")]


@override_settings(CACHES=DEAD_REDIS)
def test_register_login_and_refresh_answer_without_redis():
    api = APIClient()
    registered = api.post(
        "/api/v1/auth/register",
        {"phone": "13812340000", "password": PASSWORD, "display_name": "Li"},
        format="json",
    )
    tokens = api.post("/api/v1/auth/token", {"phone": "13812340000", "password": PASSWORD}, format="json")
    refreshed = api.post("/api/v1/auth/token/refresh", {"refresh": tokens.json()["refresh"]}, format="json")

    assert registered.status_code == 201
    assert tokens.status_code == 200
    assert refreshed.status_code == 200


@override_settings(CACHES=DEAD_REDIS)
def test_throttles_and_lockouts_still_count_in_process_memory_without_redis(throttle_rates, settings):
    settings.LOGIN_LOCKOUT = {**settings.LOGIN_LOCKOUT, "account_failures": 2}
    ResidentFactory(phone="+8613912345678")
    api = APIClient()

    answers = [
        api.post(
            "/api/v1/auth/token", {"phone": "13912345678", "password": "wrong-1x"}, format="json"
        ).status_code
        for _ in range(3)
    ]

    assert answers == [401, 401, 429]
    assert cache.get("never-set") is None


def test_a_publish_while_redis_is_away_neither_fails_nor_holds_the_request_long(
    settings, django_capture_on_commit_callbacks
):
    import time

    import channels_redis.core  # noqa: F401  (imported before the clock starts: the first import is slow)
    from channels.layers import channel_layers
    from django.db import transaction

    from backend.realtime.publish import publish
    from backend.realtime.redis_hosts import channel_layer_host

    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [channel_layer_host("redis://127.0.0.1:6390/14")]},
        }
    }
    channel_layers.backends.clear()
    started = time.monotonic()
    try:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            publish("user.1", "points.credited", {"amount": 1})
    finally:
        channel_layers.backends.clear()

    # A bound on hanging, not a speed target: a dead host must not hold the request for its timeouts.
    assert time.monotonic() - started < 2.0
