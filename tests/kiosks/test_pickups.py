"""A kiosk emptied: each material against what was deposited since the previous pickup, exactly once."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from kiosks.models import KioskAlert, Pickup, PickupLine
from tests.factories import CommunityFactory
from tests.stats.factories import deposit

from .helpers import make_kiosk, signed

pytestmark = pytest.mark.django_db
URL = "/api/v1/kiosk/pickups"


@pytest.fixture
def kiosk(community):
    return make_kiosk(community)


def _body(**lines):
    return {
        "pickup_id": str(uuid.uuid4()),
        "collected_at": timezone.now().isoformat(),
        "lines": [{"material": m, "weight_g": g} for m, g in lines.items()],
    }


def _lines(pickup_pk) -> dict:
    return {
        line.material.code: (line.weight_g, line.expected_g, line.flagged)
        for line in PickupLine.objects.filter(pickup_id=pickup_pk).select_related("material")
    }


def test_a_signed_pickup_weighs_each_material_against_its_deposits(kiosk, resident):
    before = timezone.now() - timedelta(hours=2)
    deposit(kiosk, resident, "paper", 3000, before)
    deposit(kiosk, resident, "paper", 2000, before)
    deposit(kiosk, resident, "metal", 1000, before)

    response = signed("POST", URL, _body(paper=4900, metal=1000), kiosk=kiosk)

    assert response.status_code == 201, response.content
    assert response.json()["source"] == "kiosk"
    assert _lines(response.json()["id"]) == {"paper": (4900, 5000, False), "metal": (1000, 1000, False)}
    assert not KioskAlert.objects.exists()


def test_a_pickup_off_by_more_than_the_tolerance_is_kept_flagged_and_alerted(kiosk, resident):
    deposit(kiosk, resident, "paper", 5000, timezone.now() - timedelta(hours=1))
    deposit(kiosk, resident, "metal", 1000, timezone.now() - timedelta(hours=1))

    # Heavier than recorded by 20 %: accepted as weighed, never clipped; metal not handed over at all.
    response = signed("POST", URL, _body(paper=6000), kiosk=kiosk)

    assert response.status_code == 201
    assert _lines(response.json()["id"]) == {"paper": (6000, 5000, True), "metal": (0, 1000, True)}
    alerts = set(KioskAlert.objects.filter(kiosk=kiosk, kind="shrink").values_list("material", flat=True))
    assert alerts == {"paper", "metal"}


def test_the_next_pickup_empties_only_what_came_after_the_previous_one(kiosk, resident):
    deposit(kiosk, resident, "paper", 5000, timezone.now() - timedelta(hours=3))
    first = _body(paper=5000)
    first["collected_at"] = (timezone.now() - timedelta(hours=2)).isoformat()
    assert signed("POST", URL, first, kiosk=kiosk).status_code == 201
    deposit(kiosk, resident, "paper", 700, timezone.now() - timedelta(hours=1))

    second = signed("POST", URL, _body(paper=700), kiosk=kiosk)

    assert _lines(second.json()["id"]) == {"paper": (700, 700, False)}


def test_a_retried_pickup_is_recorded_once_and_other_lines_under_its_id_conflict(kiosk, resident):
    deposit(kiosk, resident, "paper", 1000, timezone.now() - timedelta(hours=1))
    body = _body(paper=1000)

    first = signed("POST", URL, body, kiosk=kiosk)
    again = signed("POST", URL, body, kiosk=kiosk)
    other = signed("POST", URL, body | {"lines": [{"material": "paper", "weight_g": 999}]}, kiosk=kiosk)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert (other.status_code, other.json()["error"]["code"]) == (409, "idempotency_conflict")
    assert Pickup.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (_body(paper=0), "validation_error"),
        (_body(paper=-5), "validation_error"),
        (_body(unobtainium=100), "unknown_material"),
        (
            _body(paper=100) | {"collected_at": (timezone.now() + timedelta(hours=1)).isoformat()},
            "future_pickup",
        ),
    ],
)
def test_a_bad_pickup_is_refused_and_nothing_is_written(kiosk, body, code):
    response = signed("POST", URL, body, kiosk=kiosk)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert not Pickup.objects.exists()


def test_a_pickup_dated_before_the_last_one_is_refused(kiosk):
    assert signed("POST", URL, _body(paper=100), kiosk=kiosk).status_code == 201
    late = _body(paper=100) | {"collected_at": (timezone.now() - timedelta(days=1)).isoformat()}

    response = signed("POST", URL, late, kiosk=kiosk)

    assert (response.status_code, response.json()["error"]["code"]) == (409, "pickup_out_of_order")
    assert Pickup.objects.count() == 1


def test_staff_enter_a_pickup_for_a_kiosk_of_their_district_only(as_user, district_officer, kiosk, jian_an):
    other = make_kiosk(CommunityFactory(district=jian_an))
    client = as_user(district_officer)

    mine = client.post("/api/v1/pickups", _body(paper=100) | {"kiosk_id": kiosk.pk}, format="json")
    theirs = client.post("/api/v1/pickups", _body(paper=100) | {"kiosk_id": other.pk}, format="json")

    assert mine.status_code == 201
    assert (mine.json()["source"], mine.json()["collector_id"]) == ("staff", district_officer.pk)
    assert theirs.status_code == 404
    assert list(Pickup.objects.values_list("kiosk_id", flat=True)) == [kiosk.pk]
    listed = client.get("/api/v1/pickups").json()["results"]
    assert [p["kiosk_id"] for p in listed] == [kiosk.pk]
