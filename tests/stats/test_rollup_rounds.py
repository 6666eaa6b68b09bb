"""The incremental round's prefilter of raw events: a clause per day of its buckets, one window past
MAX_DAY_CLAUSES days; either way the rollups equal a recount. Participation steps kept round by
round count the same households as the day bits."""

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from geo.models import Community
from stats import selectors, sources
from stats.rollups import incremental

from .test_rollups import test_rollups_equal_a_recount_after_a_random_stream_of_events as random_stream

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_prefilter_has_a_clause_per_day_with_that_days_communities():
    src = sources.deposit_source()
    buckets = {(3, date(2026, 3, 1)), (1, date(2026, 3, 1)), (2, date(2026, 3, 9))}

    where, params = incremental._bucket_events(src, buckets)

    assert where.count(" OR ") == 1
    assert params == [[1, 3], date(2026, 3, 1), date(2026, 3, 2), [2], date(2026, 3, 9), date(2026, 3, 10)]


def test_past_the_clause_limit_the_prefilter_is_one_window(monkeypatch):
    monkeypatch.setattr(incremental, "MAX_DAY_CLAUSES", 1)
    src = sources.drop_source()
    buckets = {(1, date(2026, 3, 1)), (2, date(2026, 3, 9))}

    where, params = incremental._bucket_events(src, buckets)

    assert " OR " not in where
    assert params == [[1, 2], date(2026, 2, 28), date(2026, 3, 11)]


def test_household_months_are_read_per_month_and_rollup_rows_per_day():
    src = sources.drop_source()
    keys = {(7, date(2026, 2, 1)), (5, date(2026, 2, 1)), (7, date(2026, 12, 1))}

    where, params = incremental._household_events(src, keys)
    rollup_where, rollup_params = incremental._rollup_days(
        "community_id", {(4, date(2026, 3, 2)), (3, date(2026, 3, 2))}
    )

    assert where.count(" OR ") == 1
    assert params == [[5, 7], date(2026, 2, 1), date(2026, 3, 1), [7], date(2026, 12, 1), date(2027, 1, 1)]
    assert rollup_where == "WHERE ((community_id = ANY(%s) AND day = %s))"
    assert rollup_params == [[3, 4], date(2026, 3, 2)]


def test_past_the_clause_limit_households_and_rollup_rows_are_read_over_one_span(monkeypatch):
    monkeypatch.setattr(incremental, "MAX_DAY_CLAUSES", 1)
    keys = {(7, date(2026, 2, 1)), (5, date(2026, 4, 1))}

    where, params = incremental._household_events(sources.deposit_source(), keys)
    rollup_where, rollup_params = incremental._rollup_days(
        "district_id", {(1, date(2026, 3, 2)), (2, date(2026, 3, 9))}
    )

    assert " OR " not in where and " OR " not in rollup_where
    assert params == [[5, 7], date(2026, 1, 31), date(2026, 5, 3)]
    assert rollup_params == [[1, 2], date(2026, 3, 2), date(2026, 3, 9)]


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [5, 6])
def test_rounds_that_read_one_window_still_equal_a_recount(seed, monkeypatch, weidu, jian_an, city_officer):
    monkeypatch.setattr(incremental, "MAX_DAY_CLAUSES", 1)
    random_stream(seed, weidu, jian_an, city_officer)


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [7, 8])
def test_participation_steps_give_every_period_the_households_of_its_day_bits(
    seed, weidu, jian_an, city_officer
):
    # Events in March and early April 2026 (some late at night), refreshed round by round.
    random_stream(seed, weidu, jian_an, city_officer)
    ids = [weidu.id, jian_an.id]
    chance = random.Random(seed)
    periods = [(date(2026, 2, 20), date(2026, 4, 30)), (date(2025, 12, 1), date(2026, 3, 15))]
    for _ in range(30):
        first = date(2026, 2, 25) + timedelta(days=chance.randrange(50))
        periods.append((first, first + timedelta(days=chance.randrange(20))))
    counted = 0
    for first, last in periods:
        by_district = selectors.participating_households(ids, first, last)
        # Per community the day bits are read; a household lives in one community, so they add up.
        by_community = selectors.participating_households(ids, first, last, by="community_id")
        communities = dict(
            Community.objects.filter(pk__in=list(by_community)).values_list("id", "district_id")
        )
        summed: dict[int, int] = {}
        for community, n in by_community.items():
            summed[communities[community]] = summed.get(communities[community], 0) + n
        assert by_district == summed, (first, last)
        counted += sum(by_district.values())
    assert counted > 0


