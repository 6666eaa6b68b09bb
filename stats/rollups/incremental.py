"""The worker's round: recompute only the rollup buckets that new or changed events touched.

Each source has a watermark: the last id read, the ids below it not seen yet (a transaction that took
its id early may commit late; such gaps are re-read by primary key for OVERLAP), and the time of the
last scan (rows whose change timestamp - a verdict - is at most OVERLAP older than that are read
again). A scan turns them into dirty buckets - (community, day) for counts and weights, (household,
month) for participation. Count buckets are recomputed whole from the raw events, and the district
rows above them move by the difference between the community rows put in and taken out. A
household's month is a set of days out, so a day an event adds is OR-ed into it; only a month where
an event read before may have stopped counting is recomputed from its events. Recounts and ORs are
idempotent, so reading a row twice is harmless; the differences are of rows written in the same
transaction, under the round's lock. Nothing is ever incremented blindly.
"""

from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import NamedTuple

from django.utils import timezone

from .. import periods, rate, sources
from ..models import ParticipationStep, Watermark
from ..sources import EventSource, local_day_sql
from . import definitions as d
from .rounds import RefreshResult, locked_round

OVERLAP = timedelta(minutes=5)
MAX_GAPS = 100_000


def _values(rows, types: tuple[str, ...]) -> tuple[str, list]:
    """A set of key tuples as a row source, `unnest` of one typed array per column.

    A VALUES list of a round's thousands of keys was tens of kilobytes of SQL, bound into the text
    one placeholder at a time and then parsed and planned anew; the arrays are a handful of
    parameters and the statement's text stays the same from round to round.
    """
    columns = list(zip(*rows, strict=True)) if rows else [() for _type in types]
    return "unnest(" + ", ".join(f"%s::{t}[]" for t in types) + ")", [list(column) for column in columns]


def _time_window(src: EventSource) -> str:
    tz = sources.STATS_TZ_NAME  # an IANA zone name, checked by sources
    return (
        f"{src.at} >= (%s::timestamp AT TIME ZONE '{tz}') AND {src.at} < (%s::timestamp AT TIME ZONE '{tz}')"
    )


def _window_params(days) -> list:
    """Local-time bounds that prefilter raw events by their time column, a day of slack each side."""
    return [min(days) - timedelta(days=1), max(days) + timedelta(days=2)]


# A round's buckets are a few days (today's events and late ones); past this many distinct days the
# prefilter is one window over all of them instead of a clause per day.
MAX_DAY_CLAUSES = 40


def _clauses_per_period(keys, clause: str, period_params, fallback) -> tuple[str, list]:
    """`clause` once per distinct period (day or month) of the (id, period) keys, OR-ed, each with
    that period's ids then `period_params(period)` as parameters; past MAX_DAY_CLAUSES periods,
    `fallback(every id, the periods in order)` instead."""
    by_period: dict[date, set[int]] = defaultdict(set)
    for key, period in keys:
        by_period[period].add(key)
    if len(by_period) > MAX_DAY_CLAUSES:
        return fallback(sorted({key for key, _period in keys}), sorted(by_period))
    clauses, params = [], []
    for period in sorted(by_period):
        clauses.append(clause)
        params += [sorted(by_period[period]), *period_params(period)]
    return "(" + " OR ".join(clauses) + ")", params


def _rollup_days(column: str, keys: set[tuple[int, date]]) -> tuple[str, list]:
    """A WHERE clause selecting rollup rows of the (`column`, day) keys: per day, that day's ids (a
    range of the rollup's key each); past MAX_DAY_CLAUSES days, every id over the span of days."""
    where, params = _clauses_per_period(
        keys,
        f"({column} = ANY(%s) AND day = %s)",
        lambda day: [day],
        lambda ids, days: (f"{column} = ANY(%s) AND day BETWEEN %s AND %s", [ids, days[0], days[-1]]),
    )
    return "WHERE " + where, params


