"""Reads of statistics, already scoped to the caller. Everything here reads rollups, never raw events.

Selectors return figures as they are (grams, counts, unrounded ratios); api/ rounds and shapes them.
"""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import visible_districts
from backend.categories import WasteCategory
from backend.errors import NotFound
from geo.models import Community, District

from . import periods, rate
from .errors import BadPeriod
from .models import Collection, DistrictStatsSettings

# Figures of fewer households than this would single out a family's habits.
MIN_CELL_HOUSEHOLDS = 5
# The export's column order of the collected weights.
CATEGORIES = tuple(
    c.value
    for c in (WasteCategory.RECYCLABLE, WasteCategory.KITCHEN, WasteCategory.HAZARDOUS, WasteCategory.OTHER)
)
GRANULARITIES = ("day", "week", "month")
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


# The rate's definition (rate.py) in SQL, over the rollup rows `x` and the district settings `s`.
RECOVERED_COLLECTION = rate.collection_recovered_sql(
    weight="x.weight_g",
    category="x.category",
    destination="x.destination",
    incineration_counts="coalesce(s.incineration_counts_as_recovery, false)",
)
RECOVERED_DEPOSIT = rate.deposit_recovered_sql(weight="x.weight_g", category="x.category")
RECOVERED_DISTRICT_DAY = rate.district_day_recovered_sql(
    alias="x", incineration_counts="coalesce(s.incineration_counts_as_recovery, false)"
)

# (district, day, recovered g, handled g, collected g, deposited g) per day with any weight.
DAILY_UTILIZATION_SQL = f"""
    SELECT x.district_id, x.day, {RECOVERED_DISTRICT_DAY}, x.collected_g + x.deposited_g, x.collected_g,
           x.deposited_g
    FROM stats_districtday x LEFT JOIN stats_districtstatssettings s ON s.district_id = x.district_id
    WHERE x.district_id = ANY(%(ids)s) AND x.day BETWEEN %(a)s AND %(b)s
      AND (x.collected_g <> 0 OR x.deposited_g <> 0)"""  # noqa: S608 - rate.py's fixed expression


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


def daily_utilization(district_ids: list[int], start: date, end: date) -> dict[int, dict[date, tuple]]:
    """district -> day -> (Utilization, collected g, deposited g)."""
    result: dict[int, dict[date, tuple]] = defaultdict(dict)
    for district, day, recovered, handled, collected, deposited in _rows(
        DAILY_UTILIZATION_SQL, {"ids": district_ids, "a": start, "b": end}
    ):
        result[district][day] = (
            rate.Utilization(int(recovered), int(handled)),
            int(collected),
            int(deposited),
        )
    return result


def collected_by_category(district_ids: list[int], start: date, end: date) -> dict[int, dict[str, int]]:
    result: dict[int, dict[str, int]] = defaultdict(dict)
    for district, category, weight in _rows(
        """SELECT district_id, category, sum(weight_g) FROM stats_collectiondaily
           WHERE district_id = ANY(%s) AND day BETWEEN %s AND %s GROUP BY 1, 2 HAVING sum(weight_g) <> 0
           ORDER BY 2""",
        [district_ids, start, end],
    ):
        result[district][category] = int(weight)
    return result


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


def participating_households(
    district_ids: list[int], start: date, end: date, *, by: str = "district_id"
) -> dict[int, int]:
    """Distinct households with an accepted drop or a deposit in start..end, per district or community."""
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
            f"""SELECT {by}, count(DISTINCT household_id) FROM stats_householdmonth
                WHERE district_id = ANY(%s) AND month BETWEEN %s AND %s AND {where} GROUP BY 1""",  # noqa: S608 - `by` passed _grouping(); `where` holds placeholders only
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
    table = GROUPINGS[_grouping(by)]
    return {
        row[0]: row[1:]
        for row in _rows(
            f"""SELECT {by}, sum(drops), sum(accepted), sum(verdicts), sum(correct) FROM {table}
                WHERE district_id = ANY(%s) AND day BETWEEN %s AND %s GROUP BY 1""",  # noqa: S608 - `by` and its table from GROUPINGS
            [district_ids, start, end],
        )
    }


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
    utilization: rate.Utilization
    projection: rate.Projection
    target: float
    incineration_counts_as_recovery: bool

    @property
    def participation_rate(self) -> float | None:
        return _ratio(self.participating_households, self.households)


@dataclass(frozen=True)
class DistrictTable:
    start: date
    end: date
    target: float
    rows: list[DistrictFigures]


def district_table(user: User, start: date, end: date) -> DistrictTable:
    """One row of figures per district the user may see, ranked by utilization rate (best first)."""
    districts = list(visible_districts(user).order_by("id"))
    ids = [d.id for d in districts]
    if not ids:
        return DistrictTable(start, end, rate.TARGET, [])
    today = periods.today()
    households = registered_households(ids)
    participating = participating_households(ids, start, end)
    drops = drop_totals(ids, start, end)
    daily = daily_utilization(ids, start, end)
    collected = collected_by_category(ids, start, end)
    incineration = incineration_settings(ids)
    deposits_by_material: dict[int, dict[str, int]] = defaultdict(dict)
    for district, material, weight in _rows(
        """SELECT district_id, material, sum(weight_g) FROM stats_districtdepositdaily
           WHERE district_id = ANY(%s) AND day BETWEEN %s AND %s GROUP BY 1, 2 ORDER BY 2""",
        [ids, start, end],
    ):
        deposits_by_material[district][material] = int(weight)
    rows = []
    for district in districts:
        days = [(day, values[0]) for day, values in daily.get(district.id, {}).items()]
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
                utilization=sum((u for _d, u in days), rate.ZERO),
                projection=rate.project(days, start=start, end=end, today=today),
                target=rate.TARGET,
                incineration_counts_as_recovery=incineration.get(district.id, False),
            )
        )
    rows.sort(key=lambda r: (r.utilization.rate is None, -(r.utilization.rate or 0), r.district.id))
    return DistrictTable(start, end, rate.TARGET, rows)


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
    utilization: rate.Utilization


