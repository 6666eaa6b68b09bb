"""Hostile input is a 4xx at the edge, never a 500: duplicate keys, lone surrogates, huge numbers, far years."""

import pytest

from accounts.models import User
from rewards.models import Reward
from tests.rewards.factories import ShopFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("throttle_rates")]

REGISTER = "/api/v1/auth/register"


def _raw(client, path, body: str):
    return client.generic("POST", path, body.encode(), content_type="application/json")


def test_a_duplicate_key_is_refused_not_last_wins(api):
    body = (
        '{"phone": "13800138000", "password": "sorting-is-fun-42", "display_name": "a", "display_name": "b"}'
    )

    response = _raw(api, REGISTER, body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_request"
    assert "display_name" in response.json()["error"]["message"]
    assert not User.objects.exists()


def test_a_duplicate_key_deep_inside_is_refused(api, as_user, city_officer):
    response = _raw(as_user(city_officer), "/api/v1/staff", '{"x": [{"a": 1, "a": 2}]}')

    assert response.status_code == 400


@pytest.mark.parametrize("role", ['"\\ud800"', '"inspector\\udfff"'])
def test_a_lone_surrogate_in_a_choice_field_of_a_staff_endpoint_is_400(as_user, city_officer, role):
    body = (
        '{"phone": "13800138001", "password": "sorting-is-fun-42", "display_name": "x", "role": ' + role + "}"
    )

    response = _raw(as_user(city_officer), "/api/v1/staff", body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_request"
    assert not User.objects.filter(phone="+8613800138001").exists()


def test_a_lone_surrogate_as_a_key_is_400(api):
    response = _raw(api, REGISTER, '{"\\udc00": 1}')

    assert response.status_code == 400


def test_a_proper_surrogate_pair_is_ordinary_text(api):
    body = '{"phone": "13800138002", "password": "sorting-is-fun-42", "display_name": "Li \\ud83d\\ude00"}'

    response = _raw(api, REGISTER, body)

    assert response.status_code == 201
    assert User.objects.get(phone="+8613800138002").display_name == "Li \U0001f600"


@pytest.mark.parametrize("limit", [2**31, 2**63, 10**30])
def test_a_per_resident_limit_beyond_any_column_is_400_and_creates_nothing(as_user, city_officer, limit):
    shop = ShopFactory()
    body = {"name": "soap", "points_cost": 10, "stock": 5, "per_resident_limit": limit, "shop_id": shop.id}

    response = as_user(city_officer).post("/api/v1/rewards", body, format="json")

    assert response.status_code == 400
    assert "per_resident_limit" in response.json()["error"]["fields"]
    assert not Reward.objects.exists()


@pytest.mark.parametrize("field", ["shop_id", "points_cost", "stock"])
def test_every_integer_of_a_reward_is_bounded(as_user, city_officer, field):
    shop = ShopFactory()
    body = {"name": "soap", "points_cost": 10, "stock": 5, "shop_id": shop.id, field: 2**63}

    response = as_user(city_officer).post("/api/v1/rewards", body, format="json")

    assert response.status_code == 400
    assert not Reward.objects.exists()


@pytest.mark.parametrize(
    "period",
    [
        {"from": "9999-01-01", "to": "9999-12-31"},
        {"to": "9999-12-31"},
        {"from": "0001-01-01", "to": "0001-12-31"},
    ],
)
@pytest.mark.parametrize("granularity", ["day", "week", "month"])
def test_a_series_in_a_year_far_from_now_is_400_not_an_overflow(
    as_user, city_officer, weidu, period, granularity
):
    response = as_user(city_officer).get(
        f"/api/v1/stats/districts/{weidu.id}/series", {**period, "granularity": granularity}
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_period"


def test_the_last_supported_year_still_answers(as_user, city_officer, weidu):
    response = as_user(city_officer).get(
        f"/api/v1/stats/districts/{weidu.id}/series",
        {"from": "2199-01-01", "to": "2199-12-31", "granularity": "month"},
    )

    assert response.status_code == 200


def test_a_megabyte_password_never_reaches_the_hasher(api):
    response = api.post(
        "/api/v1/auth/token", {"phone": "13800138000", "password": "x" * 100_000}, format="json"
    )

    assert response.status_code == 400
    assert "password" in response.json()["error"]["fields"]
