"""Reads of points, the catalog, redemptions and the point rules, scoped to the caller."""

import time
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import get_language, gettext

from accounts.models import CITY_WIDE_ROLES, Role, clean_display_name
from accounts.selectors import city_of, home_city_of
from backend.categories import Destination

from .errors import NothingToRank
from .models import (
    Account,
    EmissionFactor,
    LedgerTransaction,
    Material,
    Memo,
    PointRules,
    Posting,
    Redemption,
    Reward,
    Shop,
    rules_epoch,
)

EARNING_KINDS = [LedgerTransaction.Kind.SORTING, LedgerTransaction.Kind.DEPOSIT]


def balance_of(user) -> int:
    return Account.objects.filter(owner=user).values_list("balance", flat=True).first() or 0


def points_summary(user) -> dict:
    postings = Posting.objects.filter(account__owner=user)
    totals = postings.aggregate(
        earned=Sum("amount", filter=Q(transaction__kind__in=EARNING_KINDS)),
        redeemed=Sum(
            "amount",
            filter=Q(transaction__kind__in=[LedgerTransaction.Kind.REDEEM, LedgerTransaction.Kind.REFUND]),
        ),
    )
    return {
        "balance": balance_of(user),
        "earned_total": totals["earned"] or 0,
        # Refunds cancel the redemptions they undo, so only points actually kept by rewards count.
        "redeemed_total": -(totals["redeemed"] or 0),
    }


def ledger_feed(user) -> QuerySet[Posting]:
    return Posting.objects.filter(account__owner=user).select_related("transaction")


def render_memo(key: str, params: dict) -> str:
    """A memo in the active language; a material is named by its code and shown by its name."""
    params = dict(params)
    material = cached_materials().get(params.get("material", ""))
    if material is not None:
        english = (get_language() or "").startswith("en")
        params["material"] = material.name_en if english and material.name_en else material.name
    text = str(Memo(key).label) % params
    if "rules_version" in params:
        text = gettext("%(memo)s (point rules v%(version)s)") % {
            "memo": text,
            "version": params["rules_version"],
        }
    return text


def memo_text(ledger_transaction: LedgerTransaction) -> str:
    """The memo in the reader's language; a memo written without a key reads as written."""
    if ledger_transaction.memo_key not in Memo.values:
        return ledger_transaction.memo
    try:
        return render_memo(ledger_transaction.memo_key, ledger_transaction.memo_params or {})
    except (KeyError, TypeError, ValueError):
        return ledger_transaction.memo


def catalog(city_id: int, now: datetime | None = None) -> QuerySet[Reward]:
    """What a city's residents can redeem now: the rewards of that city's shops, never another's."""
    now = now or timezone.now()
    return (
        Reward.objects.filter(active=True, shop__city_id=city_id)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=now))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        .select_related("shop")
    )


def redemptions_of(user) -> QuerySet[Redemption]:
    return Redemption.objects.filter(resident=user).select_related("reward")


def period_start(period: str, now: datetime | None = None) -> datetime:
    """Start of the current Asia/Shanghai week (Monday) or month."""
    local = timezone.localtime(now or timezone.now())
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        return midnight - timedelta(days=midnight.weekday())
    return midnight.replace(day=1)


LEADERBOARD_SCOPES = ("community", "district")
LEADERBOARD_PERIODS = ("week", "month")


def leaderboard_for(user, *, scope: str, period: str) -> list[dict]:
    """The board of the user's own community or district: a resident's household, else a staff district."""
    community = user.household.community if user.household_id else None
    district_id = community.district_id if community else user.district_id
    if (scope == "community" and community is None) or (scope == "district" and district_id is None):
        raise NothingToRank()
    return leaderboard(
        scope=scope,
        period=period,
        community_id=community.id if community else None,
        district_id=district_id,
    )


def leaderboard(
    *, scope: str, period: str, community_id=None, district_id=None, limit: int = 20
) -> list[dict]:
    """Points earned (sorting and deposits) in the period, by resident, display names only."""
    postings = Posting.objects.filter(
        account__kind=Account.Kind.RESIDENT,
        # Only residents who chose to be ranked appear; the others' points rank nobody down.
        account__owner__leaderboard_opt_in=True,
        transaction__kind__in=EARNING_KINDS,
        created_at__gte=period_start(period),
    )
    if scope == "community":
        postings = postings.filter(account__owner__household__community_id=community_id)
    else:
        postings = postings.filter(account__owner__household__community__district_id=district_id)
    rows = (
        postings.values("account__owner_id", "account__owner__display_name")
        .annotate(points=Sum("amount"))
        .order_by("-points", "account__owner_id")[:limit]
    )
    return [
        {
            "rank": index,
            "display_name": clean_display_name(row["account__owner__display_name"]),
            "points": row["points"],
        }
        for index, row in enumerate(rows, start=1)
    ]


