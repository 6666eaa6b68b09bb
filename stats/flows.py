"""The typed flows of indicators.py, read from the rollup tables, and each indicator's daily sums over them.

Collections come from `CollectionDaily` (category, destination); kiosk deposits from the deposit
rollups (their material's category, no destination), read only while some indicator sums them (none
does since the mass balance: a deposit counts at the plant). Per district or per community and day,
one query returns every indicator's numerator and denominator.
"""

from dataclasses import dataclass
from datetime import date
from functools import cached_property
from itertools import groupby
from operator import itemgetter

from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from . import indicators, rate

# (rows of collections, rows of deposits) per grouping; each selects key, district_id, day, kind,
# category, destination, weight_g for the ids in %(ids)s (districts) and the days %(a)s..%(b)s.
_FLOW_SOURCES = {
    "district_id": (
        "stats_collectiondaily x WHERE x.district_id = ANY(%(ids)s)",
        "stats_districtdepositdaily x WHERE x.district_id = ANY(%(ids)s)",
        "x.district_id",
    ),
    "community_id": (
        "stats_collectiondaily x WHERE x.district_id = ANY(%(ids)s) AND x.community_id IS NOT NULL",
        "stats_depositdaily x WHERE x.district_id = ANY(%(ids)s)",
        "x.community_id",
    ),
}


# Deposit rollups hold a row per material and day: tens of thousands a year per district, read only
# when an indicator needs them.
READS_DEPOSITS = any(
    term.kind == indicators.DEPOSIT
    for indicator in indicators.INDICATORS.values()
    for term in (*indicator.numerator, *indicator.denominator)
)


def flows_sql(by: str) -> str:
    """Every flow of the districts %(ids)s over %(a)s..%(b)s, keyed by district or community."""
    if by not in _FLOW_SOURCES:
        raise ImproperlyConfigured(f"flows are not grouped by {by!r}")
    collections, deposits, key = _FLOW_SOURCES[by]
    sql = f"""
        SELECT {key} AS key, x.district_id, x.day, '{indicators.COLLECTION}'::text AS kind, x.category,
               x.destination, x.weight_g
        FROM {collections} AND x.day BETWEEN %(a)s AND %(b)s"""  # noqa: S608 - fixed tables of _FLOW_SOURCES; kinds are indicators' constants
    if READS_DEPOSITS:
        sql += f"""
        UNION ALL
        SELECT {key}, x.district_id, x.day, '{indicators.DEPOSIT}'::text, x.category, ''::text, x.weight_g
        FROM {deposits} AND x.day BETWEEN %(a)s AND %(b)s"""  # noqa: S608 - as above
    return sql


def daily_sums_sql(by: str) -> str:
    """(key, day, then numerator and denominator of every indicator) per day with a flow."""
    return f"""
        SELECT f.key, f.day, {indicators.sums_sql(flows="f", settings="s")}
        FROM ({flows_sql(by)}) f
        LEFT JOIN stats_districtstatssettings s ON s.district_id = f.district_id
        GROUP BY 1, 2"""  # noqa: S608 - built from indicators' checked codes and the fixed flow sources


# District and city figures read the district-day rollup of the indicators: one row per day, the
# district's setting applied in SQL, so each indicator arrives as its numerator and denominator.
_ROLLUP_COLUMNS = ", ".join(
    f"x.sums[{3 * i + 1}] + CASE WHEN s.incineration_counts_as_recovery THEN x.sums[{3 * i + 2}] ELSE 0 END, "
    f"x.sums[{3 * i + 3}]"
    for i in range(len(indicators.INDICATORS))
)
ROLLUP_SQL = f"""
    SELECT x.district_id, x.day, {_ROLLUP_COLUMNS}
    FROM stats_districtindicatorday x LEFT JOIN stats_districtstatssettings s ON s.district_id = x.district_id
    WHERE x.district_id = ANY(%(ids)s) AND x.day BETWEEN %(a)s AND %(b)s
    ORDER BY 1, 2"""  # noqa: S608 - array positions from a constant


@dataclass(frozen=True)
class DaySums:
    """One place's days with a flow, in day order, and per indicator code the numerator and the
    denominator of each of those days (grams), as columns: a city's year is tens of thousands of
    figures, and projections read them in order."""

    days: tuple[date, ...]
    sums: dict[str, tuple[tuple[int, ...], tuple[int, ...]]]

    @cached_property
    def day_numbers(self) -> tuple[int, ...]:
        """The days as ordinals, what projections fit over (computed once for every indicator)."""
        return tuple(day.toordinal() for day in self.days)

    def total(self, code: str) -> rate.Utilization:
        """The indicator's numerator and denominator over every day."""
        recovered, handled = self.sums[code]
        return rate.Utilization(sum(recovered), sum(handled))

    def projection(
        self, code: str, *, start: date, end: date, today: date, target: float | None
    ) -> rate.Projection:
        recovered, handled = self.sums[code]
        return rate.project_columns(
            self.day_numbers, recovered, handled, start=start, end=end, today=today, target=target
        )


NO_DAYS = DaySums((), {code: ((), ()) for code in indicators.INDICATORS})


def daily_columns(ids: list[int], start: date, end: date, *, by: str = "district_id") -> dict[int, DaySums]:
    """key (district or community) -> its days with a flow and every indicator's sums on them."""
    if not ids:
        return {}
    if by == "district_id" and not READS_DEPOSITS:
        sql = ROLLUP_SQL
    else:
        # The sums arrive as bigint (cast in SQL): no Decimal per figure.
        sql = daily_sums_sql(by) + " ORDER BY 1, 2"
    with connection.cursor() as cursor:
        cursor.execute(sql, {"ids": ids, "a": start, "b": end})
        rows = cursor.fetchall()
    result = {}
    for key, group in groupby(rows, key=itemgetter(0)):
        columns = list(zip(*group, strict=True))
        result[key] = DaySums(
            columns[1],
            {code: (columns[2 + 2 * i], columns[3 + 2 * i]) for i, code in enumerate(indicators.INDICATORS)},
        )
    return result
