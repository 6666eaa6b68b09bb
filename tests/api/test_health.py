"""Liveness says the process runs; readiness that PostgreSQL (and Redis when configured) answer in time."""

import time

import pytest

from api import health


@pytest.mark.django_db
def test_liveness_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz/ready", "/healthz"])
def test_readiness_with_everything_up_is_200(client, settings, path):
    response = client.get(path)

    assert response.status_code == 200
    assert response.json()["database"] == "up"
    if settings.REDIS_URL:
        assert response.json()["redis"] == "up"


@pytest.mark.django_db
def test_readiness_with_redis_down_is_503_at_once(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:6390/14"

    started = time.monotonic()
    response = client.get("/healthz/ready")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "up", "redis": "down"}
    assert time.monotonic() - started < 1.5


@pytest.mark.django_db
def test_readiness_with_an_unreachable_database_is_503_within_the_deadline(client, monkeypatch):
    # 192.0.2.1 (TEST-NET-1) never answers: a connect there hangs, as a dead database host does.
    real = health.database_params()
    monkeypatch.setattr(
        health, "database_params", lambda: {**real, "host": "192.0.2.1", "connect_timeout": 30}
    )

    started = time.monotonic()
    response = client.get("/healthz/ready")
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert response.json()["database"] == "down"
    assert elapsed < 1.5


@pytest.mark.django_db
def test_a_stopped_database_is_503(client, monkeypatch):
    real = health.database_params()
    monkeypatch.setattr(health, "database_params", lambda: {**real, "port": 6391})

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["database"] == "down"