def deposit_points(points_per_kg: int, weight_g: int) -> int:
    """Whole points, rounded down: splitting a deposit in two can never earn more than depositing it whole."""
    return (weight_g * points_per_kg) // 1000


POINT_RULE_FIELDS = (
    "points_per_accepted_drop",
    "resident_daily_drop_points_cap",
    "resident_daily_deposit_points_cap",
    "kiosk_daily_points_cap",
    "household_daily_points_cap",
)
CARBON_RULE_FIELDS = ("carbon_points_enabled", "points_per_kg_co2e")
# Everything a version says; a new version starts from its predecessor's and changes what it is given.
VERSIONED_FIELDS = (*POINT_RULE_FIELDS, "material_prices", *CARBON_RULE_FIELDS)


def materials_of_city(city_id: int) -> QuerySet[Material]:
    """The reference catalog and the materials the city added itself; never another city's."""
    return Material.objects.filter(Q(city__isnull=True) | Q(city_id=city_id))


def reference_prices(city_id: int) -> dict[str, int]:
    """The price list a city starts with: each of its active materials at its reference price."""
    return dict(materials_of_city(city_id).filter(active=True).values_list("code", "points_per_kg"))


def rule_versions(city_id: int) -> list[PointRules]:
    """Every version of the city's rules, oldest first; a city without any gets version 1 from the epoch."""
    versions = list(PointRules.objects.filter(city_id=city_id).order_by("effective_from"))
    if not versions:
        first, _ = PointRules.objects.get_or_create(
            city_id=city_id,
            version=1,
            defaults={"effective_from": rules_epoch(), "material_prices": reference_prices(city_id)},
        )
        versions = [first]
    return versions


def _in_force(versions: list[PointRules], starts: list[datetime], at: datetime) -> PointRules:
    return versions[max(0, bisect_right(starts, at) - 1)]


def rules_in_force_at(city_id: int, at: datetime | None = None) -> PointRules:
    """The version in force at `at` (default now), read from the database."""
    versions = rule_versions(city_id)
    return _in_force(versions, [v.effective_from for v in versions], at or timezone.now())


def rules_for_city(city_id: int) -> PointRules:
    """The version in force now."""
    return rules_in_force_at(city_id)


def point_rules_of(actor) -> PointRules:
    """The point rules of the city the staff member acts for."""
    return rules_for_city(city_of(actor).id)


# Rules and materials change a few times a year but are read on every deposit: each process keeps
# them for a short while instead of asking the database every time. No version starts sooner than
# this after it is written (POINT_RULES_PROPAGATION_SECONDS), so every process has read it by then.
_cache: dict[str, tuple[float, object]] = {}


def cache_seconds() -> int:
    return settings.POINT_RULES_PROPAGATION_SECONDS


def _cached(key: str, load):
    now = time.monotonic()
    hit = _cache.get(key)
    if hit and now - hit[0] < cache_seconds():
        return hit[1]
    value = load()
    _cache[key] = (now, value)
    return value


def _load_materials() -> dict[str, Material]:
    return {m.code: m for m in Material.objects.filter(active=True)}


def cached_materials() -> dict[str, Material]:
    return _cached("materials", _load_materials)


def _load_versions(city_id: int) -> tuple[list[PointRules], list[datetime]]:
    versions = rule_versions(city_id)
    return versions, [v.effective_from for v in versions]


def rules_in_force(city_id: int, at: datetime | None = None) -> PointRules:
    """The version in force at `at` (default now), from the per-process cache: a drop passes its creation
    time, a deposit its `occurred_at`, so a later change never re-rates them. A version scheduled for later
    is already in the cached list, so it takes over at its own time without a reload."""
    versions, starts = _cached(f"rules:{city_id}", lambda: _load_versions(city_id))
    return _in_force(versions, starts, at or timezone.now())


def cached_rules(city_id: int) -> PointRules:
    return rules_in_force(city_id)


def forget_cached_rules() -> None:
    _cache.clear()


def materials_visible_to(user) -> QuerySet[Material]:
    """The materials of the reader's own city. Staff who edit them see the retired and unpriced ones
    too; everyone else sees what the city's kiosks take today."""
    city_id = home_city_of(user).id
    materials = materials_of_city(city_id).order_by("code")
    if user.is_superuser or user.role in CITY_WIDE_ROLES:
        return materials
    return materials.filter(active=True, code__in=list(rules_for_city(city_id).material_prices))


def price_of(rules: PointRules, material: Material) -> int | None:
    """Points per kg the version gives the material; None when the city does not take it."""
    if not material.active:
        return None
    return rules.material_prices.get(material.code)


def catalog_for(user) -> QuerySet[Reward]:
    """The catalog of the reader's own city."""
    return catalog(home_city_of(user).id)


