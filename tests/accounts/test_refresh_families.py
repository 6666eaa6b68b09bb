"""Refresh rotation is atomic, and a reused refresh token revokes its whole family."""

import pytest
from rest_framework.test import APIClient

from accounts.models import TokenFamily
from tests.concurrency import run_in_threads
from tests.factories import PASSWORD, ResidentFactory

TOKEN = "/api/v1/auth/token"
REFRESH = "/api/v1/auth/token/refresh"
LOGOUT = "/api/v1/auth/logout"


def _login(phone="+8613912345678"):
    return APIClient().post(TOKEN, {"phone": phone, "password": PASSWORD}, format="json").json()


def _refresh(token):
    return APIClient().post(REFRESH, {"refresh": token}, format="json")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("xuchang", "throttle_rates")
def test_of_sixteen_concurrent_uses_of_one_refresh_token_exactly_one_succeeds():
    ResidentFactory(phone="+8613912345678")
    refresh = _login()["refresh"]

    answers = run_in_threads(lambda _i: _refresh(refresh), 16)

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] + [401] * 15
    winner = next(answer.json() for answer in answers if answer.status_code == 200)
    # The losers were replays of a spent token: the family, the winner's new token included, is gone.
    assert TokenFamily.objects.get().revoked_at is not None
    assert _refresh(winner["refresh"]).status_code == 401


@pytest.mark.django_db
@pytest.mark.usefixtures("throttle_rates")
class TestFamilies:
    @pytest.fixture(autouse=True)
    def person(self, db):
        return ResidentFactory(phone="+8613912345678")

    def test_each_rotation_continues_the_same_family(self):
        first = _login()
        second = _refresh(first["refresh"]).json()
        third = _refresh(second["refresh"])

        assert third.status_code == 200
        assert TokenFamily.objects.count() == 1
        assert TokenFamily.objects.get().revoked_at is None

    def test_replaying_an_old_token_revokes_the_tokens_issued_after_it(self):
        stolen = _login()["refresh"]
        owner = _refresh(stolen).json()

        replay = _refresh(stolen)

        assert replay.status_code == 401
        assert replay.json()["error"]["code"] == "token_not_valid"
        assert _refresh(owner["refresh"]).status_code == 401
        assert TokenFamily.objects.get().revoked_at is not None

    def test_a_revoked_family_leaves_other_sign_ins_alone(self):
        phone_session = _login()
        laptop_session = _login()
        _refresh(phone_session["refresh"])
        _refresh(phone_session["refresh"])

        assert _refresh(laptop_session["refresh"]).status_code == 200

    def test_logout_ends_the_family(self):
        first = _login()
        second = _refresh(first["refresh"]).json()

        assert APIClient().post(LOGOUT, {"refresh": second["refresh"]}, format="json").status_code == 204

        assert _refresh(second["refresh"]).status_code == 401
        assert TokenFamily.objects.get().revoked_at is not None

    def test_a_token_with_a_forged_family_claim_is_refused(self):
        from rest_framework_simplejwt.tokens import RefreshToken

        forged = RefreshToken()
        forged["user_id"] = "1"
        forged["fam"] = "not-a-uuid"

        assert _refresh(str(forged)).status_code == 401
        assert _refresh("x" * 3000).status_code == 400