def _bucket_events(src: EventSource, buckets: set[tuple[int, date]]) -> tuple[str, list]:
    """A WHERE fragment selecting the raw events of the (community, day) buckets, and its parameters.

    Per day, that day's communities and the day's instants: each clause is a range of the
    (community, time) index, so a round reads the events of its buckets and not every community's
    events between its earliest and latest day (late deposits of last week made that a week of the
    whole city). The bounds are the day's own local midnights, the zone local_day_sql reads it in.
    """
    return _clauses_per_period(
        buckets,
        f"({src.community} = ANY(%s) AND {_time_window(src)})",
        lambda day: [day, day + timedelta(days=1)],
        lambda ids, days: (
            f"{src.community} = ANY(%s) AND {_time_window(src)}",
            [ids, *_window_params(days)],
        ),
    )


class Scanned(NamedTuple):
    """An event a scan found new or changed."""

    community_id: int
    day: date
    household_id: int | None
    id: int
    participates: bool
    # No earlier round read it: above the id watermark, or one of its gaps. Nothing of it is counted yet.
    first_seen: bool


def _scan(cursor, src: EventSource, mark: Watermark, since) -> list[Scanned]:
    """Rows new or changed since the watermark.

    Reads rows above the id watermark, rows at the ids still missing below it (gaps), and rows whose
    change timestamps are recent. Updates `mark.last_id` and `mark.gaps` (the caller saves it).
    """
    gaps = {int(key): first_seen for key, first_seen in (mark.gaps or {}).items()}
    conditions = [f"{src.id} > %s", f"{src.id} = ANY(%s)"] + [f"{col} >= %s" for col in src.changed]
    params: list = [mark.last_id, sorted(gaps)] + [since] * len(src.changed)
    union = " UNION ".join(
        f"""SELECT {src.id} AS id, {src.community} AS community_id, {local_day_sql(src.at)} AS day,
                   {src.household} AS household_id, ({src.participates}) AS participates
            FROM {src.from_sql} WHERE {condition}"""  # noqa: S608 - checked source names; conditions built here
        for condition in conditions
    )
    cursor.execute(f"SELECT community_id, day, household_id, id, participates FROM ({union}) s", params)  # noqa: S608 - built above
    rows = [Scanned(*row, first_seen=row[3] > mark.last_id or row[3] in gaps) for row in cursor.fetchall()]
    seen = {row.id for row in rows}
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


class HouseholdChanges:
    """What a round's events change of the households' months: (household, month) -> the day bits of
    events that count, and the months to recount because an event read before may have stopped
    counting (a drop no longer accepted). A first-seen event that does not count changes nothing."""

    def __init__(self):
        self.days: dict[tuple[int, date], int] = defaultdict(int)
        self.recount: set[tuple[int, date]] = set()

    def add(self, event: Scanned) -> None:
        if event.household_id is None:
            return
        key = (event.household_id, event.day.replace(day=1))
        if event.participates:
            self.days[key] |= 1 << (event.day.day - 1)
        elif not event.first_seen:
            self.recount.add(key)

    @property
    def keys(self) -> set[tuple[int, date]]:
        return set(self.days) | self.recount


