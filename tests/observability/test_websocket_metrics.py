"""The open-socket gauge follows connections up and down, and a refused handshake is not counted."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection
from prometheus_client import REGISTRY

from accounts.services import issue_ws_ticket
from backend.asgi import application
from tests import factories
from tests.sockets import refusal_code


def open_sockets(endpoint: str) -> float:
    return REGISTRY.get_sample_value("greenloop_websocket_connections", {"endpoint": endpoint}) or 0


@sync_to_async
def _ticket() -> str:
    return issue_ws_ticket(user=factories.ResidentFactory())[0]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_gauge_counts_open_sockets_only(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    before = open_sockets("me")
    socket = WebsocketCommunicator(application, f"/ws/me/?ticket={await _ticket()}")
    refused = WebsocketCommunicator(application, "/ws/me/?ticket=forged")

    assert (await socket.connect())[0]
    assert open_sockets("me") == before + 1
    assert await refusal_code(refused) == 4401
    assert open_sockets("me") == before + 1

    await socket.disconnect()
    assert open_sockets("me") == before
    await _close_thread_connection()


@sync_to_async
def _close_thread_connection():
    # The consumer's queries ran in asgiref's worker thread; its connection must not outlive the test.
    connection.close()
