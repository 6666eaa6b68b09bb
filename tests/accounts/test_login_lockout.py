"""Every sign-in path shares one lockout, keyed on the account and on the real client address."""

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from tests.factories import PASSWORD, DistrictOfficerFactory, ResidentFactory

TOKEN = "/api/v1/auth/token"
POLICY = {"account_failures": 3, "address_failures": 5, "window_seconds": 60, "cooloff_seconds": 60}

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("throttle_rates"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]


@pytest.fixture(autouse=True)
def _small_policy(settings):
    settings.LOGIN_LOCKOUT = POLICY


@pytest.fixture
def person(db):
    return ResidentFactory(phone="+8613912345678")


def _api_login(api, password, phone="+8613912345678", address="203.0.113.7"):
    return api.post(TOKEN, {"phone": phone, "password": password}, format="json", REMOTE_ADDR=address)


def test_the_api_locks_an_account_after_its_failures_even_for_the_right_password(api, person):
    wrong = [_api_login(api, "wrong-password-1").status_code for _ in range(3)]

    locked = _api_login(api, PASSWORD)

    assert wrong == [401, 401, 401]
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "login_locked"
    assert 0 < int(locked["Retry-After"]) <= 61
    assert not OutstandingToken.objects.exists()


def test_the_account_lock_holds_from_every_address(api, person):
    for n in range(3):
        _api_login(api, "wrong-password-1", address=f"198.51.100.{n}")

    assert _api_login(api, PASSWORD, address="192.0.2.99").status_code == 429


def test_an_address_guessing_many_accounts_is_locked_out_of_all(api, person):
    others = [ResidentFactory().phone for _ in range(5)]
    for phone in others:
        assert _api_login(api, "wrong-password-1", phone=str(phone)).status_code == 401

    from_there = _api_login(api, PASSWORD)
    from_elsewhere = _api_login(api, PASSWORD, address="192.0.2.50")

    assert from_there.status_code == 429
    assert from_elsewhere.status_code == 200


def test_a_right_password_before_the_limit_clears_the_account_count(api, person):
    for _ in range(2):
        _api_login(api, "wrong-password-1")
    assert _api_login(api, PASSWORD).status_code == 200

    again = [_api_login(api, "wrong-password-1").status_code for _ in range(2)]

    assert again == [401, 401]
    assert _api_login(api, PASSWORD).status_code == 200


def test_the_lock_lifts_after_the_cooloff(api, person, settings):
    settings.LOGIN_LOCKOUT = {**POLICY, "cooloff_seconds": 1}
    for _ in range(3):
        _api_login(api, "wrong-password-1")
    assert _api_login(api, PASSWORD).status_code == 429

    import time

    time.sleep(1.2)

    assert _api_login(api, PASSWORD).status_code == 200


def test_an_administrator_can_lift_a_lock_at_once(api, person):
    for _ in range(3):
        _api_login(api, "wrong-password-1")
    assert _api_login(api, PASSWORD).status_code == 429

    call_command("unlock_login", phone="139 1234 5678")

    assert _api_login(api, PASSWORD).status_code == 200


def test_the_dashboard_login_is_locked_by_the_same_budget(api, weidu):
    officer = DistrictOfficerFactory(district=weidu, phone="+8613711112222")
    browser = Client(REMOTE_ADDR="203.0.113.8")
    answers = [
        browser.post(
            "/dashboard/login/", {"username": "13711112222", "password": "wrong-password-1"}
        ).status_code
        for _ in range(3)
    ]

    locked = browser.post("/dashboard/login/", {"username": "13711112222", "password": PASSWORD})

    assert answers == [200, 200, 200]
    assert locked.status_code == 429
    assert "_auth_user_id" not in browser.session
    assert _api_login(api, PASSWORD, phone=str(officer.phone), address="192.0.2.1").status_code == 429


def test_the_admin_login_is_locked_and_its_failures_count_for_the_api(api, admin_user):
    browser = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(3):
        page = browser.post("/admin/login/", {"username": str(admin_user.phone), "password": "wrong-pass-1"})
        assert page.status_code == 200

    locked = browser.post(
        "/admin/login/?next=/admin/", {"username": str(admin_user.phone), "password": PASSWORD}
    )

    assert locked.status_code == 200
    assert "_auth_user_id" not in browser.session
    assert _api_login(api, PASSWORD, phone=str(admin_user.phone)).status_code == 429


def test_phone_spelled_differently_is_the_same_account(api, person):
    for phone in ["13912345678", "+86 139 1234 5678", "008613912345678"]:
        _api_login(api, "wrong-password-1", phone=phone)

    assert _api_login(api, PASSWORD).status_code == 429


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
def test_behind_a_trusted_proxy_the_lock_keys_on_the_forwarded_client(person):
    from rest_framework.test import APIClient

    api = APIClient()
    for n in range(5):
        phone = str(ResidentFactory().phone)
        api.post(
            TOKEN,
            {"phone": phone, "password": "x-wrong-1"},
            format="json",
            REMOTE_ADDR="10.1.2.3",
            HTTP_X_FORWARDED_FOR=f"spoofed-{n}, 198.51.100.77",
        )

    same_client = api.post(
        TOKEN,
        {"phone": "+8613912345678", "password": PASSWORD},
        format="json",
        REMOTE_ADDR="10.9.9.9",
        HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.77",
    )
    other_client = api.post(
        TOKEN,
        {"phone": "+8613912345678", "password": PASSWORD},
        format="json",
        REMOTE_ADDR="10.1.2.3",
        HTTP_X_FORWARDED_FOR="198.51.100.78",
    )

    assert same_client.status_code == 429
    assert other_client.status_code == 200


def test_a_forged_forwarded_for_header_does_not_escape_the_registration_throttle(api, throttle_rates):
    throttle_rates(register="2/min")

    answers = [
        api.post(
            "/api/v1/auth/register",
            {"phone": f"1380013800{n}", "password": PASSWORD, "display_name": "x"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
        ).status_code
        for n in range(4)
    ]

    assert answers == [201, 201, 429, 429]
