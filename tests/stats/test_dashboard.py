"""The dashboard pages (without a browser) and the /ws/stats/ socket."""

import json
import uuid
from datetime import date

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.test import Client

from accounts.services import issue_ws_ticket
from api.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHORISED
from backend.asgi import application
from stats import notify
from tests import factories

from .factories import record


def _initial(response) -> dict:
    html = response.content.decode()
    start = html.index('<script id="initial-data" type="application/json">') + len(
        '<script id="initial-data" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def _logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_the_dashboard_sends_anonymous_visitors_to_the_login_page():
    response = Client().get("/dashboard/")

    assert response.status_code == 302
    assert response["Location"].startswith("/dashboard/login/")


@pytest.mark.django_db
def test_staff_log_in_with_phone_and_password(district_officer):
    client = Client()
    response = client.post(
        "/dashboard/login/", {"username": str(district_officer.phone), "password": factories.PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200


@pytest.mark.django_db
def test_a_wrong_password_shows_the_login_page_again(district_officer):
    response = Client().post(
        "/dashboard/login/", {"username": str(district_officer.phone), "password": "nope"}
    )

    assert response.status_code == 200
    assert "手机号或密码不正确" in response.content.decode()


@pytest.mark.django_db
def test_residents_may_not_see_the_dashboard(resident):
    assert _logged_in(resident).get("/dashboard/").status_code == 403


@pytest.mark.django_db
def test_a_district_officers_dashboard_carries_only_their_district(
    district_officer, city_officer, weidu, jian_an
):
    record(city_officer, weidu, "recyclable", 40, "recycling", date(2026, 3, 10))
    record(city_officer, jian_an, "other", 90, "landfill", date(2026, 3, 10))

    response = _logged_in(district_officer).get("/dashboard/", {"from": "2026-03-01", "to": "2026-03-31"})

    assert response.status_code == 200
    data = _initial(response)
    assert [r["district"]["id"] for r in data["stats"]["results"]] == [weidu.id]
    assert data["series"]["district"]["id"] == weidu.id
    assert [d["id"] for d in data["districts"]] == [weidu.id]
    assert data["granularity"] == "day"
    assert "建安区" not in response.content.decode()


@pytest.mark.django_db
def test_the_dashboard_speaks_chinese_first_and_english_on_request(district_officer):
    client = _logged_in(district_officer)

    chinese = client.get("/dashboard/").content.decode()
    english = client.get("/dashboard/", {"lang": "en"}).content.decode()
    accepted = client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()

    assert "资源化利用率" in chinese
    assert "Utilization rate" in english and "资源化利用率" not in english
    assert "Utilization rate" in accepted


@pytest_asyncio.fixture
async def stats_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    if settings.REDIS_URL:
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [settings.REDIS_URL], "prefix": f"test-stats-{uuid.uuid4().hex[:8]}"},
            }
        }
    yield
    # The consumer's queries run in asgiref's worker thread; its connection must not outlive the test.
    await sync_to_async(_close_thread_connection)()


def _close_thread_connection():
    connection.close()


async def _connect(user):
    ticket, _ = await sync_to_async(issue_ws_ticket)(user=user)
    communicator = WebsocketCommunicator(application, f"/ws/stats/?ticket={ticket}")
    connected, code = await communicator.connect()
    return communicator, connected, code


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_stats_updates_reach_the_districts_officer_and_the_city_but_not_other_districts(
    stats_layer, xuchang_db
):
    weidu, jian_an, city = xuchang_db
    officer = await sync_to_async(factories.DistrictOfficerFactory)(district=weidu)
    other = await sync_to_async(factories.DistrictOfficerFactory)(district=jian_an)
    city_officer = await sync_to_async(factories.CityOfficerFactory)(city=city)
    sockets = {}
    for name, user in (("weidu", officer), ("jian_an", other), ("city", city_officer)):
        communicator, connected, _code = await _connect(user)
        assert connected
        sockets[name] = communicator

    await sync_to_async(notify.stats_updated)({weidu.id})

    got = await sockets["weidu"].receive_json_from(timeout=2)
    assert got == {"event": "stats.updated", "data": {"district_id": weidu.id}}
    city_events = [await sockets["city"].receive_json_from(timeout=2) for _ in range(2)]
    assert {e["event"] for e in city_events} == {"stats.updated"}
    assert await sockets["jian_an"].receive_nothing(timeout=0.3)
    for communicator in sockets.values():
        await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_stats_socket_refuses_residents_and_missing_tickets(stats_layer, xuchang_db):
    weidu, _jian_an, _city = xuchang_db
    community = await sync_to_async(factories.CommunityFactory)(district=weidu)
    resident = await sync_to_async(factories.ResidentFactory)(household__community=community)

    _c, connected, code = await _connect(resident)
    assert (connected, code) == (False, CLOSE_FORBIDDEN)

    communicator = WebsocketCommunicator(application, "/ws/stats/?ticket=junk")
    connected, code = await communicator.connect()
    assert (connected, code) == (False, CLOSE_UNAUTHORISED)
