"""District figures read a period's whole months from the month rollups and the days either side from
the day rollups: the same sums as the days alone, for any period."""

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db.models import Sum
from hypothesis import given
from hypothesis import strategies as st

from sorting.models import Bin
from stats import monthly, selectors
from stats.carbon import carbon_of
from stats.models import (
    CollectionDaily,
    CommunityDepositMonthly,
    DepositDaily,
    DistrictCollectionMonthly,
    DistrictDepositDaily,
    DistrictDepositMonthly,
    DistrictDropDaily,
)
from stats.rollups.verification import verify

from .factories import deposit, drop, record
from .test_rollups import CATEGORIES, MATERIALS, _world

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _month_days(first_month: date, last_month: date) -> list[date]:
    last = (last_month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return _days(first_month, last)


@given(
    st.dates(min_value=date(2025, 11, 1), max_value=date(2027, 2, 28)),
    st.integers(min_value=0, max_value=500),
)
def test_a_period_splits_into_whole_months_and_the_days_either_side_exactly(start, length):
    end = start + timedelta(days=length)
    months, spans = monthly.split(start, end)

    covered = [day for first, last in spans for day in _days(first, last)]
    if months is not None:
        assert months[0].day == 1 and months[1].day == 1
        covered += _month_days(*months)
        # No whole month is left to the day table.
        assert all((last - first).days < 31 for first, last in spans)
        assert all(not (first.day == 1 and (last + timedelta(days=1)).day == 1) for first, last in spans)
    assert sorted(covered) == _days(start, end)
    assert len(spans) <= 2


def test_a_month_to_the_day_is_one_whole_month_and_no_days():
    assert monthly.split(date(2026, 2, 1), date(2026, 2, 28)) == ((date(2026, 2, 1), date(2026, 2, 1)), [])
    assert monthly.split(date(2026, 2, 2), date(2026, 2, 28)) == (
        None,
        [(date(2026, 2, 2), date(2026, 2, 28))],
    )
    assert monthly.split(date(2026, 1, 31), date(2026, 3, 1)) == (
        (date(2026, 2, 1), date(2026, 2, 1)),
        [(date(2026, 1, 31), date(2026, 1, 31)), (date(2026, 3, 1), date(2026, 3, 1))],
    )


def _moment(rng: random.Random) -> datetime:
    day = date(2026, 1, 20) + timedelta(days=rng.randrange(60))
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI) + timedelta(minutes=rng.randrange(24 * 60))


def _history(rng, n, residents, kiosks, bins, districts, officer, *, verdicts=("correct",)) -> None:
    """n accepted drops with their verdicts, n deposits and n collections, around three months."""
    for _ in range(n):
        drop(
            rng.choice(bins),
            rng.choice(residents),
            _moment(rng),
            status="accepted",
            verdict=rng.choice(verdicts),
        )
        deposit(
            rng.choice(kiosks),
            rng.choice(residents),
            rng.choice(MATERIALS),
            rng.randrange(50, 5000),
            _moment(rng),
        )
        category, destination = rng.choice(CATEGORIES)
        record(
            officer, rng.choice(districts), category, rng.randrange(1, 900), destination, _moment(rng).date()
        )


def _sums_by_day(district, start: date, end: date) -> tuple[dict, dict, int]:
    days = {"district": district, "day__range": (start, end)}
    deposits = {
        row["material"]: row["g"]
        for row in DistrictDepositDaily.objects.filter(**days).values("material").annotate(g=Sum("weight_g"))
        if row["g"]
    }
    collected = {
        row["category"]: row["g"]
        for row in CollectionDaily.objects.filter(**days).values("category").annotate(g=Sum("weight_g"))
    }
    drops = DistrictDropDaily.objects.filter(**days).aggregate(n=Sum("drops"))["n"] or 0
    return deposits, collected, drops


@pytest.mark.django_db
def test_district_figures_over_any_period_equal_the_sums_of_its_days(weidu, jian_an, city_officer):
    rng = random.Random(11)
    _communities, residents, kiosks = _world(weidu, jian_an)
    bins = list(Bin.objects.all())
    _history(rng, 150, residents, kiosks, bins, [weidu, jian_an], city_officer)
    call_command("refresh_rollups")
    assert verify() == []
    # January, February and March each have rows of their own.
    assert DistrictDepositMonthly.objects.filter(district=weidu).dates("month", "month").count() == 3
    assert DistrictCollectionMonthly.objects.dates("month", "month").count() == 3
    assert CommunityDepositMonthly.objects.dates("month", "month").count() == 3

    periods = [
        (date(2026, 1, 1), date(2026, 12, 31)),
        (date(2026, 2, 1), date(2026, 2, 28)),
        (date(2026, 1, 25), date(2026, 3, 5)),
        (date(2026, 1, 31), date(2026, 3, 1)),
        (date(2026, 2, 10), date(2026, 2, 12)),
        (date(2026, 2, 15), date(2026, 3, 31)),
    ]
    for start, end in periods:
        table = selectors.district_table(city_officer, start, end)
        for row in table.rows:
            deposits, collected, drops = _sums_by_day(row.district, start, end)
            assert row.deposits_g_by_material == deposits, (start, end)
            assert {c: g for c, g in row.collected_g_by_category.items() if g} == {
                c: g for c, g in collected.items() if g
            }, (start, end)
            assert row.drops == drops, (start, end)
        # CO2e from the days alone, the way it was read before the month tables.
        days = {"day__range": (start, end)}
        deposit_rows = [
            (district, district, material, grams)
            for district, material, grams in DistrictDepositDaily.objects.filter(**days)
            .values_list("district_id", "material")
            .annotate(Sum("weight_g"))
        ]
        route_rows = [
            (district, district, category, destination, grams)
            for district, category, destination, grams in CollectionDaily.objects.filter(**days)
            .values_list("district_id", "category", "destination")
            .annotate(Sum("weight_g"))
        ]
        cities = {weidu.id: weidu.city_id, jian_an.id: jian_an.city_id}
        by_days = carbon_of(deposit_rows, route_rows, cities)
        assert table.carbon == by_days, (start, end)
        assert selectors.carbon_avoided([weidu.id, jian_an.id], start, end) == by_days, (start, end)
        community_deposits = [
            (community, district, material, grams)
            for community, district, material, grams in DepositDaily.objects.filter(**days)
            .values_list("community_id", "district_id", "material")
            .annotate(Sum("weight_g"))
        ]
        community_routes = [
            (community, district, category, destination, grams)
            for community, district, category, destination, grams in CollectionDaily.objects.filter(
                community__isnull=False, **days
            )
            .values_list("community_id", "district_id", "category", "destination")
            .annotate(Sum("weight_g"))
        ]
        by_community = carbon_of(community_deposits, community_routes, cities)
        assert by_community, (start, end)
        assert selectors.carbon_avoided([weidu.id, jian_an.id], start, end, by="community_id") == by_community
