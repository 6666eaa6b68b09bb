"""The public supervision figures of one city and year: rollups only, household figures withheld by
disclosure.py, no individual anywhere. Re-exported through stats.selectors."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from django.db import connection
from django.db.models import Count, Max, Q
from django.utils import timezone

from backend.errors import NotFound
from geo.models import City, Community, District
from kiosks.models import Kiosk
from kiosks.services import SILENCE_LIMIT

from . import carbon, disclosure, flows, indicators, periods, rate, targets
from .models import Watermark

CITY = "city"
DISTRICT = "district"
# Years the public may ask for: the statistics' own bounds.
EARLIEST_YEAR = 2000
LATEST_YEAR = 2199


def _rows(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _ratio(numerator: int | None, denominator: int | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


@dataclass(frozen=True)
class HouseholdFigures:
    """What a place's households did; all None when the place is withheld."""

    households: int | None = None
    participating_households: int | None = None
    verdicts: int | None = None
    correct_verdicts: int | None = None

    @property
    def withheld(self) -> bool:
        return self.households is None

    @property
    def participation_rate(self) -> float | None:
        return _ratio(self.participating_households, self.households)

    @property
    def accuracy_rate(self) -> float | None:
        return _ratio(self.correct_verdicts, self.verdicts)


@dataclass(frozen=True)
class IndicatorValue:
    code: str
    ratio: rate.Utilization
    target: targets.Target | None
    projection: rate.Projection

    @property
    def value(self) -> float | None:
        return self.ratio.rate


@dataclass(frozen=True)
class PlaceFigures:
    scope: str  # CITY or DISTRICT
    id: int
    name: str
    name_en: str
    people: HouseholdFigures
    indicators: dict[str, IndicatorValue]
    kiosks_in_service: int
    kiosks_out_of_service: int
    # CO2e avoided, grams; None when the place is withheld (deposits are households' doing).
    co2e_g: int | None = None


@dataclass(frozen=True)
class MonthFigures:
    scope: str
    id: int
    month: date
    participating_households: int | None
    indicators: dict[str, float | None]


@dataclass(frozen=True)
class CommunityRank:
    rank: int
    id: int
    name: str
    district_id: int
    people: HouseholdFigures
    co2e_g: int | None = None


@dataclass(frozen=True)
class PublicOverview:
    city: City
    year: int
    start: date
    end: date
    min_households: int
    last_modified: datetime
    places: list[PlaceFigures]
    months: list[MonthFigures]
    communities: list[CommunityRank]
    withheld_communities: int


def public_city(city_id: int | None) -> City:
    """The city asked for, or the first one with districts; none is 404."""
    cities = City.objects.filter(districts__isnull=False).distinct().order_by("id")
    if city_id is not None:
        cities = cities.filter(pk=city_id)
    city = cities.first()
    if city is None:
        raise NotFound()
    return city


def _people(households: int, participating: int, verdicts: int, correct: int) -> HouseholdFigures:
    return HouseholdFigures(households, participating, verdicts, correct)


def _merge(places: list[flows.DaySums]) -> flows.DaySums:
    """Several places' daily sums as one place's (the city's): days added, in order."""
    codes = list(indicators.INDICATORS)
    by_day: dict[date, list[int]] = {}
    for sums in places:
        columns = [column for code in codes for column in sums.sums[code]]
        for i, day in enumerate(sums.days):
            added = by_day.get(day)
            if added is None:
                added = by_day[day] = [0] * len(columns)
            for j, column in enumerate(columns):
                added[j] += column[i]
    days = sorted(by_day)
    merged = list(zip(*(by_day[day] for day in days), strict=True)) if days else [()] * (2 * len(codes))
    return flows.DaySums(
        tuple(days), {code: (merged[2 * i], merged[2 * i + 1]) for i, code in enumerate(codes)}
    )


