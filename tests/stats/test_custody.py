"""A hazardous batch is followed hand by hand to the licensed handler, weighed at every hand-over."""

import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from kiosks.models import KioskAlert
from kiosks.services import record_pickup
from stats.models import Collection, CustodyHandover, HazardousManifest, Plant

from .factories import kiosk, plant

pytestmark = pytest.mark.django_db
URL = "/api/v1/manifests"


@pytest.fixture
def handler(weidu):
    return Plant.objects.create(
        district=weidu, name="许昌危废处置中心", destination="hazardous_treatment", licence="豫危废 411000"
    )


def _pickup(box, officer, grams, *, days_ago=0):
    return record_pickup(
        kiosk=box,
        pickup_id=uuid.uuid4(),
        collected_at=timezone.now() - timedelta(days=days_ago),
        lines={"batteries": grams},
        source="staff",
        actor=officer,
    ).pickup


def _open(client, district, handler_row, number, kg, pickups=(), at=None):
    return client.post(
        URL,
        {
            "district_id": district.id,
            "handler_id": handler_row.id,
            "number": number,
            "handed_over_kg": kg,
            "handed_over_at": (at or timezone.now() - timedelta(hours=3)).isoformat(),
            "pickup_ids": list(pickups),
            "holder": "收运员 张",
        },
        format="json",
    )


def _handover(client, manifest_id, kg, *, holder="魏都转运站", at=None):
    return client.post(
        f"{URL}/{manifest_id}/handovers",
        {"holder": holder, "weight_kg": kg, "handed_over_at": (at or timezone.now()).isoformat()},
        format="json",
    )


def test_each_hand_over_is_a_row_and_one_off_the_weight_before_is_kept_and_flagged(
    as_user, district_officer, weidu, community, handler
):
    pickup = _pickup(kiosk(community), district_officer, 2_500)
    client = as_user(district_officer)
    opened = _open(client, weidu, handler, "HW-C1", "2.5", pickups=[pickup.id]).json()

    lighter = _handover(client, opened["id"], "2.0", at=timezone.now() - timedelta(hours=1))
    same = _handover(client, opened["id"], "2.02", holder="市转运中心")
    closed = client.post(
        f"{URL}/{opened['id']}/close",
        {"received_kg": "2.7", "date": str(timezone.localdate())},
        format="json",
    )

    assert (lighter.status_code, same.status_code, closed.status_code) == (201, 201, 200)
    chain = closed.json()["handovers"]
    assert [(h["sequence"], h["stage"], h["weight_g"], h["previous_g"], h["flagged"]) for h in chain] == [
        (1, "pickup", 2_500, 2_500, False),  # as the collector weighed the batteries at the kiosk
        (2, "transfer", 2_000, 2_500, True),  # 20 % lighter: kept as weighed
        (3, "transfer", 2_020, 2_000, False),
        (4, "handler", 2_700, 2_020, True),  # heavier than it left: flagged, never clipped
    ]
    assert chain[0]["holder"] == "收运员 张" and chain[-1]["holder"] == handler.name
    assert Collection.objects.get(pk=closed.json()["collection_id"]).weight_g == 2_700


def test_bad_hand_overs_are_refused_with_their_code_and_write_nothing(
    as_user, district_officer, weidu, handler
):
    client = as_user(district_officer)
    opened = _open(client, weidu, handler, "HW-C2", "1.0").json()
    before = CustodyHandover.objects.count()

    zero = _handover(client, opened["id"], "0")
    negative = _handover(client, opened["id"], "-1.5")
    earlier = _handover(client, opened["id"], "1.0", at=timezone.now() - timedelta(days=2))
    ahead = _handover(client, opened["id"], "1.0", at=timezone.now() + timedelta(hours=2))

    assert [(r.status_code, r.json()["error"]["code"]) for r in (zero, negative, earlier, ahead)] == [
        (400, "validation_error"),
        (400, "validation_error"),
        (400, "handover_out_of_order"),
        (400, "handover_out_of_order"),
    ]
    assert CustodyHandover.objects.count() == before == 1
    client.post(
        f"{URL}/{opened['id']}/close", {"received_kg": "1", "date": str(timezone.localdate())}, format="json"
    )
    late = _handover(client, opened["id"], "1.0")
    assert (late.status_code, late.json()["error"]["code"]) == (409, "manifest_closed")
    assert CustodyHandover.objects.count() == 2


