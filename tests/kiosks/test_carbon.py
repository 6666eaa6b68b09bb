"""Carbon-reduction points credit through the ledger once; a resident's impact matches a hand count."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.services import issue_resident_code
from kiosks.models import Deposit
from rewards.models import EmissionFactor, LedgerTransaction, Material
from rewards.selectors import forget_cached_rules, period_start
from tests.concurrency import run_in_threads
from tests.factories import ResidentFactory
from tests.rewards.helpers import assert_ledger_consistent, rules_now
from tests.stats.factories import deposit as stored_deposit

from .helpers import deposit_body, make_kiosk, signed

URL = "/api/v1/kiosk/deposits"


def set_factor(city, code, kg_per_kg):
    EmissionFactor.objects.update_or_create(
        city=city,
        material=Material.objects.get(code=code),
        destination="recycling",
        defaults={"kg_co2e_per_kg": Decimal(kg_per_kg), "source": "test table", "source_year": 2024},
    )


@pytest.fixture
def city(weidu):
    return weidu.city


@pytest.fixture
def factors(city):
    set_factor(city, "paper", "3.913")
    set_factor(city, "plastic", "1.025")
    set_factor(city, "metal", "4.839")
    forget_cached_rules()


@pytest.fixture
def carbon_points(city, factors):
    rules_now(city.id, carbon_points_enabled=True, points_per_kg_co2e=10)


@pytest.fixture
def kiosk(community):
    return make_kiosk(community, materials=("paper", "plastic", "metal", "glass"))


def deposit(kiosk, resident, **fields):
    body = deposit_body(resident_code=issue_resident_code(resident)[0], **fields)
    return body, signed("POST", URL, body, kiosk=kiosk)


def test_under_the_carbon_rule_a_deposit_earns_points_per_kg_co2e_with_a_memo_saying_so(
    kiosk, resident, carbon_points, as_user
):
    # 2500 g of paper x 3.913 kg/kg = 9782.5 g CO2e; x 10 points per kg -> 97.825 -> 97 points
    body, response = deposit(kiosk, resident, material="paper", weight_g=2500)

    assert response.status_code == 201, response.content
    assert response.json()["points_awarded"] == 97
    ledger = LedgerTransaction.objects.get(idempotency_key=f"deposit:{kiosk.pk}:{body['deposit_id']}")
    assert ledger.memo_key == "deposit_carbon"
    version = ledger.memo_params.pop("rules_version")
    assert ledger.memo_params == {"material": "paper", "weight_g": 2500, "co2e_g": 9782}
    memo = as_user(resident).get("/api/v1/me/ledger", HTTP_ACCEPT_LANGUAGE="en").json()["results"][0]["memo"]
    assert memo == f"Paper, 2500 g: carbon points for 9782 g CO2e avoided (point rules v{version})"
    chinese = as_user(resident).get("/api/v1/me/ledger", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    expected = f"纸类，2500 克：减碳积分，减少 9782 克二氧化碳当量（积分规则第 {version} 版）"  # noqa: RUF001
    assert chinese["results"][0]["memo"] == expected


def test_a_carbon_deposit_retried_credits_once(kiosk, resident, carbon_points):
    body, first = deposit(kiosk, resident, material="metal", weight_g=1000)
    again = signed("POST", URL, body, kiosk=kiosk)

    # 1000 g x 4.839 = 4839 g CO2e -> 48.39 -> 48 points
    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == first.json() and first.json()["points_awarded"] == 48
    assert LedgerTransaction.objects.filter(kind="deposit").count() == 1
    assert Deposit.objects.get().points_awarded == 48
    assert_ledger_consistent()


def test_without_the_carbon_rule_deposits_earn_per_kg_of_material(kiosk, resident, factors):
    _body, response = deposit(kiosk, resident, material="paper", weight_g=2500)

    assert response.json()["points_awarded"] == 50  # 20 points per kg of paper
    assert LedgerTransaction.objects.get(kind="deposit").memo_key == "deposit"


def test_a_material_without_a_factor_earns_no_carbon_points(kiosk, resident, carbon_points):
    EmissionFactor.objects.filter(material__code="glass").delete()
    forget_cached_rules()

    _body, response = deposit(kiosk, resident, material="glass", weight_g=3000)

    assert response.status_code == 201 and response.json()["points_awarded"] == 0
    assert not LedgerTransaction.objects.filter(kind="deposit").exists()


def test_carbon_points_add_no_query_to_a_deposit(kiosk, carbon_points, city):
    def statements(resident):
        code = issue_resident_code(resident)[0]
        with CaptureQueriesContext(connection) as queries:
            assert signed("POST", URL, deposit_body(resident_code=code), kiosk=kiosk).status_code == 201
        return len(queries)

    # The first deposits fill the per-process caches (and create the city's point rules, which empties them).
    statements(ResidentFactory())
    statements(ResidentFactory())
    with_carbon = statements(ResidentFactory())
    rules_now(city.id, carbon_points_enabled=False)
    forget_cached_rules()
    statements(ResidentFactory())
    statements(ResidentFactory())
    without = statements(ResidentFactory())

    assert with_carbon == without


def test_impact_matches_a_hand_count_over_several_materials(kiosk, resident, factors, as_user):
    now = timezone.now()
    last_month = period_start("month") - timedelta(days=2)
    # (material, grams, when)
    for code, grams, when in [
        ("paper", 2500, now),
        ("paper", 1200, now - timedelta(minutes=5)),
        ("plastic", 800, now),
        ("metal", 1000, last_month),
        ("paper", 3000, last_month),
    ]:
        stored_deposit(kiosk, resident, code, grams, when)
    stored_deposit(kiosk, ResidentFactory(household=resident.household), "metal", 9000, now)

    body = as_user(resident).get("/api/v1/me/impact").json()

    # this month: paper 3700 g x 3.913 = 14478.1 -> 14478 g; plastic 800 g x 1.025 = 820 g
    assert body["this_month"] == {
        "kg_by_material": {"paper": 3.7, "plastic": 0.8},
        "kg": 4.5,
        "co2e_kg": 15.298,
    }
    # all time: paper 6700 g x 3.913 = 26217.1 -> 26217; plastic 820; metal 1000 g x 4.839 = 4839
    assert body["all_time"] == {
        "kg_by_material": {"metal": 1.0, "paper": 6.7, "plastic": 0.8},
        "kg": 8.5,
        "co2e_kg": 31.876,
    }
    assert body["rank"] is None  # not opted in


def test_an_opted_in_resident_sees_their_rank_among_opted_in_neighbours(kiosk, community, factors, as_user):
    me = ResidentFactory(household__community=community, leaderboard_opt_in=True)
    ahead = ResidentFactory(household__community=community, leaderboard_opt_in=True)
    behind = ResidentFactory(household__community=community, leaderboard_opt_in=True)
    hidden = ResidentFactory(household__community=community)
    elsewhere = ResidentFactory(leaderboard_opt_in=True)
    for resident, code, grams in [
        (me, "paper", 1000),  # 3913 g
        (ahead, "metal", 1000),  # 4839 g
        (behind, "plastic", 1000),  # 1025 g
        (hidden, "metal", 5000),  # not opted in: not counted
        (elsewhere, "metal", 9000),  # another community
    ]:
        assert deposit(kiosk, resident, material=code, weight_g=grams)[1].status_code == 201

    rank = as_user(me).get("/api/v1/me/impact").json()["rank"]

    assert rank == {"community_id": community.id, "position": 2, "of": 3}


def test_impact_is_the_residents_own_and_staff_are_refused(
    kiosk, resident, factors, district_officer, as_user
):
    other = ResidentFactory(household=resident.household)
    deposit(kiosk, other, material="paper", weight_g=5000)

    mine = as_user(resident).get("/api/v1/me/impact").json()

    assert mine["all_time"] == {"kg_by_material": {}, "kg": 0.0, "co2e_kg": 0.0}
    assert as_user(district_officer).get("/api/v1/me/impact").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_sixteen_concurrent_retries_of_a_carbon_deposit_credit_once(community):
    city = community.district.city
    set_factor(city, "metal", "4.839")
    rules_now(city.id, carbon_points_enabled=True, points_per_kg_co2e=10)
    forget_cached_rules()
    kiosk = make_kiosk(community)
    resident = ResidentFactory(household__community=community)
    body = deposit_body(resident_code=issue_resident_code(resident)[0], material="metal", weight_g=2000)

    responses = run_in_threads(lambda _: signed("POST", URL, body, kiosk=kiosk), 16)

    # 2000 g x 4.839 = 9678 g CO2e -> 96.78 -> 96 points, once
    assert sorted(r.status_code for r in responses) == [200] * 15 + [201]
    assert {r.json()["points_awarded"] for r in responses} == {96}
    credits = LedgerTransaction.objects.filter(kind="deposit")
    assert credits.count() == 1 and credits.get().memo_key == "deposit_carbon"
    assert_ledger_consistent()
