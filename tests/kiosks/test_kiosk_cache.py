"""The per-process kiosk cache: changes made elsewhere reach signed requests within its lifetime."""

import pytest

from kiosks import kiosk_cache
from kiosks.models import Kiosk

from .helpers import make_kiosk, secret_of, signed

HEARTBEAT = "/api/v1/kiosk/heartbeat"
BODY = {"status": "ok", "fill_levels": {"paper": 10}}


@pytest.fixture
def kiosk(community):
    return make_kiosk(community)


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(kiosk_cache, "_clock", lambda: now[0])
    return now


def test_disabling_from_another_process_takes_effect_once_the_entry_expires(kiosk, clock):
    assert signed("POST", HEARTBEAT, BODY, kiosk=kiosk).status_code == 204
    # Bypasses kiosks.services, as a change made in another process would.
    Kiosk.objects.filter(pk=kiosk.pk).update(enabled=False)
    clock[0] += kiosk_cache.TTL_SECONDS + 0.1
    response = signed("POST", HEARTBEAT, BODY, kiosk=kiosk)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "kiosk_disabled"


def test_disabling_through_the_service_takes_effect_at_once(kiosk, clock, district_officer, as_user):
    assert signed("POST", HEARTBEAT, BODY, kiosk=kiosk).status_code == 204
    response = as_user(district_officer).patch(
        f"/api/v1/kiosks/{kiosk.pk}", {"enabled": False}, format="json"
    )
    assert response.status_code == 200, response.content
    assert signed("POST", HEARTBEAT, BODY, kiosk=kiosk).status_code == 403


def test_a_secret_rotated_elsewhere_is_accepted_at_once(kiosk, clock):
    assert signed("POST", HEARTBEAT, BODY, kiosk=kiosk).status_code == 204
    Kiosk.objects.filter(pk=kiosk.pk).update(secret_version=2)
    kiosk.refresh_from_db()
    assert signed("POST", HEARTBEAT, BODY, kiosk=kiosk, secret=secret_of(kiosk, 2)).status_code == 204


def test_a_replayed_nonce_is_refused_while_the_kiosk_is_cached(kiosk, clock):
    assert signed("POST", HEARTBEAT, BODY, kiosk=kiosk, nonce="c" * 20).status_code == 204
    assert signed("POST", HEARTBEAT, BODY, kiosk=kiosk, nonce="c" * 20).status_code == 401
