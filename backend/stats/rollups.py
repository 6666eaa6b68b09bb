# ruff: noqa: S608 - the SQL is assembled from table and column names in code, never from input.
"""Keeping the rollup tables in step with the raw events, and proving they are.

Incremental refresh: each source has a watermark (last id read, and the time of the last scan). A
scan reads rows with a higher id or a changed/created timestamp at most OVERLAP before the last
scan (so a transaction that committed late is still seen), turns them into dirty buckets -
(community, day) for counts and weights, (household, month) for participation - and recomputes those
buckets whole from the raw events. Recomputing is idempotent, so reading a row twice is harmless and
a missed row is caught by the overlap; nothing is ever incremented blindly.

The recount queries below are the definition of every rollup: a full rebuild inserts them, and
`verify_rollups` compares them with the tables.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import timezone

from . import sources
from .models import CommunityHouseholds, Watermark
from .sources import EventSource, local_day_sql

logger = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=5)
# Serialises refreshers across processes: two workers recomputing the same bucket would race.
ADVISORY_LOCK = 0x5354415453  # "STATS"

T_DROP = "stats_dropdaily"
T_DEPOSIT = "stats_depositdaily"
T_HOUSEHOLD = "stats_householdmonth"
T_COMMUNITY_DAY = "stats_communityday"
T_COLLECTION = "stats_collectiondaily"


# ---- the recount queries (the definition of each rollup) ----------------------------------------


def drop_recount_sql(src: EventSource, where: str = "true") -> str:
    day = local_day_sql(src.at)
    return f"""
        SELECT {day} AS day, c.district_id, {src.community} AS community_id, {src.category} AS category,
               count(*) AS drops,
               count(*) FILTER (WHERE {src.accepted}) AS accepted,
               count(*) FILTER (WHERE {src.rejected}) AS rejected,
               count(*) FILTER (WHERE {src.graded}) AS verdicts,
               count(*) FILTER (WHERE {src.correct}) AS correct
        FROM {src.from_sql} JOIN geo_community c ON c.id = {src.community}
        WHERE {where}
        GROUP BY 1, 2, 3, 4"""


def deposit_recount_sql(src: EventSource, where: str = "true") -> str:
    day = local_day_sql(src.at)
    return f"""
        SELECT {day} AS day, c.district_id, {src.community} AS community_id,
               {src.material} AS material, {src.material_category} AS category,
               count(*) AS deposits, coalesce(sum({src.weight_g}), 0) AS weight_g
        FROM {src.from_sql} JOIN geo_community c ON c.id = {src.community}
        WHERE {where}
        GROUP BY 1, 2, 3, 4, 5"""


def participation_events_sql(srcs: list[EventSource], where_by_source: dict[str, str] | None = None) -> str:
    """(household, day) of every participating event, with the household's own community."""
    parts = []
    for src in srcs:
        extra = (where_by_source or {}).get(src.name, "true")
        parts.append(
            f"""SELECT {src.household} AS household_id, {local_day_sql(src.at)} AS day
                FROM {src.from_sql}
                WHERE {src.household} IS NOT NULL AND {src.participates} AND {extra}"""
        )
    return (
        " UNION ".join(parts)
        if parts
        else "SELECT NULL::bigint AS household_id, NULL::date AS day WHERE false"
    )


def household_recount_sql(srcs: list[EventSource], where_by_source: dict[str, str] | None = None) -> str:
    return f"""
        SELECT date_trunc('month', e.day)::date AS month, e.household_id, c.district_id,
               h.community_id, bit_or(1 << (extract(day FROM e.day)::int - 1)) AS days
        FROM ({participation_events_sql(srcs, where_by_source)}) e
        JOIN accounts_household h ON h.id = e.household_id
        JOIN geo_community c ON c.id = h.community_id
        GROUP BY 1, 2, 3, 4"""


COMMUNITY_DAY_FROM_HOUSEHOLDS_SQL = f"""
    SELECT (hm.month + (b.bit) * interval '1 day')::date AS day, hm.district_id, hm.community_id,
           count(*) AS households
    FROM {T_HOUSEHOLD} hm
    CROSS JOIN generate_series(0, 30) AS b(bit)
    WHERE hm.days & (1 << b.bit) <> 0 AND {{where}}
    GROUP BY 1, 2, 3"""