def _replace(
    cursor, table: str, columns: str, select: str, select_params: list, keys, key_sql
) -> tuple[list, list]:
    """Make `table`'s rows of the keys what the recount gives, writing only the rows that differ;
    returns the rows taken out and the rows put in (`columns` in order).

    The recount of the keys is kept for the round; the table's rows it does not give as they are are
    deleted, and its rows the table lacks inserted. A bucket recounted for one new event holds many
    rows (a community's day has a row per material) of which one changes: the others are not
    rewritten, nor their index entries. `key_sql` is (key columns, their SQL types, join condition
    on x/k).
    """
    names, types, match = key_sql
    values, params = _values(sorted(keys), types)
    table = d.table(table)
    fresh = f"round_{table}"
    every = [column.strip() for column in columns.split(",")]

    def of(alias: str) -> str:
        return ", ".join(f"{alias}.{column}" for column in every)

    def same_row(a: str, b: str) -> str:
        return f"({of(a)}) = ({of(b)})"

    # The table passes table(); columns and keys are this package's constants; values are placeholders.
    cursor.execute(f"DROP TABLE IF EXISTS {fresh}")
    cursor.execute(
        f"""CREATE TEMP TABLE {fresh} ON COMMIT DROP AS
            SELECT {columns} FROM ({select}) r
            WHERE EXISTS (SELECT 1 FROM {values} AS k({names}) WHERE {match.format(x="r")})""",  # noqa: S608
        [*select_params, *params],
    )
    cursor.execute(
        f"""DELETE FROM {table} t USING {values} AS k({names})
            WHERE {match.format(x="t")} AND NOT EXISTS (SELECT 1 FROM {fresh} r WHERE {same_row("r", "t")})
            RETURNING {of("t")}""",  # noqa: S608
        params,
    )
    removed = cursor.fetchall()
    cursor.execute(
        d.fill_sql(
            table,
            columns,
            # OFFSET 0 keeps the probe a per-row lookup through the table's key index: as an anti
            # join the planner may hash the whole rollup table for a few hundred recounted rows.
            f"""SELECT {columns} FROM {fresh} r
                WHERE NOT EXISTS (SELECT 1 FROM {table} x WHERE {same_row("x", "r")} OFFSET 0)
                RETURNING {columns}""",  # noqa: S608
        )
    )
    return removed, cursor.fetchall()


COMMUNITY_DAY_KEY = (
    "community_id, day",
    ("bigint", "date"),
    "{x}.community_id = k.community_id AND {x}.day = k.day",
)
HOUSEHOLD_MONTH_KEY = (
    "household_id, month",
    ("bigint", "date"),
    "{x}.household_id = k.household_id AND {x}.month = k.month",
)
HOUSEHOLD_YEAR_KEY = (
    "household_id, year",
    ("bigint", "int"),
    "{x}.household_id = k.household_id AND {x}.year = k.year",
)


def _refresh_counts(cursor, src: EventSource, buckets: set[tuple[int, date]]) -> set[int]:
    """Recompute community rows of the dirty (community, day) buckets and move the district rows by
    what changed; returns the districts."""
    if not buckets:
        return set()
    communities = sorted({community for community, _day in buckets})
    where, where_params = _bucket_events(src, buckets)
    if src.name == "drops":
        table, columns, recount = d.T_DROP, d.DROP_COLUMNS, d.drop_recount_sql
    else:
        table, columns, recount = d.T_DEPOSIT, d.DEPOSIT_COLUMNS, d.deposit_recount_sql
    removed, added = _replace(
        cursor, table, columns, recount(src, where), where_params, buckets, COMMUNITY_DAY_KEY
    )
    for rollup in SUMMED_ROLLUPS[src.name]:
        _apply_change(cursor, rollup, columns, removed, added)
    cursor.execute("SELECT id, district_id FROM geo_community WHERE id = ANY(%s)", [communities])
    district_of = dict(cursor.fetchall())
    district_days = {(district_of[community], day) for community, day in buckets}
    if src.name == "deposits":
        _refresh_district_day_deposits(cursor, district_days)
    return {district for district, _day in district_days}


class SummedRollup(NamedTuple):
    """A table summing a community rollup's rows by a coarser key (the district, the month): its key,
    what it only carries, its counts (the first counts the events, so a row whose first count reaches
    0 has no event left)."""

    table: str
    key: tuple[str, ...]
    key_types: tuple[str, ...]
    carried: tuple[str, ...]
    counts: tuple[str, ...]


