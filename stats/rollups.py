# ruff: noqa: S608 - the SQL is assembled from table and column names in code, never from input.
"""Keeping the rollup tables in step with the raw events, and proving they are.

Incremental refresh: each source has a watermark: the last id read, the ids below it not seen yet
(a transaction that took its id early may commit late; such gaps are re-read by primary key for
OVERLAP), and the time of the last scan (rows whose change timestamp - a verdict - is at most
OVERLAP older than that are read again). A scan turns
them into dirty buckets - (community, day) for counts and weights, (household, month) for
participation - and recomputes those buckets whole from the raw events. Recomputing is idempotent,
so reading a row twice is harmless; nothing is ever incremented blindly.

The recount queries below define every rollup: `verify_rollups` compares them with the tables.
"""

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import timezone

from . import periods, rate, sources
from .models import Watermark
from .sources import EventSource, local_day_sql

logger = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=5)
# Serialises refreshers across processes: two workers recomputing the same bucket would race.
ADVISORY_LOCK = 0x5354415453  # "STATS"

T_DROP = "stats_dropdaily"
T_DEPOSIT = "stats_depositdaily"
T_DISTRICT_DROP = "stats_districtdropdaily"
T_DISTRICT_DEPOSIT = "stats_districtdepositdaily"
T_COMMUNITY_DAILY = "stats_communitydaily"
T_DISTRICT_DAY = "stats_districtday"
T_HOUSEHOLD = "stats_householdmonth"
T_HOUSEHOLD_YEAR = "stats_householdyear"
T_PARTICIPATION = "stats_participationcount"
T_COLLECTION = "stats_collectiondaily"
T_HOUSEHOLDS = "stats_communityhouseholds"

DROP_COLUMNS = "day, district_id, community_id, category, drops, accepted, rejected, verdicts, correct"
DEPOSIT_COLUMNS = "day, district_id, community_id, material, category, deposits, weight_g"
DISTRICT_DROP_COLUMNS = "day, district_id, category, drops, accepted, rejected, verdicts, correct"
DISTRICT_DEPOSIT_COLUMNS = "day, district_id, material, category, deposits, weight_g"
DISTRICT_DAY_COLUMNS = (
    "day, district_id, collected_g, collected_recovered_g, incinerated_g, deposited_g, deposit_recovered_g"
)
COMMUNITY_DAILY_COLUMNS = "day, district_id, community_id, drops, verdicts, correct, deposits_g"
HOUSEHOLD_YEAR_COLUMNS = "year, household_id, district_id, community_id, days"
HOUSEHOLD_COLUMNS = "month, household_id, district_id, community_id, days"
PARTICIPATION_COLUMNS = "kind, start, district_id, community_id, households"
BUCKET_KINDS = ("day", "week", "month", "year")


# ---- the recount queries (the definition of each rollup) ----------------------------------------


def drop_recount_sql(src: EventSource, where: str = "true") -> str:
    return f"""
        SELECT {local_day_sql(src.at)} AS day, c.district_id, {src.community} AS community_id,
               {src.category} AS category,
               count(*) AS drops,
               count(*) FILTER (WHERE {src.accepted}) AS accepted,
               count(*) FILTER (WHERE {src.rejected}) AS rejected,
               count(*) FILTER (WHERE {src.graded}) AS verdicts,
               count(*) FILTER (WHERE {src.correct}) AS correct
        FROM {src.from_sql} JOIN geo_community c ON c.id = {src.community}
        WHERE {where}
        GROUP BY 1, 2, 3, 4"""


def deposit_recount_sql(src: EventSource, where: str = "true") -> str:
    return f"""
        SELECT {local_day_sql(src.at)} AS day, c.district_id, {src.community} AS community_id,
               {src.material} AS material, {src.material_category} AS category,
               count(*) AS deposits, coalesce(sum({src.weight_g}), 0) AS weight_g
        FROM {src.from_sql} JOIN geo_community c ON c.id = {src.community}
        WHERE {where}
        GROUP BY 1, 2, 3, 4, 5"""


