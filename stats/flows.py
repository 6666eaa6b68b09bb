"""The typed flows of indicators.py, read from the rollup tables, and each indicator's daily sums over them.

Collections come from `CollectionDaily` (category, destination); kiosk deposits from the deposit
rollups (their material's category, no destination), read only while some indicator sums them (none
does since the mass balance: a deposit counts at the plant). Per district or per community and day,
one query returns every indicator's numerator and denominator.
"""

from datetime import date

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


# Per indicator code, (day, numerator and denominator) in day order: what projections read.
DailyRatios = dict[str, list[tuple[date, rate.Utilization]]]


# District and city figures read the district-day rollup of the indicators: one row per day.
# The array's elements as plain columns: psycopg reads integers natively, arrays as text to parse.
ROLLUP_SQL = f"""
    SELECT x.district_id, x.day, coalesce(s.incineration_counts_as_recovery, false),
           {", ".join(f"x.sums[{i + 1}]" for i in range(indicators.SUMS_LENGTH))}
    FROM stats_districtindicatorday x LEFT JOIN stats_districtstatssettings s ON s.district_id = x.district_id
    WHERE x.district_id = ANY(%(ids)s) AND x.day BETWEEN %(a)s AND %(b)s
    ORDER BY 1, 2"""  # noqa: S608 - array positions from a constant


def daily(ids: list[int], start: date, end: date, *, by: str = "district_id") -> dict[int, DailyRatios]:
    """key (district or community) -> indicator code -> its days with a flow, in order."""
    result: dict[int, DailyRatios] = {}
    if not ids:
        return result
    codes = list(indicators.INDICATORS)
    with connection.cursor() as cursor:
        if by == "district_id" and not READS_DEPOSITS:
            cursor.execute(ROLLUP_SQL, {"ids": ids, "a": start, "b": end})
            for key, day, setting_on, *sums in cursor.fetchall():
                per_code = result.get(key)
                if per_code is None:
                    per_code = result[key] = {code: [] for code in codes}
                for code, ratio in indicators.ratios_from_sums(sums, setting_on):
                    per_code[code].append((day, ratio))
            return result
        # The sums arrive as bigint (cast in SQL): no Decimal per figure.
        cursor.execute(daily_sums_sql(by) + " ORDER BY 1, 2", {"ids": ids, "a": start, "b": end})
        for key, day, *sums in cursor.fetchall():
            per_code = result.get(key)
            if per_code is None:
                per_code = result[key] = {code: [] for code in codes}
            for i, code in enumerate(codes):
                per_code[code].append((day, rate.Utilization(sums[2 * i], sums[2 * i + 1])))
    return result
