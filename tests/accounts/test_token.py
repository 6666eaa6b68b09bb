import pytest
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from tests.factories import PASSWORD, ResidentFactory

TOKEN = "/api/v1/auth/token"
REFRESH = "/api/v1/auth/token/refresh"
LOGOUT = "/api/v1/auth/logout"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("throttle_rates")]


@pytest.fixture
def person(db):
    return ResidentFactory(phone="+8613912345678")


def _login(api, phone="+8613912345678", password=PASSWORD):
    return api.post(TOKEN, {"phone": phone, "password": password}, format="json")


def _me_with(api, access):
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    response = api.get("/api/v1/me")
    api.credentials()
    return response


def test_good_credentials_give_an_access_and_a_refresh_token_that_work(api, person):
    response = _login(api)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh"}
    me = _me_with(api, body["access"])
    assert me.status_code == 200
    assert me.json()["id"] == person.id


@pytest.mark.parametrize("phone", ["139 1234 5678", "13912345678", "+86 139-1234-5678", "008613912345678"])
def test_the_phone_may_be_typed_in_any_format(api, person, phone):
    response = _login(api, phone=phone)

    assert response.status_code == 200
    assert _me_with(api, response.json()["access"]).json()["id"] == person.id


@pytest.mark.parametrize(
    ("phone", "password"),
    [("+8613912345678", "wrong-password-1"), ("+8613900000000", PASSWORD), ("nonsense", PASSWORD)],
)
def test_wrong_credentials_are_401_invalid_credentials(api, person, phone, password):
    response = _login(api, phone=phone, password=password)

    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "invalid_credentials"
    assert error["message"]
    assert "access" not in response.json()


def test_an_inactive_account_cannot_log_in(api, person):
    person.is_active = False
    person.save()

    response = _login(api)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_missing_credentials_are_a_validation_error(api, person):
    response = api.post(TOKEN, {"phone": "+8613912345678"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "password" in response.json()["error"]["fields"]


def test_refresh_gives_a_new_access_and_rotates_the_refresh_token(api, person):
    first = _login(api).json()

    response = api.post(REFRESH, {"refresh": first["refresh"]}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["access"] and body["access"] != first["access"]
    assert body["refresh"] and body["refresh"] != first["refresh"]
    assert _me_with(api, body["access"]).json()["id"] == person.id
    assert BlacklistedToken.objects.filter(token__token=first["refresh"]).exists()


def test_a_refresh_token_used_once_is_refused_the_second_time(api, person):
    first = _login(api).json()
    assert api.post(REFRESH, {"refresh": first["refresh"]}, format="json").status_code == 200

    reused = api.post(REFRESH, {"refresh": first["refresh"]}, format="json")

    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "token_not_valid"
    assert "access" not in reused.json()


def test_a_garbage_refresh_token_is_401_in_the_envelope(api, db):
    response = api.post(REFRESH, {"refresh": "not-a-token"}, format="json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"


def test_an_access_token_is_not_accepted_as_a_refresh_token(api, person):
    tokens = _login(api).json()

    response = api.post(REFRESH, {"refresh": tokens["access"]}, format="json")

    assert response.status_code == 401


def test_logout_blacklists_the_refresh_token(api, person):
    tokens = _login(api).json()

    response = api.post(LOGOUT, {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 204
    outstanding = OutstandingToken.objects.get(token=tokens["refresh"])
    assert BlacklistedToken.objects.filter(token=outstanding).exists()
    refused = api.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    assert refused.status_code == 401


def test_logout_with_a_garbage_token_is_401_and_blacklists_nothing(api, person):
    response = api.post(LOGOUT, {"refresh": "garbage"}, format="json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"
    assert not BlacklistedToken.objects.exists()


def test_an_access_token_of_a_deactivated_user_is_refused(api, person):
    access = _login(api).json()["access"]
    person.is_active = False
    person.save()

    response = _me_with(api, access)

    assert response.status_code == 401
    assert response.json()["error"]["code"]


def test_login_is_throttled_after_the_rate(api, person, throttle_rates):
    throttle_rates(login="3/min")

    answers = [_login(api, password="wrong-password-1").status_code for _ in range(3)]
    refused = _login(api)

    assert answers == [401, 401, 401]
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "throttled"
    assert not OutstandingToken.objects.exists()


def test_a_deactivated_user_cannot_refresh(api, person):
    refresh = _login(api).json()["refresh"]
    person.is_active = False
    person.save()

    response = api.post(REFRESH, {"refresh": refresh}, format="json")

    assert response.status_code == 401
    assert "access" not in response.json()


def test_a_forged_forwarded_for_header_does_not_escape_the_login_throttle(api, person, throttle_rates):
    throttle_rates(login="3/min")

    answers = [
        api.post(
            TOKEN,
            {"phone": "+8613912345678", "password": "wrong-password-1"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
        ).status_code
        for n in range(5)
    ]

    assert answers == [401, 401, 401, 429, 429]