DROP_COUNTS = ("drops", "accepted", "rejected", "verdicts", "correct")
DEPOSIT_COUNTS = ("deposits", "weight_g")
# Per event source, the tables its community rows add up to: the district's by day, and by month
# for periods whose whole months are read a row each (stats/monthly.py), the district's and, for
# deposits, the community's.
SUMMED_ROLLUPS = {
    "drops": (
        SummedRollup(
            d.T_DISTRICT_DROP,
            ("district_id", "day", "category"),
            ("bigint", "date", "varchar"),
            (),
            DROP_COUNTS,
        ),
        SummedRollup(
            d.T_DISTRICT_DROP_MONTH,
            ("district_id", "month", "category"),
            ("bigint", "date", "varchar"),
            (),
            DROP_COUNTS,
        ),
    ),
    "deposits": (
        SummedRollup(
            d.T_DISTRICT_DEPOSIT,
            ("district_id", "day", "material"),
            ("bigint", "date", "varchar"),
            ("category",),
            DEPOSIT_COUNTS,
        ),
        SummedRollup(
            d.T_DISTRICT_DEPOSIT_MONTH,
            ("district_id", "month", "material"),
            ("bigint", "date", "varchar"),
            ("category",),
            DEPOSIT_COUNTS,
        ),
        SummedRollup(
            d.T_DEPOSIT_MONTH,
            ("district_id", "month", "community_id", "material"),
            ("bigint", "date", "bigint", "varchar"),
            ("category",),
            DEPOSIT_COUNTS,
        ),
    ),
}


def _apply_change(cursor, rollup: SummedRollup, columns: str, removed, added) -> None:
    """Add to the summed rows the difference between the community rows put in and taken out.

    A summed row (a district's day, a month) is the sum of community rows, and the round changed
    exactly these community rows in this transaction under its lock: adding the difference gives the
    recount without reading the rows of every community of the changed days again.
    """
    position = {name.strip(): index for index, name in enumerate(columns.split(","))}
    grouped = (*rollup.key, *rollup.carried)
    change: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(rollup.counts))

    def key_of(row) -> tuple:
        # A month table's key holds the month of the community row's day.
        return tuple(
            row[position["day"]].replace(day=1) if name == "month" else row[position[name]]
            for name in grouped
        )

    for rows, sign in ((removed, -1), (added, 1)):
        for row in rows:
            totals = change[key_of(row)]
            for index, name in enumerate(rollup.counts):
                totals[index] += sign * int(row[position[name]])
    rows = [(*key, *totals) for key, totals in sorted(change.items()) if any(totals)]
    if not rows:
        return
    types = (
        *rollup.key_types,
        *("varchar" for _name in rollup.carried),
        *("bigint" for _name in rollup.counts),
    )
    values, params = _values(rows, types)
    every = ", ".join((*grouped, *rollup.counts))
    first = rollup.counts[0]
    _merge(
        cursor,
        rollup.table,
        f"{values} AS k({every})",
        " AND ".join(f"t.{name} = k.{name}" for name in rollup.key),
        f"t.{first} + k.{first} = 0",
        ", ".join(f"{name} = t.{name} + k.{name}" for name in rollup.counts),
        (every, ", ".join(f"k.{name}" for name in (*grouped, *rollup.counts))),
        params,
    )


def _refresh_district_day_deposits(cursor, district_days: set[tuple[int, date]]) -> None:
    """Set the deposit columns of DistrictDay; the collection columns belong to the collection writes."""
    values, params = _values(sorted(district_days), ("bigint", "date"))
    recovered = rate.deposit_recovered_sql(weight="x.weight_g", category="x.category")
    cursor.execute(
        f"""INSERT INTO {d.T_DISTRICT_DAY} ({d.DISTRICT_DAY_COLUMNS})
            SELECT k.day, k.district_id, 0, 0, 0, coalesce(sum(x.weight_g), 0), coalesce(sum({recovered}), 0)
            FROM {values} AS k(district_id, day)
            LEFT JOIN {d.T_DISTRICT_DEPOSIT} x ON x.district_id = k.district_id AND x.day = k.day
            GROUP BY 1, 2
            ON CONFLICT (district_id, day) DO UPDATE SET
                deposited_g = EXCLUDED.deposited_g, deposit_recovered_g = EXCLUDED.deposit_recovered_g""",  # noqa: S608 - rollup tables and rate.py's fixed expression
        params,
    )


def _refresh_community_daily(cursor, buckets: set[tuple[int, date]]) -> None:
    if not buckets:
        return
    where, params = _rollup_days("community_id", buckets)
    _replace(
        cursor,
        d.T_COMMUNITY_DAILY,
        d.COMMUNITY_DAILY_COLUMNS,
        d.community_daily_sql(d.rows_of(d.T_DROP, where), d.rows_of(d.T_DEPOSIT, where)),
        params * 2,
        buckets,
        COMMUNITY_DAY_KEY,
    )


