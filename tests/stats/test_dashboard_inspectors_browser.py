"""The inspector-quality panel of the dashboard, in headless Chromium: a district officer sees their
inspectors' figures (a hand count) and asks for a blind re-inspection sample."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from sorting.models import Drop, ReinspectionSample
from tests import factories

from .factories import bin_in
from .test_dashboard_browser import _sign_in, chromium_page

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


def _graded(bin_row, resident, inspector, day: int, minutes: int, verdict: str):
    row = Drop.objects.create(
        bin=bin_row, resident=resident, household=resident.household, community=bin_row.community
    )
    made = datetime(2026, 3, day, 10, tzinfo=SHANGHAI)
    Drop.objects.filter(pk=row.pk).update(
        created_at=made,
        graded_at=made.replace(minute=minutes),
        graded_by=inspector,
        verdict=verdict,
        status="accepted" if verdict == "correct" else "rejected",
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_district_officer_sees_inspector_quality_and_requests_a_sample(live_server, plain_http, xuchang_db):
    weidu, jian_an, _city = xuchang_db
    officer = factories.DistrictOfficerFactory(district=weidu)
    home = factories.CommunityFactory(district=weidu)
    away = factories.CommunityFactory(district=jian_an)
    inspector = factories.InspectorFactory(district=weidu, communities=[home], display_name="督导甲")
    factories.InspectorFactory(district=jian_an, communities=[away], display_name="督导丙")
    resident = factories.ResidentFactory(household__community=home)
    bin_row = bin_in(home, "recyclable")
    # Three verdicts, two correct, taking 10, 20 and 30 minutes: median 1200 s.
    _graded(bin_row, resident, inspector, 3, 10, "correct")
    _graded(bin_row, resident, inspector, 4, 20, "correct")
    _graded(bin_row, resident, inspector, 5, 30, "incorrect")
    phone = str(officer.phone)

    with chromium_page() as page:
        _sign_in(page, live_server.url, phone)
        page.goto(f"{live_server.url}/dashboard/?from=2026-03-01&to=2026-03-31")
        page.wait_for_selector("body[data-ready=true]")
        rows = page.locator("#inspectors tbody tr")
        assert rows.count() == 1
        row = page.locator(f"#inspectors tr[data-inspector='{inspector.id}']")
        assert "督导甲" in row.inner_text() and "督导丙" not in page.locator("#inspectors").inner_text()
        assert row.locator("td.verdicts").inner_text() == "3"
        assert row.locator("td.correct-share").get_attribute("data-value") == str(round(2 / 3, 4))
        assert "20 min" in row.inner_text()

        page.fill("#reinspect input[name=size]", "2")
        page.click("#reinspect button[type=submit]")
        page.wait_for_selector("#reinspect-result[data-sample]")
        assert "2" in page.locator("#reinspect-result").inner_text()
    sample = ReinspectionSample.objects.get()
    assert (sample.district_id, sample.requested_size) == (weidu.id, 2)
