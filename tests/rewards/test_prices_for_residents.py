"""Residents read what a deposit earns before making it; only city officers change prices and rules."""

from rewards.models import Material
from rewards.selectors import rules_for_city
from tests.factories import DistrictOfficerFactory
from tests.rewards.helpers import rules_now


def test_a_resident_reads_the_active_materials_with_their_prices_and_weight_bounds(resident, as_user):
    Material.objects.filter(code="glass").update(active=False)

    response = as_user(resident).get("/api/v1/materials?page_size=100")

    assert response.status_code == 200
    rows = {row["code"]: row for row in response.json()["results"]}
    assert "glass" not in rows
    paper = Material.objects.get(code="paper")
    assert rows["paper"]["name"] == paper.name
    assert rows["paper"]["category"] == "recyclable"
    assert rows["paper"]["points_per_kg"] == paper.points_per_kg
    assert (rows["paper"]["min_weight_g"], rows["paper"]["max_weight_g"]) == (
        paper.min_weight_g,
        paper.max_weight_g,
    )
    assert set(rows) == set(Material.objects.filter(active=True).values_list("code", flat=True))


def test_a_resident_reads_one_material_but_not_a_retired_one(resident, as_user):
    Material.objects.filter(code="glass").update(active=False)
    client = as_user(resident)

    assert client.get("/api/v1/materials/metal").json()["points_per_kg"] == 40
    assert client.get("/api/v1/materials/glass").status_code == 404


def test_a_city_officer_still_sees_retired_materials(city_officer, as_user):
    Material.objects.filter(code="glass").update(active=False)

    codes = [
        r["code"] for r in as_user(city_officer).get("/api/v1/materials?page_size=100").json()["results"]
    ]

    assert "glass" in codes


def test_a_resident_reads_the_point_rules_of_their_own_city(resident, as_user):
    rules = rules_now(city_id=resident.household.community.district.city_id, points_per_accepted_drop=13)

    body = as_user(resident).get("/api/v1/point-rules").json()

    assert body["points_per_accepted_drop"] == 13
    assert body["resident_daily_deposit_points_cap"] == rules.resident_daily_deposit_points_cap


def test_residents_and_district_officers_cannot_change_prices_or_rules(resident, weidu, as_user):
    before = list(Material.objects.order_by("code").values_list("code", "points_per_kg", "active"))
    rules_before = rules_for_city(weidu.city_id).points_per_accepted_drop
    for user in (resident, DistrictOfficerFactory(district=weidu)):
        client = as_user(user)
        created = client.post(
            "/api/v1/materials",
            {"code": "gold", "name": "金", "category": "recyclable", "points_per_kg": 9999},
            format="json",
        )
        changed = client.patch("/api/v1/materials/paper", {"points_per_kg": 9999}, format="json")
        rules = client.patch("/api/v1/point-rules", {"points_per_accepted_drop": 99}, format="json")

        assert [created.status_code, changed.status_code, rules.status_code] == [403, 403, 403]
        assert created.json()["error"]["code"] == "permission_denied"
    assert list(Material.objects.order_by("code").values_list("code", "points_per_kg", "active")) == before
    assert rules_for_city(weidu.city_id).points_per_accepted_drop == rules_before


def test_prices_need_a_signed_in_reader(api):
    assert api.get("/api/v1/materials").status_code == 401
    assert api.get("/api/v1/point-rules").status_code == 401