def district_drop_sql(community_rows: str) -> str:
    return f"""SELECT day, district_id, category, sum(drops) AS drops, sum(accepted) AS accepted,
                      sum(rejected) AS rejected, sum(verdicts) AS verdicts, sum(correct) AS correct
               FROM ({community_rows}) r GROUP BY 1, 2, 3"""


def district_deposit_sql(community_rows: str) -> str:
    return f"""SELECT day, district_id, material, category, sum(deposits) AS deposits,
                      sum(weight_g) AS weight_g
               FROM ({community_rows}) r GROUP BY 1, 2, 3, 4"""


def district_day_sql(deposit_rows: str | None) -> str:
    """District-day weights split for the rate: collections from their table, deposits from `deposit_rows`."""
    collection_recovered = rate.collection_recovered_sql(
        weight="weight_g", category="category", destination="destination", incineration_counts="false"
    )
    parts = [
        f"""SELECT date AS day, district_id, weight_g AS collected_g, {collection_recovered} AS collected_recovered_g,
                   CASE WHEN destination = 'incineration' THEN weight_g ELSE 0 END AS incinerated_g,
                   0 AS deposited_g, 0 AS deposit_recovered_g
            FROM stats_collection"""
    ]
    if deposit_rows:
        deposit_recovered = rate.deposit_recovered_sql(weight="weight_g", category="category")
        parts.append(
            f"""SELECT day, district_id, 0, 0, 0, weight_g, {deposit_recovered} FROM ({deposit_rows}) d"""
        )
    return f"""SELECT day, district_id, sum(collected_g) AS collected_g,
                      sum(collected_recovered_g) AS collected_recovered_g, sum(incinerated_g) AS incinerated_g,
                      sum(deposited_g) AS deposited_g, sum(deposit_recovered_g) AS deposit_recovered_g
               FROM ({" UNION ALL ".join(parts)}) r GROUP BY 1, 2"""


def community_daily_sql(drop_rows: str | None, deposit_rows: str | None) -> str:
    parts = []
    if drop_rows:
        parts.append(
            f"SELECT day, district_id, community_id, drops, verdicts, correct, 0 AS deposits_g FROM ({drop_rows}) a"
        )
    if deposit_rows:
        parts.append(
            "SELECT day, district_id, community_id, 0 AS drops, 0 AS verdicts, 0 AS correct, weight_g AS deposits_g "
            f"FROM ({deposit_rows}) b"
        )
    if not parts:
        parts.append("SELECT NULL::date AS day, 0 AS district_id, 0 AS community_id, 0, 0, 0, 0 WHERE false")
    return f"""SELECT day, district_id, community_id, sum(drops) AS drops, sum(verdicts) AS verdicts,
                      sum(correct) AS correct, sum(deposits_g) AS deposits_g
               FROM ({" UNION ALL ".join(parts)}) r GROUP BY 1, 2, 3"""


def participation_events_sql(srcs: list[EventSource], where_by_source: dict[str, str] | None = None) -> str:
    """Distinct (household, day, household's community, district) of every participating event."""
    parts = []
    for src in srcs:
        extra = (where_by_source or {}).get(src.name, "true")
        parts.append(
            f"""SELECT {src.household} AS household_id, {local_day_sql(src.at)} AS day
                FROM {src.from_sql}
                WHERE {src.household} IS NOT NULL AND {src.participates} AND {extra}"""
        )
    if not parts:
        parts = ["SELECT NULL::bigint AS household_id, NULL::date AS day WHERE false"]
    return f"""SELECT e.household_id, e.day, h.community_id, c.district_id
               FROM ({" UNION ".join(parts)}) e
               JOIN accounts_household h ON h.id = e.household_id
               JOIN geo_community c ON c.id = h.community_id"""


