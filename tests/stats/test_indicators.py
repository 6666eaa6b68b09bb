"""Every indicator against a hand count, the same in Python and in SQL; targets as data per city and year."""

import csv
import io
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from kiosks.services import record_pickup
from stats import indicators
from stats.models import IndicatorTarget

from . import factories as f

pytestmark = pytest.mark.django_db

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
DAY = date(2026, 3, 10)
PICKED = date(2026, 3, 20)


def _month(officer, district, community):
    """A hand-counted month of a small district, from raw events (kilograms):
    collections: recyclable->recycling 300, recyclable->landfill 20, kitchen->composting 200,
                 kitchen->anaerobic digestion 50, kitchen->landfill 150, other->incineration 400,
                 other->landfill 100                                           total 1220
    kiosk deposits on the 12th: paper 6 + metal 4 (recyclable), batteries 2 (hazardous)
    picked up on the 20th as weighed, received the same day on two tickets of the community:
    recyclables 10 at the recycler, batteries 2 at the licensed handler             total 12
    Each deposited kilogram counts once, at the plant: 1232 handled.
    """
    for category, kg, destination in (
        ("recyclable", 300, "recycling"),
        ("recyclable", 20, "landfill"),
        ("kitchen", 200, "composting"),
        ("kitchen", 50, "anaerobic_digestion"),
        ("kitchen", 150, "landfill"),
        ("other", 400, "incineration"),
        ("other", 100, "landfill"),
    ):
        f.record(officer, district, category, kg, destination, DAY)
    resident = f.factories.ResidentFactory(household=f.households(community, 1)[0])
    kiosk = f.kiosk(community)
    at = datetime(2026, 3, 12, 2, tzinfo=UTC)
    for material, grams in (("paper", 6000), ("metal", 4000), ("batteries", 2000)):
        f.deposit(kiosk, resident, material, grams, at)
    pickup = record_pickup(
        kiosk=kiosk,
        pickup_id=uuid.uuid4(),
        collected_at=datetime(2026, 3, 20, 2, tzinfo=UTC),
        lines={"paper": 6000, "metal": 4000, "batteries": 2000},
        source="staff",
        actor=officer,
    ).pickup
    f.record(
        officer,
        district,
        "recyclable",
        10,
        "recycling",
        PICKED,
        community,
        plant=f.plant(district, "recycling"),
        pickups=[pickup.id],
        reference="R-0320-1",
    )
    f.record(
        officer,
        district,
        "hazardous",
        2,
        "hazardous_treatment",
        PICKED,
        community,
        plant=f.plant(district, "hazardous_treatment"),
        reference="H-0320-1",
    )
    call_command("refresh_rollups")


HAND_COUNT = {
    # recovered: 300 + 200 + 50 + 10 received from the kiosk = 560 of 1232 handled
    "plan_utilization": (560, 1232),
    # kitchen: 250 of 400
    "kitchen_resourcing": (250, 400),
    # recyclables: 300 + 10 of 320 + 10
    "recyclables_recovery": (310, 330),
    "recycling": (560, 1232),
    # incineration included: 560 + 400
    "resource_utilization": (960, 1232),
}


def _row(client, district, period=MARCH):
    body = client.get("/api/v1/stats/districts", period).json()
    return next(r for r in body["results"] if r["district"]["id"] == district.id)


def test_every_indicator_matches_the_hand_count(as_user, district_officer, weidu, community):
    _month(district_officer, weidu, community)

    row = _row(as_user(district_officer), weidu)

    assert set(row["indicators"]) == set(HAND_COUNT)
    for code, (numerator, denominator) in HAND_COUNT.items():
        figure = row["indicators"][code]
        assert (figure["numerator_kg"], figure["denominator_kg"]) == (numerator, denominator), code
        assert figure["value"] == round(numerator / denominator, 4), code
    # The fields the API has always had are the plan's rate.
    assert row["utilization_rate"] == row["indicators"]["plan_utilization"]["value"]
    assert (row["recovered_kg"], row["handled_kg"]) == HAND_COUNT["plan_utilization"]


