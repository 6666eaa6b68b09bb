"""Drops in the statistics: counts, participation (accepted drops only) and accuracy (verdicts)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from stats.rollups.verification import verify
from tests import factories

from .factories import bin_in, drop, grade

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def _at(day: int, hour: int = 19):
    return datetime(2026, 3, day, hour, tzinfo=SHANGHAI)


def _row(client, district):
    return next(
        r
        for r in client.get("/api/v1/stats/districts", MARCH).json()["results"]
        if r["district"]["id"] == district.id
    )


def test_participation_counts_accepted_drops_and_accuracy_counts_verdicts(as_user, district_officer, weidu):
    community = factories.CommunityFactory(district=weidu)
    people = [factories.ResidentFactory(household__community=community) for _ in range(4)]
    kitchen = bin_in(community, "kitchen")
    drop(kitchen, people[0], _at(3), status="accepted", verdict="correct")
    drop(kitchen, people[1], _at(4), status="rejected", verdict="incorrect")
    drop(kitchen, people[2], _at(5), status="accepted")  # auto-accepted: no verdict
    drop(kitchen, people[3], _at(6))  # still pending
    call_command("refresh_rollups")

    row = _row(as_user(district_officer), weidu)

    assert (row["drops"], row["accepted_drops"], row["verdicts"]) == (4, 2, 2)
    assert row["accuracy_rate"] == 0.5
    assert row["households"] == 4
    assert row["participating_households"] == 2
    assert row["participation_rate"] == 0.5


def test_a_verdict_given_after_a_refresh_moves_the_statistics_at_the_next_one(
    as_user, district_officer, weidu
):
    community = factories.CommunityFactory(district=weidu)
    resident = factories.ResidentFactory(household__community=community)
    waiting = drop(bin_in(community, "recyclable"), resident, _at(10))
    call_command("refresh_rollups")
    client = as_user(district_officer)
    assert (_row(client, weidu)["participating_households"], _row(client, weidu)["verdicts"]) == (0, 0)

    grade(waiting, "correct")
    call_command("refresh_rollups")

    row = _row(client, weidu)
    assert (row["participating_households"], row["verdicts"], row["accuracy_rate"]) == (1, 1, 1.0)
    assert verify() == []


def test_drops_land_on_their_shanghai_day_and_bin_category(as_user, district_officer, weidu):
    community = factories.CommunityFactory(district=weidu)
    resident = factories.ResidentFactory(household__community=community)
    drop(
        bin_in(community, "kitchen"),
        resident,
        datetime(2026, 3, 10, 23, 50, tzinfo=SHANGHAI),
        status="accepted",
    )
    drop(
        bin_in(community, "other"), resident, datetime(2026, 3, 11, 0, 10, tzinfo=SHANGHAI), status="accepted"
    )
    call_command("refresh_rollups")

    series = (
        as_user(district_officer)
        .get(f"/api/v1/stats/districts/{weidu.id}/series", {"from": "2026-03-10", "to": "2026-03-11"})
        .json()
    )

    assert [(p["start"], p["drops"], p["participating_households"]) for p in series["points"]] == [
        ("2026-03-10", 1, 1),
        ("2026-03-11", 1, 1),
    ]
    from stats.models import DistrictDropDaily

    assert sorted(DistrictDropDaily.objects.values_list("day", "category")) == [
        (datetime(2026, 3, 10).date(), "kitchen"),
        (datetime(2026, 3, 11).date(), "other"),
    ]
