"""kiosks_grant_deposit_points: a deposit's three daily caps in one call (migration kiosks 0007)."""

from datetime import date

import pytest
from django.db import connection

from kiosks.models import DailyPoints
from rewards.models import HouseholdDailyPoints
from tests.factories import ResidentFactory

from .helpers import make_kiosk

DAY = date(2026, 3, 9)


def grant(kiosk, resident, raw, *, kiosk_cap=1000, resident_cap=1000, household_cap=1000, household=True):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT kiosks_grant_deposit_points(%s, %s, %s, %s, %s, %s, %s, %s)",
            [
                kiosk.pk,
                resident.pk,
                resident.household_id if household else None,
                DAY,
                raw,
                kiosk_cap,
                resident_cap,
                household_cap,
            ],
        )
        return cursor.fetchone()[0]


def totals(kiosk, resident):
    rows = dict(DailyPoints.objects.filter(day=DAY).values_list("subject", "points"))
    household = HouseholdDailyPoints.objects.filter(household_id=resident.household_id, day=DAY).first()
    return rows.get("kiosk"), rows.get("resident"), household.points if household else None


@pytest.fixture
def kiosk(community):
    return make_kiosk(community)


def test_within_every_cap_the_whole_amount_is_granted_and_counted_three_times(kiosk, resident):
    assert grant(kiosk, resident, 70) == 70
    assert grant(kiosk, resident, 30) == 30

    assert totals(kiosk, resident) == (100, 100, 100)


@pytest.mark.parametrize(
    ("caps", "granted"),
    [
        ({"kiosk_cap": 120}, 20),
        ({"resident_cap": 110}, 10),
        ({"household_cap": 105}, 5),
    ],
)
def test_the_tightest_cap_decides(kiosk, resident, caps, granted):
    grant(kiosk, resident, 100)

    assert grant(kiosk, resident, 50, **caps) == granted
    assert totals(kiosk, resident) == (100 + granted, 100 + granted, 100 + granted)


def test_a_cap_lowered_below_what_was_earned_grants_nothing_and_counts_nothing(kiosk, resident):
    grant(kiosk, resident, 100)

    assert grant(kiosk, resident, 50, resident_cap=60) == 0
    assert totals(kiosk, resident) == (100, 100, 100)


def test_nothing_asked_touches_no_row(kiosk, resident):
    assert grant(kiosk, resident, 0) == 0
    assert totals(kiosk, resident) == (None, None, None)


def test_without_a_household_only_the_kiosk_and_resident_caps_apply(kiosk, community):
    resident = ResidentFactory(household__community=community)

    assert grant(kiosk, resident, 80, household_cap=10, household=False) == 80
    assert totals(kiosk, resident) == (80, 80, None)
