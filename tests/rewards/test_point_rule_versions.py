from datetime import timedelta

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import override

from accounts.services import issue_resident_code
from rewards.models import LedgerTransaction, PointRules
from rewards.selectors import memo_text, rules_in_force
from sorting.services import record_drop
from tests.factories import DistrictOfficerFactory, InspectorFactory, ResidentFactory
from tests.kiosks.helpers import deposit_body, make_kiosk, signed
from tests.rewards.helpers import rules_now
from tests.sorting.helpers import make_bin

VERSIONS = "/api/v1/point-rules/versions"


def _city(community):
    return community.district.city_id


def _drop_at_a_new_bin(resident, community):
    bin_, code = make_bin(community)
    return record_drop(resident=resident, bin_code_value=code, lat=bin_.lat, lng=bin_.lng)


def test_a_drop_graded_after_a_rule_change_earns_the_rule_it_was_made_under(
    resident, community, weidu, as_user
):
    made_under = rules_now(city_id=_city(community), points_per_accepted_drop=10)
    drop = _drop_at_a_new_bin(resident, community)
    changed = rules_now(city_id=_city(community), points_per_accepted_drop=15)
    inspector = InspectorFactory(district=weidu, communities=[community])

    graded = as_user(inspector).post(
        f"/api/v1/drops/{drop.pk}/verdict", {"verdict": "correct"}, format="json"
    )

    assert graded.status_code == 200, graded.content
    assert graded.json()["points_awarded"] == 10
    credit = LedgerTransaction.objects.get(idempotency_key=f"drop:{drop.pk}")
    assert credit.memo_params["rules_version"] == made_under.version != changed.version
    with override("en"):
        assert memo_text(credit) == f"Sorted at {drop.bin.name} (point rules v{made_under.version})"
    # A drop made after the change earns the new rule.
    later = _drop_at_a_new_bin(ResidentFactory(household__community=community), community)
    again = as_user(inspector).post(
        f"/api/v1/drops/{later.pk}/verdict", {"verdict": "correct"}, format="json"
    )
    assert again.json()["points_awarded"] == 15


def test_a_deposit_earns_under_the_rules_in_force_at_its_occurred_at(community):
    kiosk = make_kiosk(community)
    rules_now(city_id=_city(community), resident_daily_deposit_points_cap=500)
    before_the_change = timezone.now()
    rules_now(city_id=_city(community), resident_daily_deposit_points_cap=20)
    early, late = (ResidentFactory(household__community=community) for _ in range(2))

    # paper earns 20 points per kg: 2.5 kg is 50 points, over the new cap of 20 but under the old 500.
    old = signed(
        "POST",
        "/api/v1/kiosk/deposits",
        deposit_body(
            resident_code=issue_resident_code(early)[0],
            weight_g=2500,
            occurred_at=before_the_change.isoformat(),
        ),
        kiosk=kiosk,
    )
    new = signed(
        "POST",
        "/api/v1/kiosk/deposits",
        deposit_body(resident_code=issue_resident_code(late)[0], weight_g=2500),
        kiosk=kiosk,
    )

    assert [old.status_code, new.status_code] == [201, 201]
    assert [old.json()["points_awarded"], new.json()["points_awarded"]] == [50, 20]


def test_a_change_adds_a_version_and_never_edits_the_old_one(city_officer, as_user):
    client = as_user(city_officer)
    current = client.get("/api/v1/point-rules").json()

    changed = client.patch("/api/v1/point-rules", {"points_per_accepted_drop": 15}, format="json")

    assert changed.status_code == 200, changed.content
    assert changed.json()["version"] == current["version"] + 1
    assert changed.json()["points_per_accepted_drop"] == 15
    # Fields not given carry over from the version before.
    assert changed.json()["kiosk_daily_points_cap"] == current["kiosk_daily_points_cap"]
    history = client.get(VERSIONS).json()
    assert [v["version"] for v in history[:2]] == [current["version"] + 1, current["version"]]
    assert history[1]["points_per_accepted_drop"] == current["points_per_accepted_drop"]


def test_a_scheduled_version_takes_over_at_its_own_time(city_officer, as_user):
    client = as_user(city_officer)
    current = client.get("/api/v1/point-rules").json()
    starts = timezone.now() + timedelta(days=2)

    scheduled = client.post(
        VERSIONS, {"points_per_accepted_drop": 30, "effective_from": starts.isoformat()}, format="json"
    )

    assert scheduled.status_code == 201, scheduled.content
    assert client.get("/api/v1/point-rules").json()["version"] == current["version"]
    city_id = city_officer.city_id
    assert rules_in_force(city_id, at=starts - timedelta(seconds=1)).version == current["version"]
    assert rules_in_force(city_id, at=starts).points_per_accepted_drop == 30


def test_a_version_in_the_past_or_overlapping_is_refused_and_nothing_is_written(city_officer, as_user):
    client = as_user(city_officer)
    ahead = timezone.now() + timedelta(days=5)
    assert client.post(VERSIONS, {"effective_from": ahead.isoformat()}, format="json").status_code == 201
    count = PointRules.objects.count()

    past = client.post(
        VERSIONS, {"effective_from": (timezone.now() - timedelta(hours=1)).isoformat()}, format="json"
    )
    same = client.post(VERSIONS, {"effective_from": ahead.isoformat()}, format="json")
    earlier = client.post(
        VERSIONS, {"effective_from": (ahead - timedelta(days=1)).isoformat()}, format="json"
    )
    now = client.patch("/api/v1/point-rules", {"points_per_accepted_drop": 12}, format="json")

    assert past.status_code == 400 and past.json()["error"]["code"] == "version_in_past"
    for answer in (same, earlier, now):
        assert answer.status_code == 409 and answer.json()["error"]["code"] == "version_overlaps"
    assert PointRules.objects.count() == count


def test_request_latency_does_not_make_now_the_past(city_officer, as_user):
    sent = timezone.now() - timedelta(seconds=5)

    answer = as_user(city_officer).post(VERSIONS, {"effective_from": sent.isoformat()}, format="json")

    assert answer.status_code == 201, answer.content
    # It starts when written, so nothing done before the request is re-rated.
    assert (
        PointRules.objects.get(city_id=city_officer.city_id, version=answer.json()["version"]).effective_from
        > sent
    )


def test_the_database_refuses_to_edit_or_delete_a_version(weidu):
    version = rules_now(city_id=weidu.city_id, points_per_accepted_drop=11)

    for change in (
        lambda: PointRules.objects.filter(pk=version.pk).update(points_per_accepted_drop=99),
        lambda: PointRules.objects.filter(pk=version.pk).delete(),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            change()
    assert PointRules.objects.get(pk=version.pk).points_per_accepted_drop == 11


def test_only_city_officers_add_versions_and_everyone_signed_in_reads_them(resident, weidu, as_user):
    for user in (resident, DistrictOfficerFactory(district=weidu)):
        assert (
            as_user(user).post(VERSIONS, {"points_per_accepted_drop": 99}, format="json").status_code == 403
        )
    history = as_user(resident).get(VERSIONS)
    assert history.status_code == 200 and history.json()[0]["points_per_accepted_drop"] != 99
