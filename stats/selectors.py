"""Reads of statistics, already scoped to the caller. Everything here reads rollups, never raw events.

Selectors return figures as they are (grams, counts, unrounded ratios); api/ rounds and shapes them.
"""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import BooleanField, Case, Count, Prefetch, Sum, When
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import visible_districts
from backend.categories import WasteCategory
from backend.errors import NotFound
from geo.models import City, Community, District
from kiosks.models import Pickup, PickupLine

from . import balance, flows, indicators, monthly, periods, rate, targets
from .carbon import CarbonFigures, carbon_of, weights_sql
from .errors import BadPeriod, UnknownIndicator
from .models import (
    Collection,
    CustodyHandover,
    Destination,
    DistrictStatsSettings,
    HazardousManifest,
    Plant,
)


def min_cell_households() -> int:
    """Figures of fewer households than this would single out a family's habits (a setting, 5 by default)."""
    return int(getattr(settings, "STATS_MIN_CELL_HOUSEHOLDS", 5))


# The export's column order of the collected weights.
CATEGORIES = tuple(
    c.value
    for c in (WasteCategory.RECYCLABLE, WasteCategory.KITCHEN, WasteCategory.HAZARDOUS, WasteCategory.OTHER)
)
GRANULARITIES = ("day", "week", "month")
# The zone of a statistics day, for callers that write events on given days (the demo history).
STATS_TZ = periods.STATS_TZ
# Every indicator, in the order answers list them (indicators.py defines them).
INDICATORS = tuple(indicators.INDICATORS.values())
INDICATOR_CODES = tuple(indicators.INDICATORS)
MAX_PERIOD_DAYS = 3 * 366
# Every bucket and month step adds days past the period's end: far from date.max, none can overflow.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2199, 12, 31)
# What a per-place figure may be grouped by: column -> the drop rollup kept at that level.
GROUPINGS = {"district_id": "stats_districtdropdaily", "community_id": "stats_dropdaily"}


def _grouping(by: str) -> str:
    """`by` if it is one of GROUPINGS, else refuse before it reaches SQL."""
    if by not in GROUPINGS:
        raise ImproperlyConfigured(f"statistics are not grouped by {by!r}")
    return by


def statistics_today() -> date:
    return periods.today()


