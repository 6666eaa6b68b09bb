"""A year of plausible history for the demo districts, so a first dashboard shows trends, not "no data".

Deterministic (one seeded generator; the year is the 365 days before today), written in bulk and then
rolled up with one full rebuild, so it loads in seconds. Per demo community: a dozen households,
drops with verdicts, deposits at a kiosk, a pickup each week weighed close to what was deposited; per
district each week: weighbridge tickets at the district's plants, the kiosk pickups received on the
recycler's ticket, and licensed-handler tickets for hazardous waste. Recycling and composting grow
over the year, so the indicators trend upwards towards their targets. Loaded once: a second run
finds its tickets and stops.
"""

import random
import uuid
from datetime import datetime, time, timedelta

from django.db import transaction

from accounts.models import Household, Role, User
from geo.models import Community
from kiosks.models import Deposit, Kiosk, Pickup, PickupLine
from rewards.models import Material
from sorting.models import Bin, Drop
from stats.models import Collection, CollectionPickup, Plant
from stats.selectors import STATS_TZ
from stats.selectors import statistics_today as today
from stats.services import rebuild_rollups

SEED = 2026
DAYS = 365
HOUSEHOLDS_PER_COMMUNITY = 12
NOTE = "demo history"
KIOSK_MATERIALS = ("paper", "plastic", "metal", "glass", "batteries")
PLANTS = (
    # destination, name suffix
    ("recycling", "再生资源分拣中心"),
    ("composting", "餐厨垃圾处理厂"),
    ("incineration", "生活垃圾焚烧发电厂"),
    ("landfill", "生活垃圾填埋场"),
    ("hazardous_treatment", "危险废物处置中心"),
)


def _moment(day, rng: random.Random) -> datetime:
    return datetime.combine(day, time(7 + rng.randrange(14), rng.randrange(60)), STATS_TZ)


def _households(community: Community) -> list[User]:
    residents = []
    for n in range(1, HOUSEHOLDS_PER_COMMUNITY + 1):
        household, _created = Household.objects.get_or_create(community=community, address=f"演示{n:02d}号楼")
        phone = f"+86136{community.pk:04d}{n:04d}"
        resident = User.objects.filter(phone=phone).first()
        if resident is None:
            resident = User(phone=phone, display_name=f"居民{n:02d}", role=Role.RESIDENT, household=household)
            resident.set_unusable_password()  # they never sign in; no published password needed
            resident.save()
        residents.append(resident)
    return residents


def _community_events(community: Community, rng: random.Random, first_day, materials) -> list[Pickup]:
    """Drops and deposits of a year in one community, and the kiosk's weekly pickups."""
    residents = _households(community)
    bins = list(Bin.objects.filter(community=community))
    kiosk, _created = Kiosk.objects.get_or_create(community=community, name=f"{community.name} 智能回收箱")
    kiosk.materials.add(*materials.values())
    drops, deposits = [], []
    for offset in range(DAYS):
        day = first_day + timedelta(days=offset)
        progress = offset / DAYS
        for _ in range(rng.randrange(2, 9)):
            resident = rng.choice(residents)
            correct = rng.random() < 0.6 + 0.3 * progress
            graded = rng.random() < 0.8
            at = _moment(day, rng)
            drops.append(
                Drop(
                    bin=rng.choice(bins),
                    resident=resident,
                    household_id=resident.household_id,
                    community=community,
                    status=("accepted" if correct else "rejected") if graded else "accepted",
                    verdict=("correct" if correct else "incorrect") if graded else "",
                    graded_at=at + timedelta(hours=2) if graded else None,
                )
            )
            drops[-1].demo_at = at
        for _ in range(rng.randrange(0, 5)):
            resident = rng.choice(residents)
            code = rng.choice(KIOSK_MATERIALS)
            deposits.append(
                Deposit(
                    kiosk=kiosk,
                    deposit_id=uuid.uuid4(),
                    resident=resident,
                    household_id=resident.household_id,
                    community=community,
                    material=materials[code],
                    weight_g=rng.randrange(200, 400) if code == "batteries" else rng.randrange(500, 4000),
                    occurred_at=_moment(day, rng),
                    fingerprint="0" * 64,
                    response={},
                )
            )
    created = Drop.objects.bulk_create(drops, batch_size=2000)
    # created_at is set on insert: move each drop to the moment it was made.
    for drop, source in zip(created, drops, strict=True):
        drop.created_at = drop.updated_at = source.demo_at
    Drop.objects.bulk_update(created, ["created_at", "updated_at"], batch_size=2000)
    Deposit.objects.bulk_create(deposits, batch_size=2000)
    return _weekly_pickups(kiosk, deposits, rng, first_day)


