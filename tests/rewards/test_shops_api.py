"""Shops and merchants through the API, settlement per shop and period, the city's liability."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from backend.audit.models import AuditEntry
from geo.models import City, District
from rewards import services
from rewards.ledger import credit
from rewards.models import Account, LedgerTransaction, Redemption, Shop
from rewards.verification import find_violations
from tests import factories

from .factories import RewardFactory, ShopFactory


@pytest.fixture
def other_city(db):
    city = City.objects.create(name="许昌以外", admin_code="419900")
    District.objects.create(city=city, name="外区", slug="elsewhere", admin_code="419901")
    return city


@pytest.mark.django_db
def test_a_city_officer_creates_and_updates_a_shop_of_their_city(city_officer, weidu, as_user):
    client = as_user(city_officer)
    created = client.post("/api/v1/shops", {"name": "回收超市", "district_id": weidu.pk}, format="json")
    assert created.status_code == 201, created.content
    shop = Shop.objects.get(pk=created.json()["id"])
    assert (shop.city_id, shop.district_id) == (weidu.city_id, weidu.pk)
    patched = client.patch(f"/api/v1/shops/{shop.pk}", {"name": "新名字"}, format="json")
    assert patched.status_code == 200 and patched.json()["name"] == "新名字"
    shop.refresh_from_db()
    assert shop.name == "新名字"
    assert AuditEntry.objects.filter(object_type="rewards.shop", object_id=str(shop.pk)).count() == 2


@pytest.mark.django_db
def test_a_district_in_another_city_is_refused(city_officer, other_city, as_user):
    district = other_city.districts.get()
    response = as_user(city_officer).post(
        "/api/v1/shops", {"name": "x", "district_id": district.pk}, format="json"
    )
    assert response.status_code == 403 and response.json()["error"]["code"] == "out_of_scope"
    assert not Shop.objects.exists()


@pytest.mark.django_db
def test_officers_see_shops_of_their_scope_only(
    city_officer, district_officer, weidu, jian_an, other_city, as_user
):
    mine = ShopFactory(city=weidu.city, district=weidu)
    neighbour = ShopFactory(city=weidu.city, district=jian_an)
    foreign = ShopFactory(city=other_city, district=other_city.districts.get())
    seen = {row["id"] for row in as_user(city_officer).get("/api/v1/shops").json()["results"]}
    assert seen == {mine.pk, neighbour.pk}
    seen = {row["id"] for row in as_user(district_officer).get("/api/v1/shops").json()["results"]}
    assert seen == {mine.pk}
    assert as_user(city_officer).get(f"/api/v1/shops/{foreign.pk}").status_code == 404
    assert as_user(district_officer).post("/api/v1/shops", {"name": "x"}, format="json").status_code == 403


@pytest.mark.django_db
def test_merchants_are_added_and_removed(city_officer, weidu, as_user):
    shop = ShopFactory(city=weidu.city, merchants=[])
    merchant = factories.MerchantFactory(city=weidu.city)
    client = as_user(city_officer)
    added = client.post(f"/api/v1/shops/{shop.pk}/merchants", {"merchant_id": merchant.pk}, format="json")
    assert added.status_code == 200, added.content
    assert [m["id"] for m in added.json()["merchants"]] == [merchant.pk]
    assert list(shop.merchants.all()) == [merchant]
    removed = client.delete(f"/api/v1/shops/{shop.pk}/merchants/{merchant.pk}")
    assert removed.status_code == 200 and removed.json()["merchants"] == []
    assert not shop.merchants.exists()


@pytest.mark.django_db
def test_a_merchant_of_another_city_or_a_non_merchant_is_refused(
    city_officer, weidu, other_city, resident, as_user
):
    shop = ShopFactory(city=weidu.city, merchants=[])
    foreign = factories.MerchantFactory(city=other_city)
    client = as_user(city_officer)
    response = client.post(f"/api/v1/shops/{shop.pk}/merchants", {"merchant_id": foreign.pk}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "merchant_other_city"
    response = client.post(f"/api/v1/shops/{shop.pk}/merchants", {"merchant_id": resident.pk}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "not_a_merchant"
    assert not shop.merchants.exists()
    assert not AuditEntry.objects.exists()


def _fund(resident, amount, cause):
    credit(resident=resident, amount=amount, cause=cause, kind=LedgerTransaction.Kind.DEPOSIT)


def _redeem(resident, reward, quantity=1) -> Redemption:
    result = services.redeem_reward(resident=resident, reward_id=reward.pk, quantity=quantity)
    return Redemption.objects.get(pk=result.body["id"])


@pytest.fixture
def trading(community, weidu):
    """Two residents, a shop with two rewards, three vouchers: two fulfilled, one left issued."""
    merchant = factories.MerchantFactory(city=weidu.city)
    shop = ShopFactory(city=weidu.city, district=weidu, merchants=[merchant])
    cheap = RewardFactory(shop=shop, points_cost=30, stock=10, stated_value_fen=250, name="=HYPERLINK(1)")
    dear = RewardFactory(shop=shop, points_cost=100, stock=10, stated_value_fen=1000)
    alice = factories.ResidentFactory(household__community=community)
    bob = factories.ResidentFactory(household__community=community)
    _fund(alice, 500, "test:alice")
    _fund(bob, 200, "test:bob")
    first = _redeem(alice, cheap, quantity=2)
    second = _redeem(alice, dear)
    third = _redeem(bob, dear)
    for voucher in (first, second):
        services.fulfil_voucher(merchant=merchant, voucher_code=voucher.voucher_code)
    return {"shop": shop, "alice": alice, "bob": bob, "fulfilled": [first, second], "open": third}


def _today():
    return timezone.localdate()


@pytest.mark.django_db
def test_settlement_totals_equal_a_hand_count(city_officer, trading, as_user):
    today = _today()
    response = as_user(city_officer).get(
        f"/api/v1/shops/{trading['shop'].pk}/settlement?from={today - timedelta(days=1)}&to={today}"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    # Hand count: 2 x 30-point units worth 2.50 each, and 1 x 100-point unit worth 10.00.
    assert body["totals"] == {"vouchers": 2, "units": 3, "points": 160, "stated_value_fen": 1500}
    assert body["from"] == str(today - timedelta(days=1)) and body["to"] == str(today)
    assert sorted(v["id"] for v in body["vouchers"]) == sorted(v.pk for v in trading["fulfilled"])


@pytest.mark.django_db
def test_settlement_csv_neutralises_formula_cells(city_officer, trading, as_user):
    today = _today()
    response = as_user(city_officer).get(
        f"/api/v1/shops/{trading['shop'].pk}/settlement.csv?from={today}&to={today}"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "voucher_id"
    names = [row[3] for row in rows[1:-1]]
    assert "'=HYPERLINK(1)" in names and "=HYPERLINK(1)" not in names
    assert rows[-1][0] == "total" and rows[-1][5] == "160"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("from=2020-01-01&to=2023-01-05", "period_too_long"),
        ("from=2024-02-02&to=2024-02-01", "validation_error"),
        ("from=1999-12-31&to=2000-01-02", "validation_error"),
        ("from=2024-01-01", "validation_error"),
        ("from=junk&to=2024-01-01", "validation_error"),
    ],
)
def test_bad_settlement_periods_are_refused(city_officer, weidu, as_user, query, code):
    shop = ShopFactory(city=weidu.city)
    response = as_user(city_officer).get(f"/api/v1/shops/{shop.pk}/settlement?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


@pytest.mark.django_db
def test_liability_equals_the_ledger_and_a_hand_count(city_officer, trading, as_user):
    assert find_violations() == []
    body = as_user(city_officer).get("/api/v1/liability").json()
    # Hand count: alice 500 - 60 - 100 = 340, bob 200 - 100 = 100; bob's voucher (100) is still owed.
    assert body["points_held"] == 440
    assert body["vouchers_outstanding"] == 1 and body["voucher_points_outstanding"] == 100
    assert body["total_points"] == 540
    ledger_held = sum(Account.objects.filter(kind=Account.Kind.RESIDENT).values_list("balance", flat=True))
    assert body["points_held"] == ledger_held
    yesterday = as_user(city_officer).get(f"/api/v1/liability?as_of={_today() - timedelta(days=1)}").json()
    assert yesterday["total_points"] == 0


@pytest.mark.django_db
def test_liability_is_for_city_officers(district_officer, as_user):
    assert as_user(district_officer).get("/api/v1/liability").status_code == 403
    assert as_user(district_officer).get("/api/v1/liability?as_of=2300-01-01").status_code == 403
