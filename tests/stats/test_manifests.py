"""Hazardous waste goes to a licensed handler on a manifest used once, and counts when the handler receives it."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from kiosks.services import record_pickup
from stats import selectors
from stats.models import Collection, HazardousManifest, ManifestPickup, Plant

from .factories import kiosk, plant

pytestmark = pytest.mark.django_db
URL = "/api/v1/manifests"


@pytest.fixture
def handler(weidu):
    return Plant.objects.create(
        district=weidu, name="许昌危废处置中心", destination="hazardous_treatment", licence="豫危废 411000"
    )


def _open(client, district, handler_row, number, kg="2.5", pickups=(), at=None):
    return client.post(
        URL,
        {
            "district_id": district.id,
            "handler_id": handler_row.id,
            "number": number,
            "handed_over_kg": kg,
            "handed_over_at": (at or timezone.now()).isoformat(),
            "pickup_ids": list(pickups),
        },
        format="json",
    )


def test_a_manifest_follows_a_pickups_batteries_to_the_handler_and_counts_once_received(
    as_user, district_officer, weidu, community, handler
):
    box = kiosk(community)
    pickup = record_pickup(
        kiosk=box,
        pickup_id=uuid.uuid4(),
        collected_at=datetime(2026, 3, 20, 2, tzinfo=UTC),
        lines={"batteries": 2_500},
        source="staff",
        actor=district_officer,
    ).pickup
    client = as_user(district_officer)

    opened = _open(client, weidu, handler, "HW-2026-0001", pickups=[pickup.id])
    assert opened.status_code == 201, opened.json()
    assert opened.json()["pickup_ids"] == [pickup.id] and opened.json()["closed_at"] is None
    closed = client.post(
        f"{URL}/{opened.json()['id']}/close", {"received_kg": "2.4", "date": "2026-03-21"}, format="json"
    )

    assert closed.status_code == 200, closed.json()
    ticket = Collection.objects.get(pk=closed.json()["collection_id"])
    assert (ticket.category, ticket.destination, ticket.weight_g, ticket.reference, ticket.plant_id) == (
        "hazardous",
        "hazardous_treatment",
        2_400,
        "HW-2026-0001",
        handler.id,
    )
    row = next(
        r
        for r in client.get("/api/v1/stats/districts", {"from": "2026-03-01", "to": "2026-03-31"}).json()[
            "results"
        ]
        if r["district"]["id"] == weidu.id
    )
    assert row["collected_kg_by_category"] == {"hazardous": 2.4}
    again = client.post(
        f"{URL}/{opened.json()['id']}/close", {"received_kg": "2.4", "date": "2026-03-21"}, format="json"
    )
    assert (again.status_code, again.json()["error"]["code"]) == (409, "manifest_closed")
    assert Collection.objects.count() == 1


def test_a_manifest_number_is_used_once(as_user, district_officer, weidu, handler):
    client = as_user(district_officer)

    assert _open(client, weidu, handler, "HW-7").status_code == 201
    again = _open(client, weidu, handler, "HW-7")

    assert (again.status_code, again.json()["error"]["code"]) == (409, "manifest_reused")
    assert HazardousManifest.objects.count() == 1


def test_only_a_licensed_hazardous_handler_of_the_district_takes_a_manifest(
    as_user, district_officer, weidu, jian_an
):
    client = as_user(district_officer)
    unlicensed = plant(weidu, "hazardous_treatment")
    landfill = Plant.objects.create(district=weidu, name="填埋场", destination="landfill", licence="X")
    elsewhere = Plant.objects.create(
        district=jian_an, name="建安危废", destination="hazardous_treatment", licence="Y"
    )

    codes = [
        _open(client, weidu, p, f"HW-{p.id}").json()["error"]["code"]
        for p in (unlicensed, landfill, elsewhere)
    ]

    assert codes == ["handler_not_licensed", "handler_not_licensed", "plant_out_of_district"]
    assert not HazardousManifest.objects.exists()


def test_a_pickup_travels_on_one_manifest_only(as_user, district_officer, weidu, community, handler):
    pickup = record_pickup(
        kiosk=kiosk(community),
        pickup_id=uuid.uuid4(),
        collected_at=timezone.now(),
        lines={"batteries": 500},
        source="staff",
        actor=district_officer,
    ).pickup
    client = as_user(district_officer)
    assert _open(client, weidu, handler, "HW-A", pickups=[pickup.id]).status_code == 201

    second = _open(client, weidu, handler, "HW-B", pickups=[pickup.id])

    assert (second.status_code, second.json()["error"]["code"]) == (409, "pickup_already_on_manifest")
    assert list(HazardousManifest.objects.values_list("number", flat=True)) == ["HW-A"]
    assert ManifestPickup.objects.count() == 1


def test_a_manifest_left_open_too_long_is_alerted(as_user, district_officer, weidu, handler, capsys):
    client = as_user(district_officer)
    _open(client, weidu, handler, "HW-OLD", at=timezone.now() - timedelta(days=9))
    _open(client, weidu, handler, "HW-NEW", at=timezone.now() - timedelta(days=1))

    assert [m.number for m in selectors.overdue_manifests(days=7)] == ["HW-OLD"]
    call_command("check_manifests", "--days", "7")
    assert "HW-OLD" in capsys.readouterr().out
    assert [m["number"] for m in client.get(URL, {"open": "1"}).json()["results"]] == ["HW-OLD", "HW-NEW"][
        ::-1
    ]


def test_another_districts_officer_cannot_close_a_manifest(
    as_user, district_officer, jian_an_officer, weidu, handler
):
    opened = _open(as_user(district_officer), weidu, handler, "HW-9").json()

    response = as_user(jian_an_officer).post(
        f"{URL}/{opened['id']}/close", {"received_kg": "1", "date": str(date.today())}, format="json"
    )

    assert response.status_code == 404
    assert HazardousManifest.objects.get().closed_at is None
