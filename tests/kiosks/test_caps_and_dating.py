"""Caps that hold: per household across drops and deposits, for the activity's own day, whatever the
dating tricks (back-dated batches, stale codes and sessions, split bags) and however concurrent."""

import uuid
from datetime import timedelta

import pytest
from django.db.models import Sum
from django.test import override_settings
from django.utils import timezone

from accounts.services import issue_resident_code
from kiosks.models import Deposit, KioskSession
from rewards.models import Account, HouseholdDailyPoints, Material
from sorting.services import grade_drop, record_drop
from tests.concurrency import run_in_threads
from tests.factories import InspectorFactory, ResidentFactory
from tests.rewards.helpers import assert_ledger_consistent, first_rules
from tests.sorting.helpers import AT_BIN, make_bin

from .helpers import dated_deposit, deposit_body, make_kiosk, signed

URL = "/api/v1/kiosk/deposits"
BATCH = "/api/v1/kiosk/deposits/batch"


@pytest.fixture
def kiosk(community):
    return make_kiosk(community)


def balance(user):
    return Account.objects.filter(owner=user).values_list("balance", flat=True).first() or 0


def rules(city, **caps):
    first_rules(city.id, **caps)


def household_points(household):
    return HouseholdDailyPoints.objects.filter(household=household).aggregate(t=Sum("points"))["t"] or 0


def test_two_residents_of_one_household_share_its_daily_cap(kiosk, resident):
    rules(kiosk.community.district.city, household_daily_points_cap=80)
    partner = ResidentFactory(household=resident.household)

    first = signed("POST", URL, deposit_body(resident_code=issue_resident_code(resident)[0]), kiosk=kiosk)
    second = signed("POST", URL, deposit_body(resident_code=issue_resident_code(partner)[0]), kiosk=kiosk)

    # 2.5 kg of paper earns 50 each; the household may have 80 in a day
    assert first.json()["points_awarded"] == 50 and second.json()["points_awarded"] == 30
    assert balance(resident) + balance(partner) == 80 == household_points(resident.household)
    assert Deposit.objects.count() == 2


def test_drops_and_deposits_count_against_one_household_cap(kiosk, resident, community, weidu):
    rules(kiosk.community.district.city, household_daily_points_cap=55, points_per_accepted_drop=10)
    partner = ResidentFactory(household=resident.household)
    inspector = InspectorFactory(district=weidu, communities=[community])
    _bin, bin_code = make_bin(community)
    drop = record_drop(resident=partner, bin_code_value=bin_code, **AT_BIN)
    signed("POST", URL, deposit_body(resident_code=issue_resident_code(resident)[0]), kiosk=kiosk)

    graded = grade_drop(inspector=inspector, drop_id=drop.pk, verdict="correct")

    assert graded.points_awarded == 5 and balance(partner) == 5
    assert balance(resident) + balance(partner) == 55 == household_points(resident.household)
    assert_ledger_consistent()


