"""The utilization rate on hand-computed fixtures, and how on_track is projected."""

import uuid
from datetime import date, timedelta

import pytest
from django.core.management import call_command

from stats import rate
from stats.models import DistrictStatsSettings

from .factories import record

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 10)
TARGET = 0.35  # the plan's 2020 figure, which the default data holds
PERIOD = {"from": "2026-03-01", "to": "2026-03-31"}


def _row(client, district):
    body = client.get("/api/v1/stats/districts", PERIOD).json()
    return next(r for r in body["results"] if r["district"]["id"] == district.id)


def test_a_district_with_no_collections_has_no_rate_rather_than_zero(as_user, city_officer, weidu):
    call_command("refresh_rollups")
    row = _row(as_user(city_officer), weidu)

    assert row["utilization_rate"] is None
    assert row["on_track"] is None
    assert row["target"] == 0.35
    assert row["collected_kg_by_category"] == {}
    assert row["handled_kg"] == 0


def _hand_computed_month(officer, district):
    # recovered without incineration: 300 (recyclable->recycling) + 200 (kitchen->composting)
    # + 50 (kitchen->anaerobic digestion) = 550; handled: 550 + 400 incinerated + 100 landfilled
    # + 20 recyclable that still went to landfill = 1070
    record(officer, district, "recyclable", 300, "recycling", DAY)
    record(officer, district, "kitchen", 200, "composting", DAY)
    record(officer, district, "kitchen", 50, "anaerobic_digestion", DAY)
    record(officer, district, "other", 400, "incineration", DAY)
    record(officer, district, "other", 100, "landfill", DAY)
    record(officer, district, "recyclable", 20, "landfill", DAY)


def test_incineration_does_not_count_as_recovery_by_default(as_user, district_officer, weidu):
    _hand_computed_month(district_officer, weidu)
    row = _row(as_user(district_officer), weidu)

    assert row["incineration_counts_as_recovery"] is False
    assert row["recovered_kg"] == 550
    assert row["handled_kg"] == 1070
    assert row["utilization_rate"] == round(550 / 1070, 4)
    assert row["collected_kg_by_category"] == {"kitchen": 250, "other": 500, "recyclable": 320}


def test_incineration_counts_when_the_district_setting_says_so(as_user, district_officer, weidu):
    _hand_computed_month(district_officer, weidu)
    client = as_user(district_officer)
    response = client.put(
        f"/api/v1/stats/districts/{weidu.id}/settings",
        {"incineration_counts_as_recovery": True},
        format="json",
    )
    assert response.status_code == 200
    assert DistrictStatsSettings.objects.get(district=weidu).incineration_counts_as_recovery is True

    row = _row(client, weidu)

    assert row["recovered_kg"] == 950
    assert row["utilization_rate"] == round(950 / 1070, 4)


def test_a_district_officer_cannot_change_another_districts_setting(as_user, district_officer, jian_an):
    response = as_user(district_officer).put(
        f"/api/v1/stats/districts/{jian_an.id}/settings",
        {"incineration_counts_as_recovery": True},
        format="json",
    )

    assert response.status_code == 404
    assert not DistrictStatsSettings.objects.filter(district=jian_an).exists()


def test_the_rate_function_counts_recyclable_deposits_as_recovered_and_every_deposit_as_handled():
    result = rate.utilization(
        collected_g={("other", "landfill"): 1000},
        deposited_g={"recyclable": 300, "hazardous": 100},
    )

    assert (result.recovered_g, result.handled_g) == (300, 1400)
    assert result.rate == pytest.approx(300 / 1400)


def _days(start, rates):
    # each day handles 1000 g; recovered grows so the cumulative rate follows `rates`
    return [(start + timedelta(days=i), rate.Utilization(round(r * 1000), 1000)) for i, r in enumerate(rates)]


def test_a_rising_trend_is_projected_to_the_end_of_the_period():
    start, end = date(2026, 3, 1), date(2026, 3, 31)
    daily = _days(start, [0.20 + 0.02 * i for i in range(10)])

    projection = rate.project(daily, target=TARGET, start=start, end=end, today=date(2026, 3, 10))

    assert projection.method == "linear_trend"
    assert projection.rate_so_far < TARGET
    assert projection.projected_rate > TARGET
    assert projection.on_track is True


def test_a_flat_rate_below_target_is_not_on_track_and_a_finished_period_is_judged_on_its_final_rate():
    start, end = date(2026, 3, 1), date(2026, 3, 31)
    daily = _days(start, [0.30] * 10)

    running = rate.project(daily, target=TARGET, start=start, end=end, today=date(2026, 3, 10))
    finished = rate.project(daily, target=TARGET, start=start, end=end, today=date(2026, 4, 2))

    assert running.on_track is False
    assert running.projected_rate == pytest.approx(0.30)
    assert finished.method == "final"
    assert finished.projected_rate == pytest.approx(0.30)


def test_a_few_days_of_data_use_the_rate_so_far():
    start, end = date(2026, 3, 1), date(2026, 3, 31)
    projection = rate.project(
        _days(start, [0.5, 0.1]), target=TARGET, start=start, end=end, today=date(2026, 3, 2)
    )

    assert projection.method == "rate_so_far"
    assert projection.projected_rate == pytest.approx(0.3)
    assert projection.on_track is False


