"""From resident to plant: deposits feed pickups, pickups feed tickets, each kilogram counted once."""

import uuid
from datetime import UTC, date, datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from kiosks.models import Pickup, PickupLine
from kiosks.services import record_pickup
from stats.models import Collection, CollectionPickup
from stats.rollups.verification import verify
from tests import factories as people

from .factories import deposit, households, kiosk, plant, record

pytestmark = pytest.mark.django_db

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
DAY = date(2026, 3, 20)


def _pickup(box, officer, **lines):
    return record_pickup(
        kiosk=box,
        pickup_id=uuid.uuid4(),
        collected_at=datetime(2026, 3, 20, 2, tzinfo=UTC),
        lines=lines,
        source="staff",
        actor=officer,
    ).pickup


def _ticket(client, district, plant_row, kg, reference, pickups=(), category="recyclable"):
    return client.post(
        "/api/v1/collections",
        {
            "district_id": district.id,
            "category": category,
            "weight_kg": kg,
            "date": str(DAY),
            "destination": plant_row.destination,
            "plant_id": plant_row.id,
            "reference": reference,
            "pickup_ids": list(pickups),
        },
        format="json",
    )


def test_shrinkage_per_kiosk_community_and_district_and_on_the_way_to_the_plant(
    as_user, district_officer, weidu, community
):
    resident = people.ResidentFactory(household=households(community, 1)[0])
    box = kiosk(community)
    deposit(box, resident, "paper", 10_000, datetime(2026, 3, 12, 2, tzinfo=UTC))
    pickup = _pickup(box, district_officer, paper=9_000)  # 10 % short: beyond the 5 % tolerance
    client = as_user(district_officer)
    ticket = _ticket(client, weidu, plant(weidu, "recycling"), "8.5", "T-1", [pickup.id])
    assert ticket.status_code == 201, ticket.json()
    assert ticket.json()["pickup_ids"] == [pickup.id]

    balance = client.get(f"/api/v1/stats/districts/{weidu.id}/balance", MARCH).json()

    assert (balance["deposited_kg"], balance["picked_up_kg"], balance["shrinkage_kg"]) == (10, 9, 1)
    assert (balance["shrinkage_rate"], balance["over_tolerance"], balance["tolerance"]) == (0.1, True, 0.05)
    assert (balance["picked_up_received_kg"], balance["received_kg"]) == (9, 8.5)
    assert balance["transit_shrinkage_rate"] == round(0.5 / 9, 4)
    assert [(k["kiosk_id"], k["shrinkage_kg"], k["flagged_lines"]) for k in balance["kiosks"]] == [
        (box.id, 1, 1)
    ]
    assert [(c["community_id"], c["deposited_kg"]) for c in balance["communities"]] == [(community.id, 10)]
    # The lost kilogram lowers the rate: only the 8.5 kg received count.
    row = next(
        r
        for r in client.get("/api/v1/stats/districts", MARCH).json()["results"]
        if r["district"]["id"] == weidu.id
    )
    assert (row["recovered_kg"], row["handled_kg"]) == (8.5, 8.5)
    call_command("refresh_rollups")
    assert verify() == []


def test_a_ticket_number_is_recorded_once_per_plant_on_the_manual_path(as_user, district_officer, weidu):
    client = as_user(district_officer)
    recycler, other = plant(weidu, "recycling", "甲"), plant(weidu, "recycling", "乙")

    first = _ticket(client, weidu, recycler, "5", "T-7")
    again = _ticket(client, weidu, recycler, "5", "T-7")
    elsewhere = _ticket(client, weidu, other, "5", "T-7")

    assert first.status_code == 201
    assert (again.status_code, again.json()["error"]["code"]) == (409, "duplicate_reference")
    assert elsewhere.status_code == 201
    assert Collection.objects.filter(reference="T-7").count() == 2


