"""Reads of kiosks and of deposits, scoped to the caller."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet, Sum

from accounts.models import User
from accounts.selectors import home_city_of, visible_districts
from rewards.selectors import CarbonTerms, cached_carbon_terms, co2e_grams, period_start

from .models import Deposit, Kiosk, KioskAlert


def kiosks_visible_to(user) -> QuerySet[Kiosk]:
    open_alerts = KioskAlert.objects.filter(cleared_at__isnull=True).order_by("raised_at")
    return (
        Kiosk.objects.filter(community__district__in=visible_districts(user))
        .select_related("community")
        .prefetch_related("materials", Prefetch("alerts", queryset=open_alerts, to_attr="open_alerts"))
        .order_by("id")
    )


# ---- a resident's own impact ------------------------------------------------------------------------


@dataclass(frozen=True)
class ImpactTotals:
    grams_by_material: dict[str, int]
    co2e_grams: int

    @property
    def grams(self) -> int:
        return sum(self.grams_by_material.values())


@dataclass(frozen=True)
class CommunityRank:
    community_id: int
    position: int
    of: int


@dataclass(frozen=True)
class Impact:
    month_start: datetime
    this_month: ImpactTotals
    all_time: ImpactTotals
    rank: CommunityRank | None


def _totals(terms: CarbonTerms, grams_by_material: dict[str, int]) -> ImpactTotals:
    # CO2e is taken per material total and rounded down to the gram there, so a hand count over the
    # table of factors gives the same figure.
    kept = {code: grams for code, grams in grams_by_material.items() if grams}
    return ImpactTotals(
        grams_by_material=dict(sorted(kept.items())),
        co2e_grams=sum(co2e_grams(terms, code, grams) for code, grams in kept.items()),
    )


def _month_rank(user, terms: CarbonTerms, month_start: datetime) -> CommunityRank | None:
    """The user's place this month among the opted-in residents of their community, by CO2e avoided.

    Equal figures share a place; residents who did not opt in are neither shown nor counted.
    """
    if not (user.leaderboard_opt_in and user.household_id):
        return None
    community_id = user.household.community_id
    rows = (
        Deposit.objects.filter(
            resident__household__community_id=community_id,
            resident__leaderboard_opt_in=True,
            occurred_at__gte=month_start,
        )
        .values_list("resident_id", "material__code")
        .annotate(grams=Sum("weight_g"))
    )
    co2e: dict[int, int] = defaultdict(int)
    for resident_id, code, grams in rows:
        co2e[resident_id] += co2e_grams(terms, code, grams)
    ranked = User.objects.filter(
        household__community_id=community_id, leaderboard_opt_in=True, is_active=True
    )
    mine = co2e.get(user.pk, 0)
    return CommunityRank(
        community_id=community_id,
        position=1 + sum(1 for value in co2e.values() if value > mine),
        of=ranked.count(),
    )


def impact_of(user, *, now: datetime | None = None) -> Impact:
    """Kilograms a resident recycled by material and the CO2e avoided, this month and all time,
    under the emission factors of their own city; their community rank if they opted in."""
    terms = cached_carbon_terms(home_city_of(user).id)
    month_start = period_start("month", now)
    rows = (
        Deposit.objects.filter(resident=user)
        .values_list("material__code")
        .annotate(
            all_time=Sum("weight_g"),
            this_month=Sum("weight_g", filter=Q(occurred_at__gte=month_start), default=0),
        )
    )
    all_time = {code: grams for code, grams, _month in rows}
    this_month = {code: month for code, _grams, month in rows}
    return Impact(
        month_start=month_start,
        this_month=_totals(terms, this_month),
        all_time=_totals(terms, all_time),
        rank=_month_rank(user, terms, month_start),
    )