def test_the_python_formula_and_the_sql_formula_agree():
    flows = [
        (kind, category, destination, 1000 * (i + 1))
        for i, (kind, category, destination) in enumerate(
            (kind, category, destination)
            for kind in indicators.FLOW_KINDS
            for category in ("recyclable", "kitchen", "hazardous", "other")
            for destination in (
                ("recycling", "composting", "anaerobic_digestion", "incineration", "landfill")
                if kind == indicators.COLLECTION
                else ("",)
            )
        )
    ]
    from django.db import connection

    values = ", ".join("(%s, %s, %s, %s::bigint)" for _ in flows)
    for setting in (False, True):
        sql = (
            f"SELECT {indicators.sums_sql(flows='f', settings='s')} "  # noqa: S608 - the indicators' SQL, placeholders
            f"FROM (VALUES {values}) f(kind, category, destination, weight_g), "
            f"(SELECT %s AS incineration_counts_as_recovery) s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [v for flow in flows for v in flow] + [setting])
            in_sql = indicators.ratios_from_row(cursor.fetchone())
        in_python = {
            code: indicator.ratio(flows, {indicators.INCINERATION_SETTING: setting})
            for code, indicator in indicators.INDICATORS.items()
        }
        assert in_sql == in_python


def test_with_no_city_targets_the_national_figures_apply(as_user, city_officer, weidu):
    call_command("refresh_rollups")

    row = _row(as_user(city_officer), weidu)

    targets = {
        code: (i["target"], i["target_year"], i["target_source"]) for code, i in row["indicators"].items()
    }
    assert targets == {
        "plan_utilization": (0.35, 2020, "national"),
        "kitchen_resourcing": (0.35, 2020, "national"),
        "recyclables_recovery": (0.85, 2020, "national"),
        "recycling": (0.35, 2025, "national"),
        "resource_utilization": (0.6, 2025, "national"),
    }
    assert row["target"] == 0.35
    # 2015's goal for recyclables was 80 %; a period of 2014 is judged by the goal it worked towards.
    earlier = _row(as_user(city_officer), weidu, {"from": "2014-01-01", "to": "2014-12-31"})
    assert earlier["indicators"]["recyclables_recovery"]["target"] == 0.8
    assert earlier["indicators"]["recycling"]["target"] == 0.35


def test_target_in_force_is_the_next_goal_then_the_last_one():
    targets = {2015: Decimal("0.8"), 2020: Decimal("0.85")}
    assert indicators.target_in_force(targets, 2012) == (2015, Decimal("0.8"))
    assert indicators.target_in_force(targets, 2016) == (2020, Decimal("0.85"))
    assert indicators.target_in_force(targets, 2026) == (2020, Decimal("0.85"))
    assert indicators.target_in_force({}, 2026) is None


def test_a_city_officer_sets_a_target_and_every_answer_uses_it(as_user, city_officer, weidu, community):
    _month(city_officer, weidu, community)
    client = as_user(city_officer)

    response = client.put(
        "/api/v1/stats/indicators/kitchen_resourcing/targets/2026", {"target": "0.7"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["target"] == 0.7
    saved = IndicatorTarget.objects.get()
    assert (saved.city_id, saved.indicator, saved.year, saved.target) == (
        weidu.city_id,
        "kitchen_resourcing",
        2026,
        Decimal("0.7000"),
    )
    kitchen = _row(client, weidu)["indicators"]["kitchen_resourcing"]
    assert (kitchen["target"], kitchen["target_source"], kitchen["on_track"]) == (0.7, "city", False)
    series = client.get(f"/api/v1/stats/districts/{weidu.id}/series", MARCH | {"granularity": "month"}).json()
    assert series["indicators"]["kitchen_resourcing"]["target"] == 0.7
    assert series["points"][0]["indicators"]["kitchen_resourcing"] == round(250 / 400, 4)
    listing = client.get("/api/v1/stats/indicators", {"year": 2026}).json()
    entry = next(e for e in listing["results"] if e["code"] == "kitchen_resourcing")
    assert entry["target"] == 0.7
    assert entry["targets"] == [
        {"year": 2020, "target": 0.35, "source": "national"},
        {"year": 2026, "target": 0.7, "source": "city"},
    ]

    assert client.delete("/api/v1/stats/indicators/kitchen_resourcing/targets/2026").status_code == 204
    assert not IndicatorTarget.objects.exists()
    assert _row(client, weidu)["indicators"]["kitchen_resourcing"]["target"] == 0.35


@pytest.mark.parametrize(
    ("body", "code", "status"),
    [
        ({"target": "1.2"}, "bad_target", 400),
        ({"target": "-0.1"}, "bad_target", 400),
        ({"target": "0.5", "city_id": 999999}, "unknown_city", 400),
    ],
)
def test_a_bad_target_is_refused_and_nothing_is_written(as_user, city_officer, body, code, status):
    response = as_user(city_officer).put(
        "/api/v1/stats/indicators/recycling/targets/2026", body, format="json"
    )

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert not IndicatorTarget.objects.exists()


def test_an_unknown_indicator_or_year_out_of_range_is_refused(as_user, city_officer):
    client = as_user(city_officer)

    unknown = client.put("/api/v1/stats/indicators/happiness/targets/2026", {"target": "0.5"}, format="json")
    too_early = client.put(
        "/api/v1/stats/indicators/recycling/targets/1999", {"target": "0.5"}, format="json"
    )

    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "unknown_indicator")
    assert (too_early.status_code, too_early.json()["error"]["code"]) == (400, "validation_error")
    assert not IndicatorTarget.objects.exists()


def test_an_administrator_must_name_the_city(as_user, admin_user, weidu):
    client = as_user(admin_user)

    missing = client.put("/api/v1/stats/indicators/recycling/targets/2026", {"target": "0.5"}, format="json")
    named = client.put(
        "/api/v1/stats/indicators/recycling/targets/2026",
        {"target": "0.5", "city_id": weidu.city_id},
        format="json",
    )

    assert (missing.status_code, missing.json()["error"]["code"]) == (400, "city_required")
    assert named.status_code == 200
    assert IndicatorTarget.objects.get().city_id == weidu.city_id


def test_district_officers_and_other_cities_officers_cannot_set_targets(as_user, district_officer, weidu):
    from geo.models import City

    other = City.objects.create(name="郑州市", admin_code="410100")
    outsider = f.factories.CityOfficerFactory(city=other)

    by_district = as_user(district_officer).put(
        "/api/v1/stats/indicators/recycling/targets/2026", {"target": "0.5"}, format="json"
    )
    by_outsider = as_user(outsider).put(
        "/api/v1/stats/indicators/recycling/targets/2026",
        {"target": "0.5", "city_id": weidu.city_id},
        format="json",
    )

    assert by_district.status_code == 403
    assert (by_outsider.status_code, by_outsider.json()["error"]["code"]) == (403, "out_of_scope")
    assert not IndicatorTarget.objects.exists()


def test_the_database_refuses_a_share_above_one():
    from django.db import IntegrityError, transaction

    from geo.models import City

    with pytest.raises(IntegrityError), transaction.atomic():
        IndicatorTarget.objects.create(
            city=City.objects.first(), indicator="recycling", year=2026, target=Decimal("1.5")
        )


def test_communities_carry_their_indicators_unless_suppressed(as_user, district_officer, weidu, community):
    f.households(community, 5)
    _month(district_officer, weidu, community)
    from geo.models import Community

    small = Community.objects.create(district=weidu, name="小区")

    rows = (
        as_user(district_officer)
        .get(f"/api/v1/stats/districts/{weidu.id}/communities", MARCH)
        .json()["results"]
    )

    mine = next(r for r in rows if r["community"]["id"] == community.id)
    # District-wide collections have no community: the community's flows are its two tickets.
    assert mine["indicators"]["recyclables_recovery"]["value"] == 1.0
    assert mine["indicators"]["plan_utilization"]["numerator_kg"] == 10
    assert mine["indicators"]["plan_utilization"]["denominator_kg"] == 12
    assert next(r for r in rows if r["community"]["id"] == small.id)["indicators"] is None


def test_the_export_carries_every_indicator_and_the_destination_split(
    as_user, district_officer, weidu, community
):
    _month(district_officer, weidu, community)

    response = as_user(district_officer).get("/api/v1/stats/export.csv", MARCH)

    text = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    collections = next(r for r in rows if r["date"] == str(DAY))
    assert collections["collected_kitchen_landfill_kg"] == "150.0"
    assert collections["collected_other_incineration_kg"] == "400.0"
    assert collections["kitchen_resourcing"] == str(round(250 / 400, 4))
    assert collections["kitchen_resourcing_target"] == "0.35"
    deposits = next(r for r in rows if r["date"] == "2026-03-12")
    assert deposits["deposits_kg"] == "12.0"
    assert deposits["recyclables_recovery_denominator_kg"] == "0.0"
    tickets = next(r for r in rows if r["date"] == str(PICKED))
    assert tickets["collected_recyclable_recycling_kg"] == "10.0"
    assert tickets["collected_hazardous_hazardous_treatment_kg"] == "2.0"
    assert tickets["recyclables_recovery_numerator_kg"] == "10.0"
    # The statistician can rebuild each indicator from the export alone.
    for code, (numerator, denominator) in HAND_COUNT.items():
        assert sum(float(r[f"{code}_numerator_kg"]) for r in rows) == numerator
        assert sum(float(r[f"{code}_denominator_kg"]) for r in rows) == denominator


def test_the_schema_documents_the_indicator_endpoints(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()

    assert "/api/v1/stats/indicators" in schema["paths"]
    assert "put" in schema["paths"]["/api/v1/stats/indicators/{code}/targets/{year}"]
    assert "IndicatorOut" in schema["components"]["schemas"]


def test_verify_rollups_sees_the_indicator_rollup_drift(district_officer, weidu, community):
    from django.db import connection

    from stats.rollups.verification import verify

    _month(district_officer, weidu, community)
    assert verify() == []
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE stats_districtindicatorday SET sums[1] = sums[1] + 1 WHERE district_id = %s", [weidu.id]
        )

    assert [p.table for p in verify()] == ["stats_districtindicatorday"]
