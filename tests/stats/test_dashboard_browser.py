"""The dashboard in a real headless Chromium: a district officer signs in and sees only their district.

Uses Debian's `chromium` at /usr/bin/chromium through Playwright for Python (no browser download).
"""

import asyncio
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import date

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from playwright.sync_api import sync_playwright

from kiosks.models import KioskAlert
from stats.models import IndicatorTarget
from tests import factories

from .factories import kiosk, record

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MARCH = "from=2026-03-01&to=2026-03-31"


@pytest.fixture
def plain_http(settings):
    # The live server speaks plain HTTP; production's HTTPS-only cookies and redirect would get in the way.
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


@contextmanager
def chromium_page():
    # Playwright's sync API runs an event loop in this thread, where Django then refuses database
    # calls: set the data up first, then open the browser.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(locale="zh-CN")
        finally:
            browser.close()


def _sign_in(page, base_url: str, phone: str, lang: str = "") -> None:
    page.goto(f"{base_url}/dashboard/")
    assert "/dashboard/login/" in page.url
    if lang:
        page.goto(f"{base_url}/dashboard/login/?lang={lang}")
    page.fill("#id_username", phone)
    page.fill("#id_password", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/dashboard/")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_district_officer_sees_their_districts_charts_and_no_other_district(
    live_server, plain_http, xuchang_db
):
    weidu, jian_an, city = xuchang_db
    officer = factories.DistrictOfficerFactory(district=weidu)
    city_officer = factories.CityOfficerFactory(city=city)
    # Weidu in March: 40 kg recycled of 100 kg (40 %); Jian'an: 90 kg landfilled (0 %).
    record(city_officer, weidu, "recyclable", 40, "recycling", date(2026, 3, 10))
    record(city_officer, weidu, "other", 60, "landfill", date(2026, 3, 10))
    record(city_officer, jian_an, "other", 90, "landfill", date(2026, 3, 12))
    weidu_kiosk = kiosk(factories.CommunityFactory(district=weidu))
    jian_an_kiosk = kiosk(factories.CommunityFactory(district=jian_an))
    KioskAlert.objects.create(kiosk=weidu_kiosk, kind="fill", material="paper", detail="95%")
    KioskAlert.objects.create(kiosk=jian_an_kiosk, kind="silent")
    call_command("refresh_rollups")
    phone = str(officer.phone)

    with chromium_page() as page:
        _sign_in(page, live_server.url, phone)
        page.goto(f"{live_server.url}/dashboard/?{MARCH}&granularity=week")
        page.wait_for_selector("body[data-ready=true]")
        _check_only_weidu(page, weidu.id, jian_an.id)
        page.wait_for_selector(f"#kiosks tr[data-kiosk='{weidu_kiosk.id}']")
        assert page.locator("#kiosks tbody tr").count() == 1
        assert "满溢告警" in page.locator(f"#kiosks tr[data-kiosk='{weidu_kiosk.id}']").inner_text()


