"""Inspector quality: figures per inspector that match a hand count, and blind re-inspection samples."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sorting.models import Drop, Reinspection, ReinspectionSample
from tests.factories import (
    CityOfficerFactory,
    CommunityFactory,
    DistrictOfficerFactory,
    InspectorFactory,
    ResidentFactory,
)

from .helpers import make_bin

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOVEMBER = "from=2026-11-01&to=2026-11-30"


def at(day, hour, minute=0):
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def drop(bin_, resident, created, *, graded=None, by=None, verdict="", status=None):
    row = Drop.objects.create(
        bin=bin_, resident=resident, household=resident.household, community=bin_.community
    )
    status = status or {"correct": "accepted", "incorrect": "rejected"}.get(verdict, "pending")
    Drop.objects.filter(pk=row.pk).update(
        created_at=created, graded_at=graded, graded_by=by, verdict=verdict, status=status
    )
    return row


@pytest.fixture
def world(weidu, jian_an):
    home = CommunityFactory(district=weidu)
    away = CommunityFactory(district=jian_an)
    first = InspectorFactory(district=weidu, communities=[home], display_name="甲")
    second = InspectorFactory(district=weidu, communities=[home], display_name="乙")
    other = InspectorFactory(district=jian_an, communities=[away], display_name="丙")
    bin_, _code = make_bin(home)
    away_bin, _code = make_bin(away)
    resident = ResidentFactory(household__community=home)
    neighbour = ResidentFactory(household__community=away)
    drops = {
        "d1": drop(bin_, resident, at(3, 10), graded=at(3, 10, 10), by=first, verdict="correct"),  # 600 s
        "d2": drop(bin_, resident, at(4, 10), graded=at(4, 10, 30), by=first, verdict="correct"),  # 1800 s
        "d3": drop(bin_, resident, at(5, 9), graded=at(5, 12), by=first, verdict="incorrect"),  # 10800 s
        "d4": drop(bin_, resident, at(6, 10), graded=at(6, 10, 1), by=second, verdict="incorrect"),  # 60 s
        "d5": drop(bin_, resident, at(7, 10), graded=at(8, 10), status="accepted"),  # auto-accepted
        "d6": drop(bin_, resident, at(9, 10)),  # still pending
        "d7": drop(
            bin_,
            resident,
            at(3, 10) - timedelta(days=10),
            graded=at(3, 10) - timedelta(days=9),
            by=first,
            verdict="correct",
        ),  # October: outside the period
        "d8": drop(away_bin, neighbour, at(3, 10), graded=at(3, 11), by=other, verdict="correct"),
    }
    return {"first": first, "second": second, "other": other, "drops": drops, "home": home}


def rows_by_name(response):
    assert response.status_code == 200, response.content
    return {row["display_name"]: row for row in response.json()["results"]}


def test_figures_per_inspector_match_a_hand_count(world, weidu, as_user):
    rows = rows_by_name(
        as_user(DistrictOfficerFactory(district=weidu)).get(f"/api/v1/stats/inspectors?{NOVEMBER}")
    )

    assert set(rows) == {"甲", "乙"}  # a district officer sees their own district's inspectors only
    first = rows["甲"]
    assert (first["verdicts"], first["correct"], first["correct_share"]) == (3, 2, 0.6667)
    assert first["median_seconds_to_verdict"] == 1800.0
    assert first["mean_seconds_to_verdict"] == 4400.0  # (600 + 1800 + 10800) / 3
    # d1..d6 were made in the community in November; d5 was left to auto-accept
    assert (first["community_drops"], first["auto_accepted"], first["auto_accepted_share"]) == (6, 1, 0.1667)
    second = rows["乙"]
    assert (second["verdicts"], second["correct"], second["correct_share"]) == (1, 0, 0.0)
    assert second["median_seconds_to_verdict"] == 60.0
    assert (second["community_drops"], second["auto_accepted"]) == (6, 1)
    assert first["reinspected"] == 0 and first["agreement_rate"] is None


def test_a_city_officer_sees_every_district_and_can_narrow_to_one(world, weidu, jian_an, as_user):
    client = as_user(CityOfficerFactory(city=weidu.city))

    assert set(rows_by_name(client.get(f"/api/v1/stats/inspectors?{NOVEMBER}"))) == {"甲", "乙", "丙"}
    only = rows_by_name(client.get(f"/api/v1/stats/inspectors?{NOVEMBER}&district={jian_an.id}"))
    assert set(only) == {"丙"} and only["丙"]["verdicts"] == 1


def test_scope_and_bad_periods(world, weidu, jian_an, resident, as_user):
    officer = as_user(DistrictOfficerFactory(district=weidu))

    assert officer.get(f"/api/v1/stats/inspectors?{NOVEMBER}&district={jian_an.id}").status_code == 404
    bad = officer.get("/api/v1/stats/inspectors?from=2026-12-01&to=2026-11-01")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_period"
    assert officer.get("/api/v1/stats/inspectors?district=x").json()["error"]["code"] == "validation_error"
    assert as_user(resident).get("/api/v1/stats/inspectors").status_code == 403
    assert as_user(world["first"]).get("/api/v1/stats/inspectors").status_code == 403


def test_a_blind_reinspection_lists_the_disagreements(world, weidu, as_user):
    officer = as_user(DistrictOfficerFactory(district=weidu))
    first, second = as_user(world["first"]), as_user(world["second"])
    drops = world["drops"]

    created = officer.post(
        "/api/v1/stats/reinspections",
        {"district_id": weidu.id, "size": 10, "from": "2026-11-01", "to": "2026-11-30"},
        format="json",
    )
    assert created.status_code == 201, created.content
    sample_id = created.json()["id"]
    # only drops an inspector graded in the district and period are drawn: never the auto-accepted one
    assert set(Reinspection.objects.values_list("drop_id", flat=True)) == {
        drops[k].pk for k in ("d1", "d2", "d3", "d4")
    }
    assert created.json()["drawn"] == 4 and created.json()["graded"] == 0

    queue = second.get("/api/v1/reinspections").json()["results"]
    assert {item["drop_id"] for item in queue} == {drops[k].pk for k in ("d1", "d2", "d3")}
    assert all("verdict" not in key and "inspector" not in key for item in queue for key in item)
    item_of = {item["drop_id"]: item["id"] for item in queue}
    item_of[drops["d4"].pk] = first.get("/api/v1/reinspections").json()["results"][0]["id"]

    for key, client, verdict in [
        ("d1", second, "correct"),  # agrees
        ("d2", second, "incorrect"),  # disagrees
        ("d3", second, "incorrect"),  # agrees
        ("d4", first, "correct"),  # disagrees
    ]:
        graded = client.post(
            f"/api/v1/reinspections/{item_of[drops[key].pk]}/verdict", {"verdict": verdict}, format="json"
        )
        assert graded.status_code == 200, graded.content

    report = officer.get(f"/api/v1/stats/reinspections/{sample_id}").json()
    assert (report["drawn"], report["graded"], report["agreed"], report["agreement_rate"]) == (4, 4, 2, 0.5)
    assert sorted(
        (d["drop_id"], d["first_verdict"], d["second_verdict"]) for d in report["disagreements"]
    ) == [
        (drops["d2"].pk, "correct", "incorrect"),
        (drops["d4"].pk, "incorrect", "correct"),
    ]
    rows = rows_by_name(officer.get(f"/api/v1/stats/inspectors?{NOVEMBER}"))
    assert (rows["甲"]["reinspected"], rows["甲"]["agreed"], rows["甲"]["agreement_rate"]) == (3, 2, 0.6667)
    assert (rows["乙"]["reinspected"], rows["乙"]["agreed"], rows["乙"]["agreement_rate"]) == (1, 0, 0.0)
    # the second verdict is a measurement: the drops themselves did not change
    assert Drop.objects.get(pk=drops["d2"].pk).verdict == "correct"


def test_a_reinspection_is_graded_once_by_another_inspector_of_the_community(world, weidu, as_user):
    officer = as_user(DistrictOfficerFactory(district=weidu))
    officer.post(
        "/api/v1/stats/reinspections",
        {
            "district_id": weidu.id,
            "size": 5,
            "inspector_id": world["first"].id,
            "from": "2026-11-01",
            "to": "2026-11-30",
        },
        format="json",
    )
    item = Reinspection.objects.filter(drop=world["drops"]["d1"]).get()
    url = f"/api/v1/reinspections/{item.pk}/verdict"

    own = as_user(world["first"]).post(url, {"verdict": "correct"}, format="json")
    assert own.status_code == 403 and own.json()["error"]["code"] == "same_inspector"
    outsider = as_user(world["other"]).post(url, {"verdict": "correct"}, format="json")
    assert outsider.status_code == 404
    bad = as_user(world["second"]).post(url, {"verdict": "maybe"}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "validation_error"
    item.refresh_from_db()
    assert (item.second_verdict, item.second_inspector_id) == ("", None)

    assert as_user(world["second"]).post(url, {"verdict": "incorrect"}, format="json").status_code == 200
    again = as_user(world["second"]).post(url, {"verdict": "correct"}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_graded"
    item.refresh_from_db()
    assert item.second_verdict == "incorrect"
    assert set(Reinspection.objects.values_list("first_inspector_id", flat=True)) == {world["first"].id}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"size": 0}, 400, "validation_error"),
        ({"size": 201}, 400, "validation_error"),
        ({"from": "2026-12-01", "to": "2026-11-01"}, 400, "bad_period"),
        ({"from": "2026-10-01", "to": "2026-10-02"}, 409, "nothing_to_sample"),
    ],
)
def test_a_bad_sample_request_writes_nothing(world, weidu, as_user, body, status, code):
    request = {"district_id": weidu.id, "size": 3, "from": "2026-11-01", "to": "2026-11-30", **body}

    response = as_user(DistrictOfficerFactory(district=weidu)).post(
        "/api/v1/stats/reinspections", request, format="json"
    )

    assert response.status_code == status and response.json()["error"]["code"] == code
    assert not ReinspectionSample.objects.exists() and not Reinspection.objects.exists()


def test_samples_are_scoped_like_other_statistics(world, weidu, jian_an, as_user):
    officer = as_user(DistrictOfficerFactory(district=weidu))
    body = {"size": 3, "from": "2026-11-01", "to": "2026-11-30"}

    other_district = officer.post(
        "/api/v1/stats/reinspections", {**body, "district_id": jian_an.id}, format="json"
    )
    assert other_district.status_code == 404
    foreign_inspector = officer.post(
        "/api/v1/stats/reinspections",
        {**body, "district_id": weidu.id, "inspector_id": world["other"].id},
        format="json",
    )
    assert (
        foreign_inspector.status_code == 400 and "inspector_id" in foreign_inspector.json()["error"]["fields"]
    )
    assert not ReinspectionSample.objects.exists()
    assert (
        as_user(world["first"])
        .post("/api/v1/stats/reinspections", {**body, "district_id": weidu.id}, format="json")
        .status_code
        == 403
    )

    mine = officer.post(
        "/api/v1/stats/reinspections", {**body, "district_id": weidu.id}, format="json"
    ).json()["id"]
    away = as_user(DistrictOfficerFactory(district=jian_an))
    assert away.get(f"/api/v1/stats/reinspections/{mine}").status_code == 404
    assert away.get("/api/v1/stats/reinspections").json()["results"] == []