COLLECTION_RECOUNT_SQL = """
    SELECT date AS day, district_id, community_id, category, destination, sum(weight_g) AS weight_g
    FROM stats_collection GROUP BY 1, 2, 3, 4, 5"""

HOUSEHOLD_COUNT_SQL = """
    SELECT h.community_id, c.district_id, count(*) AS households
    FROM accounts_household h JOIN geo_community c ON c.id = h.community_id
    GROUP BY 1, 2"""


def recount_queries() -> dict[str, tuple[str, str, str]]:
    """table -> (columns, recount SELECT, key columns); the contract verify_rollups checks."""
    srcs = {s.name: s for s in sources.available()}
    queries = {
        T_COLLECTION: (
            "day, district_id, community_id, category, destination, weight_g",
            COLLECTION_RECOUNT_SQL,
            "",
        ),
        T_HOUSEHOLD: (
            "month, household_id, district_id, community_id, days",
            household_recount_sql(list(srcs.values())),
            "",
        ),
    }
    if "drops" in srcs:
        queries[T_DROP] = (
            "day, district_id, community_id, category, drops, accepted, rejected, verdicts, correct",
            drop_recount_sql(srcs["drops"]),
            "",
        )
    if "deposits" in srcs:
        queries[T_DEPOSIT] = (
            "day, district_id, community_id, material, category, deposits, weight_g",
            deposit_recount_sql(srcs["deposits"]),
            "",
        )
    queries[T_COMMUNITY_DAY] = (
        "day, district_id, community_id, households",
        # Recounted from the events themselves, not from the household-month rollup.
        f"""SELECT e.day, c.district_id, h.community_id, count(DISTINCT e.household_id) AS households
            FROM ({participation_events_sql(list(srcs.values()))}) e
            JOIN accounts_household h ON h.id = e.household_id
            JOIN geo_community c ON c.id = h.community_id
            GROUP BY 1, 2, 3""",
        "",
    )
    queries[CommunityHouseholds._meta.db_table] = (
        "community_id, district_id, households",
        HOUSEHOLD_COUNT_SQL,
        "",
    )
    return queries


# ---- refresh ------------------------------------------------------------------------------------


@dataclass
class RefreshResult:
    drop_buckets: int = 0
    deposit_buckets: int = 0
    household_months: int = 0
    districts: set[int] = field(default_factory=set)
    households_changed: bool = False

    @property
    def changed(self) -> bool:
        return bool(
            self.drop_buckets or self.deposit_buckets or self.household_months or self.households_changed
        )


def _values(rows, types: tuple[str, ...]) -> tuple[str, list]:
    """A VALUES list with typed placeholders for a set of key tuples."""
    row_sql = "(" + ", ".join(f"%s::{t}" for t in types) + ")"
    params = [value for row in rows for value in row]
    return ", ".join([row_sql] * len(rows)), params


def _scan(cursor, src: EventSource, mark: Watermark, since) -> tuple[list[tuple], int]:
    """Rows new or changed since the watermark: (community, day, household, household community)."""
    conditions = [f"{src.id} > %s"] + [f"{col} >= %s" for col in src.changed]
    params: list = [mark.last_id] + [since] * len(src.changed)
    union = " UNION ".join(
        f"""SELECT {src.id} AS id, {src.community} AS community_id, {local_day_sql(src.at)} AS day,
                   {src.household} AS household_id
            FROM {src.from_sql} WHERE {condition}"""
        for condition in conditions
    )
    cursor.execute(
        f"""SELECT s.community_id, s.day, s.household_id, h.community_id, s.id
            FROM ({union}) s LEFT JOIN accounts_household h ON h.id = s.household_id""",
        params,
    )
    rows = cursor.fetchall()
    top = max((row[4] for row in rows), default=mark.last_id)
    return rows, max(top, mark.last_id)


def _range_params(days: list[date]) -> list:
    """Bounds in local time that prefilter the raw events by their time column (one day of slack)."""
    return [min(days) - timedelta(days=1), max(days) + timedelta(days=2)]


def _time_window(src: EventSource) -> str:
    return f"{src.at} >= %s::timestamp AT TIME ZONE '{sources.STATS_TZ_NAME}' AND {src.at} < %s::timestamp AT TIME ZONE '{sources.STATS_TZ_NAME}'"