def test_the_database_enforces_the_ticket_once_per_plant(district_officer, weidu):
    from django.db import IntegrityError, transaction

    ticket = {
        "district": weidu,
        "category": "recyclable",
        "weight_g": 1,
        "date": DAY,
        "destination": "recycling",
        "plant": plant(weidu, "recycling"),
        "reference": "X",
    }
    Collection.objects.create(**ticket)
    with pytest.raises(IntegrityError), transaction.atomic():
        Collection.objects.create(**ticket)
    assert Collection.objects.count() == 1


def test_a_manual_collection_without_a_plant_cannot_reuse_a_reference_of_its_district(
    as_user, district_officer, weidu
):
    client = as_user(district_officer)
    body = {
        "district_id": weidu.id,
        "category": "other",
        "weight_kg": "3",
        "date": str(DAY),
        "destination": "landfill",
        "reference": "W-1",
    }

    assert client.post("/api/v1/collections", body, format="json").status_code == 201
    again = client.post("/api/v1/collections", body, format="json")

    assert (again.status_code, again.json()["error"]["code"]) == (409, "duplicate_reference")
    assert Collection.objects.count() == 1


def test_a_ticket_for_a_plant_of_another_district_or_destination_is_refused(
    as_user, district_officer, weidu, jian_an
):
    client = as_user(district_officer)

    theirs = _ticket(client, weidu, plant(jian_an, "recycling"), "2", "T-2")
    landfill = plant(weidu, "landfill")
    wrong_kind = client.post(
        "/api/v1/collections",
        {
            "district_id": weidu.id,
            "category": "recyclable",
            "weight_kg": "2",
            "date": str(DAY),
            "destination": "recycling",
            "plant_id": landfill.id,
        },
        format="json",
    )

    assert (theirs.status_code, theirs.json()["error"]["code"]) == (400, "plant_out_of_district")
    assert (wrong_kind.status_code, wrong_kind.json()["error"]["code"]) == (400, "plant_destination_mismatch")
    assert not Collection.objects.exists()


def test_a_pickup_feeds_one_ticket_only_until_that_ticket_is_reversed(
    as_user, district_officer, weidu, community
):
    box = kiosk(community)
    pickup = _pickup(box, district_officer, paper=1_000)
    client = as_user(district_officer)
    recycler = plant(weidu, "recycling")
    first = _ticket(client, weidu, recycler, "1", "T-3", [pickup.id]).json()

    second = _ticket(client, weidu, recycler, "1", "T-4", [pickup.id])

    assert (second.status_code, second.json()["error"]["code"]) == (409, "pickup_already_received")
    assert list(Collection.objects.values_list("reference", flat=True)) == ["T-3"]

    corrected = client.post(
        f"/api/v1/collections/{first['id']}/correct",
        {
            "replacement": {
                "district_id": weidu.id,
                "category": "recyclable",
                "weight_kg": "0.9",
                "date": str(DAY),
                "destination": "recycling",
                "plant_id": recycler.id,
                "reference": "T-3",
                "pickup_ids": [pickup.id],
            }
        },
        format="json",
    )

    assert corrected.status_code == 201, corrected.json()
    assert CollectionPickup.objects.get().collection_id == corrected.json()["replacement"]["id"]


def test_a_pickup_of_another_districts_kiosk_cannot_be_received_here(
    as_user, district_officer, city_officer, weidu, jian_an
):
    other_box = kiosk(people.CommunityFactory(district=jian_an))
    pickup = _pickup(other_box, city_officer, paper=1_000)

    response = _ticket(as_user(district_officer), weidu, plant(weidu, "recycling"), "1", "T-5", [pickup.id])

    assert (response.status_code, response.json()["error"]["code"]) == (400, "pickup_not_in_district")
    assert not Collection.objects.exists()


def test_verify_rollups_sees_a_pickup_line_that_does_not_match_its_deposits(district_officer, community):
    resident = people.ResidentFactory(household=households(community, 1)[0])
    box = kiosk(community)
    deposit(box, resident, "paper", 2_000, datetime(2026, 3, 12, 2, tzinfo=UTC))
    pickup = _pickup(box, district_officer, paper=2_000)
    call_command("refresh_rollups")
    assert verify() == []

    PickupLine.objects.filter(pickup=pickup).update(expected_g=1_500)

    assert [p.table for p in verify()] == ["kiosks_pickupline.expected_g"]


