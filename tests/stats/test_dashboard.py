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
from tests.sockets import refusal_code

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
    city_event = await sockets["city"].receive_json_from(timeout=2)
    assert city_event == {"event": "stats.updated", "data": {"district_ids": [weidu.id]}}
    assert await sockets["city"].receive_nothing(timeout=0.3)
    assert await sockets["jian_an"].receive_nothing(timeout=0.3)
    for communicator in sockets.values():
        await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_stats_socket_refuses_residents_and_missing_tickets(stats_layer, xuchang_db):
    weidu, _jian_an, _city = xuchang_db
    community = await sync_to_async(factories.CommunityFactory)(district=weidu)
    resident = await sync_to_async(factories.ResidentFactory)(household__community=community)

    ticket, _ = await sync_to_async(issue_ws_ticket)(user=resident)
    resident_socket = WebsocketCommunicator(application, f"/ws/stats/?ticket={ticket}")
    assert await refusal_code(resident_socket) == CLOSE_FORBIDDEN

    communicator = WebsocketCommunicator(application, "/ws/stats/?ticket=junk")
    assert await refusal_code(communicator) == CLOSE_UNAUTHORISED


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_each_kiosk_alert_reaches_the_district_and_the_city_officer_exactly_once(
    stats_layer, xuchang_db
):
    from kiosks import services as kiosk_services
    from rewards.fixtures_data import load_default_materials
    from rewards.models import Material
    from tests.kiosks.helpers import make_kiosk

    weidu, _jian_an, city = xuchang_db
    await sync_to_async(load_default_materials)(Material)
    community = await sync_to_async(factories.CommunityFactory)(district=weidu)
    kiosk = await sync_to_async(make_kiosk)(community)
    officer = await sync_to_async(factories.DistrictOfficerFactory)(district=weidu)
    city_officer = await sync_to_async(factories.CityOfficerFactory)(city=city)
    district_socket, _, _ = await _connect(officer)
    city_socket, _, _ = await _connect(city_officer)

    await sync_to_async(kiosk_services.heartbeat)(kiosk=kiosk, status="ok", fill_levels={"paper": 95})

    for socket in (district_socket, city_socket):
        event = await socket.receive_json_from(timeout=2)
        assert event["event"] == "kiosk.alert"
        assert event["data"]["kiosk_id"] == kiosk.pk
        assert await socket.receive_nothing(timeout=0.3)
        await socket.disconnect()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/dashboard/", "/dashboard/login/"])
def test_the_dashboard_pages_carry_a_content_security_policy_without_inline_script(client, weidu, path):
    officer = factories.DistrictOfficerFactory(district=weidu)
    client.force_login(officer)

    response = client.get(path, follow=True)

    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy
