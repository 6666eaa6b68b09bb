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


def test_a_first_grant_larger_than_a_cap_creates_the_totals_at_the_cap(kiosk, resident):
    assert grant(kiosk, resident, 50, kiosk_cap=30) == 30
    assert totals(kiosk, resident) == (30, 30, 30)


def test_a_cap_reached_exactly_takes_the_whole_grant(kiosk, resident):
    grant(kiosk, resident, 60)

    assert grant(kiosk, resident, 40, kiosk_cap=100, resident_cap=100, household_cap=100) == 40
    assert grant(kiosk, resident, 1, kiosk_cap=100, resident_cap=100, household_cap=100) == 0
    assert totals(kiosk, resident) == (100, 100, 100)


def test_a_missing_cap_is_no_cap(kiosk, resident):
    grant(kiosk, resident, 100)

    assert grant(kiosk, resident, 900, kiosk_cap=None, resident_cap=None, household_cap=None) == 900
    assert grant(kiosk, resident, 50, kiosk_cap=None, resident_cap=1020, household_cap=None) == 20
    assert totals(kiosk, resident) == (1020, 1020, 1020)


def test_the_common_grant_writes_each_total_once(kiosk, resident):
    """Each running total gets one new row version per grant that fits (two before kiosks 0012)."""
    grant(kiosk, resident, 10)

    def versions():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT (SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'kiosks_dailypoints'),"
                " (SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'rewards_householddailypoints')"
            )
            return cursor.fetchone()

    before = versions()
    grant(kiosk, resident, 10)
    after = versions()

    assert (after[0] - before[0], after[1] - before[1]) == (2, 1)
    assert totals(kiosk, resident) == (20, 20, 20)