def _household_events(src: EventSource, keys: set[tuple[int, date]]) -> tuple[str, list]:
    """A WHERE fragment selecting the raw events of the (household, month) keys, and its parameters:
    per month, that month's households and the month's instants (a range of the (household, time)
    index each); past MAX_DAY_CLAUSES months, one window over all of them."""
    return _clauses_per_period(
        keys,
        f"({src.household} = ANY(%s) AND {_time_window(src)})",
        lambda month: [month, periods.next_month(month)],
        lambda ids, months: (
            f"{src.household} = ANY(%s) AND {_time_window(src)}",
            [ids, *_window_params([months[0], periods.next_month(months[-1])])],
        ),
    )


def _refresh_households(
    cursor, srcs: list[EventSource], changes: HouseholdChanges, months_before: list[tuple]
) -> None:
    """Bring the changed households' months and years up to date: days only added are OR-ed in
    (`_add_days`), a month where an event may have stopped counting is recounted from its events."""
    if not changes.keys:
        return
    added = {key: bits for key, bits in changes.days.items() if key not in changes.recount}
    recount = changes.recount | _add_days(cursor, added, months_before)
    if recount:
        _recount_months(cursor, srcs, recount)
    recounted = {household for household, _month in recount}
    _add_year_days(cursor, {key: bits for key, bits in added.items() if key[0] not in recounted})


def _keyed_households(days: dict[tuple[int, date], int]) -> tuple[str, list]:
    """(household, month) -> day bits as a row source k(household_id, month, days), joined to each
    household's community and district now; and its parameters."""
    values, params = _values(
        [(household, month, bits) for (household, month), bits in sorted(days.items())],
        ("bigint", "date", "int"),
    )
    return (
        f"""{values} AS k(household_id, month, days)
            JOIN accounts_household h ON h.id = k.household_id
            JOIN geo_community c ON c.id = h.community_id""",
        params,
    )


def _add_days(cursor, days: dict[tuple[int, date], int], months_before: list[tuple]) -> set[tuple[int, date]]:
    """OR day bits into the household months (the bits of a day out never need the month's other
    events); returns the months to recount instead: a household whose month already has a row in
    another community (it moved) must end with one row, as a recount gives."""
    if not days:
        return set()
    households, params = _keyed_households(days)
    cursor.execute(
        f"""INSERT INTO {d.T_HOUSEHOLD} ({d.HOUSEHOLD_COLUMNS})
            SELECT k.month, k.household_id, c.district_id, h.community_id, k.days FROM {households}
            ON CONFLICT (community_id, month, household_id) DO UPDATE SET
                days = {d.T_HOUSEHOLD}.days | EXCLUDED.days, district_id = EXCLUDED.district_id
            RETURNING household_id, month, community_id""",  # noqa: S608 - a rollup table
        params,
    )
    now_in = {(household, month): community for household, month, community in cursor.fetchall()}
    return {
        (household, month)
        for household, community, _district, month, _days in months_before
        if (household, month) in now_in and now_in[(household, month)] != community
    }


# Bit n of a month's days (day n + 1) as that day's bit of the year: read from the right of the
# month's bits, reversed, placed at the month's first day of the year.
def _month_days_as_year_bits(month: str, days: str) -> str:
    return (
        f"rpad(repeat('0', extract(doy FROM {month})::int - 1) || reverse({days}::bit(31)::text), 366, '0')"
        "::bit(366)"
    )


def _add_year_days(cursor, days: dict[tuple[int, date], int]) -> None:
    if not days:
        return
    households, params = _keyed_households(days)
    cursor.execute(
        f"""INSERT INTO {d.T_HOUSEHOLD_YEAR} ({d.HOUSEHOLD_YEAR_COLUMNS})
            SELECT extract(year FROM k.month)::int, k.household_id, c.district_id, h.community_id,
                   bit_or({_month_days_as_year_bits("k.month", "k.days")})
            FROM {households}
            GROUP BY 1, 2, 3, 4
            ON CONFLICT (community_id, year, household_id) DO UPDATE SET
                days = {d.T_HOUSEHOLD_YEAR}.days | EXCLUDED.days, district_id = EXCLUDED.district_id""",  # noqa: S608 - a rollup table
        params,
    )


