"""Days, periods and buckets. A statistics day is an Asia/Shanghai calendar day."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

# Statistics days stay Chinese calendar days even if the server's TIME_ZONE is changed.
STATS_TZ_NAME = getattr(settings, "STATS_TIME_ZONE", "Asia/Shanghai")
STATS_TZ = ZoneInfo(STATS_TZ_NAME)


def local_day(moment: datetime) -> date:
    return timezone.localtime(moment, STATS_TZ).date()


def today() -> date:
    return local_day(timezone.now())


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def bucket_start(day: date, granularity: str) -> date:
    if granularity == "week":
        return day - timedelta(days=day.weekday())
    if granularity == "month":
        return month_start(day)
    return day


def buckets(start: date, end: date, granularity: str) -> list[tuple[date, date]]:
    """Consecutive (first, last) day pairs covering start..end, clipped to the period."""
    result = []
    cursor = start
    while cursor <= end:
        first = bucket_start(cursor, granularity)
        if granularity == "week":
            after = first + timedelta(days=7)
        elif granularity == "month":
            after = next_month(first)
        else:
            after = first + timedelta(days=1)
        last = min(end, after - timedelta(days=1))
        result.append((cursor, last))
        cursor = last + timedelta(days=1)
    return result


def month_masks(first: date, last: date) -> list[tuple[date, int]]:
    """(month, day bitmask) pairs selecting first..last in HouseholdMonth.days."""
    masks = []
    month = month_start(first)
    while month <= last:
        lo = first.day if month == month_start(first) else 1
        hi = last.day if month == month_start(last) else (next_month(month) - timedelta(days=1)).day
        mask = 0
        for d in range(lo, hi + 1):
            mask |= 1 << (d - 1)
        masks.append((month, mask))
        month = next_month(month)
    return masks


def bucket_end(first: date, kind: str) -> date:
    if kind == "year":
        return first.replace(month=12, day=31)
    if kind == "month":
        return next_month(first) - timedelta(days=1)
    if kind == "week":
        return first + timedelta(days=6)
    return first


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The instants a period of statistics days spans: [start 00:00, the day after end 00:00)."""
    return datetime.combine(start, datetime.min.time(), STATS_TZ), datetime.combine(
        end + timedelta(days=1), datetime.min.time(), STATS_TZ
    )