def point_rules_in_force_for(user) -> PointRules:
    """The rules of the reader's own city: a resident's household's, a staff member's city or district's."""
    return rules_for_city(home_city_of(user).id)


def rule_versions_for(user) -> list[PointRules]:
    """The whole history of the reader's own city's rules, newest first."""
    return rule_versions(home_city_of(user).id)[::-1]


# ---- carbon ---------------------------------------------------------------------------------------


def emission_factors_for(user) -> QuerySet[EmissionFactor]:
    """The factor table of the reader's own city."""
    return EmissionFactor.objects.filter(city=home_city_of(user)).select_related("material")


@dataclass(frozen=True)
class CarbonTerms:
    """A city's recycling emission factors, read once and kept per process like the rules."""

    # Grams of CO2e avoided per kilogram recycled, by material code: whole numbers keep the sums exact.
    grams_per_kg: dict[str, int]


def _load_carbon_terms(city_id: int) -> CarbonTerms:
    factors = EmissionFactor.objects.filter(
        city_id=city_id, material__isnull=False, destination=Destination.RECYCLING
    ).values_list("material__code", "kg_co2e_per_kg")
    return CarbonTerms(grams_per_kg={code: int(factor * 1000) for code, factor in factors})


def cached_carbon_terms(city_id: int) -> CarbonTerms:
    return _cached(f"carbon:{city_id}", lambda: _load_carbon_terms(city_id))


def _deposit_loaders(city_id: int) -> dict:
    # The rules first: a city's first read writes its first version, which empties this cache.
    return {
        f"rules:{city_id}": lambda: _load_versions(city_id),
        "materials": _load_materials,
        f"carbon:{city_id}": lambda: _load_carbon_terms(city_id),
    }


def _expiring(key: str, within: float) -> bool:
    hit = _cache.get(key)
    return hit is None or time.monotonic() - hit[0] >= cache_seconds() - within


def deposit_terms_expiring(city_id: int, *, within: float) -> bool:
    """Whether any cached term a deposit in this city reads (its rules, materials, carbon factors)
    expires within `within` seconds: a caller that cannot wait for the database reloads them ahead."""
    return any(_expiring(key, within) for key in _deposit_loaders(city_id))


def reload_expiring_deposit_terms(city_id: int, *, within: float) -> None:
    # Loaded before the old entry expires, so a deposit never finds the cache empty under steady load;
    # a version still starts no sooner than every process has read it (POINT_RULES_PROPAGATION_SECONDS).
    for key, load in _deposit_loaders(city_id).items():
        if _expiring(key, within):
            _cache[key] = (time.monotonic(), load())


def co2e_grams(terms: CarbonTerms, material_code: str, weight_g: int) -> int:
    """CO2e avoided by recycling this weight, rounded down to the gram; a material without a factor avoids none."""
    return weight_g * terms.grams_per_kg.get(material_code, 0) // 1000


@dataclass(frozen=True)
class DepositAward:
    points: int
    memo: str
    memo_params: dict


def deposit_award(*, rules: PointRules, material: Material, weight_g: int) -> DepositAward:
    """Points a deposit earns before caps under one version of its city's rules, and the memo saying
    on which basis.

    Under the carbon rule: points per kg CO2e avoided, rounded down once from exact integers
    (grams * grams-per-kg * points-per-kg / 1,000,000), so splitting a deposit can never earn more.
    Otherwise the version's price of the material per kg.
    """
    if rules.carbon_points_enabled:
        per_kg = max(0, cached_carbon_terms(rules.city_id).grams_per_kg.get(material.code, 0))
        return DepositAward(
            points=weight_g * per_kg * rules.points_per_kg_co2e // 1_000_000,
            memo=Memo.DEPOSIT_CARBON,
            memo_params={
                "material": material.code,
                "weight_g": weight_g,
                "co2e_g": weight_g * per_kg // 1000,
            },
        )
    return DepositAward(
        points=deposit_points(price_of(rules, material) or 0, weight_g),
        memo=Memo.DEPOSIT,
        memo_params={"material": material.code, "weight_g": weight_g},
    )


def shops_visible_to(user) -> QuerySet[Shop]:
    """City officers see their city's shops, a district officer the shops of their district."""
    shops = Shop.objects.select_related("city", "district").prefetch_related("merchants").order_by("id")
    if user.is_superuser or user.role == Role.ADMIN:
        return shops
    if user.role == Role.CITY_OFFICER:
        return shops.filter(city=city_of(user))
    if user.role == Role.DISTRICT_OFFICER and user.district_id:
        return shops.filter(district_id=user.district_id)
    return shops.none()


# Settlement and liability: their own module, offered to the API through this one.
from .settlement import MAX_SETTLEMENT_DAYS, checked_period, liability, settlement  # noqa: E402, F401