# A household's year of day bits, from its months'.
HOUSEHOLD_YEAR_FROM_MONTHS_SQL = f"""
    SELECT extract(year FROM h.month)::int AS year, h.household_id, h.district_id, h.community_id,
           bit_or({_month_days_as_year_bits("h.month", "h.days")}) AS days
    FROM {d.T_HOUSEHOLD} h
    WHERE h.household_id = ANY(%s) AND h.month BETWEEN %s AND %s
    GROUP BY 1, 2, 3, 4"""  # noqa: S608 - a rollup table


def _recount_months(cursor, srcs: list[EventSource], keys: set[tuple[int, date]]) -> None:
    """Recompute household-month rows for (household, month) keys from the events, then the years
    they are in from the months (the same days: a year re-read from the events would be every event
    of each household's year)."""
    households = sorted({household for household, _month in keys})
    months = [month for _household, month in keys]
    fragments = {src.name: _household_events(src, keys) for src in srcs}
    events = d.participation_events_sql(srcs, {name: where for name, (where, _params) in fragments.items()})
    _replace(
        cursor,
        d.T_HOUSEHOLD,
        d.HOUSEHOLD_COLUMNS,
        d.household_month_sql(events),
        [param for src in srcs for param in fragments[src.name][1]],
        keys,
        HOUSEHOLD_MONTH_KEY,
    )
    first, last = min(months), max(months)
    _replace(
        cursor,
        d.T_HOUSEHOLD_YEAR,
        d.HOUSEHOLD_YEAR_COLUMNS,
        HOUSEHOLD_YEAR_FROM_MONTHS_SQL,
        [households, first.replace(month=1, day=1), last.replace(month=12, day=31)],
        {(household, month.year) for household, month in keys},
        HOUSEHOLD_YEAR_KEY,
    )


# HouseholdMonth.days: bit n is day n + 1 of the month.
MONTH_DAY_BITS = (1 << 31) - 1


def _household_months(cursor, keys: set[tuple[int, date]]) -> list[tuple]:
    """(household, community, district, month, days) of every month of the keys' households, in
    household and month order: what the participation counts and steps of a change are read from."""
    if not keys:
        return []
    cursor.execute(
        f"""SELECT household_id, community_id, district_id, month, days FROM {d.T_HOUSEHOLD}
            WHERE household_id = ANY(%s) ORDER BY household_id, month""",  # noqa: S608 - a rollup table
        [sorted({household for household, _month in keys})],
    )
    return cursor.fetchall()


def _household_buckets(months_rows: list[tuple], keys: set[tuple[int, date]]) -> Counter:
    """Households per (community, district, kind, start) bucket, counting only the changed households,
    and of theirs only the buckets a changed month can move: that month's days and the month, the
    weeks that overlap it, its year. Every other bucket holds the same before and after the change,
    so the difference the caller applies is the same; this runs twice per round for every changed
    household, and a household's whole year is dozens of buckets.

    Reads their day bits for the whole years involved and a month either side, so every bucket that
    a changed month can affect (weeks cross months and years) is seen complete.
    """
    counts: Counter = Counter()
    if not keys:
        return counts
    changed: dict[int, set[date]] = defaultdict(set)
    for household, month in keys:
        changed[household].add(month)
    # Per household: the changed years, and the months whose days can fall in a changed month's week.
    changed_years = {household: {m.year for m in months} for household, months in changed.items()}
    near = {
        household: {n for m in months for n in (_previous_month(m), m, periods.next_month(m))}
        for household, months in changed.items()
    }
    years = sorted({month.year for _household, month in keys})
    earliest, latest = date(years[0] - 1, 12, 1), date(years[-1] + 1, 1, 1)
    buckets: dict[int, set] = defaultdict(set)
    for household, community, district, month, days in months_rows:
        if not earliest <= month <= latest:
            continue
        bits = days & MONTH_DAY_BITS
        in_changed_year = month.year in changed_years[household]
        # A month of the next or the previous year still holds days of a week a changed month shares.
        if not bits or not (in_changed_year or month in near[household]):
            continue
        seen = buckets[household]
        if in_changed_year:
            seen.add((community, district, "year", month.replace(month=1)))
        if month not in near[household]:
            continue  # none of its weeks reaches a changed month
        months = changed[household]
        own = month in months
        if own:
            seen.add((community, district, "month", month))
        # Only the set bits: a household is out a few days a month.
        while bits:
            lowest = bits & -bits
            day = month + timedelta(days=lowest.bit_length() - 1)
            if own:
                seen.add((community, district, "day", day))
            week = day - timedelta(days=day.weekday())
            if week.replace(day=1) in months or (week + timedelta(days=6)).replace(day=1) in months:
                seen.add((community, district, "week", week))
            bits ^= lowest
    # Every bucket gathered is complete: a year only for a changed year, all of whose months were read;
    # a week only when it overlaps a changed month, and its days lie in that month or the ones beside it.
    for household_buckets in buckets.values():
        counts.update(household_buckets)
    return counts


