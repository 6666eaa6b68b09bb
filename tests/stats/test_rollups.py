"""Rollups equal a recount of the raw events, whatever order events arrive in and refreshes run."""

import random
import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from kiosks.models import Deposit
from rewards.models import Material
from sorting.models import Bin, Drop
from stats.models import Collection, DistrictDepositDaily, Watermark
from stats.rollups.definitions import recount_queries
from stats.rollups.verification import verify
from tests import factories

from .factories import bin_in, deposit, drop, grade, kiosk, record

SHANGHAI = ZoneInfo("Asia/Shanghai")
MATERIALS = ["paper", "plastic", "glass", "metal", "batteries", "medicines"]
CATEGORIES = [
    ("recyclable", "recycling"),
    ("kitchen", "composting"),
    ("other", "incineration"),
    ("other", "landfill"),
]


def _moment(rng: random.Random) -> datetime:
    # Around midnight more often than not: that is where a UTC day and a Shanghai day disagree.
    day = date(2026, 3, 1) + timedelta(days=rng.randrange(40))
    minute = rng.choice([rng.randrange(24 * 60), 23 * 60 + rng.randrange(60), rng.randrange(60)])
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI) + timedelta(minutes=minute)


def _world(weidu, jian_an):
    communities = [factories.CommunityFactory(district=weidu) for _ in range(2)] + [
        factories.CommunityFactory(district=jian_an)
    ]
    residents = [factories.ResidentFactory(household__community=c) for c in communities for _ in range(4)]
    kiosks = [kiosk(c) for c in communities]
    for c in communities:
        for category in ("recyclable", "kitchen", "hazardous", "other"):
            bin_in(c, category)
    return communities, residents, kiosks


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_rollups_equal_a_recount_after_a_random_stream_of_events(seed, weidu, jian_an, city_officer):
    rng = random.Random(seed)
    communities, residents, kiosks = _world(weidu, jian_an)
    bins = list(Bin.objects.all())
    for _step in range(120):
        action = rng.random()
        if action < 0.25:
            resident = rng.choice(residents)
            status, verdict = rng.choice(
                [
                    ("pending", ""),
                    ("pending", ""),
                    ("accepted", ""),
                    ("accepted", "correct"),
                    ("rejected", "incorrect"),
                ]
            )
            drop(rng.choice(bins), resident, _moment(rng), status=status, verdict=verdict)
        elif action < 0.35:
            waiting = Drop.objects.filter(status="pending").order_by("?").first()
            if waiting:
                grade(waiting, rng.choice(["correct", "incorrect"]))
        elif action < 0.55:
            resident = rng.choice(residents)
            box = rng.choice(
                [k for k in kiosks if k.community_id == resident.household.community_id] + kiosks
            )
            deposit(box, resident, rng.choice(MATERIALS), rng.randrange(50, 5000), _moment(rng))
        elif action < 0.70:
            category, destination = rng.choice(CATEGORIES)
            district = rng.choice([weidu, jian_an])
            record(city_officer, district, category, rng.randrange(1, 900), destination, _moment(rng).date())
        elif action < 0.75:
            original = Collection.objects.filter(reverses__isnull=True, reversed_by__isnull=True).first()
            if original:
                from stats.services import correct_collection

                correct_collection(actor=city_officer, collection_id=original.id, replacement=None)
        elif action < 0.80:
            residents.append(factories.ResidentFactory(household__community=rng.choice(communities)))
        else:
            call_command("refresh_rollups")
    call_command("refresh_rollups")

    assert verify() == []
    call_command("verify_rollups")


@pytest.mark.django_db
def test_statistics_equal_a_recount_done_by_hand(as_user, city_officer, weidu, jian_an):
    rng = random.Random(7)
    _communities, residents, kiosks = _world(weidu, jian_an)
    bins = list(Bin.objects.all())
    made, dropped = [], []
    for _ in range(40):
        resident = rng.choice(residents)
        box = rng.choice(kiosks)
        made.append(deposit(box, resident, rng.choice(MATERIALS), rng.randrange(50, 5000), _moment(rng)))
        status, verdict = rng.choice([("accepted", "correct"), ("rejected", "incorrect"), ("pending", "")])
        dropped.append(
            drop(rng.choice(bins), rng.choice(residents), _moment(rng), status=status, verdict=verdict)
        )
        if rng.random() < 0.3:
            call_command("refresh_rollups")
    call_command("refresh_rollups")
    first, last = date(2026, 3, 5), date(2026, 3, 25)

    def inside(moment) -> bool:
        return first <= moment.astimezone(SHANGHAI).date() <= last

    drops_in_weidu = [d for d in dropped if d.community.district_id == weidu.id and inside(d.created_at)]

    in_weidu = [
        d
        for d in made
        if d.community.district_id == weidu.id and first <= d.occurred_at.astimezone(SHANGHAI).date() <= last
    ]
    participants = {
        d.household_id
        for d in made
        if d.household.community.district_id == weidu.id and inside(d.occurred_at)
    } | {
        d.household_id
        for d in dropped
        if d.status == "accepted" and d.household.community.district_id == weidu.id and inside(d.created_at)
    }
    row = next(
        r
        for r in as_user(city_officer)
        .get("/api/v1/stats/districts", {"from": first.isoformat(), "to": last.isoformat()})
        .json()["results"]
        if r["district"]["id"] == weidu.id
    )

    assert sum(row["deposits_kg_by_material"].values()) == pytest.approx(
        sum(d.weight_g for d in in_weidu) / 1000
    )
    assert row["participating_households"] == len(participants)
    recyclable = sum(d.weight_g for d in in_weidu if d.material.category == "recyclable")
    assert row["recovered_kg"] == pytest.approx(recyclable / 1000)
    assert row["drops"] == len(drops_in_weidu)
    graded = [d for d in drops_in_weidu if d.verdict]
    assert row["verdicts"] == len(graded)
    assert row["accuracy_rate"] == round(sum(d.verdict == "correct" for d in graded) / len(graded), 4)