def test_a_refused_manifest_leaves_no_custody_row(as_user, district_officer, weidu, community, handler):
    client = as_user(district_officer)
    pickup = _pickup(kiosk(community), district_officer, 800)
    assert _open(client, weidu, handler, "HW-C3", "0.8", pickups=[pickup.id]).status_code == 201

    reused = _open(client, weidu, handler, "HW-C3", "0.8")
    same_pickup = _open(client, weidu, handler, "HW-C4", "0.8", pickups=[pickup.id])
    unlicensed = _open(client, weidu, plant(weidu, "hazardous_treatment"), "HW-C5", "0.8")
    zero = _open(client, weidu, handler, "HW-C6", "0")

    assert [r.json()["error"]["code"] for r in (reused, same_pickup, unlicensed, zero)] == [
        "manifest_reused",
        "pickup_already_on_manifest",
        "handler_not_licensed",
        "validation_error",
    ]
    assert list(HazardousManifest.objects.values_list("number", flat=True)) == ["HW-C3"]
    assert CustodyHandover.objects.count() == 1


def test_a_batch_without_a_closed_manifest_after_n_days_raises_a_kiosk_alert_until_it_closes(
    as_user, district_officer, weidu, community, handler
):
    client = as_user(district_officer)
    loose_box, manifested_box, fresh_box = kiosk(community), kiosk(community), kiosk(community)
    loose = _pickup(loose_box, district_officer, 300, days_ago=10)
    old = _pickup(manifested_box, district_officer, 500, days_ago=12)
    _pickup(fresh_box, district_officer, 400, days_ago=1)
    opened = _open(
        client, weidu, handler, "HW-C7", "0.5", pickups=[old.id], at=timezone.now() - timedelta(days=11)
    )
    assert opened.status_code == 201, opened.json()

    call_command("check_manifests", "--days", "7")

    def custody_alerts():
        return set(
            KioskAlert.objects.filter(kind="custody", cleared_at__isnull=True).values_list(
                "kiosk_id", flat=True
            )
        )

    assert custody_alerts() == {loose_box.id, manifested_box.id}
    listed = {k["id"]: k["alerts"] for k in client.get("/api/v1/kiosks").json()["results"]}
    # (the pickup weighed batteries no deposit recorded: a shrink alert beside it)
    assert "custody" in [a["kind"] for a in listed[loose_box.id]]
    assert "custody" not in [a["kind"] for a in listed[fresh_box.id]]

    client.post(
        f"{URL}/{opened.json()['id']}/close",
        {"received_kg": "0.5", "date": str(timezone.localdate())},
        format="json",
    )
    _open(client, weidu, handler, "HW-C8", "0.3", pickups=[loose.id])
    call_command("check_manifests", "--days", "7")

    # The loose pickup now travels on a manifest opened just now: nothing is overdue any more.
    assert custody_alerts() == set()


def test_the_statistics_report_hazardous_waste_put_out_separately_and_its_custody(
    as_user, district_officer, weidu, community, handler
):
    client = as_user(district_officer)
    box = kiosk(community)
    on_manifest = _pickup(box, district_officer, 2_000, days_ago=2)
    _pickup(box, district_officer, 700, days_ago=1)
    first = _open(
        client,
        weidu,
        handler,
        "HW-C9",
        "2.0",
        pickups=[on_manifest.id],
        at=timezone.now() - timedelta(days=2),
    )
    _handover(client, first.json()["id"], "1.5")
    second = _open(client, weidu, handler, "HW-C10", "0.4").json()
    client.post(
        f"{URL}/{second['id']}/close",
        {"received_kg": "0.4", "date": str(timezone.localdate())},
        format="json",
    )

    today = timezone.localdate()
    figures = client.get(
        f"/api/v1/stats/districts/{weidu.id}/hazardous",
        {"from": str(today - timedelta(days=5)), "to": str(today)},
    ).json()

    assert {
        k: figures[k]
        for k in (
            "picked_up_kg",
            "unmanifested_pickups",
            "unmanifested_kg",
            "manifests",
            "handed_over_kg",
            "received_kg",
            "open_manifests",
            "in_custody_kg",
            "flagged_handovers",
            "collected_kg",
        )
    } == {
        "picked_up_kg": 2.7,
        "unmanifested_pickups": 1,
        "unmanifested_kg": 0.7,
        "manifests": 2,
        "handed_over_kg": 2.4,
        "received_kg": 0.4,
        "open_manifests": 1,
        "in_custody_kg": 1.5,
        "flagged_handovers": 1,
        "collected_kg": 0.4,
    }


def test_another_districts_hazardous_figures_are_not_found(as_user, jian_an_officer, weidu):
    assert as_user(jian_an_officer).get(f"/api/v1/stats/districts/{weidu.id}/hazardous").status_code == 404
