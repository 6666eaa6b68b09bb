"""Material prices are a city's own and versioned with its point rules; its materials and rewards exist
for no other city."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.services import issue_resident_code
from kiosks.models import Deposit
from rewards.models import Material, PointRules, Redemption
from rewards.selectors import rule_versions, rules_in_force
from rewards.services import update_material
from tests import factories
from tests.concurrency import run_in_threads
from tests.kiosks.helpers import dated_deposit, deposit_body, make_kiosk, signed
from tests.rewards.factories import RewardFactory, ShopFactory
from tests.rewards.helpers import give_points, rules_now

DEPOSITS = "/api/v1/kiosk/deposits"
BATCH = "/api/v1/kiosk/deposits/batch"
VERSIONS = "/api/v1/point-rules/versions"
REDEEM = "/api/v1/redemptions"


def _deposit(kiosk, resident, **fields):
    body = deposit_body(resident_code=issue_resident_code(resident)[0], **fields)
    return signed("POST", DEPOSITS, body, kiosk=kiosk)


def test_a_price_change_is_a_new_version_that_starts_once_every_process_can_hold_it(city_officer, as_user):
    city_id = city_officer.city_id
    before = rule_versions(city_id)[-1]
    old_price = before.material_prices["paper"]

    answer = as_user(city_officer).patch("/api/v1/materials/paper", {"points_per_kg": 33}, format="json")

    assert answer.status_code == 200, answer.content
    latest = rule_versions(city_id)[-1]
    assert latest.version == before.version + 1 and latest.material_prices["paper"] == 33
    waits = (latest.effective_from - latest.created_at).total_seconds()
    assert waits >= 30 - 1
    # Until it starts, every reader (this process included) still rates under the version before.
    assert rules_in_force(city_id).material_prices["paper"] == old_price
    assert answer.json()["points_per_kg"] == old_price
    assert rules_in_force(city_id, at=latest.effective_from).material_prices["paper"] == 33
    assert PointRules.objects.get(pk=before.pk).material_prices["paper"] == old_price
    assert Material.objects.get(code="paper").points_per_kg == old_price


def test_a_back_dated_deposit_earns_the_price_of_its_own_time(community, resident):
    kiosk = make_kiosk(community)
    city_id = community.district.city_id
    old_price = rule_versions(city_id)[-1].material_prices["paper"]
    rules_now(city_id, material_prices={**rule_versions(city_id)[-1].material_prices, "paper": 100})
    earlier = timezone.now() - timedelta(hours=2)

    results = signed(
        "POST",
        BATCH,
        {
            "deposits": [
                dated_deposit(resident, earlier, weight_g=1000),
                deposit_body(resident_code=issue_resident_code(resident)[0], weight_g=1000, material="paper"),
            ]
        },
        kiosk=kiosk,
    ).json()["results"]

    # Two deposits of one material within the merge window would be one bag; these are hours apart.
    assert [r["points_awarded"] for r in results] == [old_price, 100]


def test_a_city_that_stops_taking_a_material_refuses_it_while_another_city_still_takes_it(
    city_officer, community, resident, luoyang, as_user, rules_at_once
):
    _, other_district = luoyang
    there = factories.ResidentFactory(
        household__community=factories.CommunityFactory(district=other_district)
    )
    kiosk_there = make_kiosk(there.household.community)
    kiosk_here = make_kiosk(community)

    stopped = as_user(city_officer).patch("/api/v1/materials/metal", {"active": False}, format="json")

    assert stopped.status_code == 200, stopped.content
    assert stopped.json()["active"] is False and stopped.json()["points_per_kg"] is None
    refused = _deposit(kiosk_here, resident, material="metal", weight_g=1000)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "material_not_priced"
    assert not Deposit.objects.filter(kiosk=kiosk_here).exists()
    assert _deposit(kiosk_there, there, material="metal", weight_g=1000).json()["points_awarded"] == 40
    codes = [m["code"] for m in as_user(resident).get("/api/v1/materials?page_size=100").json()["results"]]
    assert "metal" not in codes


def test_a_city_officer_sets_prices_but_not_the_shared_catalogs_names(city_officer, as_user):
    answer = as_user(city_officer).patch("/api/v1/materials/paper", {"name": "废纸"}, format="json")

    assert answer.status_code == 403 and answer.json()["error"]["code"] == "shared_material"
    assert Material.objects.get(code="paper").name == "纸类"


def test_a_material_a_city_adds_exists_for_no_other_city(city_officer, luoyang, as_user, rules_at_once):
    other_city, other_district = luoyang
    officer_there = factories.CityOfficerFactory(city=other_city)
    resident_there = factories.ResidentFactory(
        household__community=factories.CommunityFactory(district=other_district)
    )
    kiosk_there = make_kiosk(resident_there.household.community)
    body = {"code": "cardboard", "name": "纸板", "category": "recyclable", "points_per_kg": 25}

    created = as_user(city_officer).post("/api/v1/materials", body, format="json")

    assert created.status_code == 201, created.content
    assert created.json()["points_per_kg"] == 25 and created.json()["shared"] is False
    assert rules_in_force(city_officer.city_id).material_prices["cardboard"] == 25
    assert "cardboard" not in rules_in_force(other_city.id).material_prices
    for reader in (officer_there, resident_there):
        codes = [m["code"] for m in as_user(reader).get("/api/v1/materials?page_size=100").json()["results"]]
        assert "cardboard" not in codes
        assert as_user(reader).get("/api/v1/materials/cardboard").status_code == 404
    assert (
        as_user(officer_there)
        .patch("/api/v1/materials/cardboard", {"points_per_kg": 1}, format="json")
        .status_code
        == 404
    )
    kiosk_there.materials.add(Material.objects.get(code="cardboard"))
    refused = _deposit(kiosk_there, resident_there, material="cardboard", weight_g=1000)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "unknown_material"
    priced_there = as_user(officer_there).post(VERSIONS, {"material_prices": {"cardboard": 5}}, format="json")
    assert priced_there.status_code == 400 and priced_there.json()["error"]["code"] == "unknown_material"


def test_a_scheduled_price_list_names_only_the_citys_materials_and_writes_nothing_else(city_officer, as_user):
    count = PointRules.objects.count()
    starts = timezone.now() + timedelta(days=3)

    junk = as_user(city_officer).post(
        VERSIONS,
        {"material_prices": {"paper": 21, "unobtainium": 5}, "effective_from": starts.isoformat()},
        format="json",
    )
    negative = as_user(city_officer).post(VERSIONS, {"material_prices": {"paper": -1}}, format="json")
    too_dear = as_user(city_officer).post(VERSIONS, {"material_prices": {"paper": 100_001}}, format="json")
    too_many = as_user(city_officer).post(
        VERSIONS, {"material_prices": {f"m{n}": 1 for n in range(201)}}, format="json"
    )
    dear_material = as_user(city_officer).patch(
        "/api/v1/materials/paper", {"points_per_kg": 100_001}, format="json"
    )
    scheduled = as_user(city_officer).post(
        VERSIONS, {"material_prices": {"paper": 21}, "effective_from": starts.isoformat()}, format="json"
    )

    assert junk.status_code == 400 and junk.json()["error"]["code"] == "unknown_material"
    for refused in (negative, too_dear, too_many, dear_material):
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "validation_error"
    assert scheduled.status_code == 201, scheduled.content
    assert PointRules.objects.count() == count + 1 + (count == 0)
    assert scheduled.json()["material_prices"] == {"paper": 21}
    assert rules_in_force(
        city_officer.city_id, at=parse_datetime(scheduled.json()["effective_from"])
    ).material_prices == {"paper": 21}


def test_a_city_sees_and_redeems_only_the_rewards_of_its_own_shops(resident, luoyang, as_user):
    other_city, _ = luoyang
    here = RewardFactory(shop=ShopFactory(city=resident.household.community.district.city))
    there = RewardFactory(shop=ShopFactory(city=other_city))
    give_points(resident, 10_000)

    listed = [r["id"] for r in as_user(resident).get("/api/v1/rewards?page_size=100").json()["results"]]
    refused = as_user(resident).post(REDEEM, {"reward_id": there.pk}, format="json")
    allowed = as_user(resident).post(REDEEM, {"reward_id": here.pk}, format="json")

    assert here.pk in listed and there.pk not in listed
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "reward_unavailable"
    assert not Redemption.objects.filter(reward=there).exists()
    assert allowed.status_code == 201, allowed.content


@pytest.mark.django_db(transaction=True)
def test_two_officers_changing_two_prices_at_once_lose_neither_change(weidu):
    officers = [factories.CityOfficerFactory(city=weidu.city) for _ in range(2)]
    rule_versions(weidu.city_id)
    changes = [("paper", 31), ("plastic", 41)]

    outcomes = run_in_threads(
        lambda i: update_material(actor=officers[i], code=changes[i][0], points_per_kg=changes[i][1]), 2
    )

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    latest = rule_versions(weidu.city_id)[-1].material_prices
    assert (latest["paper"], latest["plastic"]) == (31, 41)