def test_a_drop_graded_tomorrow_counts_against_the_day_it_was_made(resident, community, weidu):
    rules(community.district.city, household_daily_points_cap=10)
    inspector = InspectorFactory(district=weidu, communities=[community])
    _bin, bin_code = make_bin(community)
    drop = record_drop(resident=resident, bin_code_value=bin_code, **AT_BIN)
    HouseholdDailyPoints.objects.create(
        household=resident.household, day=timezone.localtime(drop.created_at).date(), points=10
    )

    graded = grade_drop(inspector=inspector, drop_id=drop.pk, verdict="correct")

    assert graded.points_awarded == 0 and balance(resident) == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_deposits_of_two_residents_never_pass_the_household_cap(community):
    kiosk = make_kiosk(community)
    rules(
        community.district.city,
        household_daily_points_cap=230,
        resident_daily_deposit_points_cap=10_000,
        kiosk_daily_points_cap=100_000,
    )
    first = ResidentFactory(household__community=community)
    second = ResidentFactory(household=first.household)
    codes = [issue_resident_code(first)[0], issue_resident_code(second)[0]]
    # Each resident's deposits are of another material, so no two of them merge into one bag.
    bodies = [
        deposit_body(resident_code=codes[i % 2], material=("paper", "plastic")[i // 2 % 2], weight_g=2500)
        for i in range(16)
    ]
    # Bags of one material merge; keep them apart by sending each at its own minute of the day.
    for n, body in enumerate(bodies):
        body["occurred_at"] = (timezone.now() - timedelta(seconds=n)).isoformat()

    responses = run_in_threads(lambda i: signed("POST", URL, bodies[i], kiosk=kiosk), 16)

    assert all(r.status_code == 201 for r in responses), [r.content for r in responses]
    awarded = sum(r.json()["points_awarded"] for r in responses)
    assert awarded == 230 == balance(first) + balance(second)
    assert household_points(first.household) == 230
    assert Deposit.objects.aggregate(t=Sum("points_awarded"))["t"] == 230
    assert_ledger_consistent()


# ---- dating -----------------------------------------------------------------------------------------


def test_a_code_deposit_is_dated_inside_the_codes_window(kiosk, resident):
    code, _expires = issue_resident_code(resident)
    now = timezone.now()
    before = deposit_body(resident_code=code, occurred_at=(now - timedelta(minutes=6)).isoformat())
    after = deposit_body(resident_code=code, occurred_at=(now - timedelta(days=1)).isoformat())
    inside = deposit_body(resident_code=code, occurred_at=(now + timedelta(minutes=1)).isoformat())

    refused = signed("POST", URL, before, kiosk=kiosk)
    long_before = signed("POST", URL, after, kiosk=kiosk)

    assert refused.status_code == 400 and refused.json()["error"]["code"] == "before_code_issued"
    assert long_before.json()["error"]["code"] == "before_code_issued"
    assert not Deposit.objects.exists() and balance(resident) == 0
    assert signed("POST", URL, inside, kiosk=kiosk).status_code == 201


def test_an_old_code_is_refused_for_a_deposit_dated_after_it_expired(kiosk, resident):
    issued = timezone.now() - timedelta(days=2)
    code = issue_resident_code(resident, issued_at=issued)[0]
    late = deposit_body(resident_code=code, occurred_at=(issued + timedelta(minutes=8)).isoformat())
    on_time = deposit_body(resident_code=code, occurred_at=(issued + timedelta(minutes=1)).isoformat())

    refused = signed("POST", URL, late, kiosk=kiosk)

    assert refused.status_code == 410 and refused.json()["error"]["code"] == "code_expired"
    assert not Deposit.objects.exists()
    # The same old code is good for what happened while it was fresh: an offline kiosk's backlog.
    assert signed("POST", URL, on_time, kiosk=kiosk).status_code == 201


def test_a_session_deposit_is_dated_between_its_opening_and_close(kiosk, resident, as_user):
    opened = signed("POST", "/api/v1/kiosk/sessions", kiosk=kiosk).json()
    as_user(resident).post("/api/v1/kiosk-sessions/claim", {"code": opened["code"]}, format="json")
    session = KioskSession.objects.get()
    early = deposit_body(
        session_id=opened["session_id"], occurred_at=(session.created_at - timedelta(days=20)).isoformat()
    )

    refused = signed("POST", URL, early, kiosk=kiosk)

    assert refused.status_code == 400 and refused.json()["error"]["code"] == "before_session_opened"
    assert not Deposit.objects.exists() and balance(resident) == 0
    assert signed("POST", URL, deposit_body(session_id=opened["session_id"]), kiosk=kiosk).status_code == 201
    signed("POST", f"/api/v1/kiosk/sessions/{opened['session_id']}/close", kiosk=kiosk)
    late = deposit_body(
        session_id=opened["session_id"], occurred_at=(timezone.now() + timedelta(minutes=1)).isoformat()
    )
    too_late = signed("POST", URL, late, kiosk=kiosk)
    assert too_late.status_code == 409 and too_late.json()["error"]["code"] == "session_closed"
    assert Deposit.objects.count() == 1


@override_settings(BACKDATED_POINTS_PER_UPLOAD=500)
def test_ten_deposits_back_dated_one_to_ten_days_credit_no_more_than_the_bound(kiosk, resident):
    now = timezone.now()
    # 25 kg of paper earns 500, a full day's deposit cap, on each of ten past days.
    items = [dated_deposit(resident, now - timedelta(days=d), weight_g=25_000) for d in range(1, 11)]

    response = signed("POST", BATCH, {"deposits": items}, kiosk=kiosk)

    results = response.json()["results"]
    assert response.status_code == 200
    assert results[0]["status"] == 201 and results[0]["points_awarded"] == 500
    assert [r["error"]["code"] for r in results[1:]] == ["backdated_over_bound"] * 9
    assert balance(resident) == 500
    # Nothing of a refused item is written: it may come again in a later upload.
    assert Deposit.objects.count() == 1 and household_points(resident.household) == 500
    assert_ledger_consistent()


@override_settings(BACKDATED_POINTS_PER_UPLOAD=120)
def test_back_dated_deposits_count_against_their_own_days_caps(kiosk, resident):
    rules(kiosk.community.district.city, resident_daily_deposit_points_cap=60)
    day = timezone.now() - timedelta(days=3)
    items = [
        dated_deposit(resident, day, weight_g=2500),
        dated_deposit(resident, day + timedelta(seconds=20), weight_g=2500, material="plastic"),
        dated_deposit(resident, timezone.now() - timedelta(days=4), weight_g=2500),
        dated_deposit(resident, timezone.now() - timedelta(days=5), weight_g=2500),
    ]

    results = signed("POST", BATCH, {"deposits": items}, kiosk=kiosk).json()["results"]

    # day -3 fills its 60 (50 + 10 of plastic's 75), day -4 gets 50, and day -5 would pass the bound of 120
    assert [r.get("points_awarded", r.get("error", {}).get("code")) for r in results] == [
        50,
        10,
        50,
        "backdated_over_bound",
    ]
    assert balance(resident) == 110


def test_todays_deposits_in_a_batch_are_not_back_dated(kiosk, resident):
    code = issue_resident_code(resident)[0]
    items = [deposit_body(resident_code=code, material=m, weight_g=25_000) for m in ("paper", "plastic")]
    with override_settings(BACKDATED_POINTS_PER_UPLOAD=0):
        results = signed("POST", BATCH, {"deposits": items}, kiosk=kiosk).json()["results"]
    assert [r["status"] for r in results] == [201, 201]


# ---- split bags ---------------------------------------------------------------------------------------


def test_ten_deposits_of_a_tenth_of_a_kilo_earn_what_one_kilo_earns(kiosk, community):
    paper = Material.objects.get(code="paper")
    paper.points_per_kg = 25  # 100 g alone would round 2.5 down to 2: ten of them 20, not 25
    paper.save()
    whole, split = (
        ResidentFactory(household__community=community),
        ResidentFactory(household__community=community),
    )
    start = timezone.now() - timedelta(minutes=10)
    one = signed(
        "POST",
        URL,
        deposit_body(
            resident_code=issue_resident_code(whole)[0], weight_g=1000, occurred_at=timezone.now().isoformat()
        ),
        kiosk=kiosk,
    )
    code = issue_resident_code(split, issued_at=start)[0]
    answers = [
        signed(
            "POST",
            URL,
            deposit_body(
                resident_code=code, weight_g=100, occurred_at=(start + timedelta(seconds=10 * n)).isoformat()
            ),
            kiosk=kiosk,
        ).json()
        for n in range(10)
    ]

    assert one.json()["points_awarded"] == 25
    assert sum(a["points_awarded"] for a in answers) == 25 == balance(split) == balance(whole)
    assert Deposit.objects.filter(resident=split).values("bag_started_at").distinct().count() == 1


def test_rounding_is_done_once_on_the_bag(kiosk, resident):
    # plastic earns 30 points per kg: 150 g alone rounds down to 4 (12 for three), the 450 g bag to 13
    code = issue_resident_code(resident)[0]
    answers = [
        signed(
            "POST", URL, deposit_body(resident_code=code, material="plastic", weight_g=150), kiosk=kiosk
        ).json()
        for _ in range(3)
    ]
    assert [a["points_awarded"] for a in answers] == [4, 5, 4]
    assert balance(resident) == 13


def test_deposits_further_apart_than_the_window_are_separate_bags(kiosk, resident):
    start = timezone.now() - timedelta(hours=1)
    first = dated_deposit(resident, start, material="plastic", weight_g=150)
    later = dated_deposit(resident, start + timedelta(minutes=20), material="plastic", weight_g=150)
    for body in (first, later):
        assert signed("POST", URL, body, kiosk=kiosk).status_code == 201
    assert Deposit.objects.values("bag_started_at").distinct().count() == 2
    assert balance(resident) == 8


def test_a_retried_split_deposit_does_not_count_its_weight_twice(kiosk, resident):
    code = issue_resident_code(resident)[0]
    body = deposit_body(resident_code=code, material="plastic", weight_g=150)
    signed("POST", URL, body, kiosk=kiosk)
    signed("POST", URL, body, kiosk=kiosk)
    second = signed(
        "POST", URL, deposit_body(resident_code=code, material="plastic", weight_g=150), kiosk=kiosk
    )
    assert second.json()["points_awarded"] == 5 and balance(resident) == 9
    assert Deposit.objects.filter(deposit_id=uuid.UUID(body["deposit_id"])).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_verdicts_and_deposits_of_one_household_share_the_cap_without_deadlock(community, weidu):
    kiosk = make_kiosk(community)
    rules(community.district.city, household_daily_points_cap=100, points_per_accepted_drop=10)
    resident = ResidentFactory(household__community=community)
    partner = ResidentFactory(household=resident.household)
    inspector = InspectorFactory(district=weidu, communities=[community])
    drops = [
        record_drop(resident=who, bin_code_value=make_bin(community, name=f"{n}号")[1], **AT_BIN)
        for n, who in enumerate([resident, partner] * 4)
    ]
    code = issue_resident_code(resident)[0]
    materials = ["paper", "plastic", "metal"] * 3

    def work(i):
        if i < len(drops):
            return grade_drop(inspector=inspector, drop_id=drops[i].pk, verdict="correct").points_awarded
        body = deposit_body(resident_code=code, material=materials[i - len(drops)], weight_g=1000)
        response = signed("POST", URL, body, kiosk=kiosk)
        assert response.status_code == 201, response.content
        return response.json()["points_awarded"]

    outcomes = run_in_threads(work, len(drops) + 6)

    failures = [repr(o) for o in outcomes if not isinstance(o, int)]
    assert failures == []
    assert sum(outcomes) == balance(resident) + balance(partner) == 100
    assert household_points(resident.household) == sum(outcomes)
    assert_ledger_consistent()
