import secrets
import time
import uuid

import pytest
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.db import connection

from api.kiosk_consumers import KioskConsumer
from api.routing import websocket_application
from backend.realtime.groups import kiosk_group
from kiosks.credentials import sign
from tests.factories import CommunityFactory, ResidentFactory
from tests.sockets import refusal_code

from .helpers import make_kiosk, secret_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def handshake_headers(kiosk, secret=None, path="/ws/kiosk/"):
    timestamp = str(int(time.time()))
    nonce = secrets.token_hex(12)
    signature = sign(secret or secret_of(kiosk), "GET", path, timestamp, nonce, b"")
    return [
        (b"authorization", f"Kiosk {kiosk.pk}:{signature}".encode()),
        (b"x-timestamp", timestamp.encode()),
        (b"x-nonce", nonce.encode()),
    ]


def socket_for(kiosk, **kwargs):
    return WebsocketCommunicator(
        websocket_application, "/ws/kiosk/", headers=handshake_headers(kiosk, **kwargs)
    )


async def connect(kiosk, **kwargs):
    communicator = socket_for(kiosk, **kwargs)
    connected, code = await communicator.connect()
    return communicator, connected, code


def close_thread_connection():
    # The consumer's queries ran in asgiref's worker thread; its connection must not outlive the test.
    connection.close()


def setup_kiosk():
    kiosk = make_kiosk(CommunityFactory())
    connection.close()
    return kiosk


async def test_a_kiosk_hears_at_once_that_its_session_was_claimed():
    from asgiref.sync import sync_to_async

    from kiosks import services

    kiosk = await sync_to_async(setup_kiosk)()
    communicator, connected, _ = await connect(kiosk)
    assert connected

    def claim():
        session, code = services.open_session(kiosk=kiosk)
        resident = ResidentFactory(household__community=kiosk.community)
        services.claim_session(resident=resident, code=code)
        connection.close()
        return session, resident

    session, resident = await sync_to_async(claim)()

    message = await communicator.receive_json_from(timeout=3)
    assert message == {
        "event": "session.claimed",
        "data": {"session_id": str(session.pk), "resident_display_name": resident.display_name},
    }
    await communicator.disconnect()
    await sync_to_async(close_thread_connection)()


async def test_a_bad_handshake_signature_is_refused():
    from asgiref.sync import sync_to_async

    kiosk = await sync_to_async(setup_kiosk)()
    communicator = socket_for(kiosk, secret="f" * 64)
    assert await refusal_code(communicator) == 4401
    await sync_to_async(close_thread_connection)()


class KioskConsumerOnA(KioskConsumer):
    channel_layer_alias = "a"


class KioskConsumerOnB(KioskConsumer):
    channel_layer_alias = "b"


async def test_two_server_processes_share_events_through_redis(settings):
    """Two kiosk sockets on two Redis layer instances (as two server processes would have) both hear
    an event published through a third instance."""
    from asgiref.sync import sync_to_async
    from channels.layers import get_channel_layer

    prefix = f"greenloop-test-{uuid.uuid4().hex[:8]}"
    redis = {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": ["redis://127.0.0.1:6379/13"], "prefix": prefix},
    }
    settings.CHANNEL_LAYERS = {"default": redis, "a": redis, "b": redis}
    channel_layers.backends.clear()
    kiosk = await sync_to_async(setup_kiosk)()
    sockets = []
    for consumer in (KioskConsumerOnA, KioskConsumerOnB):
        communicator = WebsocketCommunicator(
            consumer.as_asgi(), "/ws/kiosk/", headers=handshake_headers(kiosk)
        )
        connected, _ = await communicator.connect()
        assert connected
        sockets.append(communicator)
    layers = {id(get_channel_layer(alias)) for alias in ("default", "a", "b")}
    assert len(layers) == 3

    await get_channel_layer().group_send(
        kiosk_group(kiosk.pk), {"type": "event.message", "event": "session.claimed", "data": {"n": 1}}
    )

    for communicator in sockets:
        assert await communicator.receive_json_from(timeout=3) == {
            "event": "session.claimed",
            "data": {"n": 1},
        }
        await communicator.disconnect()
    for alias in ("default", "a", "b"):
        await get_channel_layer(alias).flush()
    channel_layers.backends.clear()
    await sync_to_async(close_thread_connection)()
