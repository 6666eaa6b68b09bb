import json
import re

import pytest

from accounts.models import Role, User
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

STAFF = "/api/v1/staff"
NEW_PHONE = "+8613700001111"


def _create(client, role, *, phone=NEW_PHONE, district=None, communities=(), **extra):
    body = {"phone": phone, "password": PASSWORD, "display_name": "新同事", "role": role, **extra}
    if district is not None:
        body["district_id"] = district.id
    if communities:
        body["community_ids"] = [c.id for c in communities]
    return client.post(STAFF, body, format="json")


def _created():
    return User.objects.filter(phone=NEW_PHONE).first()


def _assert_refused(response, status, code):
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert _created() is None


@pytest.mark.parametrize("role", ["inspector", "merchant", "district_officer", "city_officer"])
def test_an_administrator_creates_every_staff_role(as_user, admin_user, weidu, role):
    district = weidu if role in {"inspector", "district_officer"} else None

    response = _create(as_user(admin_user), role, district=district)

    assert response.status_code == 201, response.content
    user = _created()
    assert user.role == role
    assert user.district_id == (weidu.id if district else None)
    assert user.check_password(PASSWORD)
    assert not user.is_superuser and not user.is_staff
    assert response.json() == {
        "id": user.id,
        "display_name": "新同事",
        "phone": "+86 137****1111",
        "role": role,
        "district_id": user.district_id,
        "community_ids": [],
    }
    if role == "city_officer":
        assert user.city_id == weidu.city_id


def test_an_inspector_is_created_with_communities_of_their_district(as_user, admin_user, weidu):
    communities = [factories.CommunityFactory(district=weidu) for _ in range(2)]

    response = _create(as_user(admin_user), "inspector", district=weidu, communities=communities)

    assert response.status_code == 201
    user = _created()
    assert set(user.communities.all()) == set(communities)
    assert response.json()["community_ids"] == sorted(c.id for c in communities)


@pytest.mark.parametrize("role", ["inspector", "merchant", "district_officer"])
def test_a_city_officer_creates_the_roles_below_them(as_user, city_officer, jian_an, role):
    district = jian_an if role != "merchant" else None

    response = _create(as_user(city_officer), role, district=district)

    assert response.status_code == 201
    assert _created().role == role
    assert _created().district_id == (jian_an.id if district else None)


def test_a_city_officer_may_not_create_another_city_officer(as_user, city_officer):
    _assert_refused(_create(as_user(city_officer), "city_officer"), 403, "role_not_allowed")


@pytest.mark.parametrize("role", ["inspector", "merchant"])
def test_a_district_officer_staffs_their_own_district(as_user, district_officer, weidu, role):
    response = _create(as_user(district_officer), role, district=weidu)

    assert response.status_code == 201
    assert _created().role == role
    assert _created().district_id == weidu.id


def test_a_merchant_made_by_a_district_officer_belongs_to_their_district(as_user, district_officer, weidu):
    response = _create(as_user(district_officer), "merchant")

    assert response.status_code == 201
    assert _created().district_id == weidu.id


@pytest.mark.parametrize("role", ["inspector", "merchant"])
def test_a_district_officer_may_not_staff_another_district(as_user, district_officer, jian_an, role):
    _assert_refused(_create(as_user(district_officer), role, district=jian_an), 403, "out_of_scope")


@pytest.mark.parametrize("role", ["district_officer", "city_officer"])
def test_a_district_officer_may_not_create_officers(as_user, district_officer, weidu, role):
    district = weidu if role == "district_officer" else None
    _assert_refused(_create(as_user(district_officer), role, district=district), 403, "role_not_allowed")


def test_an_inspectors_communities_must_lie_in_their_district(as_user, admin_user, weidu, jian_an):
    elsewhere = factories.CommunityFactory(district=jian_an)

    response = _create(as_user(admin_user), "inspector", district=weidu, communities=[elsewhere])

    _assert_refused(response, 403, "out_of_scope")
    assert "community_ids" in response.json()["error"]["fields"]


def test_a_district_officer_may_not_assign_another_districts_community(
    as_user, district_officer, weidu, jian_an
):
    elsewhere = factories.CommunityFactory(district=jian_an)

    response = _create(as_user(district_officer), "inspector", district=weidu, communities=[elsewhere])

    _assert_refused(response, 403, "out_of_scope")


def test_only_inspectors_are_given_communities(as_user, admin_user, weidu):
    community = factories.CommunityFactory(district=weidu)

    response = _create(as_user(admin_user), "district_officer", district=weidu, communities=[community])

    _assert_refused(response, 403, "out_of_scope")


