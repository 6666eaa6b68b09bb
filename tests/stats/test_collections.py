"""Collections: who may record them, corrections by reversal, and weighbridge CSV imports."""

from datetime import date, timedelta

import pytest

from stats.models import Collection, CollectionDaily
from tests import factories

from .factories import record

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 10)


def _body(district, **overrides):
    return {
        "district_id": district.id,
        "category": "kitchen",
        "weight_kg": "1250.5",
        "date": DAY.isoformat(),
        "destination": "composting",
        **overrides,
    }


def test_a_district_officer_records_a_collection_in_their_district(
    as_user, district_officer, weidu, community
):
    response = as_user(district_officer).post(
        "/api/v1/collections", _body(weidu, community_id=community.id), format="json"
    )

    assert response.status_code == 201, response.json()
    collection = Collection.objects.get(pk=response.json()["id"])
    assert (collection.weight_g, collection.community_id, collection.recorded_by) == (
        1_250_500,
        community.id,
        district_officer,
    )
    rollup = CollectionDaily.objects.get(
        district=weidu, day=DAY, category="kitchen", destination="composting"
    )
    assert rollup.weight_g == 1_250_500


def test_a_district_officer_cannot_record_for_another_district(as_user, district_officer, jian_an):
    response = as_user(district_officer).post("/api/v1/collections", _body(jian_an), format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "out_of_scope"
    assert not Collection.objects.exists()
    assert not CollectionDaily.objects.exists()


def test_a_city_officer_records_for_any_district(as_user, city_officer, jian_an):
    response = as_user(city_officer).post("/api/v1/collections", _body(jian_an), format="json")

    assert response.status_code == 201
    assert Collection.objects.get().district == jian_an


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"weight_kg": "0"}, "weight_kg"),
        ({"destination": "ocean"}, "destination"),
        ({"category": "plutonium"}, "category"),
        ({"date": "2026-13-01"}, "date"),
    ],
)
def test_bad_collection_input_is_a_400_naming_the_field(as_user, district_officer, weidu, overrides, field):
    response = as_user(district_officer).post("/api/v1/collections", _body(weidu, **overrides), format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Collection.objects.exists()


def test_a_collection_in_the_future_is_refused(as_user, district_officer, weidu):
    tomorrow = date.today() + timedelta(days=2)
    response = as_user(district_officer).post(
        "/api/v1/collections", _body(weidu, date=tomorrow.isoformat()), format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "future_date"
    assert not Collection.objects.exists()


def test_a_community_of_another_district_is_refused(as_user, district_officer, weidu, jian_an):
    other = factories.CommunityFactory(district=jian_an)
    response = as_user(district_officer).post(
        "/api/v1/collections", _body(weidu, community_id=other.id), format="json"
    )

    assert response.status_code == 400
    assert not Collection.objects.exists()


def test_a_correction_reverses_the_original_and_records_the_replacement(as_user, district_officer, weidu):
    original = record(district_officer, weidu, "kitchen", 1000, "composting", DAY)
    client = as_user(district_officer)

    response = client.post(
        f"/api/v1/collections/{original.id}/correct",
        {"replacement": _body(weidu, weight_kg="800"), "note": "weighbridge misread"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["reversal"]["weight_g"] == -1_000_000
    assert body["reversal"]["reverses"] == original.id
    assert body["replacement"]["weight_g"] == 800_000
    assert body["replacement"]["replaces"] == original.id
    original.refresh_from_db()
    assert original.weight_g == 1_000_000  # never edited in place
    assert Collection.objects.count() == 3
    rollup = CollectionDaily.objects.get(
        district=weidu, day=DAY, category="kitchen", destination="composting"
    )
    assert rollup.weight_g == 800_000


def test_a_collection_is_corrected_once_and_a_reversal_never(as_user, district_officer, weidu):
    original = record(district_officer, weidu, "kitchen", 1000, "composting", DAY)
    client = as_user(district_officer)
    first = client.post(f"/api/v1/collections/{original.id}/correct", {}, format="json")
    assert first.status_code == 201
    reversal_id = first.json()["reversal"]["id"]

    again = client.post(f"/api/v1/collections/{original.id}/correct", {}, format="json")
    of_reversal = client.post(f"/api/v1/collections/{reversal_id}/correct", {}, format="json")

    assert again.status_code == 409 and again.json()["error"]["code"] == "already_corrected"
    assert of_reversal.status_code == 409 and of_reversal.json()["error"]["code"] == "not_correctable"
    assert Collection.objects.count() == 2
    assert CollectionDaily.objects.get().weight_g == 0


def test_another_districts_collection_cannot_be_corrected(as_user, district_officer, city_officer, jian_an):
    theirs = record(city_officer, jian_an, "other", 500, "landfill", DAY)

    response = as_user(district_officer).post(f"/api/v1/collections/{theirs.id}/correct", {}, format="json")

    assert response.status_code == 404
    assert Collection.objects.count() == 1


def test_the_collection_list_shows_only_the_officers_district(
    as_user, district_officer, city_officer, weidu, jian_an
):
    mine = record(city_officer, weidu, "other", 500, "landfill", DAY)
    record(city_officer, jian_an, "other", 700, "landfill", DAY)

    body = as_user(district_officer).get("/api/v1/collections").json()

    assert [c["id"] for c in body["results"]] == [mine.id]
    assert len(as_user(city_officer).get("/api/v1/collections").json()["results"]) == 2


CSV = """district,community,category,weight_kg,date,destination,reference
411002,,recyclable,12.5,2026-03-10,recycling,WB-1
weidu,,kitchen,abc,2026-03-10,composting,WB-2
魏都区,,厨余垃圾,30,2026-03-11,堆肥,WB-3
jian-an,,other,10,2026-03-11,landfill,WB-4
nowhere,,other,10,2026-03-11,landfill,WB-5
"""


def _upload(client, text, name="export.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        "/api/v1/collections/import",
        {"file": SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")},
        format="multipart",
    )


def test_a_weighbridge_import_records_good_rows_and_reports_each_bad_row(as_user, district_officer, weidu):
    response = _upload(as_user(district_officer), CSV)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["created"] == 2
    errors = {e["line"]: e for e in body["errors"]}
    assert set(errors) == {3, 5, 6}
    assert "weight_kg" in errors[3]["fields"]
    assert errors[5]["code"] == "out_of_scope"  # Jian'an is not this officer's district
    assert "district" in errors[6]["fields"]
    saved = Collection.objects.order_by("id")
    assert [(c.reference, c.weight_g, c.category, c.destination) for c in saved] == [
        ("WB-1", 12_500, "recyclable", "recycling"),
        ("WB-3", 30_000, "kitchen", "composting"),
    ]
    assert all(c.source == "import" for c in saved)


def test_the_same_weighbridge_ticket_is_imported_once(as_user, district_officer, weidu):
    client = as_user(district_officer)
    _upload(client, CSV)

    again = _upload(client, CSV).json()

    assert again["created"] == 0
    assert {e["line"]: e["code"] for e in again["errors"]}[2] == "duplicate_reference"
    assert Collection.objects.count() == 2


def test_a_csv_without_the_needed_columns_is_refused(as_user, district_officer):
    response = _upload(as_user(district_officer), "foo,bar\n1,2\n")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_csv"
    assert not Collection.objects.exists()
