import hashlib
import uuid
from datetime import timedelta

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import WsTicket
from accounts.services import issue_ws_ticket
from api.consumers import CLOSE_UNAUTHORISED
from backend.asgi import application
from backend.realtime.groups import user_group
from backend.realtime.publish import publish
from tests import factories
from tests.sockets import refusal_code


@pytest.mark.django_db
def test_ws_ticket_is_issued_short_lived_and_stored_only_as_a_hash(as_user, resident):
    before = timezone.now()

    response = as_user(resident).post("/api/v1/ws-ticket")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"ticket", "expires_at"}
    assert len(body["ticket"]) >= 32
    expires_at = parse_datetime(body["expires_at"])
    assert before + timedelta(seconds=25) < expires_at <= timezone.now() + timedelta(seconds=30)
    row = WsTicket.objects.get(user=resident)
    assert row.token_hash == hashlib.sha256(body["ticket"].encode()).hexdigest()
    assert body["ticket"] not in row.token_hash
    assert row.used_at is None


@pytest.mark.django_db
def test_ws_ticket_needs_authentication(api):
    response = api.post("/api/v1/ws-ticket")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert not WsTicket.objects.exists()


@pytest.mark.django_db
def test_purge_removes_only_long_expired_tickets(resident):
    from django.core.management import call_command

    _fresh, _ = issue_ws_ticket(user=resident)
    old, _ = issue_ws_ticket(user=resident)
    WsTicket.objects.filter(token_hash=hashlib.sha256(old.encode()).hexdigest()).update(
        expires_at=timezone.now() - timedelta(hours=2)
    )

    call_command("purge_ws_tickets")

    assert WsTicket.objects.count() == 1
    assert WsTicket.objects.get().token_hash == hashlib.sha256(_fresh.encode()).hexdigest()


# ---- the /ws/me/ socket ---------------------------------------------------------------------------


@pytest.fixture
def own_channel_layer(settings):
    """Redis when the suite has it (as in production), under this module's own prefix; else in memory."""
    if settings.REDIS_URL:
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {
                    "hosts": [settings.REDIS_URL],
                    "prefix": f"test-foundation-{uuid.uuid4().hex[:8]}",
                },
            }
        }
    else:
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest_asyncio.fixture
async def socket_db(transactional_db, xuchang, own_channel_layer):
    yield
    # The consumer's queries run in asgiref's worker thread; its connection must not outlive the test.
    await sync_to_async(_close_thread_connection)()


def _close_thread_connection():
    connection.close()


def _communicator(ticket: str | None) -> WebsocketCommunicator:
    path = "/ws/me/" if ticket is None else f"/ws/me/?ticket={ticket}"
    return WebsocketCommunicator(application, path)


@sync_to_async
def _resident_with_ticket():
    user = factories.ResidentFactory()
    ticket, _ = issue_ws_ticket(user=user)
    return user, ticket


@sync_to_async
def _publish_committed(user_id: int, payload: dict) -> None:
    with transaction.atomic():
        publish(user_group(user_id), "points.credited", payload)


@sync_to_async
def _publish_rolled_back(user_id: int) -> None:
    try:
        with transaction.atomic():
            publish(user_group(user_id), "points.credited", {"amount": 999})
            raise RuntimeError("the write fails")
    except RuntimeError:
        pass


async def _refused(communicator) -> int:
    return await refusal_code(communicator)


@pytest.mark.asyncio
@pytest.mark.usefixtures("socket_db")
async def test_a_fresh_ticket_opens_the_socket_once_and_events_arrive():
    user, ticket = await _resident_with_ticket()
    socket = _communicator(ticket)
    connected, _ = await socket.connect()
    assert connected

    await _publish_committed(user.id, {"amount": 5, "balance": 5})

    assert await socket.receive_json_from(timeout=2) == {
        "event": "points.credited",
        "data": {"amount": 5, "balance": 5},
    }
    assert await sync_to_async(lambda: WsTicket.objects.get(user=user).used_at is not None)()
    await socket.disconnect()

    assert await _refused(_communicator(ticket)) == CLOSE_UNAUTHORISED


