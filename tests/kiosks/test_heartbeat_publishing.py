"""A heartbeat's answer never waits for its alerts to reach the dashboards, and the alerts still arrive."""

import asyncio
import json
import secrets
import threading
import time

import pytest
from asgiref.sync import sync_to_async
from channels.testing import HttpCommunicator
from django.db import connection

from backend.realtime import publish as publish_module
from backend.realtime.groups import city_stats_group, district_stats_group
from kiosks.credentials import sign

from .helpers import make_kiosk, secret_of, signed

HEARTBEAT = "/api/v1/kiosk/heartbeat"
FULL = {"status": "ok", "fill_levels": {"paper": 95}}


class HeldLayer:
    """A channel layer whose group send does not finish until the test releases it (a slow Redis)."""

    def __init__(self):
        self.started = threading.Event()
        self.release = threading.Event()
        self.sent = []

    async def group_send(self, group, message):
        self.started.set()
        await asyncio.to_thread(self.release.wait, 10)
        self.sent.append((group, message))


@pytest.fixture
def held_layer(monkeypatch):
    held = HeldLayer()
    monkeypatch.setattr(publish_module, "get_channel_layer", lambda: held)
    yield held
    held.release.set()
    publish_module.drain(5)


def _expected_groups(kiosk):
    return {
        district_stats_group(kiosk.community.district_id),
        city_stats_group(kiosk.community.district.city_id),
    }


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_answers_before_the_slow_layer_sends_and_the_alert_still_arrives(community, held_layer):
    kiosk = make_kiosk(community)

    response = signed("POST", HEARTBEAT, FULL, kiosk=kiosk)

    assert response.status_code == 204
    assert held_layer.started.wait(5)
    assert held_layer.sent == []
    held_layer.release.set()
    assert publish_module.drain(5)
    assert {group for group, _message in held_layer.sent} == _expected_groups(kiosk)
    assert {message["event"] for _group, message in held_layer.sent} == {"kiosk.alert"}


def _signed_scope_headers(kiosk, body: bytes):
    timestamp, nonce = str(int(time.time())), secrets.token_hex(12)
    signature = sign(secret_of(kiosk), "POST", HEARTBEAT, timestamp, nonce, body)
    return [
        (b"content-type", b"application/json"),
        (b"authorization", f"Kiosk {kiosk.pk}:{signature}".encode()),
        (b"x-timestamp", timestamp.encode()),
        (b"x-nonce", nonce.encode()),
        (b"host", b"testserver"),
        (b"content-length", str(len(body)).encode()),
    ]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_over_asgi_the_heartbeat_answers_before_the_slow_layer_sends(community, held_layer):
    from backend.asgi import application

    kiosk = await sync_to_async(make_kiosk)(community)
    groups = await sync_to_async(_expected_groups)(kiosk)
    body = json.dumps(FULL).encode()
    communicator = HttpCommunicator(
        application, "POST", HEARTBEAT, body=body, headers=_signed_scope_headers(kiosk, body)
    )

    response = await communicator.get_response(timeout=10)

    assert response["status"] == 204, response["body"]
    assert await asyncio.to_thread(held_layer.started.wait, 5)
    assert held_layer.sent == []
    held_layer.release.set()
    assert await asyncio.to_thread(publish_module.drain, 5)
    assert {group for group, _message in held_layer.sent} == groups
    # The request's queries ran in asgiref's worker thread; its connection must not outlive the test.
    await sync_to_async(_close_thread_connection)()


def _close_thread_connection():
    connection.close()
