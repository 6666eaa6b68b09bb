"""Random sequences of ledger operations keep every invariant (hypothesis, against PostgreSQL)."""

from datetime import timedelta

from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from rewards import services
from rewards.models import Account, Redemption, Reward
from rewards.verification import find_violations
from tests.factories import MerchantFactory, ResidentFactory

from .factories import RewardFactory, ShopFactory

operation = st.one_of(
    st.tuples(st.just("credit"), st.integers(0, 2), st.integers(1, 400)),
    st.tuples(st.just("redeem"), st.integers(0, 2), st.integers(1, 3)),
    st.tuples(st.just("cancel"), st.integers(0, 2), st.integers(0, 9)),
    st.tuples(st.just("fulfil"), st.integers(0, 2), st.integers(0, 9)),
    st.tuples(st.just("expire"), st.integers(0, 2), st.integers(0, 9)),
    st.tuples(st.just("retry_credit"), st.integers(0, 2), st.integers(0, 9)),
)


class LedgerPropertyTest(TestCase):
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(operation, min_size=1, max_size=25))
    def test_random_operation_sequences_keep_every_invariant(self, operations):
        residents = [ResidentFactory() for _ in range(3)]
        merchant = MerchantFactory()
        reward = RewardFactory(
            points_cost=90, stock=4, per_resident_limit=3, shop=ShopFactory(merchants=[merchant])
        )
        credits = []
        expected = {r.pk: 0 for r in residents}

        for name, who, value in operations:
            resident = residents[who]
            try:
                if name == "credit":
                    cause = f"prop:{len(credits)}"
                    services.credit(resident=resident, amount=value, cause=cause, kind="deposit")
                    credits.append((resident, value, cause))
                    expected[resident.pk] += value
                elif name == "retry_credit" and credits:
                    earlier_resident, amount, cause = credits[value % len(credits)]
                    services.credit(resident=earlier_resident, amount=amount, cause=cause, kind="deposit")
                elif name == "redeem":
                    body = services.redeem_reward(resident=resident, reward_id=reward.pk, quantity=value).body
                    expected[resident.pk] -= body["points_spent"]
                elif name in {"cancel", "fulfil"}:
                    redemption = Redemption.objects.order_by("id")[value:].first()
                    if redemption is None:
                        continue
                    if name == "cancel":
                        services.cancel_redemption(resident=redemption.resident, redemption_id=redemption.pk)
                        expected[redemption.resident_id] += redemption.points_spent
                    else:
                        services.fulfil_voucher(merchant=merchant, voucher_code=redemption.voucher_code)
                elif name == "expire":
                    Reward.objects.filter(pk=reward.pk).update(
                        valid_until=timezone.now() - timedelta(seconds=1)
                    )
                    for redemption in Redemption.objects.filter(status="issued"):
                        expected[redemption.resident_id] += redemption.points_spent
                    services.expire_vouchers()
                    Reward.objects.filter(pk=reward.pk).update(valid_until=None)
            except Exception as exc:
                # Refusals are part of the game; anything else is a bug.
                assert getattr(exc, "code", None) in {
                    "insufficient_points",
                    "out_of_stock",
                    "limit_reached",
                    "not_cancellable",
                    "code_used",
                }, exc

        assert find_violations() == []
        for resident in residents:
            balance = Account.objects.filter(owner=resident).values_list("balance", flat=True).first() or 0
            assert balance == expected[resident.pk] >= 0
