"""What each rollup table sums: the recount query that defines it, over the raw events.

Refresh and rebuild fill the tables from these queries; `verify_rollups` compares the tables with
them. Table and column names come from the rollup models and are checked against those models'
own columns before any of them is put into SQL.
"""

from django.core.exceptions import ImproperlyConfigured

from .. import indicators, monthly, rate, sources
from ..models import (
    CollectionDaily,
    CommunityDaily,
    CommunityDepositMonthly,
    CommunityHouseholds,
    DepositDaily,
    DistrictCollectionMonthly,
    DistrictDay,
    DistrictDepositDaily,
    DistrictDepositMonthly,
    DistrictDropDaily,
    DistrictDropMonthly,
    DistrictIndicatorDay,
    DropDaily,
    HouseholdMonth,
    HouseholdYear,
    ParticipationCount,
    ParticipationStep,
)
from ..sources import EventSource, local_day_sql


def _columns(model, names: str) -> str:
    """`names` (comma-separated) if every one is a column of `model`: the allow-list for SQL."""
    allowed = {f.column for f in model._meta.concrete_fields}
    unknown = [name.strip() for name in names.split(",") if name.strip() not in allowed]
    if unknown:
        raise ImproperlyConfigured(f"{model._meta.db_table} has no columns {unknown}")
    return names


T_DROP = DropDaily._meta.db_table
T_DEPOSIT = DepositDaily._meta.db_table
T_DISTRICT_DROP = DistrictDropDaily._meta.db_table
T_DISTRICT_DEPOSIT = DistrictDepositDaily._meta.db_table
T_DISTRICT_DROP_MONTH = DistrictDropMonthly._meta.db_table
T_DISTRICT_DEPOSIT_MONTH = DistrictDepositMonthly._meta.db_table
T_COLLECTION_MONTH = DistrictCollectionMonthly._meta.db_table
T_DEPOSIT_MONTH = CommunityDepositMonthly._meta.db_table
T_COMMUNITY_DAILY = CommunityDaily._meta.db_table
T_DISTRICT_DAY = DistrictDay._meta.db_table
T_HOUSEHOLD = HouseholdMonth._meta.db_table
T_HOUSEHOLD_YEAR = HouseholdYear._meta.db_table
T_PARTICIPATION = ParticipationCount._meta.db_table
T_COLLECTION = CollectionDaily._meta.db_table
T_HOUSEHOLDS = CommunityHouseholds._meta.db_table
T_INDICATOR_DAY = DistrictIndicatorDay._meta.db_table
T_STEP = ParticipationStep._meta.db_table
# Every table a refresh may delete from or insert into.
TABLES = frozenset(
    {
        T_DROP,
        T_DEPOSIT,
        T_DISTRICT_DROP,
        T_DISTRICT_DEPOSIT,
        T_DISTRICT_DROP_MONTH,
        T_DISTRICT_DEPOSIT_MONTH,
        T_COLLECTION_MONTH,
        T_DEPOSIT_MONTH,
        T_COMMUNITY_DAILY,
        T_DISTRICT_DAY,
        T_HOUSEHOLD,
        T_HOUSEHOLD_YEAR,
        T_PARTICIPATION,
        T_COLLECTION,
        T_HOUSEHOLDS,
        T_INDICATOR_DAY,
        T_STEP,
    }
)


def table(name: str) -> str:
    """`name` if it is one of the rollup tables, else refuse before it reaches SQL."""
    if name not in TABLES:
        raise ImproperlyConfigured(f"{name!r} is not a rollup table")
    return name


def rows_of(name: str, where: str = "") -> str:
    """The stored rows of a rollup table, as a subquery for the next level up."""
    return f"SELECT * FROM {table(name)} {where}"  # noqa: S608 - table() allows only rollup tables


def fill_sql(name: str, columns: str, select: str) -> str:
    """INSERT a query's rows into a rollup table, column by column."""
    return f"INSERT INTO {table(name)} ({columns}) {select}"


