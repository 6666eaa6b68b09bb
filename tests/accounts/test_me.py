import pytest

from accounts.models import Household
from accounts.selectors import resident_from_code
from backend.codes.signing import BIN, KIOSK_SESSION, RESIDENT, VOUCHER, InvalidCode, verify
from tests import factories
from tests.codes.decoding import decode_qr_png

pytestmark = pytest.mark.django_db


def test_me_shows_the_owner_their_full_phone_and_their_place(as_user, resident):
    response = as_user(resident).get("/api/v1/me")

    assert response.status_code == 200
    body = response.json()
    household = resident.household
    assert body == {
        "id": resident.id,
        "display_name": resident.display_name,
        "phone": str(resident.phone),
        "role": "resident",
        "household": {
            "id": household.id,
            "address": household.address,
            "community_id": household.community_id,
        },
        "community": {"id": household.community_id, "name": household.community.name},
        "district": {"id": household.community.district_id, "name": "魏都区"},
        "balance": 0,
        "leaderboard": False,
    }
    assert body["phone"].startswith("+86138")


def test_me_of_a_resident_without_household_has_no_place(as_user, db):
    user = factories.UserFactory()

    body = as_user(user).get("/api/v1/me").json()

    assert body["household"] is None
    assert body["community"] is None
    assert body["district"] is None


def test_me_of_a_district_officer_names_their_district(as_user, district_officer):
    body = as_user(district_officer).get("/api/v1/me").json()

    assert body["role"] == "district_officer"
    assert body["district"] == {"id": district_officer.district_id, "name": "魏都区"}


def test_me_needs_authentication(api, db):
    response = api.get("/api/v1/me")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_garbage_bearer_token_is_401_in_the_envelope(api, db):
    api.credentials(HTTP_AUTHORIZATION="Bearer not.a.jwt")

    response = api.get("/api/v1/me")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"


# ---- household ---------------------------------------------------------------------------------


def test_joining_creates_the_household_at_a_new_address(as_user, community):
    user = factories.UserFactory()

    response = as_user(user).post(
        "/api/v1/me/household",
        {"community_id": community.id, "address": "  3号楼 2单元  501 "},
        format="json",
    )

    assert response.status_code == 200
    household = Household.objects.get(community=community, address="3号楼 2单元 501")
    assert response.json() == {"id": household.id, "address": "3号楼 2单元 501", "community_id": community.id}
    user.refresh_from_db()
    assert user.household_id == household.id


def test_a_second_resident_at_a_used_address_waits_for_staff(as_user, community):
    first, second = factories.UserFactory(), factories.UserFactory()

    one = as_user(first).post(
        "/api/v1/me/household", {"community_id": community.id, "address": "7号楼 101"}, format="json"
    )
    two = as_user(second).post(
        "/api/v1/me/household", {"community_id": community.id, "address": " 7号楼\t 101\n"}, format="json"
    )

    assert one.status_code == 200 and two.status_code == 202
    assert two.json()["status"] == "pending" and two.json()["household"]["id"] == one.json()["id"]
    assert Household.objects.filter(community=community).count() == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.household_id == one.json()["id"] and second.household_id is None


def test_the_same_address_in_another_community_is_another_household(as_user, community, weidu):
    other = factories.CommunityFactory(district=weidu)
    first, second = factories.UserFactory(), factories.UserFactory()

    one = as_user(first).post(
        "/api/v1/me/household", {"community_id": community.id, "address": "1号"}, format="json"
    )
    two = as_user(second).post(
        "/api/v1/me/household", {"community_id": other.id, "address": "1号"}, format="json"
    )

    assert one.json()["id"] != two.json()["id"]


def test_moving_house_switches_the_household(as_user, resident, community):
    before = resident.household_id

    response = as_user(resident).post(
        "/api/v1/me/household", {"community_id": community.id, "address": "新家 9号"}, format="json"
    )

    assert response.status_code == 200
    resident.refresh_from_db()
    assert resident.household_id != before
    assert resident.household.address == "新家 9号"


