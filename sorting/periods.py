"""Calendar days of the statistics time zone (Asia/Shanghai) as the half-open instants they span."""

from datetime import date, datetime, time, timedelta

from django.utils import timezone


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[start of `first`, start of the day after `last`) in the site's time zone."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(first, time.min, tzinfo=zone)
    return start, datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
