"""The public supervision data: no login, rollups only, households protected, cacheable, bounded, throttled."""

import csv
import io
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from stats import disclosure
from tests import factories

from .factories import bin_in, drop, households, kiosk, record

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
YEAR = {"year": 2026}
# The raw event tables: what a public query must never touch (rollups and reference tables only).
RAW_TABLES = re.compile(
    r'"?(kiosks_deposit|kiosks_pickup|kiosks_pickupline|kiosks_kiosknonce|kiosks_kiosksession|'
    r"sorting_drop|sorting_inspection|rewards_posting|rewards_ledgertransaction|rewards_redemption|"
    r'stats_collection|accounts_household)"?(?![a-z_])'
)


# ---- the rule, on crafted cells --------------------------------------------------------------------


def test_cells_under_k_households_are_withheld():
    assert disclosure.withheld({"a": 10, "b": 6, "c": 4, "d": 3, "e": 0}, 5) == {"c", "d", "e"}


def test_a_lone_small_cell_takes_the_smallest_published_one_with_it():
    # District 3 + 20 + 30: publishing 20, 30 and the total would give the 3-household community.
    assert disclosure.withheld({"small": 3, "mid": 20, "big": 30}, 5) == {"small", "mid"}


def test_withheld_cells_already_holding_k_households_need_nothing_more():
    assert disclosure.withheld({"a": 3, "b": 4, "c": 30}, 5) == {"a", "b"}


def test_empty_cells_reveal_nothing_and_withhold_nothing_more():
    assert disclosure.withheld({"empty": 0, "a": 6, "b": 7}, 5) == {"empty"}


def test_the_rule_repeats_until_the_remainder_is_safe():
    # 1 + 2 = 3 < 5: the smallest published (3) goes too, and 1 + 2 + 3 = 6 is safe.
    assert disclosure.withheld({"a": 1, "b": 2, "c": 3, "d": 50}, 5) == {"a", "b", "c"}


@pytest.mark.parametrize("k", [2, 3, 5, 8])
@pytest.mark.parametrize("sizes", [[1, 9, 12], [4, 4, 30], [0, 2, 6, 6], [7, 8], [3], [2, 2, 2, 100]])
def test_no_published_total_minus_published_cells_gives_a_group_under_k(sizes, k):
    cells = dict(enumerate(sizes))
    hidden = disclosure.withheld(cells, k)
    remainder = sum(cells[i] for i in hidden)
    # All withheld and still under K: the parent itself has fewer than K and is withheld (rule 1).
    assert remainder == 0 or remainder >= k or sum(sizes) < k
    assert all(cells[i] >= k for i in cells if i not in hidden)


# ---- the figures over HTTP ---------------------------------------------------------------------------


def _participate(community, n: int, *, correct: int = 0):
    """n households of the community each drop once in March 2026; the first `correct` are graded correct."""
    bin_row = bin_in(community, "recyclable")
    for i, household in enumerate(households(community, n)):
        resident = factories.ResidentFactory(household=household)
        at = datetime(2026, 3, 5, 10, tzinfo=SHANGHAI)
        if i < correct:
            drop(bin_row, resident, at, status="accepted", verdict="correct")
        else:
            drop(bin_row, resident, at, status="accepted")


@pytest.fixture
def crafted(weidu, jian_an, city_officer):
    """Weidu: communities of 6 and 8 households and one of 2 (all participating); Jian'an: one of 10."""
    big = factories.CommunityFactory(district=weidu, name="大社区")
    mid = factories.CommunityFactory(district=weidu, name="中社区")
    tiny = factories.CommunityFactory(district=weidu, name="小社区")
    other = factories.CommunityFactory(district=jian_an, name="建安社区")
    _participate(big, 8, correct=4)
    _participate(mid, 6, correct=6)
    _participate(tiny, 2, correct=2)
    _participate(other, 10)
    record(city_officer, weidu, "recyclable", 40, "recycling", date(2026, 3, 10))
    record(city_officer, weidu, "other", 60, "landfill", date(2026, 3, 10))
    record(city_officer, jian_an, "kitchen", 30, "composting", date(2026, 4, 2))
    call_command("refresh_rollups")
    return {"big": big, "mid": mid, "tiny": tiny, "other": other}


def _get(client, path, params=None, **extra):
    return client.get(path, {**YEAR, **(params or {})}, **extra)