def household_month_sql(events: str) -> str:
    return f"""SELECT date_trunc('month', e.day)::date AS month, e.household_id, e.district_id,
                      e.community_id, bit_or(1 << (extract(day FROM e.day)::int - 1)) AS days
               FROM ({events}) e GROUP BY 1, 2, 3, 4"""


def household_year_sql(events: str) -> str:
    return f"""SELECT extract(year FROM e.day)::int AS year, e.household_id, e.district_id, e.community_id,
                      bit_or(set_bit(repeat('0', 366)::bit(366), extract(doy FROM e.day)::int - 1, 1)) AS days
               FROM ({events}) e GROUP BY 1, 2, 3, 4"""


def participation_count_sql(events: str, kinds: tuple[str, ...] = BUCKET_KINDS) -> str:
    """Distinct households per community and calendar bucket, from (household, day, community) rows."""
    return " UNION ALL ".join(
        f"""SELECT '{kind}'::varchar AS kind, date_trunc('{kind}', e.day)::date AS start, e.district_id,
                   e.community_id, count(DISTINCT e.household_id) AS households
            FROM ({events}) e GROUP BY 2, 3, 4"""
        for kind in kinds
    )


# Household-month rows expanded back to (household, day) rows.
EXPANDED_HOUSEHOLD_DAYS = f"""
    SELECT hm.household_id, (hm.month + b.bit)::date AS day, hm.community_id, hm.district_id
    FROM {T_HOUSEHOLD} hm CROSS JOIN generate_series(0, 30) AS b(bit)
    WHERE hm.days & (1 << b.bit) <> 0 AND {{where}}"""

COLLECTION_RECOUNT_SQL = """
    SELECT date AS day, district_id, community_id, category, destination, sum(weight_g) AS weight_g
    FROM stats_collection GROUP BY 1, 2, 3, 4, 5"""

HOUSEHOLD_COUNT_SQL = """
    SELECT h.community_id, c.district_id, count(*) AS households
    FROM accounts_household h JOIN geo_community c ON c.id = h.community_id
    GROUP BY 1, 2"""


