"""The mass balance of a district: deposited at kiosks -> picked up -> received at a destination.

Shrinkage between the kiosk and the truck is read from the pickup lines, which keep what the
deposits they emptied weighed (`expected_g`); between the truck and the plant from the tickets that
name the pickups they received. Only the destination stage counts in an indicator, so a kilogram
lost on the way lowers the rate instead of vanishing.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, Q, Sum

from kiosks.models import PickupLine

from .models import Collection
from .periods import STATS_TZ


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Stage:
    """Weights of one place over a period (grams)."""

    deposited_g: int = 0  # what the emptied deposits weighed at the kiosk
    picked_up_g: int = 0
    flagged_lines: int = 0

    @property
    def shrinkage_g(self) -> int:
        return self.deposited_g - self.picked_up_g

    @property
    def shrinkage_rate(self) -> float | None:
        return _share(self.shrinkage_g, self.deposited_g)

    @property
    def over_tolerance(self) -> bool:
        rate = self.shrinkage_rate
        return rate is not None and abs(rate) > settings.PICKUP_TOLERANCE

    def add(self, other: "Stage") -> None:
        self.deposited_g += other.deposited_g
        self.picked_up_g += other.picked_up_g
        self.flagged_lines += other.flagged_lines


@dataclass
class KioskBalance(Stage):
    kiosk_id: int = 0
    kiosk_name: str = ""
    community_id: int = 0


@dataclass
class CommunityBalance(Stage):
    community_id: int = 0


@dataclass
class DistrictBalance(Stage):
    # pickups of the period that a ticket received, and what those tickets weighed
    picked_up_received_g: int = 0
    received_g: int = 0
    kiosks: list[KioskBalance] = field(default_factory=list)
    communities: list[CommunityBalance] = field(default_factory=list)

    @property
    def transit_shrinkage_rate(self) -> float | None:
        return _share(self.picked_up_received_g - self.received_g, self.picked_up_received_g)

    @property
    def tolerance(self) -> float:
        return settings.PICKUP_TOLERANCE


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return datetime.combine(start, time(), STATS_TZ), datetime.combine(
        end + timedelta(days=1), time(), STATS_TZ
    )


def district_balance(district_id: int, start: date, end: date) -> DistrictBalance:
    """Pickups of the district collected in start..end (statistics days), by kiosk and community."""
    after, before = _bounds(start, end)
    lines = PickupLine.objects.filter(
        pickup__kiosk__community__district_id=district_id,
        pickup__collected_at__gte=after,
        pickup__collected_at__lt=before,
    )
    balance = DistrictBalance()
    communities: dict[int, CommunityBalance] = defaultdict(CommunityBalance)
    for row in (
        lines.values("pickup__kiosk_id", "pickup__kiosk__name", "pickup__kiosk__community_id")
        .annotate(
            deposited=Sum("expected_g"), picked=Sum("weight_g"), flagged=Count("id", filter=Q(flagged=True))
        )
        .order_by("pickup__kiosk_id")
    ):
        kiosk = KioskBalance(
            deposited_g=int(row["deposited"]),
            picked_up_g=int(row["picked"]),
            flagged_lines=row["flagged"],
            kiosk_id=row["pickup__kiosk_id"],
            kiosk_name=row["pickup__kiosk__name"],
            community_id=row["pickup__kiosk__community_id"],
        )
        balance.kiosks.append(kiosk)
        community = communities[kiosk.community_id]
        community.community_id = kiosk.community_id
        community.add(kiosk)
        balance.add(kiosk)
    balance.communities = [communities[c] for c in sorted(communities)]
    received_lines = lines.filter(pickup__receipt__isnull=False)
    balance.picked_up_received_g = int(received_lines.aggregate(g=Sum("weight_g"))["g"] or 0)
    tickets = Collection.objects.filter(
        pickup_links__pickup__in=received_lines.values("pickup_id")
    ).distinct()
    balance.received_g = int(
        Collection.objects.filter(pk__in=tickets.values("pk")).aggregate(g=Sum("weight_g"))["g"] or 0
    )
    return balance
