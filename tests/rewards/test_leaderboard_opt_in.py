"""Leaderboards show only residents who opted in, under names cleaned of invisible characters."""

from rewards import services
from tests.factories import ResidentFactory


def _earn(resident, points, cause):
    services.credit(resident=resident, amount=points, cause=cause, kind="deposit")


def test_only_opted_in_residents_are_ranked_and_the_others_leave_no_gap(community, as_user):
    shy = ResidentFactory(household__community=community, display_name="不公开")
    first = ResidentFactory(household__community=community, display_name="甲", leaderboard_opt_in=True)
    second = ResidentFactory(household__community=community, display_name="乙", leaderboard_opt_in=True)
    _earn(shy, 500, "deposit:shy")
    _earn(first, 90, "deposit:first")
    _earn(second, 40, "deposit:second")

    for scope in ("community", "district"):
        rows = as_user(shy).get(f"/api/v1/leaderboards?scope={scope}&period=month").json()["results"]
        assert [(r["rank"], r["display_name"], r["points"]) for r in rows] == [(1, "甲", 90), (2, "乙", 40)]


def test_a_board_renders_a_legacy_name_without_its_bidi_override(community, as_user):
    legacy = ResidentFactory(
        household__community=community, display_name="A\u202eB\u200b", leaderboard_opt_in=True
    )
    _earn(legacy, 10, "deposit:legacy")

    rows = as_user(legacy).get("/api/v1/leaderboards?scope=community&period=week").json()["results"]

    assert [r["display_name"] for r in rows] == ["AB"]