@dataclass(frozen=True)
class DistrictSeries:
    district: District
    granularity: str
    start: date
    end: date
    target: float
    points: list[SeriesPoint]


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
    use = [rate.ZERO for _ in spans]
    deposited = [0 for _ in spans]
    for day, (utilization, _collected, deposit_g) in (
        daily_utilization(ids, start, end).get(district.id, {}).items()
    ):
        use[index_of[day]] = use[index_of[day]] + utilization
        deposited[index_of[day]] += deposit_g
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
            utilization=use[index],
        )
        for index, (first, last) in enumerate(spans)
    ]
    return DistrictSeries(district, granularity, start, end, rate.TARGET, points)


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
    """Per community of a district; a community with fewer than MIN_CELL_HOUSEHOLDS shows no figures."""
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
    rows = []
    for community in Community.objects.filter(district=district).order_by("id"):
        registered = int(households.get(community.id, 0))
        if registered < MIN_CELL_HOUSEHOLDS:
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
            )
        )
    return rows


def visible_collections(user: User):
    return (
        Collection.objects.filter(district__in=visible_districts(user))
        .select_related("district", "community")
        .order_by("-date", "-id")
    )


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
    utilization: rate.Utilization


EXPORT_SQL = f"""
    WITH dr AS (
        SELECT district_id, day, sum(drops) drops, sum(accepted) accepted, sum(verdicts) verdicts,
               sum(correct) correct
        FROM stats_districtdropdaily WHERE district_id = ANY(%(ids)s) AND day BETWEEN %(a)s AND %(b)s GROUP BY 1, 2
    ), dep AS (
        SELECT x.district_id, x.day, sum(x.weight_g) weight, sum({RECOVERED_DEPOSIT}) recovered
        FROM stats_districtdepositdaily x
        WHERE x.district_id = ANY(%(ids)s) AND x.day BETWEEN %(a)s AND %(b)s GROUP BY 1, 2
    ), col AS (
        SELECT x.district_id, x.day, sum(x.weight_g) weight, sum({RECOVERED_COLLECTION}) recovered,
               {", ".join(f"sum(x.weight_g) FILTER (WHERE x.category = '{c}') {c}" for c in CATEGORIES)}
        FROM stats_collectiondaily x LEFT JOIN stats_districtstatssettings s ON s.district_id = x.district_id
        WHERE x.district_id = ANY(%(ids)s) AND x.day BETWEEN %(a)s AND %(b)s GROUP BY 1, 2
    ), pc AS (
        SELECT district_id, start AS day, sum(households) households FROM stats_participationcount
        WHERE kind = 'day' AND district_id = ANY(%(ids)s) AND start BETWEEN %(a)s AND %(b)s GROUP BY 1, 2
    ), days AS (
        SELECT district_id, day FROM dr UNION SELECT district_id, day FROM dep
        UNION SELECT district_id, day FROM col UNION SELECT district_id, day FROM pc
    )
    SELECT d.day, d.district_id, coalesce(dr.drops, 0), coalesce(dr.accepted, 0), coalesce(dr.verdicts, 0),
           coalesce(dr.correct, 0), coalesce(pc.households, 0), coalesce(dep.weight, 0),
           {", ".join(f"coalesce(col.{c}, 0)" for c in CATEGORIES)},
           coalesce(col.recovered, 0) + coalesce(dep.recovered, 0), coalesce(col.weight, 0) + coalesce(dep.weight, 0)
    FROM days d
    LEFT JOIN dr ON dr.district_id = d.district_id AND dr.day = d.day
    LEFT JOIN dep ON dep.district_id = d.district_id AND dep.day = d.day
    LEFT JOIN col ON col.district_id = d.district_id AND col.day = d.day
    LEFT JOIN pc ON pc.district_id = d.district_id AND pc.day = d.day
    ORDER BY d.day, d.district_id"""  # noqa: S608 - rate.py's fixed expressions; categories are WasteCategory values


def export_rows(user: User, start: date, end: date) -> Iterator[ExportDay]:
    """Daily rows per visible district, fetched in batches (the response streams, memory stays flat)."""
    names = dict(visible_districts(user).values_list("id", "name"))
    if not names:
        return
    with connection.cursor() as cursor:
        cursor.execute(EXPORT_SQL, {"ids": list(names), "a": start, "b": end})
        while batch := cursor.fetchmany(500):
            for day, district_id, *counts, deposits, c1, c2, c3, c4, recovered, handled in batch:
                drops, accepted, verdicts, correct, participants = (int(n) for n in counts)
                yield ExportDay(
                    day=day,
                    district_id=district_id,
                    district_name=names[district_id],
                    drops=drops,
                    accepted_drops=accepted,
                    verdicts=verdicts,
                    correct_verdicts=correct,
                    participating_households=participants,
                    deposited_g=int(deposits),
                    collected_g=dict(zip(CATEGORIES, (int(c) for c in (c1, c2, c3, c4)), strict=True)),
                    utilization=rate.Utilization(int(recovered), int(handled)),
                )
