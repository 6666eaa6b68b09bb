"""Every rollup recomputed from scratch (`refresh_rollups --full`), and the watermarks set to match."""

from django.utils import timezone

from ..models import Watermark
from ..sources import EventSource, event_sources
from . import definitions as d
from .incremental import refresh_household_counts
from .rounds import RefreshResult, locked_round

# Ids missing among this many latest ones may belong to transactions still in flight.
IN_FLIGHT_IDS = 10_000
EVENTS = "SELECT * FROM stats_participation_events"


def rebuild() -> RefreshResult:
    drops, deposits = event_sources()
    with locked_round() as (cursor, scan_started):
        for table in sorted(d.TABLES - {d.T_HOUSEHOLDS}):
            cursor.execute(f"DELETE FROM {d.table(table)}")  # noqa: S608 - table() allows only rollup tables
        for statement in (
            d.fill_sql(d.T_DROP, d.DROP_COLUMNS, d.drop_recount_sql(drops)),
            d.fill_sql(d.T_DISTRICT_DROP, d.DISTRICT_DROP_COLUMNS, d.district_drop_sql(d.rows_of(d.T_DROP))),
            d.fill_sql(d.T_DEPOSIT, d.DEPOSIT_COLUMNS, d.deposit_recount_sql(deposits)),
            d.fill_sql(
                d.T_DISTRICT_DEPOSIT,
                d.DISTRICT_DEPOSIT_COLUMNS,
                d.district_deposit_sql(d.rows_of(d.T_DEPOSIT)),
            ),
            d.fill_sql(d.T_DISTRICT_DAY, d.DISTRICT_DAY_COLUMNS, d.district_day_sql(d.rows_of(d.T_DEPOSIT))),
            d.fill_sql(
                d.T_COMMUNITY_DAILY,
                d.COMMUNITY_DAILY_COLUMNS,
                d.community_daily_sql(d.rows_of(d.T_DROP), d.rows_of(d.T_DEPOSIT)),
            ),
            # One pass over the raw events for participation; the three tables are grouped from it.
            "CREATE TEMP TABLE stats_participation_events ON COMMIT DROP AS "
            + d.participation_events_sql([drops, deposits]),
            # In household order: a round reads a changed household's every month, which then share
            # a page or two instead of one page each.
            d.fill_sql(
                d.T_HOUSEHOLD,
                d.HOUSEHOLD_COLUMNS,
                d.household_month_sql(EVENTS) + " ORDER BY household_id, month",
            ),
            d.fill_sql(d.T_PARTICIPATION, d.PARTICIPATION_COLUMNS, d.participation_count_sql(EVENTS)),
            d.fill_sql(d.T_STEP, d.STEP_COLUMNS, d.participation_step_sql(EVENTS)),
            d.fill_sql(d.T_HOUSEHOLD_YEAR, d.HOUSEHOLD_YEAR_COLUMNS, d.household_year_sql(EVENTS)),
            d.fill_sql(d.T_COLLECTION, d.COLLECTION_COLUMNS, d.COLLECTION_RECOUNT_SQL),
            d.fill_sql(d.T_INDICATOR_DAY, d.INDICATOR_DAY_COLUMNS, d.INDICATOR_DAY_RECOUNT_SQL),
            # After the day tables they sum.
            *(d.month_fill_sql(table) for table in d.MONTH_TABLES),
        ):
            cursor.execute(statement)
        for src in (drops, deposits):
            _reset_watermark(cursor, src, scan_started)
        Watermark.objects.filter(source="households").delete()
        result = RefreshResult(households_changed=refresh_household_counts(cursor))
        cursor.execute("SELECT id FROM geo_district")
        result.districts = {row[0] for row in cursor.fetchall()}
    return result


def _reset_watermark(cursor, src: EventSource, scan_started) -> None:
    now = timezone.now().timestamp()
    cursor.execute(
        f"""SELECT g FROM (SELECT coalesce(min({src.id}), 1) AS low, coalesce(max({src.id}), 0) AS top
                           FROM {src.from_sql}) t,
            generate_series(greatest(t.low, t.top - %s), t.top) g
            WHERE NOT EXISTS (SELECT 1 FROM {src.from_sql} WHERE {src.id} = g)""",  # noqa: S608 - checked source names
        [IN_FLIGHT_IDS],
    )
    gaps = {str(row[0]): now for row in cursor.fetchall()}
    cursor.execute(f"SELECT coalesce(max({src.id}), 0) FROM {src.from_sql}")  # noqa: S608 - checked source names
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
