import pytest

from geo.models import Community, District
from tests import factories

pytestmark = pytest.mark.django_db

XUCHANG = {
    "魏都区": "411002",
    "建安区": "411003",
    "鄢陵县": "411024",
    "襄城县": "411025",
    "禹州市": "411081",
    "长葛市": "411082",
    "东城区": None,
    "城乡一体化示范区": None,
    "经济技术开发区": None,
}


def test_the_nine_xuchang_districts_are_listed_with_their_national_codes(api):
    response = api.get("/api/v1/districts")

    assert response.status_code == 200
    body = response.json()
    assert {"results", "next", "previous"} <= set(body)
    assert body["next"] is None and body["previous"] is None
    assert {d["name"]: d["admin_code"] for d in body["results"]} == XUCHANG
    assert len(body["results"]) == 9
    zones = [d for d in body["results"] if d["kind"] == "zone"]
    assert len(zones) == 3
    assert all(d["name_en"] and d["slug"] for d in body["results"])


def test_districts_are_public_even_with_a_bad_token(api):
    api.credentials(HTTP_AUTHORIZATION="Bearer junk")

    assert api.get("/api/v1/districts").status_code == 200


def test_district_pages_link_to_each_other(api):
    first = api.get("/api/v1/districts", {"page_size": 4}).json()

    assert len(first["results"]) == 4
    assert first["previous"] is None
    assert "page=2" in first["next"]
    second = api.get(first["next"]).json()
    assert second["previous"]
    names = {d["name"] for d in first["results"]} | {d["name"] for d in second["results"]}
    assert len(names) == 8


@pytest.mark.parametrize("query", [{"page": "99"}, {"page": "x"}])
def test_a_page_out_of_range_is_404_in_the_envelope(api, query):
    response = api.get("/api/v1/districts", query)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_communities_of_a_district_are_listed(api, weidu, jian_an):
    mine = [factories.CommunityFactory(district=weidu, name=n) for n in ("八一路社区", "南关社区")]
    factories.CommunityFactory(district=jian_an, name="别处社区")

    response = api.get(f"/api/v1/districts/{weidu.id}/communities")

    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None
    assert body["results"] == [{"id": c.id, "name": c.name, "district_id": weidu.id} for c in mine]


def test_an_unknown_district_has_no_communities_404(api):
    missing = District.objects.order_by("-id").first().id + 100

    response = api.get(f"/api/v1/districts/{missing}/communities")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert response.json()["error"]["message"]


# ---- creating communities -------------------------------------------------------------------------


def _create(client, district, name="新华社区"):
    return client.post("/api/v1/communities", {"district_id": district.id, "name": name}, format="json")


def test_a_district_officer_creates_a_community_in_their_district(as_user, district_officer, weidu):
    response = _create(as_user(district_officer), weidu, name="  新华社区 ")

    assert response.status_code == 201
    community = Community.objects.get(district=weidu, name="新华社区")
    assert response.json() == {"id": community.id, "name": "新华社区", "district_id": weidu.id}


def test_a_district_officer_may_not_create_in_another_district(as_user, district_officer, jian_an):
    response = _create(as_user(district_officer), jian_an)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "out_of_scope"
    assert not Community.objects.filter(district=jian_an).exists()


def test_a_city_officer_creates_in_any_district(as_user, city_officer, jian_an):
    response = _create(as_user(city_officer), jian_an)

    assert response.status_code == 201
    assert Community.objects.filter(district=jian_an, name="新华社区").exists()


@pytest.mark.parametrize(
    "role_factory", [factories.ResidentFactory, factories.InspectorFactory, factories.MerchantFactory]
)
def test_residents_and_field_staff_may_not_create_communities(as_user, weidu, role_factory):
    response = _create(as_user(role_factory()), weidu)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert not Community.objects.filter(name="新华社区").exists()


def test_anonymous_may_not_create_communities(api, weidu):
    response = _create(api, weidu)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert not Community.objects.filter(name="新华社区").exists()


def test_a_duplicate_name_in_the_district_is_409(as_user, district_officer, weidu):
    factories.CommunityFactory(district=weidu, name="新华社区")

    response = _create(as_user(district_officer), weidu, name="新华社区 ")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "community_exists"
    assert Community.objects.filter(district=weidu, name="新华社区").count() == 1


def test_the_same_name_in_another_district_is_allowed(as_user, city_officer, weidu, jian_an):
    factories.CommunityFactory(district=weidu, name="新华社区")

    assert _create(as_user(city_officer), jian_an).status_code == 201


def test_an_unknown_district_is_404_when_creating(as_user, district_officer):
    response = as_user(district_officer).post(
        "/api/v1/communities", {"district_id": 999999, "name": "x"}, format="json"
    )

    assert response.status_code == 404
    assert not Community.objects.filter(name="x").exists()


@pytest.mark.parametrize(
    "body", [{}, {"district_id": 1}, {"district_id": 1, "name": ""}, {"district_id": 1, "name": "x" * 129}]
)
def test_a_bad_community_body_is_a_validation_error(as_user, district_officer, body):
    response = as_user(district_officer).post("/api/v1/communities", body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_loading_the_reference_geography_again_changes_nothing_but_repairs_edits():
    from geo.models import City
    from geo.reference import load_xuchang

    District.objects.filter(slug="weidu").update(name="改错的名字", admin_code="999999")
    ids = dict(District.objects.values_list("slug", "id"))

    city = load_xuchang(City, District)
    load_xuchang(City, District)

    assert City.objects.get() == city
    assert (city.name, city.admin_code) == ("许昌市", "411000")
    assert District.objects.count() == 9
    assert dict(District.objects.values_list("slug", "id")) == ids
    assert District.objects.get(slug="weidu").admin_code == "411002"
    assert District.objects.get(slug="weidu").name == "魏都区"
