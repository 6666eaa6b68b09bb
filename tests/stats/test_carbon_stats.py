"""CO2e avoided in the statistics answers, the dashboard's data and the open data, against a hand count."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rewards.models import EmissionFactor
from tests import factories

from .factories import deposit, households, kiosk, record
from .test_public import RAW_TABLES

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def _factor(city, value: str, *, material: str = "", category: str = "", destination: str = "recycling"):
    rows = EmissionFactor.objects.filter(city=city, destination=destination)
    rows = rows.filter(material__code=material) if material else rows.filter(category=category)
    assert rows.update(kg_co2e_per_kg=value) == 1


@pytest.fixture
def carbon_data(weidu, jian_an, city_officer):
    """Weidu in March: a community of 6 households deposits paper 2500 g + 1001 g and metal 999 g;
    30 kg of kitchen waste composted, 40 kg of recyclables recycled; Jian'an: 12 kg kitchen digested."""
    city = weidu.city
    _factor(city, "3.913", material="paper")
    _factor(city, "4.839", material="metal")
    _factor(city, "1.069", category="kitchen", destination="composting")
    _factor(city, "1.232", category="kitchen", destination="anaerobic_digestion")
    community = factories.CommunityFactory(district=weidu)
    homes = households(community, 6)
    machine = kiosk(community)
    at = datetime(2026, 3, 4, 9, tzinfo=SHANGHAI)
    residents = [factories.ResidentFactory(household=h) for h in homes[:2]]
    deposit(machine, residents[0], "paper", 2500, at)
    deposit(machine, residents[1], "paper", 1001, at)
    deposit(machine, residents[1], "metal", 999, at)
    record(city_officer, weidu, "kitchen", 30, "composting", date(2026, 3, 10), community)
    record(city_officer, weidu, "recyclable", 40, "recycling", date(2026, 3, 10))
    record(city_officer, jian_an, "kitchen", 12, "anaerobic_digestion", date(2026, 3, 11))
    call_command("refresh_rollups")
    return community


# By hand: paper 3501 g x 3.913 = 13699.413 -> 13699 g; metal 999 g x 4.839 = 4834.161 -> 4834 g;
# kitchen composted 30 000 g x 1.069 = 32070 g; recyclable tickets are credited at the kiosk (0).
# Jian'an: 12 000 g x 1.232 = 14784 g.
WEIDU_DEPOSITS_G = 3501 * 3913 // 1000 + 999 * 4839 // 1000
WEIDU_COLLECTIONS_G = 30000 * 1069 // 1000
JIAN_AN_G = 12000 * 1232 // 1000


def test_district_answers_carry_the_co2e_avoided(as_user, city_officer, carbon_data, weidu, jian_an):
    body = as_user(city_officer).get("/api/v1/stats/districts", MARCH).json()
    rows = {r["district"]["id"]: r["carbon"] for r in body["results"]}

    assert rows[weidu.id] == {
        "co2e_kg": (WEIDU_DEPOSITS_G + WEIDU_COLLECTIONS_G) / 1000,
        "deposits_co2e_kg": 18.533,
        "collections_co2e_kg": 32.07,
        "co2e_kg_by_material": {"metal": 4.834, "paper": 13.699},
    }
    assert rows[jian_an.id]["co2e_kg"] == JIAN_AN_G / 1000
    # The city: every district the city officer sees.
    assert body["carbon"]["co2e_kg"] == (WEIDU_DEPOSITS_G + WEIDU_COLLECTIONS_G + JIAN_AN_G) / 1000


def test_community_answers_carry_it_and_a_small_community_shows_none(
    as_user, district_officer, carbon_data, weidu
):
    small = factories.CommunityFactory(district=weidu)
    households(small, 2)
    call_command("refresh_rollups")
    rows = {
        r["community"]["id"]: r
        for r in as_user(district_officer)
        .get(f"/api/v1/stats/districts/{weidu.id}/communities", MARCH)
        .json()["results"]
    }
    assert rows[carbon_data.id]["carbon"]["co2e_kg"] == (WEIDU_DEPOSITS_G + WEIDU_COLLECTIONS_G) / 1000
    assert rows[small.id]["suppressed"] is True and rows[small.id]["carbon"] is None


def test_a_corrected_factor_restates_the_figures(as_user, city_officer, carbon_data, weidu):
    _factor(weidu.city, "0", material="metal")
    body = as_user(city_officer).get("/api/v1/stats/districts", MARCH).json()
    weidu_row = next(r for r in body["results"] if r["district"]["id"] == weidu.id)
    assert weidu_row["carbon"]["deposits_co2e_kg"] == (3501 * 3913 // 1000) / 1000


def test_carbon_reads_rollups_only(as_user, city_officer, carbon_data):
    client = as_user(city_officer)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/stats/districts", MARCH).status_code == 200
    carbon_sql = [q["sql"] for q in queries.captured_queries if "weight_g" in q["sql"]]
    assert carbon_sql and [sql for sql in carbon_sql if RAW_TABLES.search(sql)] == []


def test_the_open_data_publishes_the_city_and_district_co2e(client, carbon_data, weidu):
    rows = client.get("/public/data/places.json", {"year": 2026}).json()["results"]
    by_place = {(r["scope"], r["place_id"]): r for r in rows}
    assert (
        by_place[("district", weidu.id)]["co2e_avoided_kg"] == (WEIDU_DEPOSITS_G + WEIDU_COLLECTIONS_G) / 1000
    )
    communities = client.get("/public/data/communities.json", {"year": 2026}).json()["results"]
    assert [c["co2e_avoided_kg"] for c in communities if c["community_id"] == carbon_data.id] == [
        (WEIDU_DEPOSITS_G + WEIDU_COLLECTIONS_G) / 1000
    ]