def _indicator_values(daily: flows.DaySums, in_force, start: date, end: date) -> dict[str, IndicatorValue]:
    today = periods.today()
    result = {}
    for code in indicators.INDICATORS:
        target = in_force.get(code)
        result[code] = IndicatorValue(
            code,
            daily.total(code),
            target,
            daily.projection(
                code, start=start, end=end, today=today, target=target.value if target else None
            ),
        )
    return result


def _monthly(daily: flows.DaySums) -> dict[date, dict[str, float | None]]:
    months = [periods.month_start(day) for day in daily.days]
    sums: dict[date, dict[str, rate.Utilization]] = defaultdict(dict)
    for code, (recovered, handled) in daily.sums.items():
        for month, r, h in zip(months, recovered, handled, strict=True):
            sums[month][code] = sums[month].get(code, rate.ZERO) + rate.Utilization(r, h)
    return {month: {code: r.rate for code, r in by_code.items()} for month, by_code in sums.items()}


def _kiosk_counts(district_ids: list[int]) -> dict[int, tuple[int, int]]:
    """district -> (in service, out of service): enabled and heard from within the silence limit."""
    fresh = timezone.now() - SILENCE_LIMIT
    in_service = Q(enabled=True, last_heartbeat_at__gte=fresh)
    return {
        row["community__district_id"]: (row["up"], row["total"] - row["up"])
        for row in Kiosk.objects.filter(community__district_id__in=district_ids)
        .values("community__district_id")
        .annotate(total=Count("id"), up=Count("id", filter=in_service))
    }


def _last_modified() -> datetime:
    """When the rollups last changed: what a cached copy of the figures is as old as."""
    latest = Watermark.objects.aggregate(latest=Max("refreshed_at"))["latest"]
    return latest or datetime(2000, 1, 1, tzinfo=periods.STATS_TZ)


def public_overview(city_id: int | None, year: int | None = None) -> PublicOverview:
    """Every published figure of a city's year: the city and each district against each indicator,
    by month, kiosks in service, and the communities ranked."""
    from . import selectors  # the shared rollup reads; selectors re-exports this module

    city = public_city(city_id)
    year = year or periods.today().year
    start, end = date(year, 1, 1), date(year, 12, 31)
    k = selectors.min_cell_households()
    districts = list(District.objects.filter(city=city).order_by("id"))
    ids = [d.id for d in districts]

    households = selectors.registered_households(ids)
    participating = selectors.participating_households(ids, start, end)
    drops = selectors.drop_totals(ids, start, end)
    daily = flows.daily_columns(ids, start, end)
    city_daily = _merge(list(daily.values()))
    in_force = targets.in_force([city.id], end.year)[city.id]
    kiosks = _kiosk_counts(ids)
    co2e = carbon.carbon_avoided(ids, start, end)

    hidden_districts = disclosure.withheld({d.id: int(households.get(d.id, 0)) for d in districts}, k)
    places = []
    people_of = {}
    for district in districts:
        _n, _accepted, verdicts, correct = (int(v or 0) for v in drops.get(district.id, (0, 0, 0, 0)))
        people_of[district.id] = (
            int(households.get(district.id, 0)),
            int(participating.get(district.id, 0)),
            verdicts,
            correct,
        )
    total = [sum(values[i] for values in people_of.values()) for i in range(4)]
    city_people = _people(*total) if total[0] >= k else HouseholdFigures()
    up = sum(v[0] for v in kiosks.values())
    down = sum(v[1] for v in kiosks.values())
    places.append(
        PlaceFigures(
            CITY,
            city.id,
            city.name,
            getattr(city, "name_en", "") or "",
            city_people,
            _indicator_values(city_daily, in_force, start, end),
            up,
            down,
            carbon.total(co2e.values()).co2e_g if not city_people.withheld else None,
        )
    )
    for district in districts:
        shown = district.id not in hidden_districts
        places.append(
            PlaceFigures(
                DISTRICT,
                district.id,
                district.name,
                district.name_en or "",
                _people(*people_of[district.id]) if shown else HouseholdFigures(),
                _indicator_values(daily.get(district.id, flows.NO_DAYS), in_force, start, end),
                *kiosks.get(district.id, (0, 0)),
                co2e.get(district.id, carbon.NONE).co2e_g if shown else None,
            )
        )

    months = _months(city, districts, hidden_districts, daily, city_daily, start, end, k)
    ranked, withheld_count = _community_ranking(ids, start, end, k)
    return PublicOverview(city, year, start, end, k, _last_modified(), places, months, ranked, withheld_count)


