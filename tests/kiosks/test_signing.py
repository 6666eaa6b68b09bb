import time

import pytest

from kiosks.models import KioskNonce

from .helpers import deposit_body, make_kiosk, secret_of, signed

HEARTBEAT = "/api/v1/kiosk/heartbeat"
BODY = {"status": "ok", "fill_levels": {"paper": 10}}


@pytest.fixture
def kiosk(community):
    return make_kiosk(community)


def assert_bad_signature(response):
    assert response.status_code == 401, response.content
    error = response.json()["error"]
    assert error["code"] == "bad_signature"
    assert abs(error["server_time"] - time.time()) < 5


def test_a_correctly_signed_request_is_accepted(kiosk):
    assert signed("POST", HEARTBEAT, BODY, kiosk=kiosk).status_code == 204
    kiosk.refresh_from_db()
    assert kiosk.last_heartbeat_at is not None


def test_a_wrong_secret_is_refused(kiosk):
    assert_bad_signature(signed("POST", HEARTBEAT, BODY, kiosk=kiosk, secret="0" * 64))
    kiosk.refresh_from_db()
    assert kiosk.last_heartbeat_at is None


def test_a_body_other_than_the_signed_one_is_refused(kiosk):
    assert_bad_signature(signed("POST", HEARTBEAT, BODY, kiosk=kiosk, sign_body=b'{"status": "ok"}'))


# Ten seconds past the window: a loaded machine may take a second or more between signing and checking.
@pytest.mark.parametrize("offset", [-310, 310])
def test_a_timestamp_outside_the_window_is_refused(kiosk, offset):
    assert_bad_signature(signed("POST", HEARTBEAT, BODY, kiosk=kiosk, timestamp=int(time.time()) + offset))


def test_a_timestamp_just_inside_the_window_is_accepted(kiosk):
    assert signed("POST", HEARTBEAT, BODY, kiosk=kiosk, timestamp=int(time.time()) - 295).status_code == 204


def test_a_reused_nonce_is_refused(kiosk):
    assert signed("POST", HEARTBEAT, BODY, kiosk=kiosk, nonce="n" * 20).status_code == 204
    assert_bad_signature(signed("POST", HEARTBEAT, BODY, kiosk=kiosk, nonce="n" * 20))
    assert KioskNonce.objects.filter(kiosk=kiosk, nonce="n" * 20).count() == 1


@pytest.mark.parametrize("nonce", ["short", "x" * 65])
def test_a_nonce_of_the_wrong_length_is_refused(kiosk, nonce):
    assert_bad_signature(signed("POST", HEARTBEAT, BODY, kiosk=kiosk, nonce=nonce))


def test_another_kiosks_secret_cannot_sign_for_this_kiosk(kiosk, community):
    other = make_kiosk(community, name="另一台")
    assert_bad_signature(signed("POST", HEARTBEAT, BODY, kiosk=kiosk, secret=secret_of(other)))


def test_an_unknown_kiosk_is_refused(kiosk):
    assert_bad_signature(signed("POST", HEARTBEAT, BODY, kiosk=kiosk, kiosk_id="999999"))


def test_a_disabled_kiosk_is_forbidden(kiosk):
    kiosk.enabled = False
    kiosk.save()
    response = signed("POST", "/api/v1/kiosk/deposits", deposit_body(resident_code="x"), kiosk=kiosk)
    assert response.status_code == 403 and response.json()["error"]["code"] == "kiosk_disabled"


def test_no_credentials_is_unauthenticated(api):
    response = api.post(HEARTBEAT, BODY, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_after_rotation_the_old_secret_works_during_the_grace_period_only(kiosk, district_officer, as_user):
    old_secret = secret_of(kiosk)
    response = as_user(district_officer).post(f"/api/v1/kiosks/{kiosk.pk}/rotate-secret")
    assert response.status_code == 200
    new_secret = response.json()["secret"]
    assert new_secret != old_secret

    assert signed("POST", HEARTBEAT, BODY, kiosk=kiosk, secret=old_secret).status_code == 204
    assert signed("POST", HEARTBEAT, BODY, kiosk=kiosk, secret=new_secret).status_code == 204
    kiosk.refresh_from_db()
    kiosk.previous_secret_valid_until = kiosk.previous_secret_valid_until.replace(year=2000)
    kiosk.save()
    assert_bad_signature(signed("POST", HEARTBEAT, BODY, kiosk=kiosk, secret=old_secret))