def recount_queries() -> dict[str, tuple[str, str]]:
    """table -> (columns, recount SELECT): the contract verify_rollups checks."""
    srcs = {s.name: s for s in sources.available()}
    events = participation_events_sql(list(srcs.values()))
    queries = {
        T_COLLECTION: (
            "day, district_id, community_id, category, destination, weight_g",
            COLLECTION_RECOUNT_SQL,
        ),
        T_HOUSEHOLD: (HOUSEHOLD_COLUMNS, household_month_sql(events)),
        T_HOUSEHOLD_YEAR: (HOUSEHOLD_YEAR_COLUMNS, household_year_sql(events)),
        T_PARTICIPATION: (PARTICIPATION_COLUMNS, participation_count_sql(events)),
        T_HOUSEHOLDS: ("community_id, district_id, households", HOUSEHOLD_COUNT_SQL),
    }
    queries[T_DISTRICT_DAY] = (
        DISTRICT_DAY_COLUMNS,
        district_day_sql(deposit_recount_sql(srcs["deposits"]) if "deposits" in srcs else None),
    )
    queries[T_COMMUNITY_DAILY] = (
        COMMUNITY_DAILY_COLUMNS,
        community_daily_sql(
            drop_recount_sql(srcs["drops"]) if "drops" in srcs else None,
            deposit_recount_sql(srcs["deposits"]) if "deposits" in srcs else None,
        ),
    )
    if "drops" in srcs:
        queries[T_DROP] = (DROP_COLUMNS, drop_recount_sql(srcs["drops"]))
        queries[T_DISTRICT_DROP] = (DISTRICT_DROP_COLUMNS, district_drop_sql(drop_recount_sql(srcs["drops"])))
    if "deposits" in srcs:
        queries[T_DEPOSIT] = (DEPOSIT_COLUMNS, deposit_recount_sql(srcs["deposits"]))
        queries[T_DISTRICT_DEPOSIT] = (
            DISTRICT_DEPOSIT_COLUMNS,
            district_deposit_sql(deposit_recount_sql(srcs["deposits"])),
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


def _time_window(src: EventSource) -> str:
    tz = sources.STATS_TZ_NAME
    return (
        f"{src.at} >= (%s::timestamp AT TIME ZONE '{tz}') AND {src.at} < (%s::timestamp AT TIME ZONE '{tz}')"
    )


def _window_params(days) -> list:
    """Local-time bounds that prefilter raw events by their time column, a day of slack each side."""
    return [min(days) - timedelta(days=1), max(days) + timedelta(days=2)]


MAX_GAPS = 100_000


def _scan(cursor, src: EventSource, mark: Watermark, since) -> list[tuple]:
    """Rows new or changed since the watermark: (community, day, household, id).

    Reads rows above the id watermark, rows at the ids still missing below it (gaps), and rows whose
    change timestamps are recent. Updates `mark.last_id` and `mark.gaps` (the caller saves it).
    """
    gaps = {int(key): first_seen for key, first_seen in (mark.gaps or {}).items()}
    conditions = [f"{src.id} > %s", f"{src.id} = ANY(%s)"] + [f"{col} >= %s" for col in src.changed]
    params: list = [mark.last_id, sorted(gaps)] + [since] * len(src.changed)
    union = " UNION ".join(
        f"""SELECT {src.id} AS id, {src.community} AS community_id, {local_day_sql(src.at)} AS day,
                   {src.household} AS household_id
            FROM {src.from_sql} WHERE {condition}"""
        for condition in conditions
    )
    cursor.execute(f"SELECT community_id, day, household_id, id FROM ({union}) s", params)
    rows = cursor.fetchall()
    seen = {row[3] for row in rows}
    now = timezone.now().timestamp()
    # Gaps that appeared are done; old gaps were rolled back, not delayed.
    gaps = {
        gap: first for gap, first in gaps.items() if gap not in seen and now - first < OVERLAP.total_seconds()
    }
    new_ids = sorted(i for i in seen if i > mark.last_id)
    # The very first scan starts at the first row there is: ids below it are history, not gaps.
    previous = mark.last_id if mark.last_id or not new_ids else new_ids[0] - 1
    for row_id in new_ids:
        for missing in range(previous + 1, min(row_id, previous + 1 + MAX_GAPS)):
            gaps[missing] = now
        previous = row_id
    mark.last_id = previous
    if len(gaps) > MAX_GAPS:
        gaps = dict(sorted(gaps.items())[-MAX_GAPS:])
    mark.gaps = {str(gap): first for gap, first in gaps.items()}
    return rows


def _replace(cursor, table: str, columns: str, select: str, select_params: list, keys, key_sql) -> list:
    """Delete `table` rows matching the keys and insert the recount's rows matching them.

    `key_sql` is (key columns with types, join condition on t/r); returns the inserted rows' keys.
    """
    names, types, match = key_sql
    values, params = _values(sorted(keys), types)
    cursor.execute(
        f"DELETE FROM {table} t USING (VALUES {values}) AS k({names}) WHERE {match.format(x='t')}", params
    )
    cursor.execute(
        f"""INSERT INTO {table} ({columns}) SELECT {columns} FROM ({select}) r
            WHERE EXISTS (SELECT 1 FROM (VALUES {values}) AS k({names}) WHERE {match.format(x="r")})""",
        [*select_params, *params],
    )


COMMUNITY_DAY_KEY = (
    "community_id, day",
    ("bigint", "date"),
    "{x}.community_id = k.community_id AND {x}.day = k.day",
)
DISTRICT_DAY_KEY = (
    "district_id, day",
    ("bigint", "date"),
    "{x}.district_id = k.district_id AND {x}.day = k.day",
)
HOUSEHOLD_MONTH_KEY = (
    "household_id, month",
    ("bigint", "date"),
    "{x}.household_id = k.household_id AND {x}.month = k.month",
)


def _refresh_counts(cursor, src: EventSource, buckets: set[tuple[int, date]]) -> set[int]:
    """Recompute community and district rows of the dirty (community, day) buckets; returns districts."""
    if not buckets:
        return set()
    days = [day for _community, day in buckets]
    communities = sorted({community for community, _day in buckets})
    where = f"{src.community} = ANY(%s) AND {_time_window(src)}"
    if src.name == "drops":
        table, columns, recount = T_DROP, DROP_COLUMNS, drop_recount_sql
        district_table, district_columns, district_sql = (
            T_DISTRICT_DROP,
            DISTRICT_DROP_COLUMNS,
            district_drop_sql,
        )
    else:
        table, columns, recount = T_DEPOSIT, DEPOSIT_COLUMNS, deposit_recount_sql
        district_table, district_columns, district_sql = (
            T_DISTRICT_DEPOSIT,
            DISTRICT_DEPOSIT_COLUMNS,
            district_deposit_sql,
        )
    _replace(
        cursor,
        table,
        columns,
        recount(src, where),
        [communities, *_window_params(days)],
        buckets,
        COMMUNITY_DAY_KEY,
    )
    cursor.execute("SELECT id, district_id FROM geo_community WHERE id = ANY(%s)", [communities])
    district_of = dict(cursor.fetchall())
    district_days = {(district_of[community], day) for community, day in buckets}
    districts = sorted({district for district, _day in district_days})
    _replace(
        cursor,
        district_table,
        district_columns,
        district_sql(f"SELECT * FROM {table} WHERE district_id = ANY(%s) AND day BETWEEN %s AND %s"),
        [districts, min(days), max(days)],
        district_days,
        DISTRICT_DAY_KEY,
    )
    if src.name == "deposits":
        _refresh_district_day_deposits(cursor, district_days)
    return set(districts)


def _refresh_district_day_deposits(cursor, district_days: set[tuple[int, date]]) -> None:
    """Set the deposit columns of DistrictDay; the collection columns belong to the collection writes."""
    values, params = _values(sorted(district_days), ("bigint", "date"))
    recovered = rate.deposit_recovered_sql(weight="x.weight_g", category="x.category")
    cursor.execute(
        f"""INSERT INTO {T_DISTRICT_DAY} ({DISTRICT_DAY_COLUMNS})
            SELECT k.day, k.district_id, 0, 0, 0, coalesce(sum(x.weight_g), 0), coalesce(sum({recovered}), 0)
            FROM (VALUES {values}) AS k(district_id, day)
            LEFT JOIN {T_DISTRICT_DEPOSIT} x ON x.district_id = k.district_id AND x.day = k.day
            GROUP BY 1, 2
            ON CONFLICT (district_id, day) DO UPDATE SET
                deposited_g = EXCLUDED.deposited_g, deposit_recovered_g = EXCLUDED.deposit_recovered_g""",
        params,
    )


def _refresh_community_daily(cursor, buckets: set[tuple[int, date]]) -> None:
    if not buckets:
        return
    days = [day for _community, day in buckets]
    communities = sorted({community for community, _day in buckets})
    where = "WHERE community_id = ANY(%s) AND day BETWEEN %s AND %s"
    _replace(
        cursor,
        T_COMMUNITY_DAILY,
        COMMUNITY_DAILY_COLUMNS,
        community_daily_sql(f"SELECT * FROM {T_DROP} {where}", f"SELECT * FROM {T_DEPOSIT} {where}"),
        [communities, min(days), max(days)] * 2,
        buckets,
        COMMUNITY_DAY_KEY,
    )


def _refresh_households(
    cursor, srcs: list[EventSource], keys: set[tuple[int, date]]
) -> set[tuple[int, date]]:
    """Recompute household-month rows for (household, month) keys; returns the (community, month) touched."""
    if not keys:
        return set()
    households = sorted({household for household, _month in keys})
    months = [month for _household, month in keys]
    cursor.execute(
        f"SELECT DISTINCT community_id, month FROM {T_HOUSEHOLD} WHERE household_id = ANY(%s) AND month = ANY(%s)",
        [households, sorted(set(months))],
    )
    touched = set(cursor.fetchall())
    where = {src.name: f"{src.household} = ANY(%s) AND {_time_window(src)}" for src in srcs}
    window = _window_params([min(months), periods.next_month(max(months))])
    params = []
    for _src in srcs:
        params += [households, *window]
    _replace(
        cursor,
        T_HOUSEHOLD,
        HOUSEHOLD_COLUMNS,
        household_month_sql(participation_events_sql(srcs, where)),
        params,
        keys,
        HOUSEHOLD_MONTH_KEY,
    )
    years = {(household, month.year) for household, month in keys}
    year_window = _window_params([min(months).replace(month=1, day=1), max(months).replace(month=12, day=31)])
    year_params = []
    for _src in srcs:
        year_params += [households, *year_window]
    _replace(
        cursor,
        T_HOUSEHOLD_YEAR,
        HOUSEHOLD_YEAR_COLUMNS,
        household_year_sql(participation_events_sql(srcs, where)),
        year_params,
        years,
        ("household_id, year", ("bigint", "int"), "{x}.household_id = k.household_id AND {x}.year = k.year"),
    )
    cursor.execute(
        f"SELECT DISTINCT community_id, month FROM {T_HOUSEHOLD} WHERE household_id = ANY(%s) AND month = ANY(%s)",
        [households, sorted(set(months))],
    )
    return touched | set(cursor.fetchall())


def _household_buckets(cursor, keys: set[tuple[int, date]]) -> Counter:
    """Households per (community, district, kind, start) bucket, counting only the changed households.

    Reads their day bits for the whole years involved and a month either side, so every bucket that
    a changed month can affect (weeks cross months and years) is seen complete.
    """
    counts: Counter = Counter()
    if not keys:
        return counts
    households = sorted({household for household, _month in keys})
    years = sorted({month.year for _household, month in keys})
    cursor.execute(
        f"""SELECT household_id, community_id, district_id, month, days FROM {T_HOUSEHOLD}
            WHERE household_id = ANY(%s) AND month BETWEEN %s AND %s""",
        [households, date(years[0] - 1, 12, 1), date(years[-1] + 1, 1, 1)],
    )
    buckets: dict[int, set] = defaultdict(set)
    for household, community, district, month, days in cursor.fetchall():
        for bit in range(31):
            if days & (1 << bit):
                day = month + timedelta(days=bit)
                where = (community, district)
                buckets[household].add((*where, "day", day))
                buckets[household].add((*where, "week", day - timedelta(days=day.weekday())))
                buckets[household].add((*where, "month", month))
                buckets[household].add((*where, "year", month.replace(month=1)))
    for household_buckets in buckets.values():
        counts.update(household_buckets)
    # Buckets outside the changed years are only partly loaded here and did not change: leave them.
    return Counter({key: n for key, n in counts.items() if _bucket_year(key) in years})


def _bucket_year(key) -> int:
    _community, _district, kind, start = key
    return (start + timedelta(days=6)).year if kind == "week" and start.month == 12 else start.year


def _apply_participation_change(cursor, before: Counter, after: Counter) -> None:
    """Add the changed households' difference to the participation counts (then drop empty rows)."""
    changes = [(key, after.get(key, 0) - before.get(key, 0)) for key in set(before) | set(after)]
    changes = [(key, delta) for key, delta in changes if delta]
    if not changes:
        return
    rows = [
        (community, district, kind, start, delta) for (community, district, kind, start), delta in changes
    ]
    values, params = _values(rows, ("bigint", "bigint", "varchar", "date", "int"))
    cursor.execute(
        f"""INSERT INTO {T_PARTICIPATION} ({PARTICIPATION_COLUMNS})
            SELECT k.kind, k.start, k.district_id, k.community_id, k.delta
            FROM (VALUES {values}) AS k(community_id, district_id, kind, start, delta)
            ON CONFLICT (community_id, kind, start) DO UPDATE SET
                households = {T_PARTICIPATION}.households + EXCLUDED.households""",
        params,
    )
    cursor.execute(
        f"DELETE FROM {T_PARTICIPATION} WHERE households = 0 AND community_id = ANY(%s)",
        [sorted({row[0] for row in rows})],
    )


def _refresh_household_counts(cursor) -> bool:
    cursor.execute("SELECT coalesce(max(id), 0), count(*) FROM accounts_household")
    top, count = cursor.fetchone()
    signature = top * 1_000_000 + count
    mark, _created = Watermark.objects.get_or_create(source="households")
    if mark.refreshed_at is not None and mark.last_id == signature:
        return False
    cursor.execute(f"DELETE FROM {T_HOUSEHOLDS}")
    cursor.execute(
        f"INSERT INTO {T_HOUSEHOLDS} (community_id, district_id, households) {HOUSEHOLD_COUNT_SQL}"
    )
    mark.last_id = signature
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
        all_buckets: set[tuple[int, date]] = set()
        for src in srcs:
            mark, _created = Watermark.objects.select_for_update().get_or_create(source=src.name)
            if mark.last_changed_at is None:
                since = scan_started.replace(year=1970)
            else:
                since = mark.last_changed_at - OVERLAP
            rows = _scan(cursor, src, mark, since)
            buckets = {(community, day) for community, day, _household, _id in rows}
            participation_keys |= {
                (household, day.replace(day=1)) for _c, day, household, _id in rows if household is not None
            }
            result.districts |= _refresh_counts(cursor, src, buckets)
            all_buckets |= buckets
            if src.name == "drops":
                result.drop_buckets = len(buckets)
            else:
                result.deposit_buckets = len(buckets)
            mark.last_changed_at = scan_started
            mark.refreshed_at = timezone.now()
            mark.save()
        _refresh_community_daily(cursor, all_buckets)
        before = _household_buckets(cursor, participation_keys)
        touched = _refresh_households(cursor, srcs, participation_keys)
        _apply_participation_change(cursor, before, _household_buckets(cursor, participation_keys))
        result.household_months = len(participation_keys)
        if touched:
            cursor.execute(
                "SELECT DISTINCT district_id FROM geo_community WHERE id = ANY(%s)",
                [sorted({community for community, _month in touched})],
            )
            result.districts |= {row[0] for row in cursor.fetchall()}
        result.households_changed = _refresh_household_counts(cursor)
    return result


def _rebuild(cursor, srcs: list[EventSource], scan_started) -> RefreshResult:
    result = RefreshResult()
    for table in (
        T_DROP,
        T_DEPOSIT,
        T_DISTRICT_DROP,
        T_DISTRICT_DEPOSIT,
        T_DISTRICT_DAY,
        T_COMMUNITY_DAILY,
        T_HOUSEHOLD,
        T_HOUSEHOLD_YEAR,
        T_PARTICIPATION,
        T_COLLECTION,
    ):
        cursor.execute(f"DELETE FROM {table}")
    for src in srcs:
        if src.name == "drops":
            cursor.execute(f"INSERT INTO {T_DROP} ({DROP_COLUMNS}) {drop_recount_sql(src)}")
            cursor.execute(
                f"INSERT INTO {T_DISTRICT_DROP} ({DISTRICT_DROP_COLUMNS}) "
                + district_drop_sql(f"SELECT * FROM {T_DROP}")
            )
        else:
            cursor.execute(f"INSERT INTO {T_DEPOSIT} ({DEPOSIT_COLUMNS}) {deposit_recount_sql(src)}")
            cursor.execute(
                f"INSERT INTO {T_DISTRICT_DEPOSIT} ({DISTRICT_DEPOSIT_COLUMNS}) "
                + district_deposit_sql(f"SELECT * FROM {T_DEPOSIT}")
            )
    has_deposits = any(src.name == "deposits" for src in srcs)
    cursor.execute(
        f"INSERT INTO {T_DISTRICT_DAY} ({DISTRICT_DAY_COLUMNS}) "
        + district_day_sql(f"SELECT * FROM {T_DEPOSIT}" if has_deposits else None)
    )
    cursor.execute(
        f"INSERT INTO {T_COMMUNITY_DAILY} ({COMMUNITY_DAILY_COLUMNS}) "
        + community_daily_sql(f"SELECT * FROM {T_DROP}", f"SELECT * FROM {T_DEPOSIT}")
    )
    # One pass over the raw events for participation; both tables are grouped from it.
    cursor.execute(
        f"CREATE TEMP TABLE stats_participation_events ON COMMIT DROP AS {participation_events_sql(srcs)}"
    )
    cursor.execute(
        f"INSERT INTO {T_HOUSEHOLD} ({HOUSEHOLD_COLUMNS}) "
        + household_month_sql("SELECT * FROM stats_participation_events")
    )
    cursor.execute(
        f"INSERT INTO {T_PARTICIPATION} ({PARTICIPATION_COLUMNS}) "
        + participation_count_sql("SELECT * FROM stats_participation_events")
    )
    cursor.execute(
        f"INSERT INTO {T_HOUSEHOLD_YEAR} ({HOUSEHOLD_YEAR_COLUMNS}) "
        + household_year_sql("SELECT * FROM stats_participation_events")
    )
    cursor.execute(
        f"INSERT INTO {T_COLLECTION} (day, district_id, community_id, category, destination, weight_g) "
        + COLLECTION_RECOUNT_SQL
    )
    now = timezone.now().timestamp()
    for src in srcs:
        # Ids missing among the latest ones may belong to transactions still in flight.
        cursor.execute(
            f"""SELECT g FROM (SELECT coalesce(min({src.id}), 1) AS low, coalesce(max({src.id}), 0) AS top
                               FROM {src.from_sql}) t,
                generate_series(greatest(t.low, t.top - 10000), t.top) g
                WHERE NOT EXISTS (SELECT 1 FROM {src.from_sql} WHERE {src.id} = g)"""
        )
        gaps = {str(row[0]): now for row in cursor.fetchall()}
        cursor.execute(f"SELECT coalesce(max({src.id}), 0) FROM {src.from_sql}")
        top = cursor.fetchone()[0]
        Watermark.objects.update_or_create(
            source=src.name,
            defaults={
                "last_id": top,
                "gaps": gaps,
                "last_changed_at": scan_started,
                "refreshed_at": timezone.now(),
            },
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
    """Compare every rollup table with its recount from the raw events; an empty list means equal."""
    problems = []
    with connection.cursor() as cursor:
        for table, (columns, select) in recount_queries().items():
            # A record and its reversal leave a zero-weight rollup row, equal to no row at all.
            filter_zero = {
                T_COLLECTION: "WHERE weight_g <> 0",
                T_DISTRICT_DAY: "WHERE collected_g <> 0 OR collected_recovered_g <> 0 OR incinerated_g <> 0"
                " OR deposited_g <> 0 OR deposit_recovered_g <> 0",
            }.get(table, "")
            recount = f"SELECT {columns} FROM ({select}) r {filter_zero}"
            stored = f"SELECT {columns} FROM {table} {filter_zero}"
            cursor.execute(f"SELECT count(*) FROM (({recount}) EXCEPT ALL ({stored})) x")
            missing = cursor.fetchone()[0]
            cursor.execute(f"SELECT count(*) FROM (({stored}) EXCEPT ALL ({recount})) x")
            extra = cursor.fetchone()[0]
            if missing or extra:
                cursor.execute(
                    f"(({recount}) EXCEPT ALL ({stored})) UNION ALL (({stored}) EXCEPT ALL ({recount})) LIMIT 6"
                )
                problems.append(Mismatch(table, missing, extra, cursor.fetchall()))
    return problems