def _previous_month(month: date) -> date:
    return (month - timedelta(days=1)).replace(day=1)


def _apply_participation_change(cursor, before: Counter, after: Counter) -> None:
    """Add the changed households' difference to the participation counts."""
    changes = [(key, after.get(key, 0) - before.get(key, 0)) for key in set(before) | set(after)]
    changes = [(key, delta) for key, delta in changes if delta]
    if not changes:
        return
    rows = [
        (community, district, kind, start, delta) for (community, district, kind, start), delta in changes
    ]
    values, params = _values(rows, ("bigint", "bigint", "varchar", "date", "int"))
    _merge_counts(
        cursor,
        d.T_PARTICIPATION,
        f"{values} AS k(community_id, district_id, kind, start, delta)",
        "t.community_id = k.community_id AND t.kind = k.kind AND t.start = k.start",
        (d.PARTICIPATION_COLUMNS, "k.kind, k.start, k.district_id, k.community_id, k.delta"),
        params,
    )


def _merge_counts(cursor, table: str, source: str, match: str, insert: tuple[str, str], params) -> None:
    """Add each source row's `delta` to the matching `households` count."""
    _merge(
        cursor,
        table,
        source,
        match,
        "t.households + k.delta = 0",
        "households = t.households + k.delta",
        insert,
        params,
    )


def _merge(cursor, table: str, source: str, match: str, empties: str, update: str, insert, params) -> None:
    """Add a change to the matching rows in one statement: update them, insert the missing, delete
    the ones it empties. Only rows changed can become empty, and the round's lock keeps every other
    writer out, so MERGE needs none of ON CONFLICT's guard against racing inserts."""
    columns, values = insert
    # A change is a few hundred rows and the table may hold a city's year: the planner, told the
    # arrays' length, hashes the whole table (58,000 community months read for 500 changed, 50 ms)
    # where a probe of the key index per changed row takes a few. Only for this statement.
    cursor.execute("SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off")
    cursor.execute(
        f"""MERGE INTO {d.table(table)} t USING {source} ON {match}
            WHEN MATCHED AND {empties} THEN DELETE
            WHEN MATCHED THEN UPDATE SET {update}
            WHEN NOT MATCHED THEN INSERT ({columns}) VALUES ({values})""",  # noqa: S608 - a rollup table; the rest this module's constants
        params,
    )
    cursor.execute("RESET enable_hashjoin; RESET enable_mergejoin")


