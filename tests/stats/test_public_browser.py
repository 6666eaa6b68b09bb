"""The public supervision page in a real headless Chromium, without signing in, in both languages."""

from datetime import date

import pytest
from django.core.management import call_command

from tests import factories

from .factories import record
from .test_dashboard_browser import chromium_page


@pytest.fixture
def plain_http(settings):
    # The live server speaks plain HTTP; production's HTTPS-only redirect would get in the way.
    settings.SECURE_SSL_REDIRECT = False


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_public_page_shows_the_plan_indicators_without_login_in_both_languages(
    live_server,
    plain_http,
    xuchang_db,
):
    weidu, _jian_an, city = xuchang_db
    officer = factories.CityOfficerFactory(city=city)
    # Weidu in March 2026: 40 kg recycled of 100 kg handled (40 %).
    record(officer, weidu, "recyclable", 40, "recycling", date(2026, 3, 10))
    record(officer, weidu, "other", 60, "landfill", date(2026, 3, 10))
    call_command("refresh_rollups")

    with chromium_page() as page:
        page.goto(f"{live_server.url}/public/?year=2026")
        page.wait_for_selector("body[data-ready=true]")
        assert "/dashboard/login/" not in page.url
        assert "公众监督" in page.locator("h1").inner_text()
        row = page.locator(
            f"#indicators tr[data-scope=district][data-place='{weidu.id}'][data-indicator=plan_utilization]"
        )
        assert row.get_attribute("data-value") == "0.4"
        assert "生活垃圾资源化利用率" in row.inner_text() and "40.0%" in row.inner_text()
        # The city against every plan indicator; the districts against the one picked.
        city_rows = page.locator("#indicators tr[data-scope=city]")
        assert city_rows.count() == 5
        for name in ("城市餐厨废弃物资源化率", "主要再生资源回收率"):
            assert name in " ".join(city_rows.all_inner_texts())
        assert (
            page.locator("#indicators tr[data-scope=district][data-indicator=kitchen_resourcing]").count()
            == 0
        )
        page.select_option("#indicator", "kitchen_resourcing")
        assert (
            page.locator("#indicators tr[data-scope=district][data-indicator=kitchen_resourcing]").count()
            == 9
        )
        chart = page.locator("svg[data-chart=trend][data-indicator=plan_utilization]")
        assert chart.locator("line.target").get_attribute("data-value") == "0.35"
        assert [c for c in chart.locator("circle").evaluate_all("n => n.map(c => c.dataset.label)")] == [
            "2026-03"
        ]

        english = page.context.browser.new_page(
            locale="en-US", extra_http_headers={"Accept-Language": "en-US,en"}
        )
        english.goto(f"{live_server.url}/public/?year=2026")
        english.wait_for_selector("body[data-ready=true]")
        assert "public supervision" in english.locator("h1").inner_text()
        text = english.locator("#indicators").inner_text()
        assert "household waste resource utilization" in text and "Weidu District" in text
        # A phone's width: the page still draws every chart.
        english.set_viewport_size({"width": 375, "height": 740})
        assert english.locator("svg[data-chart=trend]").count() == 5