def test_the_data_needs_no_login_and_states_the_plan_indicators(client, crafted, weidu):
    response = _get(client, "/public/data/indicators.json")

    assert response.status_code == 200
    body = response.json()
    assert body["year"] == 2026 and body["from"] == "2026-01-01" and body["min_households"] == 5
    rows = {(r["scope"], r["place_id"], r["indicator"]): r for r in body["results"]}
    weidu_plan = rows[("district", weidu.id, "plan_utilization")]
    assert (weidu_plan["value"], weidu_plan["numerator_kg"], weidu_plan["denominator_kg"]) == (
        0.4,
        40.0,
        100.0,
    )
    assert weidu_plan["indicator_name"] == "生活垃圾资源化利用率"
    city = rows[("city", weidu.city_id, "plan_utilization")]
    # The city: 40 recycled + 30 composted of 130 handled.
    assert (city["numerator_kg"], city["denominator_kg"]) == (70.0, 130.0)
    assert city["target"] == 0.35


def test_a_small_community_and_its_smallest_neighbour_are_withheld_and_the_total_stays_exact(
    client, crafted, weidu
):
    communities = _get(client, "/public/data/communities.json").json()
    shown = {r["community_id"]: r for r in communities["results"]}
    # 小社区 (2 households) is under K; with it alone withheld, Weidu's 16 participating households
    # minus 8 and 6 would give its 2: so 中社区 (6, the smallest shown) is withheld too.
    assert crafted["tiny"].id not in shown and crafted["mid"].id not in shown
    assert shown[crafted["big"].id]["households"] == 8
    # Four of its drops were graded, all correct; the others were accepted without a verdict.
    assert shown[crafted["big"].id]["accuracy_rate"] == 1.0
    assert shown[crafted["other"].id]["accuracy_rate"] is None
    assert communities["withheld_communities"] == 2
    places = {
        (r["scope"], r["place_id"]): r for r in _get(client, "/public/data/places.json").json()["results"]
    }
    district = places[("district", weidu.id)]
    assert district["households"] == 16 and district["participating_households"] == 16
    withheld = district["participating_households"] - sum(
        r["participating_households"] for r in communities["results"] if r["district_id"] == weidu.id
    )
    assert withheld >= 5  # what subtraction gives is a group of at least K households
    # Ranked by participation, then accuracy: the 10-household Jian'an community (all took part, none
    # graded) and Weidu's 8 (all took part, every verdict correct) share 100 %; accuracy breaks the tie.
    assert [r["community_id"] for r in communities["results"]] == [crafted["big"].id, crafted["other"].id]


def test_the_threshold_is_a_setting(client, crafted, settings):
    settings.STATS_MIN_CELL_HOUSEHOLDS = 9
    body = _get(client, "/public/data/communities.json").json()
    assert body["min_households"] == 9
    # 8 < 9 now: Weidu's communities are all withheld; Jian'an's 10 stay.
    assert [r["community_id"] for r in body["results"]] == [crafted["other"].id]


def test_no_individual_appears_in_any_dataset(client, crafted):
    resident = factories.ResidentFactory(household__community=crafted["big"], display_name="张三丰")
    for name in ("places", "indicators", "months", "communities"):
        for suffix in ("json", "csv"):
            text = _get(client, f"/public/data/{name}.{suffix}").content.decode()
            assert resident.display_name not in text
            assert str(resident.phone)[-4:] not in text or name == "indicators"


def test_months_carry_each_indicator_and_participation(client, crafted, weidu, jian_an):
    rows = _get(client, "/public/data/months.json").json()["results"]
    march = next(
        r for r in rows if r["scope"] == "district" and r["place_id"] == weidu.id and r["month"] == "2026-03"
    )
    assert march["plan_utilization"] == 0.4 and march["participating_households"] == 16
    april = next(r for r in rows if r["scope"] == "city" and r["month"] == "2026-04")
    assert april["kitchen_resourcing"] == 1.0
    assert len([r for r in rows if r["scope"] == "city"]) == 12


def test_kiosks_in_and_out_of_service(client, crafted, weidu):
    up = kiosk(crafted["big"])
    down = kiosk(crafted["mid"])
    kiosk(crafted["tiny"])  # never heard from
    type(up).objects.filter(pk=up.pk).update(last_heartbeat_at=timezone.now())
    type(down).objects.filter(pk=down.pk).update(last_heartbeat_at=timezone.now(), enabled=False)
    places = {
        (r["scope"], r["place_id"]): r for r in _get(client, "/public/data/places.json").json()["results"]
    }
    assert (
        places[("district", weidu.id)]["kiosks_in_service"],
        places[("district", weidu.id)]["kiosks_out_of_service"],
    ) == (1, 2)
    assert places[("city", weidu.city_id)]["kiosks_in_service"] == 1