def _months(city, districts, hidden_districts, daily, city_daily, start, end, k) -> list[MonthFigures]:
    ids = [d.id for d in districts]
    counted: dict[int, dict[date, int]] = defaultdict(dict)
    # Whole calendar months are exact in the participation counts (communities add up).
    for district_id, month, n in _rows(
        """SELECT district_id, start, sum(households) FROM stats_participationcount
           WHERE district_id = ANY(%s) AND kind = 'month' AND start BETWEEN %s AND %s GROUP BY 1, 2""",
        [ids, start, end],
    ):
        counted[district_id][month] = int(n)
    from . import selectors

    registered = selectors.registered_households(ids)
    city_households_ok = sum(int(v) for v in registered.values()) >= k
    result = []
    month_list = [first for first, _last in periods.buckets(start, end, "month")]
    city_rates = _monthly(city_daily)
    for month in month_list:
        result.append(
            MonthFigures(
                CITY,
                city.id,
                month,
                sum(counted[d][month] for d in counted if month in counted[d])
                if city_households_ok
                else None,
                city_rates.get(month, {}),
            )
        )
    for district in districts:
        rates = _monthly(daily.get(district.id, flows.NO_DAYS))
        shown = district.id not in hidden_districts
        for month in month_list:
            result.append(
                MonthFigures(
                    DISTRICT,
                    district.id,
                    month,
                    counted[district.id].get(month, 0) if shown else None,
                    rates.get(month, {}),
                )
            )
    return result


def _community_ranking(ids: list[int], start: date, end: date, k: int) -> tuple[list[CommunityRank], int]:
    """Published communities ranked by participation, then accuracy; and how many were withheld."""
    from . import selectors

    households = selectors.registered_households(ids, by="community_id")
    participating = selectors.participating_households(ids, start, end, by="community_id")
    totals = {
        community: (int(verdicts), int(correct))
        for community, verdicts, correct in _rows(
            """SELECT community_id, sum(verdicts), sum(correct) FROM stats_communitydaily
               WHERE district_id = ANY(%s) AND day BETWEEN %s AND %s GROUP BY 1""",
            [ids, start, end],
        )
    }
    by_district: dict[int, dict[int, int]] = defaultdict(dict)
    communities = list(Community.objects.filter(district_id__in=ids).order_by("id"))
    for community in communities:
        by_district[community.district_id][community.id] = int(households.get(community.id, 0))
    hidden = set()
    for cells in by_district.values():
        hidden |= disclosure.withheld(cells, k)
    shown = []
    for community in communities:
        if community.id in hidden:
            continue
        verdicts, correct = totals.get(community.id, (0, 0))
        shown.append(
            (
                community,
                _people(
                    int(households.get(community.id, 0)),
                    int(participating.get(community.id, 0)),
                    verdicts,
                    correct,
                ),
            )
        )
    shown.sort(
        key=lambda item: (
            -(item[1].participation_rate or 0),
            -(item[1].accuracy_rate or 0),
            item[0].id,
        )
    )
    co2e = carbon.carbon_avoided(ids, start, end, by="community_id")
    ranked = [
        CommunityRank(
            i + 1,
            community.id,
            community.name,
            community.district_id,
            people,
            co2e.get(community.id, carbon.NONE).co2e_g,
        )
        for i, (community, people) in enumerate(shown)
    ]
    return ranked, len(hidden)