def _check_only_weidu(page, weidu_id: int, jian_an_id: int) -> None:
    ranking = page.locator("#ranking tbody tr")
    assert ranking.count() == 1
    assert ranking.first.get_attribute("data-district") == str(weidu_id)
    assert "魏都区" in ranking.first.inner_text()
    assert "40.0%" in ranking.first.inner_text()

    rate_chart = page.locator(f"svg[data-chart=rate][data-district='{weidu_id}']")
    assert rate_chart.count() == 1
    assert [
        float(v) for v in rate_chart.locator("circle").evaluate_all("n => n.map(c => c.dataset.value)")
    ] == [0.4]
    # Drawn by charts.js, the public page's chart code, which labels every point it draws.
    assert rate_chart.locator("circle[data-label]").count() == 1
    bars = page.locator(f"svg[data-chart=categories][data-district='{weidu_id}'] rect.bar")
    shown = bars.evaluate_all(
        "n => n.map(b => [b.dataset.category, Number(b.dataset.value), b.dataset.start])"
    )
    assert sorted(shown) == [["other", 60, "2026-03-09"], ["recyclable", 40, "2026-03-09"]]
    assert (
        page.locator("svg[data-chart=participation] rect.bar").count() == 6
    )  # 1 March, then five Monday weeks

    text = page.locator("body").inner_text()
    assert "建安区" not in text
    assert page.locator(f"[data-district='{jian_an_id}']").count() == 0

    # The page re-fetches over the API with its session: the same numbers come back, still scoped.
    stats = page.evaluate(
        "fetch('/api/v1/stats/districts?from=2026-03-01&to=2026-03-31', {credentials: 'same-origin'})"
        ".then(r => r.json())"
    )
    assert [row["district"]["id"] for row in stats["results"]] == [weidu_id]
    assert stats["results"][0]["utilization_rate"] == 0.4
    other = page.evaluate(
        f"fetch('/api/v1/stats/districts/{jian_an_id}/series', {{credentials: 'same-origin'}}).then(r => r.status)"
    )
    assert other == 404


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_dashboard_switches_to_english(live_server, plain_http, xuchang_db):
    weidu, _jian_an, _city = xuchang_db
    phone = str(factories.DistrictOfficerFactory(district=weidu).phone)

    with chromium_page() as page:
        _sign_in(page, live_server.url, phone, lang="en")
        page.goto(f"{live_server.url}/dashboard/?lang=en&{MARCH}")
        page.wait_for_selector("body[data-ready=true]")

        assert "Utilization rate" in page.locator("#ranking thead").inner_text()
        assert "Weidu District" in page.locator("#ranking tbody").inner_text()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_official_sees_the_three_plan_indicators_against_their_targets_and_picks_one(
    live_server, plain_http, xuchang_db
):
    weidu, _jian_an, city = xuchang_db
    officer = factories.CityOfficerFactory(city=city)
    # March: recovered 40 recycled + 30 composted of 140 handled (50 %); kitchen 30 of 40 treated (75 %);
    # recyclables 40 of 40 recycled (100 %). The city raised its kitchen target to 80 % for 2026.
    record(officer, weidu, "recyclable", 40, "recycling", date(2026, 3, 10))
    record(officer, weidu, "kitchen", 30, "composting", date(2026, 3, 10))
    record(officer, weidu, "kitchen", 10, "landfill", date(2026, 3, 11))
    record(officer, weidu, "other", 60, "landfill", date(2026, 3, 12))
    IndicatorTarget.objects.create(city=city, indicator="kitchen_resourcing", year=2026, target="0.8")
    call_command("refresh_rollups")
    phone = str(officer.phone)

    with chromium_page() as page:
        _sign_in(page, live_server.url, phone)
        page.goto(f"{live_server.url}/dashboard/?{MARCH}&granularity=week")
        page.wait_for_selector("body[data-ready=true]")
        page.locator(f"#ranking tr[data-district='{weidu.id}']").click()
        page.wait_for_selector("#indicators tr[data-indicator=plan_utilization][data-value='0.5']")

        shown = {
            code: page.locator(f"#indicators tr[data-indicator={code}]").evaluate(
                "r => [Number(r.dataset.value), Number(r.dataset.target), r.innerText]"
            )
            for code in ("plan_utilization", "kitchen_resourcing", "recyclables_recovery")
        }
        assert [shown[c][:2] for c in shown] == [[0.5, 0.35], [0.75, 0.8], [1.0, 0.85]]
        assert "生活垃圾资源化利用率" in shown["plan_utilization"][2]
        assert "城市餐厨废弃物资源化率" in shown["kitchen_resourcing"][2]
        assert "主要再生资源回收率" in shown["recyclables_recovery"][2]
        # A finished period is judged on its final rate: kitchen waste is behind its 80 %.
        assert "可达标" in shown["plan_utilization"][2] and "未达标" in shown["kitchen_resourcing"][2]

        page.select_option("#indicator", "kitchen_resourcing")
        chart = page.locator("svg[data-chart=rate][data-indicator=kitchen_resourcing]")
        assert chart.locator("line.target").get_attribute("data-value") == "0.8"
        assert [
            float(v) for v in chart.locator("circle").evaluate_all("n => n.map(c => c.dataset.value)")
        ] == [0.75]
        assert "75.0%" in page.locator(f"#ranking tr[data-district='{weidu.id}']").inner_text()
        assert "indicator=kitchen_resourcing" in page.url
        # Axes label small values sensibly: four distinct steps, never "0, 0, 1, 1, 1".
        axis = page.locator("svg[data-chart=categories] text.axis").evaluate_all(
            "n => n.map(t => t.textContent).slice(0, 5)"
        )
        assert axis == ["0", "50", "100", "150", "200"]