def _weekly_pickups(kiosk: Kiosk, deposits: list[Deposit], rng: random.Random, first_day) -> list[Pickup]:
    pickups = []
    previous = None
    for week in range(DAYS // 7 + 1):
        at = datetime.combine(first_day + timedelta(days=7 * week + 6), time(18), STATS_TZ)
        if at.date() >= today():
            break
        emptied = [
            d for d in deposits if (previous is None or d.occurred_at > previous) and d.occurred_at <= at
        ]
        previous = at
        if not emptied:
            continue
        pickup = Pickup.objects.create(
            kiosk=kiosk,
            pickup_id=uuid.uuid4(),
            source=Pickup.Source.STAFF,
            collected_at=at,
            covers_until=at,
            fingerprint="",
        )
        by_material: dict = {}
        for d in emptied:
            by_material[d.material] = by_material.get(d.material, 0) + d.weight_g
        PickupLine.objects.bulk_create(
            PickupLine(
                pickup=pickup,
                material=material,
                # A little is lost between kiosk and truck (wet paper dries, a bag tears).
                weight_g=round(weight * rng.uniform(0.96, 1.0)),
                expected_g=weight,
            )
            for material, weight in by_material.items()
        )
        pickups.append(pickup)
    return pickups


def _weekly_tickets(district, pickups: list[Pickup], rng: random.Random, first_day, officer) -> None:
    plants = {
        destination: Plant.objects.get_or_create(
            district=district, name=f"{district.name}{suffix}", defaults={"destination": destination}
        )[0]
        for destination, suffix in PLANTS
    }
    tickets, links = [], []
    for week in range(DAYS // 7):
        day = min(first_day + timedelta(days=7 * week + 6), today() - timedelta(days=1))
        progress = week / (DAYS // 7)
        # tonnes a week: recycling and composting grow as sorting takes hold, landfill shrinks
        routes = [
            ("recyclable", "recycling", 1.2 + 1.0 * progress),
            ("recyclable", "landfill", 0.6 - 0.4 * progress),
            ("kitchen", "composting", 1.0 + 1.2 * progress),
            ("kitchen", "landfill", 1.4 - 0.9 * progress),
            ("other", "incineration", 3.0),
            ("other", "landfill", 2.0 - 0.8 * progress),
        ]
        for category, destination, tonnes in routes:
            tickets.append(
                Collection(
                    district=district,
                    category=category,
                    weight_g=round(tonnes * rng.uniform(0.9, 1.1) * 1_000_000),
                    date=day,
                    destination=destination,
                    plant=plants[destination],
                    reference=f"{district.pk}-{week:02d}-{category[:3]}-{destination[:3]}",
                    note=NOTE,
                    recorded_by=officer,
                )
            )
        week_pickups = [p for p in pickups if p.collected_at.astimezone(STATS_TZ).date() == day]
        lines = PickupLine.objects.filter(pickup__in=week_pickups).select_related("material")
        received = {"recyclable": 0, "hazardous": 0}
        for line in lines:
            received[line.material.category] = received.get(line.material.category, 0) + line.weight_g
        for category, destination in (("recyclable", "recycling"), ("hazardous", "hazardous_treatment")):
            if not received.get(category):
                continue
            ticket = Collection(
                district=district,
                category=category,
                weight_g=round(received[category] * rng.uniform(0.97, 1.0)),
                date=day,
                destination=destination,
                plant=plants[destination],
                reference=f"{district.pk}-{week:02d}-kiosk-{category[:3]}",
                note=NOTE,
                recorded_by=officer,
            )
            tickets.append(ticket)
            if category == "recyclable":
                links.extend((ticket, p) for p in week_pickups)
    Collection.objects.bulk_create(tickets, batch_size=1000)
    CollectionPickup.objects.bulk_create(CollectionPickup(collection=t, pickup=p) for t, p in links)


def load_history(communities: dict[str, Community], officer: User) -> bool:
    """Write the year of history once; False when it is there already."""
    if Collection.objects.filter(note=NOTE).exists():
        return False
    rng = random.Random(SEED)
    # The 365 days before today: nothing dated later than now, which the rollup job would re-read
    # (and announce) on every round as if it had just changed.
    first_day = today() - timedelta(days=DAYS)
    materials = {m.code: m for m in Material.objects.filter(code__in=KIOSK_MATERIALS)}
    with transaction.atomic():
        pickups_by_district: dict = {}
        for name in sorted(communities):
            community = communities[name]
            if not Bin.objects.filter(community=community).exists():
                continue
            pickups_by_district.setdefault(community.district, []).extend(
                _community_events(community, rng, first_day, materials)
            )
        for district in sorted({c.district for c in communities.values()}, key=lambda d: d.pk):
            _weekly_tickets(district, pickups_by_district.get(district, []), rng, first_day, officer)
    rebuild_rollups()
    return True