def _out_on(*days: date) -> list[tuple]:
    """Household 1 of community 10 in district 20, out on these days, as its rolled-up months."""
    months: dict[date, int] = {}
    for day in days:
        month = day.replace(day=1)
        months[month] = months.get(month, 0) | 1 << (day.day - 1)
    return [(1, 10, 20, month, bits) for month, bits in sorted(months.items())]


@pytest.mark.parametrize(
    ("already_out", "before_and_after"),
    [
        # Out only in November before: the new day in December adds the household to the week.
        (date(2025, 11, 3), (0, 1)),
        # Out on 2 January already: the new day in December changes nothing of that week.
        (date(2026, 1, 2), (1, 1)),
    ],
)
def test_a_change_in_december_counts_the_week_that_ends_in_january(already_out, before_and_after):
    december = {(1, date(2025, 12, 1))}
    week = (10, 20, "week", date(2025, 12, 29))

    before = incremental._household_buckets(_out_on(already_out), december)
    after = incremental._household_buckets(_out_on(already_out, date(2025, 12, 30)), december)

    assert (before[week], after[week]) == before_and_after
    # The next year is read for that week's days only: its own figures did not change.
    assert (10, 20, "year", date(2026, 1, 1)) not in before | after


def _household_month_rows(household_id: int) -> list[tuple]:
    from stats.models import HouseholdMonth

    return list(
        HouseholdMonth.objects.filter(household_id=household_id).values_list("community_id", "month", "days")
    )


@pytest.mark.django_db
def test_days_out_are_added_to_a_month_without_recounting_it(weidu, community, resident):
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from stats.rollups.verification import verify

    from .factories import deposit, kiosk

    box = kiosk(community)
    deposit(box, resident, "paper", 500, datetime(2026, 3, 2, 10, tzinfo=SHANGHAI))
    call_command("refresh_rollups")
    deposit(box, resident, "paper", 700, datetime(2026, 3, 9, 10, tzinfo=SHANGHAI))

    with CaptureQueriesContext(connection) as round_:
        call_command("refresh_rollups")

    assert _household_month_rows(resident.household_id) == [(community.id, date(2026, 3, 1), 1 << 1 | 1 << 8)]
    # The month's events were not read again: the new day was OR-ed into its row.
    assert not any("INTO stats_householdmonth" in q["sql"] and "kiosks_deposit" in q["sql"] for q in round_)
    assert verify() == []


@pytest.mark.django_db
def test_a_drop_that_stops_counting_has_its_month_recounted(weidu, community, resident):
    from django.core.management import call_command
    from django.utils import timezone

    from sorting.models import Drop
    from stats.rollups.verification import verify

    from .factories import bin_in, drop

    counted = drop(
        bin_in(community, "kitchen"), resident, datetime(2026, 3, 2, 10, tzinfo=SHANGHAI), status="accepted"
    )
    call_command("refresh_rollups")
    assert _household_month_rows(resident.household_id) == [(community.id, date(2026, 3, 1), 1 << 1)]

    # Set aside by hand after it was counted: the day bit can only go by recounting the month.
    Drop.objects.filter(pk=counted.pk).update(status="rejected", updated_at=timezone.now())
    call_command("refresh_rollups")

    assert _household_month_rows(resident.household_id) == []
    assert verify() == []