def test_an_unknown_community_is_404(as_user, admin_user, weidu):
    response = as_user(admin_user).post(
        STAFF,
        {
            "phone": NEW_PHONE,
            "password": PASSWORD,
            "display_name": "x",
            "role": "inspector",
            "district_id": weidu.id,
            "community_ids": [999999],
        },
        format="json",
    )

    _assert_refused(response, 404, "not_found")


@pytest.mark.parametrize("role", ["district_officer", "inspector"])
def test_a_district_role_without_a_district_is_refused(as_user, admin_user, role):
    response = _create(as_user(admin_user), role)

    _assert_refused(response, 403, "out_of_scope")
    assert "district_id" in response.json()["error"]["fields"]


def test_an_unknown_district_is_404(as_user, admin_user):
    response = as_user(admin_user).post(
        STAFF,
        {
            "phone": NEW_PHONE,
            "password": PASSWORD,
            "display_name": "x",
            "role": "merchant",
            "district_id": 999999,
        },
        format="json",
    )

    _assert_refused(response, 404, "not_found")


@pytest.mark.parametrize(
    "role_factory", [factories.ResidentFactory, factories.InspectorFactory, factories.MerchantFactory]
)
def test_residents_and_field_staff_may_not_create_staff(as_user, weidu, role_factory):
    response = _create(as_user(role_factory()), "merchant", district=weidu)

    _assert_refused(response, 403, "permission_denied")


def test_anonymous_may_not_create_staff(api, weidu):
    _assert_refused(_create(api, "merchant", district=weidu), 401, "not_authenticated")


@pytest.mark.parametrize("role", ["resident", "admin", "superuser", ""])
def test_roles_outside_the_staff_list_are_a_validation_error(as_user, admin_user, role):
    response = _create(as_user(admin_user), role)

    _assert_refused(response, 400, "validation_error")
    assert "role" in response.json()["error"]["fields"]


def test_a_taken_phone_is_409_and_the_existing_account_is_untouched(as_user, admin_user, resident):
    response = _create(as_user(admin_user), "merchant", phone=str(resident.phone)[3:])

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "phone_taken"
    resident.refresh_from_db()
    assert resident.role == Role.RESIDENT
    assert User.objects.filter(phone=resident.phone).count() == 1


def test_a_weak_staff_password_is_refused(as_user, admin_user):
    response = _create(as_user(admin_user), "merchant", password="12345678")

    _assert_refused(response, 400, "weak_password")


def test_an_invalid_staff_phone_is_refused(as_user, admin_user):
    response = _create(as_user(admin_user), "merchant", phone="555")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_phone"
    assert User.objects.count() == 1


def test_a_refused_inspector_leaves_no_half_made_account(as_user, admin_user, weidu, jian_an):
    good = factories.CommunityFactory(district=weidu)
    bad = factories.CommunityFactory(district=jian_an)

    _create(as_user(admin_user), "inspector", district=weidu, communities=[good, bad])

    assert _created() is None
    assert not good.inspectors.exists()


# ---- phone numbers are masked everywhere but /me -------------------------------------------------


def _digit_runs(body) -> str:
    return re.sub(r"\D", "", json.dumps(body, ensure_ascii=False))


def test_no_response_but_me_carries_a_full_phone_number(api, as_user, admin_user, weidu, throttle_rates):
    registered = api.post(
        "/api/v1/auth/register",
        {"phone": "13912340000", "password": PASSWORD, "display_name": "小李"},
        format="json",
    )
    staff = _create(as_user(admin_user), "merchant")
    resident = User.objects.get(phone="+8613912340000")
    refused = api.post(
        "/api/v1/auth/register",
        {"phone": "13912340000", "password": PASSWORD, "display_name": "小李"},
        format="json",
    )

    for response in (registered, staff, refused):
        flat = json.dumps(response.json())
        assert "13912340000" not in flat and "13700001111" not in flat
        assert "13912340000" not in _digit_runs(response.json())
        assert "13700001111" not in _digit_runs(response.json())
    assert registered.json()["phone"] == "+86 139****0000"
    assert as_user(resident).get("/api/v1/me").json()["phone"] == "+8613912340000"


def test_a_user_with_the_administrator_role_creates_staff_like_a_superuser(as_user, weidu):
    administrator = factories.UserFactory(role=Role.ADMIN)

    response = _create(as_user(administrator), "city_officer")

    assert response.status_code == 201
    assert _created().role == Role.CITY_OFFICER
    assert _created().city_id == weidu.city_id


def test_an_inspector_made_by_a_district_officer_without_a_district_gets_theirs(
    as_user, district_officer, weidu
):
    community = factories.CommunityFactory(district=weidu)

    response = _create(as_user(district_officer), "inspector", communities=[community])

    assert response.status_code == 201
    assert _created().district_id == weidu.id
    assert list(_created().communities.all()) == [community]
