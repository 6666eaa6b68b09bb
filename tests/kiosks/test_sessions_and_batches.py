import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.services import issue_resident_code
from kiosks.models import Deposit, KioskAlert, KioskSession
from tests.factories import DistrictOfficerFactory, ResidentFactory

from .helpers import dated_deposit, deposit_body, make_kiosk, signed


@pytest.fixture
def kiosk(community):
    return make_kiosk(community)


def open_session(kiosk):
    response = signed("POST", "/api/v1/kiosk/sessions", kiosk=kiosk)
    assert response.status_code == 201
    return response.json()


def test_a_resident_claims_the_session_and_the_kiosk_sees_it(kiosk, resident, as_user):
    session = open_session(kiosk)

    claim = as_user(resident).post("/api/v1/kiosk-sessions/claim", {"code": session["code"]}, format="json")
    status = signed("GET", f"/api/v1/kiosk/sessions/{session['session_id']}", kiosk=kiosk)

    assert claim.status_code == 200 and claim.json()["kiosk"]["id"] == kiosk.pk
    assert status.json()["status"] == "claimed"
    assert status.json()["resident_display_name"] == resident.display_name


def test_a_claimed_code_cannot_be_claimed_again(kiosk, resident, as_user):
    session = open_session(kiosk)
    as_user(resident).post("/api/v1/kiosk-sessions/claim", {"code": session["code"]}, format="json")

    again = as_user(ResidentFactory()).post(
        "/api/v1/kiosk-sessions/claim", {"code": session["code"]}, format="json"
    )

    assert again.status_code == 409 and again.json()["error"]["code"] == "code_used"
    assert KioskSession.objects.get().resident == resident


def test_an_expired_session_code_is_gone(kiosk, resident, as_user):
    session = open_session(kiosk)
    KioskSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = as_user(resident).post(
        "/api/v1/kiosk-sessions/claim", {"code": session["code"]}, format="json"
    )

    assert response.status_code == 410 and response.json()["error"]["code"] == "code_expired"
    assert KioskSession.objects.get().status == "open"


def test_another_kiosks_session_is_not_found(kiosk, community, resident, as_user):
    session = open_session(kiosk)
    other = make_kiosk(community, name="二号机")
    as_user(resident).post("/api/v1/kiosk-sessions/claim", {"code": session["code"]}, format="json")

    assert signed("GET", f"/api/v1/kiosk/sessions/{session['session_id']}", kiosk=other).status_code == 404
    deposit = signed(
        "POST", "/api/v1/kiosk/deposits", deposit_body(session_id=session["session_id"]), kiosk=other
    )
    assert deposit.status_code == 404 and deposit.json()["error"]["code"] == "session_not_found"
    assert not Deposit.objects.exists()


def test_deposits_by_session_credit_the_claiming_resident_until_it_closes(kiosk, resident, as_user):
    session = open_session(kiosk)
    as_user(resident).post("/api/v1/kiosk-sessions/claim", {"code": session["code"]}, format="json")

    first = signed(
        "POST", "/api/v1/kiosk/deposits", deposit_body(session_id=session["session_id"]), kiosk=kiosk
    )
    closed = signed("POST", f"/api/v1/kiosk/sessions/{session['session_id']}/close", kiosk=kiosk)
    late = signed(
        "POST", "/api/v1/kiosk/deposits", deposit_body(session_id=session["session_id"]), kiosk=kiosk
    )

    assert first.status_code == 201 and Deposit.objects.get().resident == resident
    assert closed.json()["status"] == "closed"
    assert late.status_code == 409 and late.json()["error"]["code"] == "session_closed"


def test_a_batch_answers_each_item_in_order(kiosk, resident):
    code = issue_resident_code(resident)[0]
    good = deposit_body(resident_code=code)
    items = [
        good,
        deposit_body(resident_code=code, material="uranium"),
        good,  # a duplicate inside the batch is answered like a retry
        {**good, "weight_g": 9000},  # same id, other body
        {"deposit_id": "nonsense"},
        dated_deposit(resident, timezone.now() - timedelta(days=3)),
    ]

    response = signed("POST", "/api/v1/kiosk/deposits/batch", {"deposits": items}, kiosk=kiosk)

    assert response.status_code == 200
    results = response.json()["results"]
    assert [r.get("status") or r["error"]["code"] for r in results] == [
        201,
        "unknown_material",
        200,
        "idempotency_conflict",
        "validation_error",
        201,
    ]
    assert results[0]["deposit_id"] == good["deposit_id"] and results[2] == results[0] | {"status": 200}
    assert Deposit.objects.count() == 2


