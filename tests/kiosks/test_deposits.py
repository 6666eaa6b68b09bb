import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.services import issue_resident_code
from kiosks.models import Deposit
from rewards.models import Account, LedgerTransaction
from tests.concurrency import run_in_threads
from tests.factories import ResidentFactory
from tests.rewards.helpers import assert_ledger_consistent, rules_now

from .helpers import dated_deposit, deposit_body, make_kiosk, signed

URL = "/api/v1/kiosk/deposits"


def balance(user):
    return Account.objects.filter(owner=user).values_list("balance", flat=True).first() or 0


def test_a_deposit_by_resident_code_credits_points_from_the_rules(kiosk, resident, code):
    body = deposit_body(resident_code=code, material="paper", weight_g=2500)

    response = signed("POST", URL, body, kiosk=kiosk)

    assert response.status_code == 201, response.content
    # paper earns 20 points per kg, rounded down: 2.5 kg -> 50
    assert response.json() == {"deposit_id": body["deposit_id"], "points_awarded": 50, "balance": 50}
    deposit = Deposit.objects.get()
    assert deposit.resident == resident and deposit.weight_g == 2500 and deposit.points_awarded == 50
    assert deposit.household_id == resident.household_id
    assert balance(resident) == 50
    assert_ledger_consistent()


def test_the_same_deposit_id_again_replays_the_first_answer(kiosk, resident, code):
    body = deposit_body(resident_code=code)
    first = signed("POST", URL, body, kiosk=kiosk)
    again = signed("POST", URL, body, kiosk=kiosk)

    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == first.json()
    assert Deposit.objects.count() == 1 and balance(resident) == 50


def test_same_deposit_id_with_other_body_is_a_conflict(kiosk, resident, code):
    body = deposit_body(resident_code=code)
    signed("POST", URL, body, kiosk=kiosk)

    response = signed("POST", URL, {**body, "weight_g": 9000}, kiosk=kiosk)

    assert response.status_code == 409 and response.json()["error"]["code"] == "idempotency_conflict"
    assert Deposit.objects.get().weight_g == 2500 and balance(resident) == 50


def test_the_same_deposit_id_at_another_kiosk_is_another_deposit(kiosk, community, resident, code):
    body = deposit_body(resident_code=code)
    assert signed("POST", URL, body, kiosk=kiosk).status_code == 201
    assert signed("POST", URL, body, kiosk=make_kiosk(community, name="二号机")).status_code == 201
    assert Deposit.objects.count() == 2


@pytest.mark.parametrize(
    ("fields", "status", "code_"),
    [
        ({"material": "uranium"}, 400, "unknown_material"),
        ({"material": "glass"}, 400, "material_not_accepted"),
        ({"weight_g": 10}, 400, "implausible_weight"),
        ({"weight_g": 50_001}, 400, "implausible_weight"),
        # Offsets from the moment the test runs, not from when the suite was collected.
        ({"occurred_at": -timedelta(days=31)}, 400, "stale_deposit"),
        ({"occurred_at": timedelta(minutes=6)}, 400, "future_deposit"),
        ({"resident_code": "forged:code"}, 400, "invalid_code"),
        ({"resident_code": None, "session_id": str(uuid.uuid4())}, 404, "session_not_found"),
        ({"deposit_id": "not-a-uuid"}, 400, "validation_error"),
        ({"weight_g": -5}, 400, "validation_error"),
    ],
)
def test_bad_deposits_are_refused_with_their_code_and_change_nothing(
    kiosk, resident, code, fields, status, code_
):
    if isinstance(fields.get("occurred_at"), timedelta):
        fields = {**fields, "occurred_at": (timezone.now() + fields["occurred_at"]).isoformat()}
    response = signed("POST", URL, deposit_body(**{"resident_code": code, **fields}), kiosk=kiosk)

    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code_
    assert not Deposit.objects.exists() and balance(resident) == 0