@pytest.mark.django_db
def test_verify_rollups_fails_when_a_rollup_drifts(weidu, community, resident):
    deposit(kiosk(community), resident, "paper", 1200, datetime(2026, 3, 10, 12, tzinfo=SHANGHAI))
    call_command("refresh_rollups")
    call_command("verify_rollups")

    DistrictDepositDaily.objects.update(weight_g=1)

    with pytest.raises(CommandError) as failure:
        call_command("verify_rollups")
    assert failure.value.returncode == 1
    assert [m.table for m in verify()] == ["stats_districtdepositdaily"]


@pytest.mark.django_db
def test_a_full_rebuild_equals_the_incremental_rollups(weidu, jian_an, city_officer):
    rng = random.Random(11)
    _communities, residents, kiosks = _world(weidu, jian_an)
    for _ in range(30):
        deposit(
            rng.choice(kiosks),
            rng.choice(residents),
            rng.choice(MATERIALS),
            rng.randrange(50, 900),
            _moment(rng),
        )
        if rng.random() < 0.3:
            call_command("refresh_rollups")
    call_command("refresh_rollups")
    incremental = _snapshot()

    call_command("refresh_rollups", full=True)

    assert _snapshot() == incremental
    assert verify() == []


def _snapshot() -> dict:
    tables = {}
    with connection.cursor() as cursor:
        for table, (columns, _select) in recount_queries().items():
            cursor.execute(f"SELECT {columns} FROM {table} ORDER BY {columns}")  # noqa: S608
            tables[table] = [row for row in cursor.fetchall() if any(v not in (0, None) for v in row[2:])]
    return tables


@pytest.mark.django_db(transaction=True)
def test_a_deposit_that_commits_after_a_later_one_was_rolled_up_is_still_counted(xuchang_db):
    weidu, _jian_an, _city = xuchang_db
    community = factories.CommunityFactory(district=weidu)
    early, late = (factories.ResidentFactory(household__community=community) for _ in range(2))
    box = kiosk(community)
    paper = Material.objects.get(code="paper")
    inserted, release = threading.Event(), threading.Event()
    # The worker has been running: its watermark stands at an earlier deposit.
    deposit(box, late, "glass", 100, datetime(2026, 3, 9, 9, tzinfo=SHANGHAI))
    call_command("refresh_rollups")

    def slow_transaction():
        try:
            with transaction.atomic():
                deposit(box, early, "paper", 700, datetime(2026, 3, 10, 9, tzinfo=SHANGHAI))
                inserted.set()
                release.wait(10)
        finally:
            connection.close()

    worker = threading.Thread(target=slow_transaction)
    worker.start()
    assert inserted.wait(10)
    deposit(box, late, "paper", 300, datetime(2026, 3, 10, 10, tzinfo=SHANGHAI))
    call_command("refresh_rollups")
    assert DistrictDepositDaily.objects.get(district=weidu, material=paper.code).weight_g == 300
    assert Watermark.objects.get(source="deposits").gaps  # the early id is remembered as missing

    release.set()
    worker.join(10)
    call_command("refresh_rollups")

    assert Deposit.objects.count() == 3
    assert DistrictDepositDaily.objects.get(district=weidu, material=paper.code).weight_g == 1000
    assert Watermark.objects.get(source="deposits").gaps == {}
    assert verify() == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "first, last, expected",
    [
        ("2025-12-30", "2026-01-02", 2),  # across the new year: counted from the months
        ("2025-12-31", "2025-12-31", 1),  # a whole day
        ("2026-01-01", "2026-01-31", 2),  # a whole month
        ("2026-01-01", "2026-01-01", 2),
        ("2026-01-02", "2026-01-20", 0),  # inside a year, clipped: counted from the year's day bits
        ("2025-12-01", "2025-12-30", 0),
    ],
)
def test_participation_is_exact_for_any_period(
    as_user, district_officer, weidu, community, first, last, expected
):
    one, two = (factories.ResidentFactory(household__community=community) for _ in range(2))
    box = kiosk(community)
    deposit(box, one, "paper", 100, datetime(2025, 12, 31, 23, 30, tzinfo=SHANGHAI))
    deposit(box, one, "paper", 100, datetime(2026, 1, 1, 0, 30, tzinfo=SHANGHAI))
    deposit(box, two, "paper", 100, datetime(2026, 1, 1, 18, 0, tzinfo=SHANGHAI))
    call_command("refresh_rollups")

    row = (
        as_user(district_officer)
        .get("/api/v1/stats/districts", {"from": first, "to": last})
        .json()["results"][0]
    )

    assert row["participating_households"] == expected