def test_the_sql_form_of_the_rate_agrees_with_the_python_definition():
    from django.db import connection

    from backend.categories import WasteCategory
    from stats.models import Destination

    cases = [
        (category.value, destination.value, incineration)
        for category in WasteCategory
        for destination in Destination
        for incineration in (False, True)
    ]
    values = ", ".join(["(%s, %s, %s)"] * len(cases))
    sql = (
        rate.collection_recovered_sql(weight="1000", category="c", destination="d", incineration_counts="i")
        + f" FROM (VALUES {values}) AS v(c, d, i)"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT c, d, i, " + sql, [x for case in cases for x in case])
        from_sql = {(c, d, i): w for c, d, i, w in cursor.fetchall()}
        cursor.execute(
            "SELECT c, "  # noqa: S608 - SQL built from code constants
            + rate.deposit_recovered_sql(weight="1000", category="c")
            + " FROM (VALUES ('recyclable'), ('hazardous')) AS v(c)"
        )
        deposits = dict(cursor.fetchall())

    for category, destination, incineration in cases:
        expected = 1000 if rate.is_recovery(category, destination, incineration_counts=incineration) else 0
        assert from_sql[(category, destination, incineration)] == expected, (
            category,
            destination,
            incineration,
        )
    assert deposits == {"recyclable": 1000, "hazardous": 0}


# ---- kiosk deposits in the rate, and Asia/Shanghai days -------------------------------------


def _at(local: str):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(local).replace(tzinfo=ZoneInfo("Asia/Shanghai"))


def test_deposits_count_only_once_a_destination_received_them(
    as_user, district_officer, weidu, community, resident
):
    from kiosks.services import record_pickup

    from .factories import deposit, kiosk, plant

    box = kiosk(community)
    record(district_officer, weidu, "other", 100, "landfill", DAY)
    deposit(box, resident, "paper", 30_000, _at("2026-03-10T09:00"))
    deposit(box, resident, "batteries", 10_000, _at("2026-03-10T09:05"))
    call_command("refresh_rollups")
    client = as_user(district_officer)

    # In the kiosk: weighed, not yet recovered or handled anywhere.
    before = _row(client, weidu)
    assert (before["recovered_kg"], before["handled_kg"]) == (0, 100)
    assert before["deposits_kg_by_material"] == {"batteries": 10, "paper": 30}
    assert before["participating_households"] == 1

    pickup = record_pickup(
        kiosk=box,
        pickup_id=uuid.uuid4(),
        collected_at=_at("2026-03-10T18:00"),
        lines={"paper": 30_000, "batteries": 10_000},
        source="staff",
        actor=district_officer,
    ).pickup
    recycler = plant(weidu, "recycling")
    record(district_officer, weidu, "recyclable", 30, "recycling", DAY, plant=recycler, pickups=[pickup.id])
    record(
        district_officer,
        weidu,
        "hazardous",
        10,
        "hazardous_treatment",
        DAY,
        plant=plant(weidu, "hazardous_treatment"),
    )

    row = _row(client, weidu)

    # recovered 30 kg of paper, received once; handled 100 + 30 + 10 = 140 kg
    assert row["recovered_kg"] == 30
    assert row["handled_kg"] == 140
    assert row["utilization_rate"] == round(30 / 140, 4)


def test_late_offline_deposits_land_on_their_shanghai_day_across_midnight(
    as_user, district_officer, weidu, community, resident
):
    from .factories import deposit, kiosk

    box = kiosk(community)
    # 23:59 on 10 March in Xuchang is 15:59 UTC; 00:01 on 11 March is still 10 March in UTC.
    deposit(box, resident, "paper", 1_000, _at("2026-03-10T23:59"))
    deposit(box, resident, "plastic", 2_000, _at("2026-03-11T00:01"))
    call_command("refresh_rollups")
    # The kiosk was offline: a deposit of the evening of the 9th arrives after both.
    deposit(box, resident, "glass", 4_000, _at("2026-03-09T22:30"))
    call_command("refresh_rollups")

    series = (
        as_user(district_officer)
        .get(
            f"/api/v1/stats/districts/{weidu.id}/series",
            {"from": "2026-03-09", "to": "2026-03-11", "granularity": "day"},
        )
        .json()
    )

    by_day = {p["start"]: p for p in series["points"]}
    assert {day: p["deposits_kg"] for day, p in by_day.items()} == {
        "2026-03-09": 4.0,
        "2026-03-10": 1.0,
        "2026-03-11": 2.0,
    }
    assert [by_day[d]["participating_households"] for d in sorted(by_day)] == [1, 1, 1]
    # Nothing was received at a destination yet: no rate, however much the kiosk weighed.
    assert all(by_day[d]["utilization_rate"] is None for d in by_day)
    from stats.rollups.verification import verify

    assert verify() == []


def _textbook_projection(daily, start, end):
    """The least-squares line through the cumulative rate, fitted the slow, obvious way."""
    points, recovered, handled = [], 0, 0
    for day, flow in sorted(daily):
        recovered, handled = recovered + flow.recovered_g, handled + flow.handled_g
        if handled > 0:
            points.append(((day - start).days, recovered / handled))
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    var_x = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / var_x
    return min(1.0, max(0.0, mean_y + slope * ((end - start).days - mean_x)))


@pytest.mark.parametrize("seed", range(20))
def test_the_fitted_projection_equals_the_textbook_least_squares_fit(seed):
    import random

    rng = random.Random(seed)
    start, end = date(2026, 1, 1), date(2026, 12, 31)
    days = sorted(rng.sample(range(330), rng.randrange(8, 330)))
    daily = [
        (
            start + timedelta(days=d),
            # Now and then a correction: a day that takes more back than it adds.
            rate.Utilization(
                rng.randrange(-3_000, 400_000), rng.choice([-50_000, *[rng.randrange(1, 900_000)] * 9])
            ),
        )
        for d in days
    ]
    projection = rate.project(daily, target=TARGET, start=start, end=end, today=date(2026, 12, 2))

    if projection.method == "linear_trend":
        assert projection.projected_rate == pytest.approx(_textbook_projection(daily, start, end), abs=1e-12)
    else:
        assert projection.method in ("rate_so_far", "no_data")
