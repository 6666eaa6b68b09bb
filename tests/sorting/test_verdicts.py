from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.services import issue_resident_code
from rewards.models import Account, LedgerTransaction
from sorting.models import Drop, SortingPolicy
from sorting.services import record_drop
from tests.concurrency import run_in_threads
from tests.factories import CommunityFactory, InspectorFactory, MerchantFactory, ResidentFactory
from tests.rewards.helpers import assert_ledger_consistent, rules_now

from .helpers import AT_BIN, make_bin


@pytest.fixture
def drop(resident, community):
    _bin, code = make_bin(community)
    return record_drop(resident=resident, bin_code_value=code, **AT_BIN)


@pytest.fixture
def inspector(community, weidu):
    return InspectorFactory(district=weidu, communities=[community])


def balance(user):
    return Account.objects.filter(owner=user).values_list("balance", flat=True).first() or 0


def verdict(client, drop, value="correct"):
    return client.post(
        f"/api/v1/drops/{drop.pk}/verdict", {"verdict": value, "note": "分类正确"}, format="json"
    )


def test_a_correct_verdict_credits_sorting_points_once(drop, inspector, as_user, resident):
    first = verdict(as_user(inspector), drop)
    second = verdict(as_user(inspector), drop, "incorrect")

    assert first.status_code == 200
    assert first.json()["status"] == "accepted" and first.json()["points_awarded"] == 10
    assert second.status_code == 409 and second.json()["error"]["code"] == "already_graded"
    drop.refresh_from_db()
    assert drop.status == "accepted" and drop.verdict == "correct" and drop.graded_by == inspector
    assert balance(resident) == 10
    assert LedgerTransaction.objects.filter(idempotency_key=f"drop:{drop.pk}").count() == 1
    assert_ledger_consistent()


def test_an_incorrect_verdict_credits_nothing(drop, inspector, as_user, resident):
    response = verdict(as_user(inspector), drop, "incorrect")
    assert response.json()["status"] == "rejected" and response.json()["points_awarded"] == 0
    assert balance(resident) == 0 and not LedgerTransaction.objects.exists()


def test_only_an_inspector_of_the_drops_community_may_grade(drop, as_user, resident, weidu):
    outsiders = [
        resident,
        MerchantFactory(),
        InspectorFactory(district=weidu, communities=[CommunityFactory()]),
    ]
    codes = [verdict(as_user(person), drop).status_code for person in outsiders]

    assert codes == [403, 403, 404]
    drop.refresh_from_db()
    assert drop.status == "pending" and balance(resident) == 0


def test_the_inspector_queue_shows_pending_drops_of_their_communities_only(drop, inspector, as_user):
    elsewhere = ResidentFactory(household__community=CommunityFactory())
    _bin, code = make_bin(elsewhere.household.community)
    record_drop(resident=elsewhere, bin_code_value=code, **AT_BIN)

    queue = as_user(inspector).get("/api/v1/drops?status=pending").json()["results"]

    assert [d["id"] for d in queue] == [drop.pk]


def test_the_daily_drop_points_cap_limits_sorting_points(resident, inspector, as_user, community):
    rules_now(
        city_id=community.district.city_id, points_per_accepted_drop=10, resident_daily_drop_points_cap=15
    )
    drops = [
        record_drop(resident=resident, bin_code_value=make_bin(community, name=f"{n}号")[1], **AT_BIN)
        for n in range(3)
    ]

    awarded = [verdict(as_user(inspector), d).json()["points_awarded"] for d in drops]

    assert awarded == [10, 5, 0]
    assert balance(resident) == 15


def test_an_inspector_grades_on_the_spot_from_the_residents_code(inspector, as_user, resident, community):
    _bin, code = make_bin(community)
    response = as_user(inspector).post(
        "/api/v1/drops/inspect",
        {"bin_code": code, "resident_code": issue_resident_code(resident)[0], "verdict": "correct"},
        format="json",
    )
    assert response.status_code == 201 and response.json()["status"] == "accepted"
    assert balance(resident) == 10


def test_auto_accept_applies_the_district_delay_once(drop, resident, weidu):
    SortingPolicy.objects.update_or_create(
        district=weidu, defaults={"auto_accept_after": timedelta(hours=24)}
    )
    call_command("auto_accept_drops")
    assert Drop.objects.get().status == "pending"

    Drop.objects.update(created_at=timezone.now() - timedelta(hours=25))
    call_command("auto_accept_drops")
    call_command("auto_accept_drops")

    drop.refresh_from_db()
    assert drop.status == "accepted" and drop.verdict == "" and balance(resident) == 10
    assert_ledger_consistent()


@pytest.mark.django_db(transaction=True)
def test_concurrent_verdicts_credit_exactly_once():
    for _round in range(5):
        community = CommunityFactory()
        resident = ResidentFactory(household__community=community)
        inspectors = [
            InspectorFactory(district=community.district, communities=[community]) for _ in range(8)
        ]
        drop = record_drop(resident=resident, bin_code_value=make_bin(community)[1], **AT_BIN)

        def grade(index, drop=drop, inspectors=inspectors):
            from sorting.services import grade_drop

            return grade_drop(inspector=inspectors[index], drop_id=drop.pk, verdict="correct")

        results = run_in_threads(grade, 8)

        winners = [r for r in results if isinstance(r, Drop)]
        assert len(winners) == 1, results
        assert all(getattr(r, "code", None) == "already_graded" for r in results if r not in winners)
        assert balance(resident) == 10
        assert_ledger_consistent()