@pytest.mark.asyncio
@pytest.mark.usefixtures("socket_db")
async def test_an_event_of_a_rolled_back_write_never_reaches_the_socket():
    user, ticket = await _resident_with_ticket()
    socket = _communicator(ticket)
    assert (await socket.connect())[0]

    await _publish_rolled_back(user.id)

    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


@pytest.mark.asyncio
@pytest.mark.usefixtures("socket_db")
async def test_a_socket_hears_only_its_own_users_events():
    _user, ticket = await _resident_with_ticket()
    other, _ = await _resident_with_ticket()
    socket = _communicator(ticket)
    assert (await socket.connect())[0]

    await _publish_committed(other.id, {"amount": 1})

    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


@pytest.mark.asyncio
@pytest.mark.usefixtures("socket_db")
async def test_an_expired_ticket_is_refused():
    user, ticket = await _resident_with_ticket()
    await sync_to_async(
        lambda: WsTicket.objects.filter(user=user).update(expires_at=timezone.now() - timedelta(seconds=1))
    )()

    assert await _refused(_communicator(ticket)) == CLOSE_UNAUTHORISED
    assert await sync_to_async(lambda: WsTicket.objects.get(user=user).used_at is None)()


@pytest.mark.asyncio
@pytest.mark.usefixtures("socket_db")
@pytest.mark.parametrize("ticket", [None, "", "garbage", "x" * 500, "%00", "%FF%FE"])
async def test_a_missing_or_garbage_ticket_is_refused(ticket):
    assert await _refused(_communicator(ticket)) == CLOSE_UNAUTHORISED


@pytest.mark.asyncio
@pytest.mark.usefixtures("socket_db")
async def test_a_deactivated_users_ticket_is_refused():
    user, ticket = await _resident_with_ticket()
    user.is_active = False
    await sync_to_async(user.save)()

    assert await _refused(_communicator(ticket)) == CLOSE_UNAUTHORISED


@pytest.mark.asyncio
@pytest.mark.usefixtures("socket_db")
async def test_the_socket_answers_a_ping():
    _user, ticket = await _resident_with_ticket()
    socket = _communicator(ticket)
    assert (await socket.connect())[0]

    await socket.send_json_to({"type": "ping"})

    assert await socket.receive_json_from(timeout=2) == {"type": "pong"}
    await socket.disconnect()


@sync_to_async
def _ticket_over_http(user) -> str:
    from tests.conftest import authenticated_client

    response = authenticated_client(user).post("/api/v1/ws-ticket")
    assert response.status_code == 201
    return response.json()["ticket"]


@pytest.mark.asyncio
@pytest.mark.usefixtures("socket_db")
async def test_a_ticket_from_the_http_endpoint_opens_the_socket():
    user = await sync_to_async(factories.ResidentFactory)()
    ticket = await _ticket_over_http(user)
    socket = _communicator(ticket)

    connected, _ = await socket.connect()

    assert connected
    await _publish_committed(user.id, {"amount": 1})
    assert (await socket.receive_json_from(timeout=2))["event"] == "points.credited"
    await socket.disconnect()


@pytest.mark.asyncio
@pytest.mark.usefixtures("socket_db")
@pytest.mark.parametrize("frame", ["not json", "[1, 2", "\x00", '"just a string"', "[]"])
async def test_a_garbage_frame_from_the_client_does_not_break_the_socket(frame):
    _user, ticket = await _resident_with_ticket()
    socket = _communicator(ticket)
    assert (await socket.connect())[0]

    await socket.send_to(text_data=frame)
    await socket.send_to(bytes_data=frame.encode())
    await socket.send_json_to({"type": "ping"})

    assert await socket.receive_json_from(timeout=2) == {"type": "pong"}
    await socket.disconnect()
