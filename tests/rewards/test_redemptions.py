from datetime import timedelta

import pytest
from django.utils import timezone

from backend.codes.signing import CodeUsed
from rewards import services
from rewards.errors import NotCancellable
from rewards.models import Account, LedgerTransaction, Redemption, Reward
from tests.concurrency import run_in_threads
from tests.factories import MerchantFactory, ResidentFactory

from .factories import RewardFactory, ShopFactory
from .helpers import assert_ledger_consistent, give_points

URL = "/api/v1/redemptions"


def balance(user):
    return Account.objects.get(owner=user).balance


def test_redeeming_spends_points_takes_stock_and_issues_a_voucher(resident, as_user):
    give_points(resident, 500)
    reward = RewardFactory(points_cost=120, stock=3)

    response = as_user(resident).post(URL, {"reward_id": reward.id, "quantity": 2}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "issued" and body["points_spent"] == 240 and body["balance"] == 260
    assert body["voucher_code"]
    reward.refresh_from_db()
    assert reward.stock == 1
    assert balance(resident) == 260
    assert_ledger_consistent()


def test_insufficient_points_is_a_conflict_that_changes_nothing(resident, as_user):
    give_points(resident, 50)
    reward = RewardFactory(points_cost=100, stock=3)

    response = as_user(resident).post(URL, {"reward_id": reward.id}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_points"
    reward.refresh_from_db()
    assert reward.stock == 3 and balance(resident) == 50 and not Redemption.objects.exists()


def test_out_of_stock_is_a_conflict_that_changes_nothing(resident, as_user):
    give_points(resident, 1000)
    reward = RewardFactory(points_cost=100, stock=1)

    response = as_user(resident).post(URL, {"reward_id": reward.id, "quantity": 2}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "out_of_stock"
    assert balance(resident) == 1000 and not Redemption.objects.exists()


def test_the_per_resident_limit_counts_held_vouchers_only(resident, as_user):
    give_points(resident, 1000)
    reward = RewardFactory(points_cost=10, stock=10, per_resident_limit=2)
    client = as_user(resident)

    assert client.post(URL, {"reward_id": reward.id, "quantity": 2}, format="json").status_code == 201
    refused = client.post(URL, {"reward_id": reward.id}, format="json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "limit_reached"

    services.cancel_redemption(resident=resident, redemption_id=Redemption.objects.get().id)
    assert client.post(URL, {"reward_id": reward.id}, format="json").status_code == 201


def test_a_reward_outside_its_window_cannot_be_redeemed(resident, as_user):
    give_points(resident, 1000)
    reward = RewardFactory(valid_until=timezone.now() - timedelta(minutes=1))

    response = as_user(resident).post(URL, {"reward_id": reward.id}, format="json")

    assert response.status_code == 409 and response.json()["error"]["code"] == "reward_unavailable"


@pytest.mark.parametrize("body", [{}, {"reward_id": "x"}, {"reward_id": 1, "quantity": 0}, {"reward_id": -1}])
def test_malformed_redemptions_are_validation_errors(resident, as_user, body):
    response = as_user(resident).post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_the_same_idempotency_key_replays_the_first_answer(resident, as_user):
    give_points(resident, 1000)
    reward = RewardFactory(points_cost=100, stock=5)
    client = as_user(resident)

    first = client.post(URL, {"reward_id": reward.id}, format="json", HTTP_IDEMPOTENCY_KEY="tap-1")
    again = client.post(URL, {"reward_id": reward.id}, format="json", HTTP_IDEMPOTENCY_KEY="tap-1")
    other = client.post(
        URL, {"reward_id": reward.id, "quantity": 2}, format="json", HTTP_IDEMPOTENCY_KEY="tap-1"
    )

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_conflict"
    assert Redemption.objects.count() == 1 and balance(resident) == 900


def test_cancel_refunds_and_restocks_exactly_once(resident, as_user):
    give_points(resident, 300)
    reward = RewardFactory(points_cost=100, stock=2)
    client = as_user(resident)
    redemption_id = client.post(URL, {"reward_id": reward.id}, format="json").json()["id"]

    first = client.post(f"{URL}/{redemption_id}/cancel")
    second = client.post(f"{URL}/{redemption_id}/cancel")

    assert (
        first.status_code == 200 and first.json()["status"] == "cancelled" and first.json()["balance"] == 300
    )
    assert second.status_code == 409 and second.json()["error"]["code"] == "not_cancellable"
    reward.refresh_from_db()
    assert reward.stock == 2 and balance(resident) == 300
    assert LedgerTransaction.objects.filter(idempotency_key=f"cancel:{redemption_id}").count() == 1
    assert_ledger_consistent()


def test_a_resident_cannot_see_or_cancel_another_residents_redemption(resident, as_user):
    give_points(resident, 300)
    redemption_id = as_user(resident).post(URL, {"reward_id": RewardFactory().id}, format="json").json()["id"]
    stranger = as_user(ResidentFactory())

    assert stranger.post(f"{URL}/{redemption_id}/cancel").status_code == 404
    assert stranger.get(URL).json()["results"] == []
    assert Redemption.objects.get().status == "issued"


def test_a_merchant_of_the_shop_fulfils_a_voucher_once(resident, as_user):
    give_points(resident, 300)
    merchant = MerchantFactory()
    reward = RewardFactory(shop=ShopFactory(merchants=[merchant]))
    code = as_user(resident).post(URL, {"reward_id": reward.id}, format="json").json()["voucher_code"]
    client = as_user(merchant)

    first = client.post(f"{URL}/fulfil", {"voucher_code": code}, format="json")
    second = client.post(f"{URL}/fulfil", {"voucher_code": code}, format="json")

    assert first.status_code == 200 and first.json()["status"] == "fulfilled"
    assert second.status_code == 409 and second.json()["error"]["code"] == "code_used"
    cancel = as_user(resident).post(f"{URL}/{first.json()['id']}/cancel")
    assert cancel.status_code == 409
    assert_ledger_consistent()


def test_a_merchant_of_another_shop_or_a_forged_code_cannot_fulfil(resident, as_user):
    give_points(resident, 300)
    code = (
        as_user(resident).post(URL, {"reward_id": RewardFactory().id}, format="json").json()["voucher_code"]
    )
    outsider = as_user(MerchantFactory())

    assert outsider.post(f"{URL}/fulfil", {"voucher_code": code}, format="json").status_code == 403
    forged = outsider.post(f"{URL}/fulfil", {"voucher_code": code[:-2] + "xx"}, format="json")
    assert forged.status_code == 400 and forged.json()["error"]["code"] == "invalid_code"
    assert as_user(resident).post(f"{URL}/fulfil", {"voucher_code": code}, format="json").status_code == 403
    assert Redemption.objects.get().status == "issued"


def test_unfulfilled_vouchers_expire_with_the_window_and_refund_once(resident):
    give_points(resident, 300)
    reward = RewardFactory(points_cost=100, stock=2)
    services.redeem_reward(resident=resident, reward_id=reward.id, quantity=1)
    Reward.objects.filter(pk=reward.pk).update(valid_until=timezone.now() - timedelta(seconds=1))

    assert services.expire_vouchers() == 1
    assert services.expire_vouchers() == 0

    redemption = Redemption.objects.get()
    reward.refresh_from_db()
    assert redemption.status == "expired" and reward.stock == 2 and balance(resident) == 300
    assert_ledger_consistent()


@pytest.mark.django_db(transaction=True)
def test_thirty_two_threads_racing_for_five_items_get_exactly_five_over_twenty_rounds():
    residents = [ResidentFactory() for _ in range(32)]
    for person in residents:
        give_points(person, 10_000)
    for _round in range(20):
        reward = RewardFactory(points_cost=70, stock=5)
        spent_before = sum(balance(p) for p in residents)

        # 64 attempts: every thread tries twice.
        def attempt(index, reward_id=reward.id):
            outcomes = []
            for _ in range(2):
                try:
                    services.redeem_reward(resident=residents[index], reward_id=reward_id, quantity=1)
                    outcomes.append("ok")
                except Exception as exc:
                    outcomes.append(getattr(exc, "code", repr(exc)))
            return outcomes

        outcomes = [o for result in run_in_threads(attempt, 32) for o in result]

        reward.refresh_from_db()
        assert outcomes.count("ok") == 5, outcomes
        assert set(outcomes) <= {"ok", "out_of_stock"}
        assert reward.stock == 0
        assert spent_before - sum(balance(p) for p in residents) == 5 * 70
        assert Redemption.objects.filter(reward=reward).count() == 5
        assert_ledger_consistent()


@pytest.mark.django_db(transaction=True)
def test_cancel_racing_fulfil_has_exactly_one_winner():
    for _round in range(10):
        resident = ResidentFactory()
        merchant = MerchantFactory()
        give_points(resident, 100)
        reward = RewardFactory(points_cost=100, stock=1, shop=ShopFactory(merchants=[merchant]))
        body = services.redeem_reward(resident=resident, reward_id=reward.id, quantity=1).body

        def act(index, body=body, resident=resident, merchant=merchant):
            if index == 0:
                return services.cancel_redemption(resident=resident, redemption_id=body["id"])
            return services.fulfil_voucher(merchant=merchant, voucher_code=body["voucher_code"])

        results = run_in_threads(act, 2)

        losers = [r for r in results if isinstance(r, NotCancellable | CodeUsed)]
        assert len(losers) == 1, results
        status = Redemption.objects.get(pk=body["id"]).status
        assert status in {"cancelled", "fulfilled"}
        assert balance(resident) == (100 if status == "cancelled" else 0)
        assert_ledger_consistent()