def test_offline_uploads_inside_thirty_days_and_five_minutes_ahead_are_accepted(kiosk, resident, code):
    old = dated_deposit(resident, timezone.now() - timedelta(days=29))
    ahead = deposit_body(resident_code=code, occurred_at=(timezone.now() + timedelta(minutes=4)).isoformat())
    assert signed("POST", URL, old, kiosk=kiosk).status_code == 201
    assert signed("POST", URL, ahead, kiosk=kiosk).status_code == 201


def test_daily_caps_of_the_resident_and_the_kiosk_limit_points_not_deposits(kiosk, resident, code):
    rules_now(city_id=kiosk.community.district.city_id, resident_daily_deposit_points_cap=120)
    answers = [
        signed("POST", URL, deposit_body(resident_code=code, weight_g=2500), kiosk=kiosk).json()
        for _ in range(3)
    ]

    assert [a["points_awarded"] for a in answers] == [50, 50, 20]
    assert Deposit.objects.count() == 3 and balance(resident) == 120
    rules_now(
        city_id=kiosk.community.district.city_id,
        resident_daily_deposit_points_cap=10_000,
        kiosk_daily_points_cap=130,
    )
    other = ResidentFactory(household__community=kiosk.community)
    answer = signed(
        "POST", URL, deposit_body(resident_code=issue_resident_code(other)[0], weight_g=2500), kiosk=kiosk
    ).json()
    assert answer["points_awarded"] == 10


@pytest.mark.django_db(transaction=True)
def test_sixteen_concurrent_retries_of_one_deposit_credit_once(community):
    kiosk = make_kiosk(community)
    resident = ResidentFactory(household__community=community)
    body = deposit_body(resident_code=issue_resident_code(resident)[0], weight_g=5000)

    responses = run_in_threads(lambda _: signed("POST", URL, body, kiosk=kiosk), 16)

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 15 + [201], [r.content for r in responses]
    assert all(r.json() == responses[0].json() for r in responses)
    assert Deposit.objects.count() == 1
    assert LedgerTransaction.objects.filter(kind="deposit").count() == 1
    assert balance(resident) == 100
    assert_ledger_consistent()


def test_daily_point_totals_equal_a_recount_of_the_deposits(kiosk, community, resident, code):
    from django.db.models import Sum

    from kiosks.models import DailyPoints

    other = ResidentFactory(household__community=community)
    for person_code in (code, issue_resident_code(other)[0]):
        for weight in (1000, 2500, 4000):
            signed("POST", URL, deposit_body(resident_code=person_code, weight_g=weight), kiosk=kiosk)
    yesterday = dated_deposit(resident, timezone.now() - timedelta(days=1), weight_g=3000)
    assert signed("POST", URL, yesterday, kiosk=kiosk).status_code == 201

    for row in DailyPoints.objects.all():
        deposits = Deposit.objects.filter(
            **{"kiosk_id" if row.subject == "kiosk" else "resident_id": row.subject_id}
        )
        day_total = sum(
            d.points_awarded for d in deposits if timezone.localtime(d.occurred_at).date() == row.day
        )
        assert row.points == day_total
    assert (
        DailyPoints.objects.filter(subject="kiosk").aggregate(t=Sum("points"))["t"]
        == (Deposit.objects.aggregate(t=Sum("points_awarded"))["t"])
    )


def test_a_deposit_memo_reads_in_the_readers_language(kiosk, resident, code, as_user):
    assert signed("POST", URL, deposit_body(resident_code=code), kiosk=kiosk).status_code == 201
    client = as_user(resident)

    english = client.get("/api/v1/me/ledger", HTTP_ACCEPT_LANGUAGE="en").json()["results"][0]["memo"]
    chinese = client.get("/api/v1/me/ledger", HTTP_ACCEPT_LANGUAGE="zh-hans").json()["results"][0]["memo"]

    version = LedgerTransaction.objects.get(kind="deposit").memo_params["rules_version"]
    assert english == f"Paper, 2500 g (point rules v{version})"
    assert (
        chinese
        == f"纸类\N{FULLWIDTH COMMA}2500 克\N{FULLWIDTH LEFT PARENTHESIS}积分规则第 {version} 版\N{FULLWIDTH RIGHT PARENTHESIS}"
    )