@contextmanager
def asgi_server(port: int):
    """The real ASGI application (HTTP and WebSockets) under uvicorn, in a thread of this process."""
    import asyncio

    import uvicorn

    from backend.asgi import application

    server = uvicorn.Server(uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning"))
    loops = []

    async def serve():
        loops.append(asyncio.get_running_loop())
        await server.serve()

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", loops[0]
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def short_lived_connections():
    # The server's worker threads open their own connections; closing them after each request keeps
    # the test database free to be flushed and dropped.
    from django.db import connection

    saved = connection.settings_dict["CONN_MAX_AGE"]
    connection.settings_dict["CONN_MAX_AGE"] = 0
    yield
    connection.settings_dict["CONN_MAX_AGE"] = saved


@pytest.fixture
def redis_layer(settings):
    """Redis under this test's own prefix where the suite has it (as production does); otherwise the
    in-memory layer, which works because the writer runs on the server's own event loop."""
    if settings.REDIS_URL:
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {
                    "hosts": [settings.REDIS_URL],
                    "prefix": f"test-stats-live-{uuid.uuid4().hex[:8]}",
                },
            }
        }
    else:
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_dashboard_updates_live_when_the_rollups_move(
    plain_http, redis_layer, short_lived_connections, xuchang_db
):
    weidu, _jian_an, city = xuchang_db
    officer = factories.DistrictOfficerFactory(district=weidu)
    city_officer = factories.CityOfficerFactory(city=city)
    record(city_officer, weidu, "other", 100, "landfill", date(2026, 3, 10))
    call_command("refresh_rollups")
    phone = str(officer.phone)

    with asgi_server(_free_port()) as (base_url, server_loop), chromium_page() as page:
        _sign_in(page, base_url, phone)
        page.goto(f"{base_url}/dashboard/?{MARCH}")
        page.wait_for_selector("#live[data-state=open]", timeout=10_000)
        assert "0.0%" in page.locator("#ranking tbody tr").first.inner_text()

        # Playwright's loop lives in this thread, so the write happens in another one.
        # The write runs in a worker thread of the server's loop, as a request would, so the events it
        # publishes after commit go through the same loop as the dashboard's socket.
        write = sync_to_async(_recycle_and_refresh, thread_sensitive=False)(city_officer.id, weidu.id)
        asyncio.run_coroutine_threadsafe(write, server_loop).result(20)

        page.wait_for_selector("#live[data-updated]", timeout=10_000)
        # The CSV export streams under the ASGI server too.
        csv_text = page.evaluate(
            "fetch('/api/v1/stats/export.csv?from=2026-03-01&to=2026-03-31').then(r => r.text())"
        )
        assert [line.split(",")[0] for line in csv_text.strip().splitlines()[1:]] == [
            "2026-03-10",
            "2026-03-11",
        ]
        assert "50.0%" in page.locator("#ranking tbody tr").first.inner_text()
        assert page.locator("svg[data-chart=rate] circle").evaluate_all(
            "n => n.map(c => c.dataset.value)"
        ) == [
            "0",
            "1",
        ]


def _recycle_and_refresh(user_id: int, district_id: int) -> None:
    from django.db import connection

    from accounts.models import User
    from geo.models import District

    try:
        record(
            User.objects.get(pk=user_id),
            District.objects.get(pk=district_id),
            "recyclable",
            100,
            "recycling",
            date(2026, 3, 11),
        )
        call_command("refresh_rollups")
        from stats import notify

        # Collections move the rollups in their own transaction; the worker's round announces them.
        notify.stats_updated({district_id})
    finally:
        connection.close()