def test_a_batch_over_five_hundred_is_refused_whole(kiosk, resident):
    items = [deposit_body(resident_code="x") for _ in range(501)]
    response = signed("POST", "/api/v1/kiosk/deposits/batch", {"deposits": items}, kiosk=kiosk)
    assert response.status_code == 400 and response.json()["error"]["code"] == "batch_too_large"
    assert not Deposit.objects.exists()


def test_heartbeats_raise_and_clear_fill_alerts(kiosk):
    signed(
        "POST",
        "/api/v1/kiosk/heartbeat",
        {"status": "ok", "fill_levels": {"paper": 91, "metal": 40}},
        kiosk=kiosk,
    )
    assert list(KioskAlert.objects.filter(cleared_at=None).values_list("kind", "material")) == [
        ("fill", "paper")
    ]

    signed("POST", "/api/v1/kiosk/heartbeat", {"status": "ok", "fill_levels": {"paper": 95}}, kiosk=kiosk)
    assert KioskAlert.objects.count() == 1

    signed("POST", "/api/v1/kiosk/heartbeat", {"status": "ok", "fill_levels": {"paper": 5}}, kiosk=kiosk)
    assert not KioskAlert.objects.filter(cleared_at=None).exists()


def test_silent_kiosks_raise_one_alert(kiosk):
    from django.core.management import call_command

    from kiosks.models import Kiosk

    Kiosk.objects.filter(pk=kiosk.pk).update(created_at=timezone.now() - timedelta(hours=1))
    call_command("check_kiosks")
    call_command("check_kiosks")
    assert KioskAlert.objects.filter(kind="silent", cleared_at=None).count() == 1
    signed("POST", "/api/v1/kiosk/heartbeat", {"status": "ok"}, kiosk=kiosk)
    assert not KioskAlert.objects.filter(kind="silent", cleared_at=None).exists()


def test_district_officers_provision_kiosks_in_their_own_district_only(community, jian_an, as_user, weidu):
    officer = as_user(DistrictOfficerFactory(district=weidu))
    created = officer.post(
        "/api/v1/kiosks",
        {"community_id": community.id, "name": "一号机", "materials": ["paper", "metal"]},
        format="json",
    )
    from tests.factories import CommunityFactory

    elsewhere = officer.post(
        "/api/v1/kiosks",
        {"community_id": CommunityFactory(district=jian_an).id, "name": "x", "materials": ["paper"]},
        format="json",
    )
    unknown = officer.post(
        "/api/v1/kiosks", {"community_id": community.id, "name": "y", "materials": ["gold"]}, format="json"
    )

    assert created.status_code == 201 and len(created.json()["secret"]) == 64
    assert elsewhere.status_code == 403
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "unknown_material"
    listed = officer.get("/api/v1/kiosks").json()["results"]
    assert [k["name"] for k in listed] == ["一号机"] and listed[0]["materials"] == ["metal", "paper"]
    assert "secret" not in listed[0]
    other_officer = as_user(DistrictOfficerFactory(district=jian_an))
    assert other_officer.get("/api/v1/kiosks").json()["results"] == []
    assert (
        other_officer.patch(
            f"/api/v1/kiosks/{created.json()['id']}", {"enabled": False}, format="json"
        ).status_code
        == 404
    )


def test_a_disabled_kiosk_cannot_deposit_until_enabled_again(community, district_officer, as_user, resident):
    kiosk = make_kiosk(community)
    officer = as_user(district_officer)
    assert (
        officer.patch(f"/api/v1/kiosks/{kiosk.pk}", {"enabled": False}, format="json").json()["enabled"]
        is False
    )
    body = deposit_body(resident_code=issue_resident_code(resident)[0], deposit_id=str(uuid.uuid4()))
    assert signed("POST", "/api/v1/kiosk/deposits", body, kiosk=kiosk).status_code == 403
    officer.patch(f"/api/v1/kiosks/{kiosk.pk}", {"enabled": True}, format="json")
    assert signed("POST", "/api/v1/kiosk/deposits", body, kiosk=kiosk).status_code == 201