DROP_COLUMNS = _columns(
    DropDaily, "day, district_id, community_id, category, drops, accepted, rejected, verdicts, correct"
)
DEPOSIT_COLUMNS = _columns(
    DepositDaily, "day, district_id, community_id, material, category, deposits, weight_g"
)
DISTRICT_DROP_COLUMNS = _columns(
    DistrictDropDaily, "day, district_id, category, drops, accepted, rejected, verdicts, correct"
)
DISTRICT_DEPOSIT_COLUMNS = _columns(
    DistrictDepositDaily, "day, district_id, material, category, deposits, weight_g"
)
DISTRICT_DROP_MONTH_COLUMNS = _columns(
    DistrictDropMonthly, "month, district_id, category, drops, accepted, rejected, verdicts, correct"
)
DISTRICT_DEPOSIT_MONTH_COLUMNS = _columns(
    DistrictDepositMonthly, "month, district_id, material, category, deposits, weight_g"
)
DEPOSIT_MONTH_COLUMNS = _columns(
    CommunityDepositMonthly, "month, district_id, community_id, material, category, deposits, weight_g"
)
COLLECTION_MONTH_COLUMNS = _columns(
    DistrictCollectionMonthly, "month, district_id, category, destination, weight_g"
)
# Each month table's columns and the day table it sums by month (the pairs monthly.py reads).
MONTH_TABLES = {
    pair.month_table: (columns, pair.day_table)
    for pair, columns in (
        (monthly.PAIRS["drops"], DISTRICT_DROP_MONTH_COLUMNS),
        (monthly.PAIRS["deposits"], DISTRICT_DEPOSIT_MONTH_COLUMNS),
        (monthly.PAIRS["community_deposits"], DEPOSIT_MONTH_COLUMNS),
        (monthly.PAIRS["collections"], COLLECTION_MONTH_COLUMNS),
    )
}
DISTRICT_DAY_COLUMNS = _columns(
    DistrictDay,
    "day, district_id, collected_g, collected_recovered_g, incinerated_g, deposited_g, deposit_recovered_g",
)
COMMUNITY_DAILY_COLUMNS = _columns(
    CommunityDaily, "day, district_id, community_id, drops, verdicts, correct, deposits_g"
)
HOUSEHOLD_YEAR_COLUMNS = _columns(HouseholdYear, "year, household_id, district_id, community_id, days")
HOUSEHOLD_COLUMNS = _columns(HouseholdMonth, "month, household_id, district_id, community_id, days")
PARTICIPATION_COLUMNS = _columns(ParticipationCount, "kind, start, district_id, community_id, households")
STEP_COLUMNS = _columns(ParticipationStep, "day, district_id, previous, households")
COLLECTION_COLUMNS = _columns(
    CollectionDaily, "day, district_id, community_id, category, destination, weight_g"
)
HOUSEHOLDS_COLUMNS = _columns(CommunityHouseholds, "community_id, district_id, households")
INDICATOR_DAY_COLUMNS = _columns(DistrictIndicatorDay, "day, district_id, sums")
INDICATOR_DAY_RECOUNT_SQL = f"""
    SELECT date AS day, district_id,
           {indicators.contribution_sql(kind=f"'{indicators.COLLECTION}'", category="category", destination="destination", weight="weight_g")} AS sums
    FROM stats_collection GROUP BY 1, 2"""  # noqa: S608 - indicators' checked codes
