from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.services import issue_resident_code
from sorting.models import Bin, Drop, SortingPolicy
from sorting.services import bin_code
from tests.factories import ResidentFactory, UserFactory

from .helpers import AT_BIN_JSON, make_bin

URL = "/api/v1/drops"


@pytest.fixture
def bin_and_code(community):
    return make_bin(community)


def post_drop(client, code, **fields):
    return client.post(URL, {"bin_code": code, **AT_BIN_JSON, **fields}, format="json")


def test_a_drop_is_recorded_as_pending(resident, as_user, bin_and_code):
    bin_, code = bin_and_code

    response = post_drop(as_user(resident), code, lat="34.030100", lng="113.850100")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending" and body["bin"] == bin_.pk and body["category"] == "recyclable"
    assert body["points_awarded"] == 0 and body["balance"] == 0
    drop = Drop.objects.get()
    assert drop.resident == resident and drop.household_id == resident.household_id


@pytest.mark.parametrize("spoil", ["forged", "mutated", "wrong_kind", "voided"])
def test_bad_bin_codes_are_invalid_and_record_nothing(resident, as_user, bin_and_code, spoil):
    bin_, code = bin_and_code
    if spoil == "forged":
        code = "eyJiIjoxfQ:1abcde:forgedsignature"
    elif spoil == "mutated":
        code = code[:5] + ("A" if code[5] != "A" else "B") + code[6:]
    elif spoil == "wrong_kind":
        code = issue_resident_code(resident)[0]
    else:
        Bin.objects.filter(pk=bin_.pk).update(label_version=2)

    response = post_drop(as_user(resident), code)

    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_code"
    assert not Drop.objects.exists()


def test_a_reprinted_label_works_and_the_old_one_does_not(district_officer, resident, as_user, bin_and_code):
    bin_, old_code = bin_and_code
    new_code = as_user(district_officer).post(f"/api/v1/bins/{bin_.pk}/reprint").json()["code"]

    assert post_drop(as_user(resident), old_code).json()["error"]["code"] == "invalid_code"
    assert post_drop(as_user(resident), new_code).status_code == 201


def test_an_inactive_bin_refuses_drops(resident, as_user, bin_and_code):
    bin_, code = bin_and_code
    Bin.objects.filter(pk=bin_.pk).update(status="inactive")
    response = post_drop(as_user(resident), code)
    assert response.status_code == 409 and response.json()["error"]["code"] == "bin_inactive"


def test_the_same_bin_again_inside_the_window_is_too_soon(resident, as_user, bin_and_code, weidu):
    SortingPolicy.objects.create(district=weidu, repeat_window_seconds=600)
    _bin, code = bin_and_code
    client = as_user(resident)
    assert post_drop(client, code).status_code == 201

    refused = post_drop(client, code)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "too_soon"

    Drop.objects.update(created_at=timezone.now() - timedelta(seconds=601))
    assert post_drop(client, code).status_code == 201
    assert Drop.objects.count() == 2


def test_the_daily_limit_counts_todays_drops(resident, as_user, community, weidu):
    SortingPolicy.objects.create(district=weidu, daily_drop_limit=2, repeat_window_seconds=0)
    codes = [make_bin(community, name=f"{n}号桶")[1] for n in range(3)]
    client = as_user(resident)

    assert post_drop(client, codes[0]).status_code == 201
    assert post_drop(client, codes[1]).status_code == 201
    refused = post_drop(client, codes[2])

    assert refused.status_code == 429 and refused.json()["error"]["code"] == "daily_limit"
    assert Drop.objects.count() == 2


def test_gps_beyond_the_distance_limit_is_out_of_range(resident, as_user, bin_and_code, weidu):
    SortingPolicy.objects.create(district=weidu, max_distance_m=200)
    _bin, code = bin_and_code
    client = as_user(resident)
    # 0.0017 degrees of latitude is about 189 m; 0.0019 about 211 m.
    assert post_drop(client, code, lat=str(Decimal("34.0317")), lng="113.850000").status_code == 201
    Drop.objects.all().delete()
    refused = post_drop(client, code, lat=str(Decimal("34.0319")), lng="113.850000")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "out_of_range"
    assert not Drop.objects.exists()


def test_without_gps_the_distance_rule_does_not_apply(resident, as_user, community):
    _bin, code = make_bin(community, lat=None, lng=None)
    assert post_drop(as_user(resident), code, lat="10.0", lng="10.0").status_code == 201


def test_a_drop_without_coordinates_at_a_placed_bin_is_refused(resident, as_user, bin_and_code):
    _bin, code = bin_and_code
    client = as_user(resident)

    refused = client.post(URL, {"bin_code": code}, format="json")
    half = client.post(URL, {"bin_code": code, "lat": "34.030000"}, format="json")

    assert refused.status_code == 400 and refused.json()["error"]["code"] == "coordinates_required"
    assert half.status_code == 400
    assert not Drop.objects.exists()


def test_a_district_may_let_drops_come_without_coordinates(resident, as_user, bin_and_code, weidu):
    SortingPolicy.objects.create(district=weidu, require_coordinates=False)
    _bin, code = bin_and_code
    assert as_user(resident).post(URL, {"bin_code": code}, format="json").status_code == 201
    assert Drop.objects.get().lat is None


def test_a_bin_without_a_known_place_needs_no_coordinates(resident, as_user, community):
    _bin, code = make_bin(community, lat=None, lng=None)
    assert as_user(resident).post(URL, {"bin_code": code}, format="json").status_code == 201


def test_only_residents_with_a_household_record_drops(as_user, bin_and_code, district_officer):
    _bin, code = bin_and_code
    homeless = post_drop(as_user(UserFactory()), code)
    assert homeless.status_code == 409 and homeless.json()["error"]["code"] == "no_household"
    assert post_drop(as_user(district_officer), code).status_code == 403
    assert not Drop.objects.exists()


def test_residents_see_only_their_own_drops(resident, as_user, bin_and_code):
    _bin, code = bin_and_code
    post_drop(as_user(resident), code)
    other = ResidentFactory()

    assert len(as_user(resident).get(URL).json()["results"]) == 1
    assert as_user(other).get(URL).json()["results"] == []
    assert as_user(resident).get(f"{URL}?status=bogus").status_code == 400


def test_bins_are_created_by_district_officers_in_their_district(
    district_officer, as_user, community, jian_an
):
    from tests.factories import CommunityFactory

    client = as_user(district_officer)
    created = client.post(
        "/api/v1/bins", {"community_id": community.id, "category": "kitchen", "name": "厨余1"}, format="json"
    )
    elsewhere = client.post(
        "/api/v1/bins",
        {"community_id": CommunityFactory(district=jian_an).id, "category": "kitchen", "name": "x"},
        format="json",
    )
    bad = client.post(
        "/api/v1/bins", {"community_id": community.id, "category": "glitter", "name": "x"}, format="json"
    )

    assert created.status_code == 201
    bin_ = Bin.objects.get(pk=created.json()["id"])
    assert created.json()["code"] == bin_code(bin_) and bin_.category == "kitchen"
    assert elsewhere.status_code == 403 and bad.status_code == 400
    assert Bin.objects.count() == 1
