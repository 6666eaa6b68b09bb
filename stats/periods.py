"""Days, periods and buckets. A statistics day is an Asia/Shanghai calendar day."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import BadPeriod

# Statistics days stay Chinese calendar days even if the server's TIME_ZONE is changed.
STATS_TZ_NAME = getattr(settings, "STATS_TIME_ZONE", "Asia/Shanghai")
STATS_TZ = ZoneInfo(STATS_TZ_NAME)
MAX_PERIOD_DAYS = 3 * 366
# Every bucket and month step adds days past the period's end: far from date.max, none can overflow.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2199, 12, 31)
GRANULARITIES = ("day", "week", "month")


def local_day(moment: datetime) -> date:
    return timezone.localtime(moment, STATS_TZ).date()


def today() -> date:
    return local_day(timezone.now())


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def parse_period(raw_from: str | None, raw_to: str | None) -> tuple[date, date]:
    """`from`/`to` as YYYY-MM-DD, both inclusive; default: this calendar year, the period the target
    is judged on (on_track then projects the year so far to 31 December)."""
    now = today()
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
        raise BadPeriod(f"A period may span at most {MAX_PERIOD_DAYS} days.")
    return start, end


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