@pytest.mark.django_db
def test_a_household_that_moved_keeps_one_row_for_the_month(weidu, jian_an, community, resident):
    from django.core.management import call_command

    from accounts.models import Household
    from stats.rollups.verification import verify
    from tests import factories

    from .factories import deposit, kiosk

    box = kiosk(community)
    deposit(box, resident, "paper", 500, datetime(2026, 3, 2, 10, tzinfo=SHANGHAI))
    call_command("refresh_rollups")
    elsewhere = factories.CommunityFactory(district=jian_an)
    Household.objects.filter(pk=resident.household_id).update(community=elsewhere)
    resident.refresh_from_db()
    deposit(kiosk(elsewhere), resident, "glass", 300, datetime(2026, 3, 9, 10, tzinfo=SHANGHAI))
    call_command("refresh_rollups")

    assert _household_month_rows(resident.household_id) == [(elsewhere.id, date(2026, 3, 1), 1 << 1 | 1 << 8)]
    participation = {
        "stats_householdmonth",
        "stats_householdyear",
        "stats_participationcount",
        "stats_participationstep",
    }
    assert [m for m in verify() if m.table in participation] == []


def _steps_one_day_at_a_time(months_rows, keys):
    """Every step of the changed households, judged day by day (what _household_steps skips ahead of)."""
    from collections import Counter

    from stats.models import ParticipationStep

    counts = Counter()
    changed = {}
    for household, month in keys:
        changed.setdefault(household, []).append(month)
    household = previous = None
    for row_household, _community, district, month, days in months_rows:
        if row_household != household:
            household, previous = row_household, ParticipationStep.FIRST
        for n in range(31):
            if days >> n & 1:
                day = month + timedelta(days=n)
                if any(previous.replace(day=1) <= m <= month for m in changed[household]):
                    counts[(day, district, previous)] += 1
                previous = day
    return counts


@pytest.mark.parametrize("seed", range(30))
def test_the_steps_of_changed_months_are_those_a_day_by_day_pass_gives(seed):
    chance = random.Random(seed)
    rows, keys = [], set()
    for household in range(1, 6):
        months = sorted(chance.sample([date(2025 + y, m, 1) for y in (0, 1) for m in range(1, 13)], 8))
        for month in months:
            last = (_next_month(month) - month).days
            bits = sum(1 << n for n in chance.sample(range(last), chance.randrange(0, 4)))
            rows.append((household, 10, 20, month, bits))
        keys |= {(household, month) for month in chance.sample(months, chance.randrange(1, 3))}

    assert incremental._household_steps(rows, keys) == _steps_one_day_at_a_time(rows, keys)


def _next_month(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1)


@pytest.mark.django_db
def test_a_district_row_whose_last_event_is_gone_is_deleted_by_the_round(weidu, community, resident):
    from django.core.management import call_command

    from kiosks.models import Deposit
    from stats.models import DistrictDepositDaily
    from stats.rollups.verification import verify

    from .factories import deposit, kiosk

    box = kiosk(community)
    day = datetime(2026, 3, 2, 10, tzinfo=SHANGHAI)
    paper = deposit(box, resident, "paper", 500, day)
    deposit(box, resident, "glass", 300, day)
    call_command("refresh_rollups")
    # Taken out by hand; another deposit the same day makes the round recount the community's day.
    Deposit.objects.filter(pk=paper.pk).delete()
    deposit(box, resident, "glass", 200, day)
    call_command("refresh_rollups")

    rows = DistrictDepositDaily.objects.filter(district=weidu).values_list("material", "deposits", "weight_g")
    assert list(rows) == [("glass", 2, 500)]
    assert verify() == []


@pytest.mark.django_db
def test_rollups_read_by_index_alone_are_vacuumed_after_two_percent_of_their_rows_change():
    from importlib import import_module

    from django.db import connection

    tables = import_module("stats.migrations.0017_rollups_vacuumed_as_the_round_writes").TABLES
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, reloptions FROM pg_class WHERE relname = ANY(%s)", [list(tables)])
        options = dict(cursor.fetchall())

    assert set(options) == set(tables)
    for table in tables:
        assert "autovacuum_vacuum_scale_factor=0.02" in options[table], table
        assert "autovacuum_vacuum_insert_scale_factor=0.02" in options[table], table