@pytest.mark.django_db(transaction=True)
def test_the_backfill_keeps_existing_deposits_meaning(xuchang_db):
    """Deposits made before pickups existed become received collections and one emptying pickup."""
    weidu, _jian_an, _city = xuchang_db
    executor = MigrationExecutor(connection)
    executor.migrate([("stats", "0006_plants_and_receipts")])
    executor.loader.build_graph()
    community = people.CommunityFactory(district=weidu)
    resident = people.ResidentFactory(household=households(community, 1)[0])
    box = kiosk(community)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM stats_collection")
    deposit(box, resident, "paper", 3_000, datetime(2026, 3, 12, 2, tzinfo=UTC))
    deposit(box, resident, "metal", 1_000, datetime(2026, 3, 12, 3, tzinfo=UTC))
    deposit(box, resident, "batteries", 500, datetime(2026, 3, 13, 2, tzinfo=UTC))

    MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert sorted(
        Collection.objects.values_list("date", "category", "destination", "weight_g", "source")
    ) == [
        (date(2026, 3, 12), "recyclable", "recycling", 4_000, "backfill"),
        (date(2026, 3, 13), "hazardous", "hazardous_treatment", 500, "backfill"),
    ]
    backfilled = Pickup.objects.get(kiosk=box)
    assert backfilled.source == "backfill"
    assert sorted(backfilled.lines.values_list("material__code", "weight_g", "expected_g")) == [
        ("batteries", 500, 500),
        ("metal", 1_000, 1_000),
        ("paper", 3_000, 3_000),
    ]
    call_command("refresh_rollups", "--full")
    assert verify() == []


def test_an_indicator_opens_to_the_tickets_pickups_and_deposits_behind_it(
    as_user, district_officer, jian_an_officer, weidu, community
):
    resident = people.ResidentFactory(household=households(community, 1)[0])
    box = kiosk(community)
    deposit(box, resident, "paper", 4_000, datetime(2026, 3, 12, 2, tzinfo=UTC))
    pickup = _pickup(box, district_officer, paper=4_000)
    client = as_user(district_officer)
    ticket = _ticket(client, weidu, plant(weidu, "recycling"), "4", "T-9", [pickup.id]).json()
    landfilled = record(district_officer, weidu, "recyclable", 1, "landfill", DAY)
    record(district_officer, weidu, "kitchen", 7, "composting", DAY)  # not a recyclables flow
    url = f"/api/v1/stats/districts/{weidu.id}/indicators/recyclables_recovery/explain"

    body = client.get(url, MARCH | {"page_size": 1}).json()

    assert (body["indicator"]["numerator_kg"], body["indicator"]["denominator_kg"]) == (4, 5)
    assert body["count"] == 2 and body["next"] is not None
    first = body["results"][0]
    assert (first["collection_id"], first["in_numerator"], first["reference"]) == (ticket["id"], True, "T-9")
    assert first["pickups"] == [
        {
            "id": pickup.id,
            "kiosk_id": box.id,
            "collected_at": first["pickups"][0]["collected_at"],
            "picked_up_kg": 4.0,
            "deposited_kg": 4.0,
        }
    ]
    second = client.get(body["next"]).json()["results"]
    assert [(r["collection_id"], r["in_numerator"]) for r in second] == [(landfilled.id, False)]
    numerator = client.get(url, MARCH | {"side": "numerator"}).json()
    assert [r["collection_id"] for r in numerator["results"]] == [ticket["id"]]
    # Scoped like the figure: another district's officer is told it does not exist.
    assert as_user(jian_an_officer).get(url, MARCH).status_code == 404
    assert client.get(f"/api/v1/stats/districts/{weidu.id}/indicators/nope/explain").status_code == 404
