"""A district officer reads only their own district; a city officer reads every district of the city."""

from datetime import date

import pytest
from django.core.management import call_command

from tests import factories

from .factories import record

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 10)
PERIOD = {"from": "2026-03-01", "to": "2026-03-31"}


@pytest.fixture
def two_districts(city_officer, weidu, jian_an):
    record(city_officer, weidu, "recyclable", 100, "recycling", DAY)
    record(city_officer, jian_an, "recyclable", 50, "recycling", DAY)
    record(city_officer, jian_an, "other", 50, "landfill", DAY)
    call_command("refresh_rollups")


def test_a_district_officer_sees_only_their_row(as_user, district_officer, weidu, two_districts):
    body = as_user(district_officer).get("/api/v1/stats/districts", PERIOD).json()

    assert [row["district"]["id"] for row in body["results"]] == [weidu.id]
    assert body["results"][0]["utilization_rate"] == 1.0
    assert body["results"][0]["collected_kg_by_category"] == {"recyclable": 100}


def test_a_city_officer_sees_every_district_ranked_by_rate(
    as_user, city_officer, weidu, jian_an, two_districts
):
    body = as_user(city_officer).get("/api/v1/stats/districts", PERIOD).json()

    assert len(body["results"]) == 9
    assert [row["district"]["id"] for row in body["results"][:2]] == [weidu.id, jian_an.id]
    assert body["results"][1]["utilization_rate"] == 0.5
    assert all(row["target"] == 0.35 for row in body["results"])


def test_another_districts_series_is_not_found_for_a_district_officer(
    as_user, district_officer, jian_an, two_districts
):
    response = as_user(district_officer).get(f"/api/v1/stats/districts/{jian_an.id}/series", PERIOD)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_another_districts_communities_are_not_found_for_a_district_officer(
    as_user, district_officer, jian_an
):
    response = as_user(district_officer).get(f"/api/v1/stats/districts/{jian_an.id}/communities", PERIOD)

    assert response.status_code == 404


def test_the_own_series_has_one_point_per_bucket(as_user, district_officer, weidu, two_districts):
    response = as_user(district_officer).get(
        f"/api/v1/stats/districts/{weidu.id}/series", {**PERIOD, "granularity": "week"}
    )

    assert response.status_code == 200
    points = response.json()["points"]
    # 2026-03-01 is a Sunday: the first week is that one day, then Monday-based weeks to the 31st
    assert [p["start"] for p in points] == [
        "2026-03-01",
        "2026-03-02",
        "2026-03-09",
        "2026-03-16",
        "2026-03-23",
        "2026-03-30",
    ]
    assert points[2]["collected_kg_by_category"] == {"recyclable": 100}
    assert points[2]["utilization_rate"] == 1.0
    assert all(p["utilization_rate"] is None for i, p in enumerate(points) if i != 2)


def test_residents_and_inspectors_cannot_read_statistics(as_user, resident, weidu):
    inspector = factories.InspectorFactory(district=weidu)

    assert as_user(resident).get("/api/v1/stats/districts").status_code == 403
    assert as_user(inspector).get("/api/v1/stats/districts").status_code == 403
    assert as_user(resident).get("/api/v1/stats/export.csv").status_code == 403


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-03-31", "to": "2026-03-01"},
        {"from": "yesterday"},
        {"from": "2020-01-01", "to": "2026-01-01"},
    ],
)
def test_a_bad_period_is_a_400(as_user, district_officer, params):
    response = as_user(district_officer).get("/api/v1/stats/districts", params)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_period"


def test_a_bad_granularity_is_a_400(as_user, district_officer, weidu):
    response = as_user(district_officer).get(
        f"/api/v1/stats/districts/{weidu.id}/series", {"granularity": "hour"}
    )

    assert response.status_code == 400


def test_communities_with_fewer_than_five_households_are_suppressed(as_user, district_officer, weidu):
    from .factories import households

    big = factories.CommunityFactory(district=weidu)
    small = factories.CommunityFactory(district=weidu)
    households(big, 5)
    households(small, 4)
    call_command("refresh_rollups")

    body = as_user(district_officer).get(f"/api/v1/stats/districts/{weidu.id}/communities", PERIOD).json()
    rows = {row["community"]["id"]: row for row in body["results"]}

    assert rows[big.id]["suppressed"] is False
    assert rows[big.id]["households"] == 5
    assert rows[small.id]["suppressed"] is True
    assert rows[small.id]["households"] is None
    assert rows[small.id]["participation_rate"] is None