def test_csv_has_the_json_columns_and_neutralises_formulas(client, crafted):
    crafted["big"].name = '=HYPERLINK("http://evil")'
    crafted["big"].save()
    response = _get(client, "/public/data/communities.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode().lstrip("\ufeff"))))
    assert rows[0]["community"] == '\'=HYPERLINK("http://evil")'
    assert set(rows[0]) == set(_get(client, "/public/data/communities.json").json()["results"][0])


def test_answers_are_cacheable_and_a_matching_etag_is_304(client, crafted):
    first = _get(client, "/public/data/places.json")
    assert first["ETag"] and first["Last-Modified"] and "max-age" in first["Cache-Control"]
    again = _get(client, "/public/data/places.json", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    other = _get(client, "/public/data/places.json", HTTP_IF_NONE_MATCH='"stale"')
    assert other.status_code == 200
    csv_first = _get(client, "/public/data/places.csv")
    assert csv_first["ETag"] != first["ETag"]
    assert _get(client, "/public/data/places.csv", HTTP_IF_NONE_MATCH=csv_first["ETag"]).status_code == 304


@pytest.mark.parametrize(
    "params",
    [
        {"year": "1999"},
        {"year": "2200"},
        {"year": "99999999999999999999"},
        {"year": "x\x00"},
        {"city": "-1"},
        {"city": "abc"},
    ],
)
def test_parameters_out_of_bounds_are_400(client, params):
    response = client.get("/public/data/indicators.json", params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_an_unknown_city_is_404(client):
    assert client.get("/public/data/places.json", {"city": 999999}).status_code == 404


def test_a_burst_from_one_client_is_throttled(client, monkeypatch):
    from api.public import PublicThrottle

    monkeypatch.setattr(PublicThrottle, "THROTTLE_RATES", {"public": "3/min"})
    statuses = [client.get("/public/data/places.json", YEAR).status_code for _ in range(5)]
    page = client.get("/public/", YEAR).status_code
    other_client = client.get("/public/data/places.json", YEAR, REMOTE_ADDR="203.0.113.9").status_code
    assert statuses == [200, 200, 200, 429, 429]
    assert page == 429
    assert other_client == 200


def test_public_reads_touch_rollups_only(client, crafted):
    for name in ("places", "indicators", "months", "communities"):
        cache.clear()  # each dataset computed afresh, not served from the shared overview
        with CaptureQueriesContext(connection) as queries:
            assert _get(client, f"/public/data/{name}.json").status_code == 200
        touched = [q["sql"] for q in queries.captured_queries if RAW_TABLES.search(q["sql"])]
        assert touched == []
        # A bounded number of statements, whatever the data: no query per community or per day.
        assert len(queries.captured_queries) <= 30
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        assert _get(client, "/public/").status_code == 200
    assert [q["sql"] for q in queries.captured_queries if RAW_TABLES.search(q["sql"])] == []


def test_one_overview_serves_every_dataset_and_the_page(client, crafted):
    assert _get(client, "/public/data/places.json").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        for path in ("/public/data/months.csv", "/public/data/communities.json", "/public/"):
            assert _get(client, path).status_code == 200
    assert len(queries.captured_queries) == 0


def test_the_page_is_chinese_first_and_english_by_accept_language(client, crafted):
    chinese = client.get("/public/", YEAR)
    assert chinese.status_code == 200
    assert "公众监督" in chinese.content.decode()
    assert "script-src 'self'" in chinese["Content-Security-Policy"]
    english = client.get("/public/", YEAR, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "public supervision" in english.content.decode()
    assert "<script>" not in english.content.decode()


def test_the_page_refuses_a_bad_year(client):
    assert client.get("/public/", {"year": "12"}).status_code == 400


def test_the_index_lists_every_dataset(client):
    body = client.get("/public/data/").json()
    assert [d["name"] for d in body["datasets"]] == ["places", "indicators", "months", "communities"]
    assert body["datasets"][0]["csv"] == "/public/data/places.csv"