def _recompute_participation(
    cursor, srcs: list[EventSource], keys: set[tuple[int, date]]
) -> set[tuple[int, date]]:
    """Recompute household-month rows for (household, month) keys; returns the (community, month) touched."""
    if not keys:
        return set()
    values, params = _values(sorted(keys), ("bigint", "date"))
    cursor.execute(
        f"DELETE FROM {T_HOUSEHOLD} t USING (VALUES {values}) AS k(household_id, month) "
        "WHERE t.household_id = k.household_id AND t.month = k.month RETURNING t.community_id, t.month",
        params,
    )
    touched = set(cursor.fetchall())
    households = sorted({household for household, _month in keys})
    months = [month for _household, month in keys]
    lo, hi = min(months), max(months) + timedelta(days=32)
    where = {src.name: f"{src.household} = ANY(%s) AND {_time_window(src)}" for src in srcs}
    where_params = []
    for _src in srcs:
        where_params += [households, lo - timedelta(days=1), hi + timedelta(days=1)]
    columns = "month, household_id, district_id, community_id, days"
    cursor.execute(
        f"""INSERT INTO {T_HOUSEHOLD} ({columns})
            SELECT {columns} FROM ({household_recount_sql(srcs, where)}) r
            JOIN (VALUES {values}) AS k(household_id, month) ON r.household_id = k.household_id AND r.month = k.month
            RETURNING community_id, month""",
        [*where_params, *params],
    )
    touched |= set(cursor.fetchall())
    return touched


def _recompute_community_days(cursor, touched: set[tuple[int, date]]) -> None:
    if not touched:
        return
    values, params = _values(sorted(touched), ("bigint", "date"))
    cursor.execute(
        f"DELETE FROM {T_COMMUNITY_DAY} t USING (VALUES {values}) AS k(community_id, month) "
        "WHERE t.community_id = k.community_id AND date_trunc('month', t.day)::date = k.month",
        params,
    )
    where = (
        f"(hm.community_id, hm.month) IN (SELECT k.community_id, k.month FROM (VALUES {values}) "
        "AS k(community_id, month))"
    )
    cursor.execute(
        f"INSERT INTO {T_COMMUNITY_DAY} (day, district_id, community_id, households) "
        + COMMUNITY_DAY_FROM_HOUSEHOLDS_SQL.format(where=where),
        params,
    )


def _refresh_household_counts(cursor) -> bool:
    cursor.execute("SELECT coalesce(max(id), 0), count(*) FROM accounts_household")
    signature = cursor.fetchone()
    mark, _created = Watermark.objects.get_or_create(source="households")
    if (mark.last_id, mark.refreshed_at is not None) == (signature[0] * 1_000_000 + signature[1], True):
        return False
    cursor.execute(f"DELETE FROM {CommunityHouseholds._meta.db_table}")
    cursor.execute(
        f"INSERT INTO {CommunityHouseholds._meta.db_table} (community_id, district_id, households) "
        + HOUSEHOLD_COUNT_SQL
    )
    mark.last_id = signature[0] * 1_000_000 + signature[1]
    mark.refreshed_at = timezone.now()
    mark.save()
    return True


def refresh(*, full: bool = False) -> RefreshResult:
    """Bring every rollup up to date; `full` rebuilds them from scratch."""
    result = RefreshResult()
    srcs = sources.available()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK])
        cursor.execute("SELECT now()")
        scan_started = cursor.fetchone()[0]
        if full:
            return _rebuild(cursor, srcs, scan_started)
        participation_keys: set[tuple[int, date]] = set()
        for src in srcs:
            mark, _created = Watermark.objects.select_for_update().get_or_create(source=src.name)
            since = (mark.last_changed_at or scan_started) - OVERLAP
            if mark.last_changed_at is None and mark.last_id == 0:
                since = scan_started.replace(year=1970)
            rows, top = _scan(cursor, src, mark, since)
            buckets = {(community, day) for community, day, _h, _hc, _id in rows}
            for _community, day, household, _hc, _id in rows:
                if household is not None:
                    participation_keys.add((household, day.replace(day=1)))
            if src.name == "drops":
                _recompute_counts_for(cursor, T_DROP, drop_recount_sql, src, buckets)
                result.drop_buckets = len(buckets)
            else:
                _recompute_counts_for(cursor, T_DEPOSIT, deposit_recount_sql, src, buckets)
                result.deposit_buckets = len(buckets)
            if buckets:
                cursor.execute(
                    "SELECT DISTINCT district_id FROM geo_community WHERE id = ANY(%s)",
                    [sorted({c for c, _d in buckets})],
                )
                result.districts |= {row[0] for row in cursor.fetchall()}
            mark.last_id = top
            mark.last_changed_at = scan_started
            mark.refreshed_at = timezone.now()
            mark.save()
        touched = _recompute_participation(cursor, srcs, participation_keys)
        result.household_months = len(participation_keys)
        _recompute_community_days(cursor, touched)
        result.households_changed = _refresh_household_counts(cursor)
    return result


