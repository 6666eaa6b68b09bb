"""A period's rows of a district rollup (or of a district's communities): its whole calendar months
from the month table, the days either side from the day table.

A city's year is a row per district, day and material in the day tables (tens of thousands) and a
row per district, month and material in the month tables (a few hundred); both sum the same
community rows, so a sum over the union equals the sum over the days.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ImproperlyConfigured

from . import periods
from .models import (
    CollectionDaily,
    CommunityDepositMonthly,
    DepositDaily,
    DistrictCollectionMonthly,
    DistrictDepositDaily,
    DistrictDepositMonthly,
    DistrictDropDaily,
    DistrictDropMonthly,
)


@dataclass(frozen=True)
class DistrictRollupPair:
    day_table: str
    month_table: str


def _pair(day_model, month_model) -> DistrictRollupPair:
    return DistrictRollupPair(day_model._meta.db_table, month_model._meta.db_table)


PAIRS = {
    "drops": _pair(DistrictDropDaily, DistrictDropMonthly),
    "deposits": _pair(DistrictDepositDaily, DistrictDepositMonthly),
    "collections": _pair(CollectionDaily, DistrictCollectionMonthly),
    # A district's communities: their rows carry the district too.
    "community_deposits": _pair(DepositDaily, CommunityDepositMonthly),
}


def split(start: date, end: date) -> tuple[tuple[date, date] | None, list[tuple[date, date]]]:
    """start..end as (first and last whole month's first days, or None) and the day spans left over."""
    first = start if start.day == 1 else periods.next_month(start)
    end_of_month = periods.bucket_end(periods.month_start(end), "month")
    last_whole_end = end if end == end_of_month else periods.month_start(end) - timedelta(days=1)
    if first > last_whole_end:
        return None, [(start, end)]
    spans = []
    if start < first:
        spans.append((start, first - timedelta(days=1)))
    if last_whole_end < end:
        spans.append((last_whole_end + timedelta(days=1), end))
    return (first, periods.month_start(last_whole_end)), spans


def period_rows(kind: str, columns: str, district_ids: list[int], start: date, end: date) -> tuple[str, list]:
    """SQL for `columns` of the rollup `kind`'s rows of the districts over start..end, and its
    parameters. `columns` must exist in both tables (the key columns and the sums, not the day)."""
    if kind not in PAIRS:
        raise ImproperlyConfigured(f"no district rollup {kind!r}")
    pair = PAIRS[kind]
    months, spans = split(start, end)
    parts, params = [], []
    if months is not None:
        parts.append(
            f"SELECT {columns} FROM {pair.month_table} WHERE district_id = ANY(%s) AND month BETWEEN %s AND %s"  # noqa: S608 - tables from PAIRS; columns the caller's constants
        )
        params += [district_ids, *months]
    if spans:
        days = " OR ".join("day BETWEEN %s AND %s" for _span in spans)
        parts.append(f"SELECT {columns} FROM {pair.day_table} WHERE district_id = ANY(%s) AND ({days})")  # noqa: S608 - as above
        params += [district_ids, *(day for span in spans for day in span)]
    return " UNION ALL ".join(parts), params