def parse_period(raw_from: str | None, raw_to: str | None) -> tuple[date, date]:
    """`from`/`to` as YYYY-MM-DD, both inclusive; default: this calendar year, the period the target
    is judged on (on_track then projects the year so far to 31 December)."""
    now = periods.today()
    try:
        end = date.fromisoformat(raw_to) if raw_to else now.replace(month=12, day=31)
        start = date.fromisoformat(raw_from) if raw_from else end.replace(month=1, day=1)
    except ValueError as exc:
        raise BadPeriod(fields={"from": ["YYYY-MM-DD"], "to": ["YYYY-MM-DD"]}) from exc
    if not (EARLIEST_DAY <= start and end <= LATEST_DAY):
        raise BadPeriod(
            _("Periods lie between %(earliest)s and %(latest)s.")
            % {"earliest": EARLIEST_DAY.isoformat(), "latest": LATEST_DAY.isoformat()}
        )
    if start > end:
        raise BadPeriod()
    if (end - start).days > MAX_PERIOD_DAYS:
        raise BadPeriod(_("A period may span at most %(days)d days.") % {"days": MAX_PERIOD_DAYS})
    return start, end


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _rows(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def visible_district(user: User, district_id: int) -> District:
    """The district if the user may read it; another district is simply not found (no existence leak)."""
    district = visible_districts(user).filter(pk=district_id).first()
    if district is None:
        raise NotFound()
    return district


def incineration_settings(district_ids: list[int]) -> dict[int, bool]:
    return dict(
        DistrictStatsSettings.objects.filter(district_id__in=district_ids).values_list(
            "district_id", "incineration_counts_as_recovery"
        )
    )


def _mask_clause(start: date, end: date) -> tuple[str, list]:
    """A WHERE fragment selecting household-month rows with a day in start..end."""
    clauses, params = [], []
    for month, mask in periods.month_masks(start, end):
        clauses.append("(month = %s AND days & %s <> 0)")
        params += [month, mask]
    return "(" + " OR ".join(clauses) + ")", params


def whole_bucket(start: date, end: date, today: date) -> tuple[str, date] | None:
    """The calendar bucket (kind, start) that start..end amounts to, if any.

    A period that runs from a bucket's first day to today or later, within the bucket, holds the same
    events as the whole bucket (nothing has happened after today), so the year so far is the year.
    """
    for kind in ("day", "week", "month", "year"):
        first = periods.bucket_start(start, kind) if kind != "year" else start.replace(month=1, day=1)
        if first != start:
            continue
        last = periods.bucket_end(first, kind)
        if end == last or (today <= end <= last):
            return kind, first
    return None


# Households out in start..end per district: on each day, those whose previous day out was before
# start (ParticipationStep). One range of the step key per district, read from the index alone: a
# clipped period of a city reads the steps of its days rather than every household's year.
PARTICIPATION_STEPS_SQL = """
    SELECT district_id, sum(households) FROM stats_participationstep
    WHERE district_id = ANY(%s) AND day BETWEEN %s AND %s AND previous < %s
    GROUP BY 1"""


def participating_households(
    district_ids: list[int], start: date, end: date, *, by: str = "district_id"
) -> dict[int, int]:
    """Distinct households with an accepted drop or a deposit in start..end, per district or community.

    Whole calendar buckets are read from their counts; other periods per district from the
    participation steps, per community from the households' day bits (a district's households).
    """
    by = _grouping(by)
    bucket = whole_bucket(start, end, periods.today())
    if bucket is not None:
        return {
            key: int(n)
            for key, n in _rows(
                f"""SELECT {by}, sum(households) FROM stats_participationcount
                    WHERE district_id = ANY(%s) AND kind = %s AND start = %s GROUP BY 1""",  # noqa: S608 - `by` passed _grouping()
                [district_ids, *bucket],
            )
        }
    if by == "district_id":
        return dict(_rows(PARTICIPATION_STEPS_SQL, [district_ids, start, end, start]))
    if start.year == end.year:
        first, last = start.timetuple().tm_yday, end.timetuple().tm_yday
        mask = "0" * (first - 1) + "1" * (last - first + 1) + "0" * (366 - last)
        return dict(
            _rows(
                f"""SELECT {by}, count(*) FROM stats_householdyear
                    WHERE district_id = ANY(%s) AND year = %s AND days & %s::bit(366) <> %s::bit(366)
                    GROUP BY 1""",  # noqa: S608 - `by` passed _grouping()
                [district_ids, start.year, mask, "0" * 366],
            )
        )
    where, params = _mask_clause(start, end)
    return dict(
        _rows(
            # By community, over the key (community, month, household): the rollup round writes this
            # table all day, and an index led by district would be one more page per day it adds.
            f"""SELECT {by}, count(DISTINCT household_id) FROM stats_householdmonth
                WHERE community_id IN (SELECT id FROM geo_community WHERE district_id = ANY(%s))
                  AND month BETWEEN %s AND %s AND {where} GROUP BY 1""",  # noqa: S608 - `by` passed _grouping(); `where` holds placeholders only
            [district_ids, periods.month_start(start), end, *params],
        )
    )


def registered_households(district_ids: list[int], *, by: str = "district_id") -> dict[int, int]:
    by = _grouping(by)
    return dict(
        _rows(
            f"SELECT {by}, sum(households) FROM stats_communityhouseholds WHERE district_id = ANY(%s) GROUP BY 1",  # noqa: S608 - `by` passed _grouping()
            [district_ids],
        )
    )


def drop_totals(district_ids: list[int], start: date, end: date, *, by: str = "district_id") -> dict:
    if _grouping(by) == "district_id":
        rows, params = monthly.period_rows(
            "drops", "district_id, drops, accepted, verdicts, correct", district_ids, start, end
        )
        return {
            row[0]: row[1:]
            for row in _rows(
                f"SELECT district_id, sum(drops), sum(accepted), sum(verdicts), sum(correct) FROM ({rows}) x GROUP BY 1",  # noqa: S608 - monthly's SQL of placeholders
                params,
            )
        }
    table = GROUPINGS[by]
    return {
        row[0]: row[1:]
        for row in _rows(
            f"""SELECT {by}, sum(drops), sum(accepted), sum(verdicts), sum(correct) FROM {table}
                WHERE district_id = ANY(%s) AND day BETWEEN %s AND %s GROUP BY 1""",  # noqa: S608 - `by` and its table from GROUPINGS
            [district_ids, start, end],
        )
    }


@dataclass(frozen=True)
class IndicatorFigures:
    """One indicator over a period: its numerator and denominator, the target in force, the projection."""

    indicator: indicators.Indicator
    ratio: rate.Utilization
    target: targets.Target | None
    projection: rate.Projection

    @property
    def value(self) -> float | None:
        return self.ratio.rate


def indicator_figures(
    days: flows.DaySums, in_force: dict[str, targets.Target | None], start: date, end: date
) -> dict[str, IndicatorFigures]:
    """Every indicator over start..end from its daily sums, projected to `end`."""
    today = periods.today()
    result = {}
    for code, indicator in indicators.INDICATORS.items():
        target = in_force.get(code)
        result[code] = IndicatorFigures(
            indicator=indicator,
            ratio=days.total(code),
            target=target,
            projection=days.projection(
                code, start=start, end=end, today=today, target=target.value if target else None
            ),
        )
    return result


def _primary_target(in_force: dict[str, targets.Target | None]) -> float | None:
    target = in_force.get(indicators.PRIMARY)
    return target.value if target else None


@dataclass(frozen=True)
class DropFigures:
    """Drops and their verdicts over a period."""

    drops: int
    accepted_drops: int
    verdicts: int
    correct_verdicts: int

    @property
    def accuracy_rate(self) -> float | None:
        return _ratio(self.correct_verdicts, self.verdicts)


@dataclass(frozen=True)
class DistrictFigures(DropFigures):
    """A district's figures over a period, as counted: grams, counts, unrounded ratios."""

    district: District
    households: int
    participating_households: int
    deposits_g_by_material: dict[str, int]
    collected_g_by_category: dict[str, int]
    indicators: dict[str, IndicatorFigures]
    incineration_counts_as_recovery: bool

    # The fields the statistics have always had are the plan's 生活垃圾资源化利用率.
    @property
    def utilization(self) -> rate.Utilization:
        return self.indicators[indicators.PRIMARY].ratio

    @property
    def projection(self) -> rate.Projection:
        return self.indicators[indicators.PRIMARY].projection

    @property
    def target(self) -> float | None:
        target = self.indicators[indicators.PRIMARY].target
        return target.value if target else None

    @property
    def participation_rate(self) -> float | None:
        return _ratio(self.participating_households, self.households)


@dataclass(frozen=True)
class DistrictTable:
    start: date
    end: date
    target: float | None
    rows: list[DistrictFigures]
    carbon: dict[int, CarbonFigures] = field(default_factory=dict)  # by district


def district_table(user: User, start: date, end: date) -> DistrictTable:
    """One row of figures per district the user may see, ranked by utilization rate (best first)."""
    districts = list(visible_districts(user).order_by("id"))
    ids = [d.id for d in districts]
    if not ids:
        return DistrictTable(
            start, end, _primary_target(targets.in_force([user.city_id], end.year)[user.city_id]), []
        )
    households = registered_households(ids)
    participating = participating_households(ids, start, end)
    drops = drop_totals(ids, start, end)
    daily = flows.daily_columns(ids, start, end)
    in_force = targets.in_force([d.city_id for d in districts], end.year)
    incineration = incineration_settings(ids)
    # The weights by material and by route are read once, for the figures and for their CO2e.
    deposit_rows = _rows(*weights_sql("district_id", "deposits", "material", ids, start, end))
    deposits_by_material: dict[int, dict[str, int]] = defaultdict(dict)
    for district, _district, material, weight in deposit_rows:
        deposits_by_material[district][material] = int(weight)
    route_rows = _rows(*weights_sql("district_id", "collections", "category, destination", ids, start, end))
    collected = _by_category(route_rows)
    co2e = carbon_of(deposit_rows, route_rows, {d.id: d.city_id for d in districts})
    rows = []
    for district in districts:
        n_drops, accepted, verdicts, correct = drops.get(district.id, (0, 0, 0, 0))
        rows.append(
            DistrictFigures(
                district=district,
                households=int(households.get(district.id, 0)),
                participating_households=int(participating.get(district.id, 0)),
                drops=int(n_drops or 0),
                accepted_drops=int(accepted or 0),
                verdicts=int(verdicts or 0),
                correct_verdicts=int(correct or 0),
                deposits_g_by_material=deposits_by_material.get(district.id, {}),
                collected_g_by_category=collected.get(district.id, {}),
                indicators=indicator_figures(
                    daily.get(district.id, flows.NO_DAYS), in_force[district.city_id], start, end
                ),
                incineration_counts_as_recovery=incineration.get(district.id, False),
            )
        )
    rows.sort(key=lambda r: (r.utilization.rate is None, -(r.utilization.rate or 0), r.district.id))
    return DistrictTable(start, end, _primary_target(in_force[districts[0].city_id]), rows, co2e)


def _by_category(route_rows) -> dict[int, dict[str, int]]:
    """(district, _, category, destination, grams) rows in category order as district -> category ->
    grams, leaving out categories whose weights add up to nothing (corrections cancel them)."""
    totals: dict[int, dict[str, int]] = defaultdict(dict)
    for district, _district, category, _destination, weight in route_rows:
        totals[district][category] = totals[district].get(category, 0) + int(weight)
    return {
        district: {category: grams for category, grams in by_category.items() if grams}
        for district, by_category in totals.items()
    }


def _bucket_participation(district_id: int, spans: list[tuple[date, date]], granularity: str) -> list[int]:
    """Participating households per bucket: whole buckets from the counts, clipped ones from the months."""
    today = periods.today()
    counted = dict(
        _rows(
            """SELECT start, sum(households) FROM stats_participationcount
               WHERE district_id = %s AND kind = %s AND start BETWEEN %s AND %s GROUP BY 1""",
            [district_id, granularity, periods.bucket_start(spans[0][0], granularity), spans[-1][1]],
        )
    )
    result = []
    for first, last in spans:
        bucket = whole_bucket(first, last, today)
        if bucket is not None and bucket[0] == granularity:
            result.append(int(counted.get(first, 0)))
        else:
            result.append(int(participating_households([district_id], first, last).get(district_id, 0)))
    return result


@dataclass(frozen=True)
class SeriesPoint(DropFigures):
    start: date
    end: date
    participating_households: int
    deposited_g: int
    collected_g_by_category: dict[str, int]
    ratios: dict[str, rate.Utilization]  # by indicator code

    @property
    def utilization(self) -> rate.Utilization:
        return self.ratios[indicators.PRIMARY]


@dataclass(frozen=True)
class DistrictSeries:
    district: District
    granularity: str
    start: date
    end: date
    indicators: dict[str, IndicatorFigures]  # over the whole period
    points: list[SeriesPoint]

    @property
    def target(self) -> float | None:
        target = self.indicators[indicators.PRIMARY].target
        return target.value if target else None


def district_series(user: User, district_id: int, granularity: str, start: date, end: date) -> DistrictSeries:
    district = visible_district(user, district_id)
    spans = periods.buckets(start, end, granularity)
    index_of = {}
    for index, (first, last) in enumerate(spans):
        day = first
        while day <= last:
            index_of[day] = index
            day += timedelta(days=1)
    ids = [district.id]
    drops = [[0, 0, 0, 0] for _ in spans]
    for day, *values in _rows(
        """SELECT day, sum(drops), sum(accepted), sum(verdicts), sum(correct) FROM stats_districtdropdaily
           WHERE district_id = %s AND day BETWEEN %s AND %s GROUP BY 1""",
        [district.id, start, end],
    ):
        bucket = drops[index_of[day]]
        for i, value in enumerate(values):
            bucket[i] += int(value)
    ratios = [dict.fromkeys(indicators.INDICATORS, rate.ZERO) for _ in spans]
    deposited = [0 for _ in spans]
    days = flows.daily_columns(ids, start, end).get(district.id, flows.NO_DAYS)
    bucket_of = [index_of[day] for day in days.days]
    for code, (recovered, handled) in days.sums.items():
        for index, r, h in zip(bucket_of, recovered, handled, strict=True):
            bucket = ratios[index]
            bucket[code] = bucket[code] + rate.Utilization(r, h)
    for day, weight in _rows(
        """SELECT day, deposited_g FROM stats_districtday
           WHERE district_id = %s AND day BETWEEN %s AND %s AND deposited_g <> 0""",
        [district.id, start, end],
    ):
        deposited[index_of[day]] += int(weight)
    collected: list[dict[str, int]] = [defaultdict(int) for _ in spans]
    for day, category, weight in _rows(
        """SELECT day, category, sum(weight_g) FROM stats_collectiondaily
           WHERE district_id = %s AND day BETWEEN %s AND %s GROUP BY 1, 2""",
        [district.id, start, end],
    ):
        collected[index_of[day]][category] += int(weight)
    participation = _bucket_participation(district.id, spans, granularity)
    points = [
        SeriesPoint(
            start=first,
            end=last,
            drops=drops[index][0],
            accepted_drops=drops[index][1],
            verdicts=drops[index][2],
            correct_verdicts=drops[index][3],
            participating_households=participation[index],
            deposited_g=deposited[index],
            collected_g_by_category={k: v for k, v in sorted(collected[index].items()) if v},
            ratios=ratios[index],
        )
        for index, (first, last) in enumerate(spans)
    ]
    in_force = targets.in_force([district.city_id], end.year)[district.city_id]
    return DistrictSeries(
        district, granularity, start, end, indicator_figures(days, in_force, start, end), points
    )


@dataclass(frozen=True)
class CommunityFigures:
    """A community's figures; every figure is None when it has too few households to show."""

    community: Community
    households: int | None = None
    participating_households: int | None = None
    drops: int | None = None
    verdicts: int | None = None
    correct_verdicts: int | None = None
    deposited_g: int | None = None
    indicators: dict[str, IndicatorFigures] | None = None

    @property
    def suppressed(self) -> bool:
        return self.households is None

    @property
    def participation_rate(self) -> float | None:
        return None if self.suppressed else _ratio(self.participating_households, self.households)

    @property
    def accuracy_rate(self) -> float | None:
        return None if self.suppressed else _ratio(self.correct_verdicts, self.verdicts)


def community_rows(user: User, district_id: int, start: date, end: date) -> list[CommunityFigures]:
    """Per community of a district; a community with fewer than min_cell_households() shows no figures."""
    district = visible_district(user, district_id)
    ids = [district.id]
    households = registered_households(ids, by="community_id")
    participating = participating_households(ids, start, end, by="community_id")
    totals = {
        row[0]: row[1:]
        for row in _rows(
            """SELECT community_id, sum(drops), sum(verdicts), sum(correct), sum(deposits_g)
               FROM stats_communitydaily WHERE district_id = %s AND day BETWEEN %s AND %s GROUP BY 1""",
            [district.id, start, end],
        )
    }
    daily = flows.daily_columns(ids, start, end, by="community_id")
    in_force = targets.in_force([district.city_id], end.year)[district.city_id]
    rows = []
    for community in Community.objects.filter(district=district).order_by("id"):
        registered = int(households.get(community.id, 0))
        if registered < min_cell_households():
            rows.append(CommunityFigures(community))
            continue
        n_drops, verdicts, correct, deposits_g = totals.get(community.id, (0, 0, 0, 0))
        rows.append(
            CommunityFigures(
                community,
                households=registered,
                participating_households=int(participating.get(community.id, 0)),
                drops=int(n_drops),
                verdicts=int(verdicts),
                correct_verdicts=int(correct),
                deposited_g=int(deposits_g),
                indicators=indicator_figures(daily.get(community.id, flows.NO_DAYS), in_force, start, end),
            )
        )
    return rows


@dataclass(frozen=True)
class IndicatorEntry:
    """An indicator as a city is judged by it: the formula, the target in force, every target year."""

    indicator: indicators.Indicator
    target: targets.Target | None
    targets: list[targets.Target]  # every year, the city's own replacing the national figure


@dataclass(frozen=True)
class IndicatorCatalogue:
    city: City | None
    year: int
    results: list[IndicatorEntry]


def indicator_catalogue(user: User, city_id: int | None, year: int | None = None) -> IndicatorCatalogue:
    """The indicators and their targets for a city the user may read (default: their own, or the first),
    as in force in `year` (default: this year)."""
    year = year or periods.today().year
    cities = City.objects.filter(districts__in=visible_districts(user)).distinct().order_by("id")
    if city_id is not None:
        cities = cities.filter(pk=city_id)
        if not cities.exists():
            raise NotFound()
    elif user.city_id is not None:
        cities = cities.filter(pk=user.city_id)
    city = cities.first()
    in_force = targets.in_force([city.id if city else None], year)[city.id if city else None]
    every_year = targets.by_year(city.id if city else None)
    return IndicatorCatalogue(
        city,
        year,
        [
            IndicatorEntry(indicator, in_force[code], every_year[code])
            for code, indicator in indicators.INDICATORS.items()
        ],
    )


def mass_balance(user: User, district_id: int, start: date, end: date) -> balance.DistrictBalance:
    """Deposited vs picked up vs received in a district the user may read."""
    district = visible_district(user, district_id)
    return balance.district_balance(district.id, start, end)


@dataclass(frozen=True)
class Explanation:
    """The flows behind one indicator of a district over a period: the figure and the tickets."""

    district: District
    indicator: indicators.Indicator
    start: date
    end: date
    figure: IndicatorFigures
    flows: object  # a queryset of Collection rows, annotated `in_numerator`, for the caller to page


def explain_indicator(
    user: User, district_id: int, code: str, start: date, end: date, side: str = ""
) -> Explanation:
    """Every collection (ticket) behind an indicator's denominator, each marked whether the numerator
    counts it, with the pickups it received and what their deposits weighed; `side="numerator"` keeps
    the numerator's only. Scoped like the figure."""
    district = visible_district(user, district_id)
    if code not in indicators.INDICATORS:
        raise UnknownIndicator()
    indicator = indicators.INDICATORS[code]
    setting = {indicators.INCINERATION_SETTING: incineration_settings([district.id]).get(district.id, False)}
    numerator = indicators.collection_filter(indicator.numerator, setting)
    rows = (
        Collection.objects.filter(district=district, date__range=(start, end))
        .filter(indicators.collection_filter(indicator.denominator, setting))
        .annotate(in_numerator=Case(When(numerator, then=True), default=False, output_field=BooleanField()))
        .select_related("plant")
        .prefetch_related(
            Prefetch(
                "pickup_links__pickup",
                queryset=Pickup.objects.prefetch_related("lines__material"),
            )
        )
        .order_by("date", "id")
    )
    if side == "numerator":
        rows = rows.filter(numerator)
    in_force = targets.in_force([district.city_id], end.year)[district.city_id]
    figure = indicator_figures(
        flows.daily_columns([district.id], start, end).get(district.id, flows.NO_DAYS), in_force, start, end
    )[code]
    return Explanation(district, indicator, start, end, figure, rows)


def overdue_manifests(*, days: int, now=None):
    """Hazardous batches whose manifest is still open `days` after the hand-over (every district)."""
    now = now or timezone.now()
    return (
        HazardousManifest.objects.filter(
            closed_at__isnull=True, handed_over_at__lt=now - timedelta(days=days)
        )
        .select_related("district", "handler")
        .prefetch_related("pickup_links__pickup")
        .order_by("handed_over_at")
    )


def unmanifested_hazardous_pickups(*, days: int | None = None, now=None, district_ids=None):
    """Kiosk pickups that took hazardous items but travel on no manifest (older than `days`, if given).

    The backfill's pickups emptied kiosks before manifests existed: their batches left long ago.
    """
    pickups = Pickup.objects.filter(
        manifest_link__isnull=True,
        lines__material__category=WasteCategory.HAZARDOUS,
        lines__weight_g__gt=0,
    ).exclude(source=Pickup.Source.BACKFILL)
    if days is not None:
        pickups = pickups.filter(collected_at__lt=(now or timezone.now()) - timedelta(days=days))
    if district_ids is not None:
        pickups = pickups.filter(kiosk__community__district_id__in=district_ids)
    return pickups.distinct().order_by("collected_at", "id")


@dataclass(frozen=True)
class OverdueCustody:
    manifests: list  # open manifests past the limit
    pickups: list  # hazardous pickups on no manifest past the limit

    def details_by_kiosk(self) -> dict[int, str]:
        """What each kiosk's custody alert says: the batches of its pickups left without a closed manifest."""
        found: dict[int, list[str]] = defaultdict(list)
        for manifest in self.manifests:
            for link in manifest.pickup_links.all():
                found[link.pickup.kiosk_id].append(
                    _("manifest %(number)s open since %(day)s")
                    % {"number": manifest.number, "day": f"{manifest.handed_over_at:%Y-%m-%d}"}
                )
        for pickup in self.pickups:
            found[pickup.kiosk_id].append(
                _("pickup %(id)s of %(day)s on no manifest")
                % {"id": pickup.pk, "day": f"{pickup.collected_at:%Y-%m-%d}"}
            )
        return {kiosk_id: "; ".join(texts) for kiosk_id, texts in found.items()}


def overdue_custody(*, days: int, now=None) -> OverdueCustody:
    """Every hazardous batch without a closed manifest `days` after it left the kiosk or was handed over."""
    return OverdueCustody(
        list(overdue_manifests(days=days, now=now)), list(unmanifested_hazardous_pickups(days=days, now=now))
    )


def visible_manifests(user: User):
    return (
        HazardousManifest.objects.filter(district__in=visible_districts(user))
        .select_related("handler")
        .prefetch_related("pickup_links", "handovers")
        .order_by("-handed_over_at", "-id")
    )


@dataclass(frozen=True)
class HazardousFigures:
    """Hazardous waste of a district over a period, put out separately and followed to the handler."""

    district: District
    start: date
    end: date
    deposited_g: int  # kiosk deposits of hazardous materials
    picked_up_g: int  # hazardous lines of the pickups collected in the period
    unmanifested_pickups: int  # of those, pickups on no manifest
    unmanifested_g: int
    manifests: int  # handed over in the period
    handed_over_g: int
    received_g: int  # by the handlers, of those closed
    open_manifests: int
    in_custody_g: int  # open manifests' last weighed hand-over
    overdue_manifests: int
    flagged_handovers: int
    collected_g: int  # hazardous tickets received in the period (what the statistics count)
    overdue_days: int


def hazardous_figures(user: User, district_id: int, start: date, end: date) -> HazardousFigures:
    district = visible_district(user, district_id)
    day_from, day_to = periods.day_bounds(start, end)
    deposited = _rows(
        """SELECT coalesce(sum(weight_g), 0) FROM stats_districtdepositdaily
           WHERE district_id = %s AND day BETWEEN %s AND %s AND category = %s""",
        [district.id, start, end, WasteCategory.HAZARDOUS.value],
    )[0][0]
    picked = PickupLine.objects.filter(
        pickup__kiosk__community__district=district,
        pickup__collected_at__gte=day_from,
        pickup__collected_at__lt=day_to,
        material__category=WasteCategory.HAZARDOUS,
    )
    loose = picked.filter(pickup__manifest_link__isnull=True).exclude(pickup__source=Pickup.Source.BACKFILL)
    manifests = HazardousManifest.objects.filter(
        district=district, handed_over_at__gte=day_from, handed_over_at__lt=day_to
    )
    open_ones = HazardousManifest.objects.filter(district=district, closed_at__isnull=True)
    limit = settings.MANIFEST_OVERDUE_DAYS
    in_custody = sum(
        (m.handovers.order_by("-sequence").values_list("weight_g", flat=True).first() or m.handed_over_g)
        for m in open_ones
    )
    total = manifests.aggregate(handed=Sum("handed_over_g"), received=Sum("received_g"), n=Count("id"))
    collected = _rows(
        """SELECT coalesce(sum(weight_g), 0) FROM stats_collectiondaily
           WHERE district_id = %s AND day BETWEEN %s AND %s AND category = %s""",
        [district.id, start, end, WasteCategory.HAZARDOUS.value],
    )[0][0]
    return HazardousFigures(
        district=district,
        start=start,
        end=end,
        deposited_g=int(deposited),
        picked_up_g=int(picked.aggregate(total=Sum("weight_g"))["total"] or 0),
        unmanifested_pickups=loose.values("pickup_id").distinct().count(),
        unmanifested_g=int(loose.aggregate(total=Sum("weight_g"))["total"] or 0),
        manifests=int(total["n"] or 0),
        handed_over_g=int(total["handed"] or 0),
        received_g=int(total["received"] or 0),
        open_manifests=open_ones.count(),
        in_custody_g=int(in_custody),
        overdue_manifests=open_ones.filter(handed_over_at__lt=timezone.now() - timedelta(days=limit)).count(),
        flagged_handovers=CustodyHandover.objects.filter(manifest__in=manifests, flagged=True).count(),
        collected_g=int(collected),
        overdue_days=limit,
    )


def visible_plants(user: User):
    return Plant.objects.filter(district__in=visible_districts(user)).order_by("district_id", "name")


def visible_collections(user: User):
    return (
        Collection.objects.filter(district__in=visible_districts(user))
        .select_related("district", "community")
        .prefetch_related("pickup_links")
        .order_by("-date", "-id")
    )


# The export's per-destination columns: every (category, destination) a collection can have.
ROUTES = tuple((c, d.value) for c in CATEGORIES for d in Destination)


@dataclass(frozen=True)
class ExportDay:
    """One district's day for the CSV export."""

    day: date
    district_id: int
    district_name: str
    drops: int
    accepted_drops: int
    verdicts: int
    correct_verdicts: int
    participating_households: int
    deposited_g: int
    collected_g: dict[str, int]  # by category, every one of CATEGORIES
    collected_g_by_route: dict[tuple[str, str], int]  # by (category, destination), every one of ROUTES
    ratios: dict[str, rate.Utilization]  # by indicator code
    targets: dict[str, targets.Target | None]  # by indicator code, for the period's year

    @property
    def utilization(self) -> rate.Utilization:
        return self.ratios[indicators.PRIMARY]


_SUM_COLUMNS = [f"{side}_{i}" for i in range(len(indicators.INDICATORS)) for side in ("n", "d")]
EXPORT_SQL = f"""
    WITH dr AS (
        SELECT district_id, day, sum(drops) drops, sum(accepted) accepted, sum(verdicts) verdicts,
               sum(correct) correct
        FROM stats_districtdropdaily WHERE district_id = ANY(%(ids)s) AND day BETWEEN %(a)s AND %(b)s GROUP BY 1, 2
    ), col AS (
        SELECT x.district_id, x.day,
               {", ".join(f"sum(x.weight_g) FILTER (WHERE x.category = '{c}') {c}" for c in CATEGORIES)},
               {", ".join(f"sum(x.weight_g) FILTER (WHERE x.category = '{c}' AND x.destination = '{d}') {c}__{d}" for c, d in ROUTES)}
        FROM stats_collectiondaily x
        WHERE x.district_id = ANY(%(ids)s) AND x.day BETWEEN %(a)s AND %(b)s GROUP BY 1, 2
    ), dep AS (
        SELECT district_id, day, sum(weight_g) weight FROM stats_districtdepositdaily
        WHERE district_id = ANY(%(ids)s) AND day BETWEEN %(a)s AND %(b)s GROUP BY 1, 2
    ), ind (district_id, day, {", ".join(_SUM_COLUMNS)}) AS ({flows.daily_sums_sql("district_id")}
    ), pc AS (
        SELECT district_id, start AS day, sum(households) households FROM stats_participationcount
        WHERE kind = 'day' AND district_id = ANY(%(ids)s) AND start BETWEEN %(a)s AND %(b)s GROUP BY 1, 2
    ), days AS (
        SELECT district_id, day FROM dr UNION SELECT district_id, day FROM ind
        UNION SELECT district_id, day FROM dep UNION SELECT district_id, day FROM pc
    )
    SELECT d.day, d.district_id, coalesce(dr.drops, 0), coalesce(dr.accepted, 0), coalesce(dr.verdicts, 0),
           coalesce(dr.correct, 0), coalesce(pc.households, 0), coalesce(dep.weight, 0),
           {", ".join(f"coalesce(col.{c}, 0)" for c in CATEGORIES)},
           {", ".join(f"coalesce(col.{c}__{d}, 0)" for c, d in ROUTES)},
           {", ".join(f"coalesce(ind.{c}, 0)" for c in _SUM_COLUMNS)}
    FROM days d
    LEFT JOIN dr ON dr.district_id = d.district_id AND dr.day = d.day
    LEFT JOIN ind ON ind.district_id = d.district_id AND ind.day = d.day
    LEFT JOIN dep ON dep.district_id = d.district_id AND dep.day = d.day
    LEFT JOIN col ON col.district_id = d.district_id AND col.day = d.day
    LEFT JOIN pc ON pc.district_id = d.district_id AND pc.day = d.day
    ORDER BY d.day, d.district_id"""  # noqa: S608 - categories and destinations are their enums' values; the flows' fixed SQL


def export_rows(user: User, start: date, end: date) -> Iterator[ExportDay]:
    """Daily rows per visible district, fetched in batches (the response streams, memory stays flat)."""
    districts = {d.id: d for d in visible_districts(user)}
    if not districts:
        return
    in_force = targets.in_force([d.city_id for d in districts.values()], end.year)
    n_categories, n_routes = len(CATEGORIES), len(ROUTES)
    with connection.cursor() as cursor:
        cursor.execute(EXPORT_SQL, {"ids": list(districts), "a": start, "b": end})
        while batch := cursor.fetchmany(500):
            for row in batch:
                day, district_id = row[0], row[1]
                drops, accepted, verdicts, correct, participants, deposits = (int(n) for n in row[2:8])
                by_category = [int(v) for v in row[8 : 8 + n_categories]]
                by_route = [int(v) for v in row[8 + n_categories : 8 + n_categories + n_routes]]
                district = districts[district_id]
                yield ExportDay(
                    day=day,
                    district_id=district_id,
                    district_name=district.name,
                    drops=drops,
                    accepted_drops=accepted,
                    verdicts=verdicts,
                    correct_verdicts=correct,
                    participating_households=participants,
                    deposited_g=deposits,
                    collected_g=dict(zip(CATEGORIES, by_category, strict=True)),
                    collected_g_by_route=dict(zip(ROUTES, by_route, strict=True)),
                    ratios=indicators.ratios_from_row(row[8 + n_categories + n_routes :]),
                    targets=in_force[district.city_id],
                )


# CO2e avoided from the emission factors (stats/carbon.py) and the public supervision figures
# (stats/public.py): rollups only, kept in modules of their own.
from .carbon import NONE as NO_CARBON  # noqa: E402, F401
from .carbon import carbon_avoided  # noqa: E402, F401
from .carbon import total as carbon_total  # noqa: E402, F401
from .public import EARLIEST_YEAR as PUBLIC_EARLIEST_YEAR  # noqa: E402, F401
from .public import LATEST_YEAR as PUBLIC_LATEST_YEAR  # noqa: E402, F401
from .public import PublicOverview, public_city, public_overview  # noqa: E402, F401