BUCKET_KINDS = tuple(ParticipationCount.Kind.values)


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
        GROUP BY 1, 2, 3, 4"""  # noqa: S608 - the source's expressions are built from checked names (sources.py)


def deposit_recount_sql(src: EventSource, where: str = "true") -> str:
    return f"""
        SELECT {local_day_sql(src.at)} AS day, c.district_id, {src.community} AS community_id,
               {src.material} AS material, {src.material_category} AS category,
               count(*) AS deposits, coalesce(sum({src.weight_g}), 0) AS weight_g
        FROM {src.from_sql} JOIN geo_community c ON c.id = {src.community}
        WHERE {where}
        GROUP BY 1, 2, 3, 4, 5"""  # noqa: S608 - the source's expressions are built from checked names (sources.py)


def district_drop_sql(community_rows: str) -> str:
    return f"""SELECT day, district_id, category, sum(drops) AS drops, sum(accepted) AS accepted,
                      sum(rejected) AS rejected, sum(verdicts) AS verdicts, sum(correct) AS correct
               FROM ({community_rows}) r GROUP BY 1, 2, 3"""  # noqa: S608 - a subquery built here


def district_deposit_sql(community_rows: str) -> str:
    return f"""SELECT day, district_id, material, category, sum(deposits) AS deposits,
                      sum(weight_g) AS weight_g
               FROM ({community_rows}) r GROUP BY 1, 2, 3, 4"""  # noqa: S608 - a subquery built here


# The columns a month row sums; the others are its key (or carried with it).
_MONTH_SUMS = frozenset({"drops", "accepted", "rejected", "verdicts", "correct", "deposits", "weight_g"})


def by_month_sql(day_rows: str, columns: str) -> str:
    """A district month table's rows (`columns`: month, district_id, its keys, then its sums) from
    daily rows that carry the same columns with `day` for `month`."""
    names = [name.strip() for name in columns.split(",")]
    sums = [name for name in names if name in _MONTH_SUMS]
    keys = [name for name in names[1:] if name not in _MONTH_SUMS]
    grouped = ", ".join(str(i) for i in range(1, len(keys) + 2))
    return f"""SELECT date_trunc('month', day)::date AS month, {", ".join(keys)},
                      {", ".join(f"sum({name}) AS {name}" for name in sums)}
               FROM ({day_rows}) r GROUP BY {grouped}"""  # noqa: S608 - columns passed _columns()


def district_day_sql(deposit_rows: str) -> str:
    """District-day weights split for the rate: collections from their table, deposits from `deposit_rows`."""
    collection_recovered = rate.collection_recovered_sql(
        weight="weight_g", category="category", destination="destination", incineration_counts="false"
    )
    deposit_recovered = rate.deposit_recovered_sql(weight="weight_g", category="category")
    return f"""SELECT day, district_id, sum(collected_g) AS collected_g,
                      sum(collected_recovered_g) AS collected_recovered_g, sum(incinerated_g) AS incinerated_g,
                      sum(deposited_g) AS deposited_g, sum(deposit_recovered_g) AS deposit_recovered_g
               FROM (
                   SELECT date AS day, district_id, weight_g AS collected_g,
                          {collection_recovered} AS collected_recovered_g,
                          CASE WHEN destination = 'incineration' THEN weight_g ELSE 0 END AS incinerated_g,
                          0 AS deposited_g, 0 AS deposit_recovered_g
                   FROM stats_collection
                   UNION ALL
                   SELECT day, district_id, 0, 0, 0, weight_g, {deposit_recovered} FROM ({deposit_rows}) d
               ) r GROUP BY 1, 2"""  # noqa: S608 - rate.py's fixed expressions and a subquery built here


def community_daily_sql(drop_rows: str, deposit_rows: str) -> str:
    return f"""SELECT day, district_id, community_id, sum(drops) AS drops, sum(verdicts) AS verdicts,
                      sum(correct) AS correct, sum(deposits_g) AS deposits_g
               FROM (
                   SELECT day, district_id, community_id, drops, verdicts, correct, 0 AS deposits_g
                   FROM ({drop_rows}) a
                   UNION ALL
                   SELECT day, district_id, community_id, 0, 0, 0, weight_g FROM ({deposit_rows}) b
               ) r GROUP BY 1, 2, 3"""  # noqa: S608 - subqueries built here


def participation_events_sql(srcs: list[EventSource], where_by_source: dict[str, str] | None = None) -> str:
    """Distinct (household, day, household's community, district) of every participating event."""
    parts = []
    for src in srcs:
        extra = (where_by_source or {}).get(src.name, "true")
        parts.append(
            f"""SELECT {src.household} AS household_id, {local_day_sql(src.at)} AS day
                FROM {src.from_sql}
                WHERE {src.household} IS NOT NULL AND {src.participates} AND {extra}"""  # noqa: S608 - checked source names
        )
    return f"""SELECT e.household_id, e.day, h.community_id, c.district_id
               FROM ({" UNION ".join(parts)}) e
               JOIN accounts_household h ON h.id = e.household_id
               JOIN geo_community c ON c.id = h.community_id"""  # noqa: S608 - subqueries built here


def household_month_sql(events: str) -> str:
    return f"""SELECT date_trunc('month', e.day)::date AS month, e.household_id, e.district_id,
                      e.community_id, bit_or(1 << (extract(day FROM e.day)::int - 1)) AS days
               FROM ({events}) e GROUP BY 1, 2, 3, 4"""  # noqa: S608 - a subquery built here


def household_year_sql(events: str) -> str:
    return f"""SELECT extract(year FROM e.day)::int AS year, e.household_id, e.district_id, e.community_id,
                      bit_or(set_bit(repeat('0', 366)::bit(366), extract(doy FROM e.day)::int - 1, 1)) AS days
               FROM ({events}) e GROUP BY 1, 2, 3, 4"""  # noqa: S608 - a subquery built here


def participation_count_sql(events: str) -> str:
    """Distinct households per community and calendar bucket, from (household, day, community) rows."""
    return " UNION ALL ".join(
        f"""SELECT '{kind}'::varchar AS kind, date_trunc('{kind}', e.day)::date AS start, e.district_id,
                   e.community_id, count(DISTINCT e.household_id) AS households
            FROM ({events}) e GROUP BY 2, 3, 4"""  # noqa: S608 - kind is one of ParticipationCount.Kind
        for kind in BUCKET_KINDS
    )


def participation_step_sql(events: str) -> str:
    """Households per district and day by their previous day out, from (household, day) rows."""
    return f"""SELECT s.day, s.district_id, s.previous, count(*) AS households
               FROM (SELECT e.day, e.district_id,
                            coalesce(lag(e.day) OVER (PARTITION BY e.household_id ORDER BY e.day),
                                     DATE '{ParticipationStep.FIRST.isoformat()}') AS previous
                     FROM ({events}) e) s
               GROUP BY 1, 2, 3"""  # noqa: S608 - a subquery built here; the date is a constant


COLLECTION_RECOUNT_SQL = """
    SELECT date AS day, district_id, community_id, category, destination, sum(weight_g) AS weight_g
    FROM stats_collection GROUP BY 1, 2, 3, 4, 5"""

HOUSEHOLD_COUNT_SQL = """
    SELECT h.community_id, c.district_id, count(*) AS households
    FROM accounts_household h JOIN geo_community c ON c.id = h.community_id
    GROUP BY 1, 2"""


def month_fill_sql(month_table: str) -> str:
    """Fill a month table from its day table (already filled)."""
    columns, day_table = MONTH_TABLES[month_table]
    return fill_sql(month_table, columns, by_month_sql(rows_of(day_table), columns))


def recount_queries() -> dict[str, tuple[str, str]]:
    """table -> (columns, recount SELECT): the contract verify_rollups checks."""
    drops, deposits = sources.drop_source(), sources.deposit_source()
    events = participation_events_sql([drops, deposits])
    queries = {
        T_COLLECTION: (COLLECTION_COLUMNS, COLLECTION_RECOUNT_SQL),
        T_INDICATOR_DAY: (INDICATOR_DAY_COLUMNS, INDICATOR_DAY_RECOUNT_SQL),
        T_HOUSEHOLD: (HOUSEHOLD_COLUMNS, household_month_sql(events)),
        T_HOUSEHOLD_YEAR: (HOUSEHOLD_YEAR_COLUMNS, household_year_sql(events)),
        T_PARTICIPATION: (PARTICIPATION_COLUMNS, participation_count_sql(events)),
        T_STEP: (STEP_COLUMNS, participation_step_sql(events)),
        T_HOUSEHOLDS: (HOUSEHOLDS_COLUMNS, HOUSEHOLD_COUNT_SQL),
        T_DISTRICT_DAY: (DISTRICT_DAY_COLUMNS, district_day_sql(deposit_recount_sql(deposits))),
        T_COMMUNITY_DAILY: (
            COMMUNITY_DAILY_COLUMNS,
            community_daily_sql(drop_recount_sql(drops), deposit_recount_sql(deposits)),
        ),
        T_DROP: (DROP_COLUMNS, drop_recount_sql(drops)),
        T_DISTRICT_DROP: (DISTRICT_DROP_COLUMNS, district_drop_sql(drop_recount_sql(drops))),
        T_DEPOSIT: (DEPOSIT_COLUMNS, deposit_recount_sql(deposits)),
        T_DISTRICT_DEPOSIT: (DISTRICT_DEPOSIT_COLUMNS, district_deposit_sql(deposit_recount_sql(deposits))),
    }
    for month_table, (columns, day_table) in MONTH_TABLES.items():
        queries[month_table] = (columns, by_month_sql(queries[day_table][1], columns))
    return queries