def _household_steps(months_rows: list[tuple], keys: set[tuple[int, date]]) -> Counter:
    """ParticipationStep rows of the changed households: (day, district, previous) -> households.

    Only the steps that a changed month can move: a step from `previous` to `day` is another step
    once a day between them changes, so a step with no changed month from previous's to day's is
    the same before and after (and is left out of both). Reads the households' every month: the
    step into a changed month may come from any time before.
    """
    counts: Counter = Counter()
    if not keys:
        return counts
    changed: dict[int, list[date]] = defaultdict(list)
    for household, month in keys:
        changed[household].append(month)
    first = ParticipationStep.FIRST
    household = previous = None
    for row_household, _community, district, month, days in months_rows:
        if row_household != household:
            household, previous = row_household, first
            months = changed[household]
            earliest, latest = min(months), max(months)
        bits = days & MONTH_DAY_BITS
        if not bits:
            continue
        if month < earliest:
            # No step into this month can reach a changed one: only its last day out matters next.
            previous = month + timedelta(days=bits.bit_length() - 1)
            continue
        if previous.replace(day=1) > latest:
            continue  # every step from here on starts after the last changed month
        while bits:
            lowest = bits & -bits
            day = month + timedelta(days=lowest.bit_length() - 1)
            since = previous.replace(day=1)
            if any(since <= m <= month for m in months):
                counts[(day, district, previous)] += 1
            previous = day
            bits ^= lowest
    return counts


def _apply_step_change(cursor, before: Counter, after: Counter) -> None:
    """Add the changed households' difference to the participation steps."""
    rows = [
        (day, district, previous, after.get(key, 0) - before.get(key, 0))
        for key in set(before) | set(after)
        for day, district, previous in [key]
    ]
    rows = [row for row in rows if row[3]]
    if not rows:
        return
    values, params = _values(sorted(rows), ("date", "bigint", "date", "int"))
    _merge_counts(
        cursor,
        d.T_STEP,
        f"{values} AS k(day, district_id, previous, delta)",
        "t.district_id = k.district_id AND t.day = k.day AND t.previous = k.previous",
        (d.STEP_COLUMNS, "k.day, k.district_id, k.previous, k.delta"),
        params,
    )


def refresh_household_counts(cursor) -> bool:
    """Recount registered households per community, unless no household was added or removed."""
    cursor.execute("SELECT coalesce(max(id), 0), count(*) FROM accounts_household")
    top, count = cursor.fetchone()
    signature = top * 1_000_000 + count
    mark, _created = Watermark.objects.get_or_create(source="households")
    if mark.refreshed_at is not None and mark.last_id == signature:
        return False
    cursor.execute(f"DELETE FROM {d.T_HOUSEHOLDS}")  # noqa: S608 - a rollup table
    cursor.execute(d.fill_sql(d.T_HOUSEHOLDS, d.HOUSEHOLDS_COLUMNS, d.HOUSEHOLD_COUNT_SQL))
    mark.last_id = signature
    mark.refreshed_at = timezone.now()
    mark.save()
    return True


def refresh() -> RefreshResult:
    """Bring every rollup up to date with the events new or changed since the last round."""
    result = RefreshResult()
    srcs = sources.event_sources()
    with locked_round() as (cursor, scan_started):
        changes = HouseholdChanges()
        all_buckets: set[tuple[int, date]] = set()
        for src in srcs:
            mark, _created = Watermark.objects.select_for_update().get_or_create(source=src.name)
            if mark.last_changed_at is None:
                since = scan_started.replace(year=1970)
            else:
                since = mark.last_changed_at - OVERLAP
            rows = _scan(cursor, src, mark, since)
            buckets = {(row.community_id, row.day) for row in rows}
            for row in rows:
                changes.add(row)
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
        participation_keys = changes.keys
        months_before = _household_months(cursor, participation_keys)
        _refresh_households(cursor, srcs, changes, months_before)
        months_after = _household_months(cursor, participation_keys)
        _apply_participation_change(
            cursor,
            _household_buckets(months_before, participation_keys),
            _household_buckets(months_after, participation_keys),
        )
        _apply_step_change(
            cursor,
            _household_steps(months_before, participation_keys),
            _household_steps(months_after, participation_keys),
        )
        result.household_months = len(participation_keys)
        # The districts whose participation moved: those of the changed months, before and after.
        changed_months = {month for _household, month in participation_keys}
        result.districts |= {
            district
            for _household, _community, district, month, _days in months_before + months_after
            if month in changed_months
        }
        result.households_changed = refresh_household_counts(cursor)
    return result
