"""The emission-factor table and the carbon-points rule: data of a city, read by all, edited by its officers."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils.dateparse import parse_datetime

from geo.models import City
from rewards.models import EmissionFactor, Material, PointRules
from rewards.selectors import rules_in_force
from tests.factories import CityOfficerFactory, DistrictOfficerFactory

FACTOR = {
    "material": "paper",
    "destination": "incineration",
    "kg_co2e_per_kg": "0.250",
    "source": "City survey",
    "source_year": 2024,
}


@pytest.fixture
def city(weidu):
    return weidu.city


def test_the_shipped_defaults_name_their_source_and_year(city):
    paper = EmissionFactor.objects.get(city=city, material__code="paper", destination="recycling")

    assert paper.kg_co2e_per_kg == Decimal("3.913")
    assert "WARM" in paper.source and paper.source_year == 2016
    kitchen = EmissionFactor.objects.get(city=city, category="kitchen", destination="composting")
    assert "IPCC" in kitchen.source and kitchen.kg_co2e_per_kg == Decimal("1.069")


def test_a_resident_reads_the_factor_table_of_their_city(resident, city, as_user):
    body = as_user(resident).get("/api/v1/emission-factors?page_size=100").json()

    rows = {(r["material"] or r["category"], r["destination"]): r for r in body["results"]}
    assert rows[("metal", "recycling")]["kg_co2e_per_kg"] == "4.839"
    assert len(rows) == EmissionFactor.objects.filter(city=city).count()


def test_a_city_officer_adds_and_edits_a_factor(city_officer, city, as_user):
    client = as_user(city_officer)

    created = client.post("/api/v1/emission-factors", FACTOR, format="json")
    assert created.status_code == 201, created.content
    factor = EmissionFactor.objects.get(pk=created.json()["id"])
    assert (factor.city, factor.material.code, factor.kg_co2e_per_kg) == (city, "paper", Decimal("0.250"))

    changed = client.patch(
        f"/api/v1/emission-factors/{factor.pk}",
        {"kg_co2e_per_kg": "0.300", "source_year": 2025},
        format="json",
    )
    assert changed.status_code == 200
    factor.refresh_from_db()
    assert (factor.kg_co2e_per_kg, factor.source_year, factor.source) == (
        Decimal("0.300"),
        2025,
        "City survey",
    )


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"kg_co2e_per_kg": "51"}, "validation_error", "kg_co2e_per_kg"),
        ({"source_year": 1800}, "validation_error", "source_year"),
        ({"source": ""}, "validation_error", "source"),
        ({"destination": "moon"}, "validation_error", "destination"),
        ({"material": "gold"}, "validation_error", "material"),
        ({"category": "kitchen"}, "validation_error", "category"),  # both material and category
        ({"material": None}, "validation_error", "material"),  # neither
    ],
)
def test_a_bad_factor_is_refused_and_nothing_is_written(city_officer, as_user, change, code, field):
    before = EmissionFactor.objects.count()

    response = as_user(city_officer).post("/api/v1/emission-factors", {**FACTOR, **change}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code and field in response.json()["error"]["fields"]
    assert EmissionFactor.objects.count() == before


def test_a_second_factor_for_the_same_material_and_destination_is_a_conflict(city_officer, as_user):
    response = as_user(city_officer).post(
        "/api/v1/emission-factors", {**FACTOR, "destination": "recycling"}, format="json"
    )

    assert response.status_code == 409 and response.json()["error"]["code"] == "duplicate_factor"
    assert EmissionFactor.objects.get(
        material__code="paper", destination="recycling"
    ).kg_co2e_per_kg == Decimal("3.913")


def test_only_city_officers_write_factors_and_the_rule(resident, weidu, as_user):
    factor = EmissionFactor.objects.get(material__code="paper", destination="recycling")
    for user in (resident, DistrictOfficerFactory(district=weidu)):
        client = as_user(user)
        assert client.post("/api/v1/emission-factors", FACTOR, format="json").status_code == 403
        assert (
            client.patch(
                f"/api/v1/emission-factors/{factor.pk}", {"kg_co2e_per_kg": "9"}, format="json"
            ).status_code
            == 403
        )
        assert client.patch("/api/v1/carbon-points", {"enabled": True}, format="json").status_code == 403
        assert client.get("/api/v1/carbon-points").status_code == 200
    factor.refresh_from_db()
    assert factor.kg_co2e_per_kg == Decimal("3.913")
    assert not PointRules.objects.filter(carbon_points_enabled=True).exists()


def test_an_officer_of_another_city_neither_sees_nor_edits_this_citys_factors(db, as_user):
    other_city = City.objects.create(name="洛阳市", admin_code="410300")
    officer = CityOfficerFactory(city=other_city)
    factor = EmissionFactor.objects.get(material__code="paper", destination="recycling")
    client = as_user(officer)

    assert client.get("/api/v1/emission-factors").json()["results"] == []
    assert client.get(f"/api/v1/emission-factors/{factor.pk}").status_code == 404
    refused = client.patch(f"/api/v1/emission-factors/{factor.pk}", {"kg_co2e_per_kg": "9"}, format="json")
    assert refused.status_code == 404
    factor.refresh_from_db()
    assert factor.kg_co2e_per_kg == Decimal("3.913")


def test_a_city_officer_turns_carbon_points_on_in_a_new_rules_version(city_officer, city, as_user):
    client = as_user(city_officer)
    before = rules_in_force(city.id)

    response = client.patch(
        "/api/v1/carbon-points", {"enabled": True, "points_per_kg_co2e": 12}, format="json"
    )

    assert response.status_code == 200 and response.json()["enabled"] is True
    assert response.json()["version"] == before.version + 1
    starts = parse_datetime(response.json()["effective_from"])
    rule = rules_in_force(city.id, at=starts)
    assert (rule.carbon_points_enabled, rule.points_per_kg_co2e) == (True, 12)
    # Until it starts, the version before stays in force, and it is never edited.
    assert rules_in_force(city.id, at=starts - timedelta(seconds=1)).carbon_points_enabled is False
    assert PointRules.objects.get(pk=before.pk).carbon_points_enabled is False
    bad = client.patch("/api/v1/carbon-points", {"points_per_kg_co2e": -1}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "validation_error"
    assert PointRules.objects.filter(city=city).count() == before.version + 1


def test_material_factor_and_category_factor_are_separate_rows(city_officer, as_user):
    response = as_user(city_officer).post(
        "/api/v1/emission-factors",
        {**FACTOR, "material": None, "category": "other", "destination": "incineration"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["material"] is None and response.json()["category"] == "other"
    assert Material.objects.filter(code="paper").exists()