def test_an_unknown_community_is_404_and_changes_nothing(as_user, resident):
    before = resident.household_id

    response = as_user(resident).post(
        "/api/v1/me/household", {"community_id": 999999, "address": "1号"}, format="json"
    )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    resident.refresh_from_db()
    assert resident.household_id == before
    assert not Household.objects.filter(address="1号").exists()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"community_id": "x", "address": "1"},
        {"community_id": 1, "address": ""},
        {"community_id": 1, "address": "x" * 201},
    ],
)
def test_a_bad_household_body_is_a_validation_error(as_user, resident, body):
    response = as_user(resident).post("/api/v1/me/household", body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert response.json()["error"]["fields"]


def test_a_whitespace_only_address_is_refused(as_user, resident, community):
    response = as_user(resident).post(
        "/api/v1/me/household", {"community_id": community.id, "address": "   "}, format="json"
    )

    assert response.status_code == 400
    assert not Household.objects.filter(address="").exists()


@pytest.mark.parametrize("role_factory", [factories.DistrictOfficerFactory, factories.MerchantFactory])
def test_only_residents_join_households(as_user, community, role_factory):
    staff = role_factory()

    response = as_user(staff).post(
        "/api/v1/me/household", {"community_id": community.id, "address": "1号"}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    staff.refresh_from_db()
    assert staff.household_id is None
    assert not Household.objects.filter(address="1号").exists()


# ---- resident code ------------------------------------------------------------------------------


def test_me_code_is_a_resident_code_of_the_caller(as_user, resident):
    response = as_user(resident).get("/api/v1/me/code")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"code", "expires_at"}
    assert "no-store" in response["Cache-Control"]
    assert resident_from_code(body["code"]) == resident
    assert verify(RESIDENT, body["code"])["u"] == resident.public_id.hex
    assert body["expires_at"].endswith("+08:00")


@pytest.mark.parametrize("kind", [BIN, KIOSK_SESSION, VOUCHER])
def test_a_resident_code_is_refused_as_any_other_kind(as_user, resident, kind):
    code = as_user(resident).get("/api/v1/me/code").json()["code"]

    with pytest.raises(InvalidCode):
        verify(kind, code)


def test_each_call_gives_a_fresh_code(as_user, resident):
    client = as_user(resident)

    assert client.get("/api/v1/me/code").json()["code"] != client.get("/api/v1/me/code").json()["code"]


def test_the_code_contains_no_phone_number(as_user, resident):
    code = as_user(resident).get("/api/v1/me/code").json()["code"]

    assert str(resident.phone).lstrip("+") not in code
    assert str(resident.phone)[-8:] not in str(verify(RESIDENT, code))


def test_me_code_png_scans_back_to_the_callers_resident_code(as_user, resident):
    response = as_user(resident).get("/api/v1/me/code.png")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "no-store" in response["Cache-Control"]
    decoded = decode_qr_png(response.content)
    assert resident_from_code(decoded) == resident


def test_a_deactivated_residents_code_no_longer_identifies_them(as_user, resident):
    code = as_user(resident).get("/api/v1/me/code").json()["code"]
    resident.is_active = False
    resident.save()

    with pytest.raises(InvalidCode):
        resident_from_code(code)


@pytest.mark.parametrize("path", ["/api/v1/me/code", "/api/v1/me/code.png"])
def test_staff_have_no_resident_code(as_user, district_officer, path):
    response = as_user(district_officer).get(path)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("path", ["/api/v1/me/code", "/api/v1/me/code.png", "/api/v1/me/household"])
def test_resident_endpoints_need_authentication(api, db, path):
    response = api.get(path) if "code" in path else api.post(path, {}, format="json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_the_promised_expiry_is_never_later_than_the_real_one(as_user, resident):
    from django.core import signing
    from django.utils.dateparse import parse_datetime

    body = as_user(resident).get("/api/v1/me/code").json()

    signed_at = signing.b62_decode(body["code"].split(":")[-2])
    assert parse_datetime(body["expires_at"]).timestamp() <= signed_at + RESIDENT.max_age.total_seconds()


@pytest.mark.parametrize("payload", [{"u": "not-a-uuid"}, {"u": None}, {"u": ["x"]}, {}, {"u": "0" * 32}])
def test_a_genuine_code_naming_no_resident_is_invalid(payload):
    from backend.codes.signing import sign

    with pytest.raises(InvalidCode):
        resident_from_code(sign(RESIDENT, payload))


def test_a_staff_members_id_in_a_resident_code_is_invalid(district_officer):
    from backend.codes.signing import sign

    with pytest.raises(InvalidCode):
        resident_from_code(sign(RESIDENT, {"u": district_officer.public_id.hex}))
