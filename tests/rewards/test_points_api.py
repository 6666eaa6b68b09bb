from datetime import timedelta

from django.utils import timezone

from rewards import services
from rewards.models import Material, Reward
from rewards.selectors import rules_for_city
from tests.factories import CityOfficerFactory, DistrictOfficerFactory, ResidentFactory

from .factories import RewardFactory, ShopFactory
from .helpers import give_points


def test_me_points_sums_earnings_and_net_redemptions(resident, as_user):
    services.credit(resident=resident, amount=300, cause="drop:1", kind="sorting")
    services.credit(resident=resident, amount=200, cause="deposit:k:1", kind="deposit")
    kept = services.redeem_reward(resident=resident, reward_id=RewardFactory(points_cost=100).id, quantity=1)
    undone = services.redeem_reward(resident=resident, reward_id=RewardFactory(points_cost=50).id, quantity=1)
    services.cancel_redemption(resident=resident, redemption_id=undone.body["id"])

    body = as_user(resident).get("/api/v1/me/points").json()

    assert kept.body["balance"] == 400
    assert body == {"balance": 400, "earned_total": 500, "redeemed_total": 100}


def test_me_ledger_is_a_cursor_feed_of_own_postings_newest_first(resident, as_user):
    for n in range(5):
        services.credit(resident=resident, amount=10 + n, cause=f"drop:{n}", kind="sorting")
    give_points(ResidentFactory(), 999)
    client = as_user(resident)

    first = client.get("/api/v1/me/ledger?page_size=3").json()
    second = client.get(first["next"]).json()

    amounts = [entry["amount"] for entry in first["results"] + second["results"]]
    assert amounts == [14, 13, 12, 11, 10]
    assert first["results"][0]["kind"] == "sorting"
    assert "cursor=" in first["next"] and second["next"] is None


def test_catalog_lists_only_active_rewards_inside_their_window(resident, as_user):
    shown = RewardFactory(name="布袋")
    RewardFactory(name="下架", active=False)
    RewardFactory(name="过期", valid_until=timezone.now() - timedelta(days=1))
    RewardFactory(name="未开始", valid_from=timezone.now() + timedelta(days=1))

    names = [r["name"] for r in as_user(resident).get("/api/v1/rewards").json()["results"]]

    assert names == [shown.name]


def test_only_a_city_officer_creates_rewards(resident, as_user, weidu):
    shop = ShopFactory()
    body = {"name": "洗衣液", "points_cost": 500, "stock": 20, "per_resident_limit": 1, "shop_id": shop.id}

    assert as_user(resident).post("/api/v1/rewards", body, format="json").status_code == 403
    assert (
        as_user(DistrictOfficerFactory(district=weidu))
        .post("/api/v1/rewards", body, format="json")
        .status_code
        == 403
    )
    created = as_user(CityOfficerFactory(city=weidu.city)).post("/api/v1/rewards", body, format="json")

    assert created.status_code == 201
    reward = Reward.objects.get(name="洗衣液")
    assert reward.stock == reward.total_stock == 20 and reward.shop == shop


def test_reward_validation_errors_name_their_fields(city_officer, as_user):
    response = as_user(city_officer).post(
        "/api/v1/rewards", {"name": "x", "points_cost": 0, "stock": -1}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) >= {"points_cost", "stock", "shop_id"}


def test_city_officer_manages_materials_and_point_rules(city_officer, resident, as_user, rules_at_once):
    client = as_user(city_officer)
    new = {
        "code": "cardboard",
        "name": "纸板",
        "category": "recyclable",
        "points_per_kg": 25,
        "min_weight_g": 100,
        "max_weight_g": 40000,
    }

    assert client.post("/api/v1/materials", new, format="json").status_code == 201
    assert Material.objects.get(code="cardboard").points_per_kg == 25
    bad = client.post(
        "/api/v1/materials", {**new, "code": "x", "min_weight_g": 5, "max_weight_g": 1}, format="json"
    )
    assert bad.status_code == 400
    assert (
        client.patch("/api/v1/point-rules", {"points_per_accepted_drop": 15}, format="json").status_code
        == 200
    )
    assert rules_for_city(city_officer.city_id).points_per_accepted_drop == 15
    assert as_user(resident).post("/api/v1/materials", {**new, "code": "y"}, format="json").status_code == 403
    assert (
        as_user(resident)
        .patch("/api/v1/point-rules", {"points_per_accepted_drop": 99}, format="json")
        .status_code
        == 403
    )


def test_leaderboards_rank_by_points_earned_and_never_show_phone_numbers(community, as_user):
    alice = ResidentFactory(household__community=community, display_name="小王", leaderboard_opt_in=True)
    bob = ResidentFactory(household__community=community, display_name="小李", leaderboard_opt_in=True)
    services.credit(resident=alice, amount=50, cause="drop:a", kind="sorting")
    services.credit(resident=bob, amount=80, cause="deposit:b", kind="deposit")
    give_points(alice, 10_000)  # an adjustment is not earned by sorting and does not rank

    response = as_user(alice).get("/api/v1/leaderboards?scope=community&period=week")

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["display_name"], r["points"], r["rank"]) for r in rows] == [("小李", 80, 1), ("小王", 50, 2)]
    assert str(alice.phone)[3:] not in response.content.decode()
    bad = as_user(alice).get("/api/v1/leaderboards?scope=planet")
    assert bad.status_code == 400