def _recompute_counts_for(cursor, table, recount, src: EventSource, buckets) -> None:
    if not buckets:
        return
    keys, params = _values(sorted(buckets), ("bigint", "date"))
    days = [day for _community, day in buckets]
    communities = sorted({community for community, _day in buckets})
    where = f"{src.community} = ANY(%s) AND {_time_window(src)}"
    cursor.execute(
        f"DELETE FROM {table} t USING (VALUES {keys}) AS k(community_id, day) "
        "WHERE t.community_id = k.community_id AND t.day = k.day",
        params,
    )
    columns = {
        T_DROP: "day, district_id, community_id, category, drops, accepted, rejected, verdicts, correct",
        T_DEPOSIT: "day, district_id, community_id, material, category, deposits, weight_g",
    }[table]
    cursor.execute(
        f"INSERT INTO {table} ({columns}) SELECT {columns} FROM ({recount(src, where)}) r "
        f"JOIN (VALUES {keys}) AS k(community_id, day) ON r.community_id = k.community_id AND r.day = k.day",
        [communities, *_range_params(days), *params],
    )


def _rebuild(cursor, srcs: list[EventSource], scan_started) -> RefreshResult:
    result = RefreshResult()
    queries = recount_queries()
    for table in (T_DROP, T_DEPOSIT, T_HOUSEHOLD, T_COMMUNITY_DAY, T_COLLECTION):
        cursor.execute(f"DELETE FROM {table}")
    for table in (T_DROP, T_DEPOSIT, T_HOUSEHOLD, T_COLLECTION):
        if table in queries:
            columns, select, _keys = queries[table]
            cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM ({select}) r")
    cursor.execute(
        f"INSERT INTO {T_COMMUNITY_DAY} (day, district_id, community_id, households) "
        + COMMUNITY_DAY_FROM_HOUSEHOLDS_SQL.format(where="true")
    )
    for src in srcs:
        cursor.execute(f"SELECT coalesce(max({src.id}), 0) FROM {src.from_sql}")
        top = cursor.fetchone()[0]
        Watermark.objects.update_or_create(
            source=src.name,
            defaults={"last_id": top, "last_changed_at": scan_started, "refreshed_at": timezone.now()},
        )
    Watermark.objects.filter(source="households").delete()
    result.households_changed = _refresh_household_counts(cursor)
    cursor.execute("SELECT id FROM geo_district")
    result.districts = {row[0] for row in cursor.fetchall()}
    return result


# ---- verification -------------------------------------------------------------------------------


@dataclass
class Mismatch:
    table: str
    missing: int  # rows the recount has and the table lacks
    extra: int  # rows the table has and the recount lacks
    sample: list


def verify() -> list[Mismatch]:
    """Compare every rollup table with its recount; an empty list means they are equal."""
    problems = []
    with connection.cursor() as cursor:
        for table, (columns, select, _keys) in recount_queries().items():
            # Zero-weight collection rows (a record and its reversal) are equal to no row at all.
            filter_zero = "WHERE weight_g <> 0" if table == T_COLLECTION else ""
            recount = f"SELECT {columns} FROM ({select}) r {filter_zero}"
            stored = f"SELECT {columns} FROM {table} {filter_zero}"
            cursor.execute(f"SELECT count(*) FROM (({recount}) EXCEPT ALL ({stored})) x")
            missing = cursor.fetchone()[0]
            cursor.execute(f"SELECT count(*) FROM (({stored}) EXCEPT ALL ({recount})) x")
            extra = cursor.fetchone()[0]
            if missing or extra:
                cursor.execute(f"(({recount}) EXCEPT ALL ({stored})) LIMIT 5")
                sample = cursor.fetchall()
                problems.append(Mismatch(table, missing, extra, sample))
    return problems
