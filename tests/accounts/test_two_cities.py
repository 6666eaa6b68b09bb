"""Two cities side by side: staff are made in their creator's city, and one city's point rules, prices
and caps never reach the other's residents, staff or deposits."""

from accounts.models import Role, User
from accounts.selectors import city_of
from accounts.services import issue_resident_code
from rewards.selectors import rules_in_force
from tests import factories
from tests.factories import PASSWORD
from tests.kiosks.helpers import deposit_body, make_kiosk, signed
from tests.rewards.helpers import rules_now

STAFF = "/api/v1/staff"


def _staff(client, role, phone, **extra):
    body = {"phone": phone, "password": PASSWORD, "display_name": "新同事", "role": role, **extra}
    return client.post(STAFF, body, format="json")


def test_staff_are_made_in_their_creators_city(as_user, admin_user, weidu, luoyang):
    other_city, other_district = luoyang
    officer = factories.CityOfficerFactory(city=other_city)

    made = _staff(as_user(officer), Role.DISTRICT_OFFICER, "+8613700002001", district_id=other_district.id)
    # An administrator of a two-city installation names the city; none is guessed for them.
    unnamed = _staff(as_user(admin_user), Role.CITY_OFFICER, "+8613700002002")
    named = _staff(as_user(admin_user), Role.CITY_OFFICER, "+8613700002003", city_id=other_city.id)

    assert made.status_code == 201, made.content
    assert city_of(User.objects.get(pk=made.json()["id"])) == other_city
    assert unnamed.status_code == 403 and unnamed.json()["error"]["code"] == "out_of_scope"
    assert named.status_code == 201, named.content
    assert User.objects.get(pk=named.json()["id"]).city == other_city


def test_a_city_officer_cannot_staff_another_city(as_user, weidu, luoyang):
    other_city, other_district = luoyang
    client = as_user(factories.CityOfficerFactory(city=weidu.city))

    into_district = _staff(client, Role.DISTRICT_OFFICER, "+8613700002011", district_id=other_district.id)
    into_city = _staff(client, Role.INSPECTOR, "+8613700002012", district_id=weidu.id, city_id=other_city.id)

    for answer in (into_district, into_city):
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "out_of_scope"
    assert not User.objects.filter(phone__in=["+8613700002011", "+8613700002012"]).exists()


def test_point_rules_of_one_city_never_reach_the_other(as_user, weidu, luoyang, rules_at_once):
    other_city, other_district = luoyang
    here = factories.CityOfficerFactory(city=weidu.city)
    there = factories.CityOfficerFactory(city=other_city)
    resident_there = factories.ResidentFactory(
        household__community=factories.CommunityFactory(district=other_district)
    )
    before_there = as_user(there).get("/api/v1/point-rules").json()

    changed = as_user(here).patch("/api/v1/point-rules", {"points_per_accepted_drop": 37}, format="json")

    assert changed.status_code == 200, changed.content
    assert as_user(here).get("/api/v1/point-rules").json()["points_per_accepted_drop"] == 37
    for reader in (there, resident_there):
        assert as_user(reader).get("/api/v1/point-rules").json() == before_there
        assert 37 not in [
            v["points_per_accepted_drop"] for v in as_user(reader).get("/api/v1/point-rules/versions").json()
        ]
    assert rules_in_force(other_city.id).points_per_accepted_drop == before_there["points_per_accepted_drop"]
    assert rules_in_force(weidu.city_id).points_per_accepted_drop == 37


def test_one_citys_caps_and_prices_never_limit_the_others_deposits(weidu, luoyang):
    other_city, other_district = luoyang
    here = factories.ResidentFactory(household__community=factories.CommunityFactory(district=weidu))
    there = factories.ResidentFactory(
        household__community=factories.CommunityFactory(district=other_district)
    )
    rules_now(weidu.city_id, household_daily_points_cap=30)
    rules_now(other_city.id, material_prices={**rules_in_force(other_city.id).material_prices, "paper": 40})

    earned = {}
    for resident in (here, there):
        kiosk = make_kiosk(resident.household.community)
        body = deposit_body(resident_code=issue_resident_code(resident)[0], weight_g=2500)
        earned[resident.pk] = signed("POST", "/api/v1/kiosk/deposits", body, kiosk=kiosk).json()[
            "points_awarded"
        ]

    # Here: 2.5 kg of paper at 20 a kg is 50, held to this city's household cap of 30. There: at 40 a kg, no cap hit.
    assert earned == {here.pk: 30, there.pk: 100}
