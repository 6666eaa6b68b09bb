"""A kiosk's signed writes: its pickups leave one audit row naming the kiosk; deposits, heartbeats and
deposit sessions leave none (each is its own record, and they come many a minute)."""

import uuid

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.services import issue_resident_code
from api import urls as api_urls
from api.kiosks import SignedKioskView
from backend.audit.models import AuditEntry
from kiosks.models import Deposit, KioskAlert, KioskSession, Pickup
from tests.kiosks.helpers import deposit_body, make_kiosk, signed

WRITE_METHODS = ("post", "put", "patch", "delete")


def _signed_write_routes() -> set[tuple[str, str]]:
    routes = set()
    for pattern in api_urls.urlpatterns:
        view_class = getattr(pattern.callback, "view_class", None)
        if view_class is not None and issubclass(view_class, SignedKioskView):
            routes |= {(pattern.name, m) for m in WRITE_METHODS if hasattr(view_class, m)}
    return routes


def _open_session(kiosk) -> str:
    response = signed("POST", "/api/v1/kiosk/sessions", kiosk=kiosk)
    assert response.status_code == 201, response.content
    return response.json()["session_id"]


def _deposit(resident):
    return deposit_body(resident_code=issue_resident_code(resident)[0])


# Each: (url, body) for a kiosk and a resident of its community.
SCENARIOS = {
    ("kiosk-sessions", "post"): lambda k, r: ("/api/v1/kiosk/sessions", None),
    ("kiosk-session-close", "post"): lambda k, r: (f"/api/v1/kiosk/sessions/{_open_session(k)}/close", None),
    ("kiosk-deposits", "post"): lambda k, r: ("/api/v1/kiosk/deposits", _deposit(r)),
    ("kiosk-deposits-batch", "post"): lambda k, r: (
        "/api/v1/kiosk/deposits/batch",
        {"deposits": [_deposit(r)]},
    ),
    ("kiosk-heartbeat", "post"): lambda k, r: (
        "/api/v1/kiosk/heartbeat",
        {"status": "ok", "fill_levels": {"paper": 95}, "firmware": "2.1.0"},
    ),
    ("kiosk-pickups", "post"): lambda k, r: (
        "/api/v1/kiosk/pickups",
        {
            "pickup_id": str(uuid.uuid4()),
            "collected_at": timezone.now().isoformat(),
            "lines": [{"material": "paper", "weight_g": 100}],
        },
    ),
}


def test_every_signed_kiosk_write_route_has_a_scenario():
    assert _signed_write_routes() == set(SCENARIOS)
    assert {f"api:{name}" for name, _method in SCENARIOS} >= settings.AUDIT_KIOSK_ROUTES


@pytest.mark.django_db
@pytest.mark.parametrize("route", sorted(SCENARIOS), ids=lambda r: f"{r[1]} {r[0]}")
def test_a_kiosk_write_is_recorded_only_where_listed(route, community, resident):
    kiosk = make_kiosk(community)
    url, body = SCENARIOS[route](kiosk, resident)
    before = set(AuditEntry.objects.values_list("id", flat=True))

    response = signed(route[1].upper(), url, body, kiosk=kiosk)

    assert response.status_code < 300, (route, response.status_code, response.content[:300])
    new = AuditEntry.objects.exclude(id__in=before)
    if f"api:{route[0]}" not in settings.AUDIT_KIOSK_ROUTES:
        assert not new.exists(), list(new.values("object_type", "route"))
        return
    entry = new.get()
    assert (entry.actor_kind, entry.actor_id, entry.actor_role) == ("kiosk", kiosk.pk, "kiosk")
    assert (entry.route, entry.district_id) == (f"api:{route[0]}", community.district_id)


@pytest.mark.django_db
def test_what_the_unrecorded_kiosk_writes_leave_behind_names_the_kiosk(community, resident):
    # The governance doc promises these records in place of audit rows.
    kiosk = make_kiosk(community)
    signed("POST", "/api/v1/kiosk/deposits", _deposit(resident), kiosk=kiosk)
    signed("POST", "/api/v1/kiosk/heartbeat", {"status": "ok", "fill_levels": {"paper": 95}}, kiosk=kiosk)
    _open_session(kiosk)

    assert Deposit.objects.get().kiosk_id == kiosk.pk
    kiosk.refresh_from_db()
    assert kiosk.last_heartbeat_at is not None and kiosk.fill_levels == {"paper": 95}
    assert KioskAlert.objects.get(kind="fill").kiosk_id == kiosk.pk
    assert KioskSession.objects.get().kiosk_id == kiosk.pk
    assert not Pickup.objects.exists() and not AuditEntry.objects.exists()
